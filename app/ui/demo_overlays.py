"""What demo mode lays over the video, sized for the back of a room: the HUD in the top-left
corner (tracker, run state, frame, fps, score, the latest status message), a banner in the middle
(e.g. the next tracker's name for a moment) and the card of demo keys.

All three are labels over the video view: they show what they are given and hold nothing of the
document, and the mouse goes through them to the video.
"""

from __future__ import annotations

import html
import math

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtWidgets import QLabel, QWidget

from app.model.annotations import FrameBox
from app.model.results import ResponseMap

PANEL_STYLE = (
    "background: rgba(12, 13, 15, {alpha}); color: #f2f2f2; border-radius: {radius}px; padding: {pad}px;"
)
#: text heights at scale 1 (demo mode's scale is 2 at 1080 lines: the HUD's lines 36 and 30 px)
TITLE_PIXELS, LINE_PIXELS, NOTE_PIXELS = 18, 15, 11
BANNER_PIXELS = 30
KEY_COLOUR = "#ffd400"


class _Overlay(QLabel):
    """A rich-text label over the video, styled for the scale."""

    alpha = 190  # the panel's opacity: the video shows through a little

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setAttribute(Qt.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.NoFocus)
        self.setTextFormat(Qt.RichText)
        self.scale = 1.0
        self.set_scale(1.0)
        self.hide()

    def set_scale(self, scale: float) -> None:
        self.scale = scale
        self.setStyleSheet(
            PANEL_STYLE.format(alpha=self.alpha, radius=round(6 * scale), pad=round(8 * scale))
        )
        self._render()

    def px(self, pixels: int) -> int:
        return round(pixels * self.scale)

    def _render(self) -> None:
        """Set the text from what the overlay was given (and fit the label to it)."""
        raise NotImplementedError

    def _centre(self) -> None:
        self.adjustSize()
        area: QRect = self.parentWidget().rect()
        self.move(area.center().x() - self.width() // 2, area.center().y() - self.height() // 2)


class DemoHud(_Overlay):
    def __init__(self, parent: QWidget, frame_count):
        """``frame_count()``: the open video's length."""
        self._frame_count = frame_count
        self.tracker = ""
        self.running = False
        self.frame: int | None = None
        self.score = math.nan
        self.fps: float | None = None
        self.message = ""
        super().__init__(parent)

    def set_tracker(self, name: str) -> None:
        self.tracker = name
        self._render()

    def set_running(self, running: bool) -> None:
        self.running = running
        if running:
            self.fps = None  # the new run's speed comes with its first results
        self._render()

    def set_progress(self, _done: int, _total: int, fps: float) -> None:
        self.fps = fps
        self._render()

    def set_message(self, message: str) -> None:
        self.message = message
        self._render()

    def show_result(self, frame: int | None, entry: FrameBox | None, _kept: ResponseMap | None) -> None:
        self.frame = frame
        self.score = entry.score if entry is not None else math.nan
        self._render()

    def text_lines(self) -> list[str]:
        """The HUD's lines as plain text (for tests and scripts)."""
        state = "▶ tracking" if self.running else "■ stopped"
        frame = (
            "no video" if self.frame is None else f"frame {self.frame} / {max(self._frame_count() - 1, 0)}"
        )
        fps = "– fps" if self.fps is None else f"{self.fps:.0f} fps"
        score = "score –" if math.isnan(self.score) else f"score {self.score:.2f}"
        lines = [self.tracker, f"{state} · {frame}", f"{fps} · {score}"]
        return lines + ([self.message] if self.message else [])

    def _render(self) -> None:
        lines = [html.escape(line) for line in self.text_lines()]
        sizes = [(TITLE_PIXELS, 700), (LINE_PIXELS, 600), (LINE_PIXELS, 600), (NOTE_PIXELS, 400)]
        self.setText(
            "".join(
                f'<div style="font-size:{self.px(size)}px; font-weight:{weight};">{line}</div>'
                for line, (size, weight) in zip(lines, sizes, strict=False)
            )
        )
        self.adjustSize()

    def place(self) -> None:
        margin = self.px(12)
        self.move(margin, margin)


class DemoBanner(_Overlay):
    """Big text in the middle of the video for a moment."""

    def __init__(self, parent: QWidget):
        self.message = ""
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.hide)

    def flash(self, message: str, ms: int = 1500) -> None:
        self.message = message
        self._render()
        self.show()
        self.raise_()
        self.timer.start(ms)

    def _render(self) -> None:
        self.setText(
            f'<div style="font-size:{self.px(BANNER_PIXELS)}px; font-weight:700;">{html.escape(self.message)}</div>'
        )
        self.place()

    def place(self) -> None:
        self._centre()


class DemoHelpCard(_Overlay):
    """The demo's keys, from its actions (never a stale list)."""

    alpha = 240  # a table to read: the video stays out of it

    def __init__(self, parent: QWidget):
        self.rows: list[tuple[str, str]] = []
        super().__init__(parent)

    def set_rows(self, rows: list[tuple[str, str]]) -> None:
        self.rows = rows
        self._render()

    def _render(self) -> None:
        cells = "".join(
            f'<tr><td style="color:{KEY_COLOUR}; font-weight:700; padding-right:{self.px(16)}px;">'
            f"{html.escape(key)}</td><td>{html.escape(what)}</td></tr>"
            for key, what in self.rows
        )
        self.setText(
            f'<div style="font-size:{self.px(LINE_PIXELS)}px;">'
            f'<div style="font-size:{self.px(TITLE_PIXELS)}px; font-weight:700;">Demo keys</div>'
            f"<table cellspacing={self.px(4)}>{cells}</table></div>"
        )
        self.place()

    def place(self) -> None:
        self._centre()
