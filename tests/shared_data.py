"""Where ../shared is, and a skip marker for tests that need it.

A user's clone has no ../shared beside it; tests that need it skip with a clear reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SIAMARK_SHARED", REPO.parent / "shared")).resolve()
HAVE_SHARED = (SHARED / "fixtures").is_dir()

needs_shared = pytest.mark.skipif(
    not HAVE_SHARED, reason=f"shared test data not found at {SHARED} (set SIAMARK_SHARED)"
)

FIDELITY = SHARED / "fixtures" / "fidelity"
OFFICIAL_KEYS = SHARED / "fixtures" / "official_keys"
SEQUENCES = SHARED / "data" / "sequences"
VIDEOS = SHARED / "data" / "videos"
WEIGHTS = SHARED / "data" / "weights"
