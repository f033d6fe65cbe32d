"""What the frame view shows, rendered offscreen for any frame: for recordings and PNG stills.

The drawing is the view's own: a ``VideoView`` and a score strip (``ConfidencePlot``) that are
never put on screen are filled with ``box_overlays`` / ``show_scores``, as ``FramePresenter``
fills the window's, and painted into a QImage. The visible window is not touched.

A recording renders in the GUI thread, a few frames per timer tick: pyqtgraph's items are
QGraphicsItems of a widget's scene, which only the GUI thread may paint; short ticks keep the
window and the dialog responsive and Cancel immediate, and need no locking of the session.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QWidget

from app.io.recording import RecordingWriter, output_size
from app.model.session import Session
from app.ui.confidence_plot import ConfidencePlot
from app.ui.frame_presenter import box_overlays, show_scores
from app.ui.video_view import VideoView

DONE, CANCELLED, FAILED = "done", "cancelled", "failed"
#: a recording tick renders frames for about this long, then lets the GUI breathe
TICK_SECONDS = 0.04


@dataclass(frozen=True)
class ViewOptions:
    """How a recorded frame looks."""

    width: int  # pixels; the height follows the video's aspect (plus the strip)
    overlay: bool = True  # the response overlay where a map is kept for the frame
    overlay_opacity: float = 0.6
    strip: bool = True  # the score strip under the frame, with the current-frame marker


def _offscreen(widget: QWidget, width: int, height: int) -> None:
    """Lay the widget out at this size without putting it on any screen."""
    widget.setAttribute(Qt.WA_DontShowOnScreen, True)
    widget.setAttribute(Qt.WA_ShowWithoutActivating, True)
    widget.setAttribute(Qt.WA_QuitOnClose, False)  # never what keeps the app from quitting
    widget.setFixedSize(width, height)
    widget.show()  # "shown" for Qt's layout and resize events, never mapped


class ViewRenderer:
    """Renders frame ``i`` of the session as the view shows it (boxes, chips, overlay, strip)."""

    def __init__(self, session: Session, options: ViewOptions):
        self.session, self.options = session, options
        self._video = session.video.reader()  # its own decoder: the window's cache is left alone
        self.frame_size = session.video.size
        self.size = output_size(self.frame_size, options.width)  # the frame part
        self.view = VideoView()
        _offscreen(self.view, *self.size)
        self.view.set_overlay_enabled(options.overlay)
        self.view.set_overlay_opacity(options.overlay_opacity)
        self.plot: ConfidencePlot | None = None
        if options.strip:
            self.plot = ConfidencePlot()
            _offscreen(self.plot, self.size[0], self.plot.height())
            self.plot.set_frame_count(session.frame_count)
            show_scores(self.plot, session)

    @property
    def image_size(self) -> tuple[int, int]:
        """(w, h) of a rendered picture: the frame and the strip under it."""
        strip = self.plot.height() if self.plot is not None else 0
        return self.size[0], self.size[1] + strip

    def render(self, index: int) -> QImage:
        session, view = self.session, self.view
        view.set_frame(self._video.frame(index))
        view.viewbox.setRange(QRectF(0, 0, *self.frame_size), padding=0)  # the frame fills the picture
        view.set_track_boxes(box_overlays(session, index))
        mapped = session.shown_response_track()
        kept = session.maps.get(mapped, index) if mapped is not None else None
        view.set_overlay(kept.response if kept else None, kept.geometry if kept else None)
        image = QImage(*self.image_size, QImage.Format_RGB888)
        painter = QPainter(image)
        try:
            # QGraphicsView.render: the viewport's content into the target rectangle, 1:1.
            view.render(painter, QRectF(0, 0, *self.size), view.viewport().rect())
            if self.plot is not None:
                self.plot.set_current(index)
                strip = QRectF(0, self.size[1], self.size[0], self.plot.height())
                self.plot.render(painter, strip, self.plot.viewport().rect())
        finally:
            painter.end()
        return image

    def render_rgb(self, index: int) -> np.ndarray:
        """``render`` as an (h, w, 3) RGB array."""
        image = self.render(index)
        w, h = image.width(), image.height()
        rows = np.frombuffer(image.constBits(), np.uint8, image.bytesPerLine() * h)
        return rows.reshape(h, image.bytesPerLine())[:, : w * 3].reshape(h, w, 3).copy()

    def close(self) -> None:
        self._video.close()
        for widget in (self.view, self.plot):
            if widget is not None:
                widget.close()
                widget.deleteLater()


class Recording(QObject):
    """Renders ``frames`` one picture each into ``writer``, a few per timer tick; ``cancel``
    stops at once and removes what was written. Ends with ``finished`` (exactly once)."""

    progressed = Signal(int, int)  # frames done, frames in all
    finished = Signal(str, str)  # DONE / CANCELLED / FAILED, a message for the person

    def __init__(
        self,
        renderer: ViewRenderer,
        writer: RecordingWriter,
        frames: Sequence[int],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.renderer, self.writer, self.frames = renderer, writer, frames
        self.done = 0
        self.running = False
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.running = True
        self._timer.start()

    def cancel(self) -> None:
        if self.running:
            self.writer.abort()
            self._end(CANCELLED, "Recording cancelled; nothing was written.")

    def _tick(self) -> None:
        total = len(self.frames)
        deadline = time.perf_counter() + TICK_SECONDS
        try:
            while self.done < total and time.perf_counter() < deadline:
                self.writer.add(self.renderer.render_rgb(self.frames[self.done]))
                self.done += 1
            self.progressed.emit(self.done, total)
            if self.done == total:
                self._timer.stop()
                path = self.writer.finish()
                self._end(DONE, f"Recorded {total} frames at {self.writer.fps:.4g} fps to {path}")
        except Exception as exc:  # noqa: BLE001 - any failure (a frame, the disk) ends the recording with its message
            self.writer.abort()
            self._end(FAILED, str(exc) or type(exc).__name__)

    def _end(self, outcome: str, message: str) -> None:
        self._timer.stop()
        self.running = False
        self.renderer.close()
        self.finished.emit(outcome, message)
