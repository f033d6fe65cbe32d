"""The installed Qt binding must not lose references to None (PySide6 6.12.0 on Python 3.11 does).

With that build every void Qt call drops one reference to None; the GUI aborts with "Fatal
Python error: none_dealloc" after about a minute of playback. Fix: install PySide6 != 6.12.0
(6.11.3 works) or run Python 3.12+.
"""

from __future__ import annotations

from app.qt_binding import ADVICE, leaks_none_references


def test_qt_calls_keep_their_references_to_none(qapp):
    assert not leaks_none_references(), ADVICE
