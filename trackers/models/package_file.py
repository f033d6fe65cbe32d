"""Find a weights file inside an installed package without importing or downloading anything."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def installed_package_file(package: str, relpath: str) -> Path | None:
    """``relpath`` under the installed ``package``'s folder, or None when either is missing.

    ``importlib.util.find_spec`` only locates the package: importing some of these wheels would
    pull in heavy dependencies or try the network.
    """
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    roots = list(spec.submodule_search_locations or [])
    if not roots and spec.origin:
        roots = [str(Path(spec.origin).parent)]
    for root in roots:
        candidate = Path(root) / relpath
        if candidate.is_file():
            return candidate
    return None
