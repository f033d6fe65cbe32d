"""The user's own folders (platformdirs), never inside the install folder.

``SIAMARK_CONFIG_DIR`` overrides the configuration folder (tests, portable installs); the app's
settings and the INT8 parameters a user measures for their own checkpoints live there.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def config_dir() -> Path:
    override = os.environ.get("SIAMARK_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir("siamark", appauthor=False))
