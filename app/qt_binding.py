"""A check for the one Qt binding build known to crash Siamark.

PySide6 6.12.0 on Python < 3.12 drops a reference to ``None`` on every call of a void C++
method (``update()``, ``setText()``, ...). ``None`` is not immortal before 3.12, so its count
reaches zero after some tens of thousands of calls — about a minute of playback here — and
the interpreter aborts with "Fatal Python error: none_dealloc". 6.11.x is not affected.
"""

from __future__ import annotations

import sys

ADVICE = (
    "This PySide6 build (6.12.0 with Python < 3.12) loses a reference to None on every Qt call "
    "and will crash the app after a minute or so. Install another version, e.g. "
    "pip install 'PySide6==6.11.3', or use Python 3.12+."
)


def leaks_none_references(calls: int = 200) -> bool:
    """True when void Qt calls lose references to None (the PySide6 6.12.0 / Python 3.11 bug)."""
    if sys.version_info >= (3, 12):
        return False  # None is immortal: a lost reference is harmless
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(calls):
        probe.setObjectName("probe")  # a void method
    return before - sys.getrefcount(None) > calls // 2
