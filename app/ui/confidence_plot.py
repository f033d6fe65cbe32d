"""Score per frame over the whole video, under the frame slider.

x is the frame index (the slider's value); a vertical line marks the current frame. Clicking
the plot or dragging the line asks to show that frame. When the track has a ground truth to
compare with, its IoU with it is a second, dashed curve.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QWidget

from app.ui.video_view import TRACKED_COLOUR

IOU_COLOUR = "#b2ff59"


class ConfidencePlot(pg.PlotWidget):
    frame_requested = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setMouseEnabled(x=False, y=False)  # the x range always shows the whole video
        item.setClipToView(True)
        item.showGrid(y=True, alpha=0.2)
        item.getAxis("left").setWidth(36)
        item.getAxis("left").setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")]])
        item.setYRange(-0.08, 1.08, padding=0)
        # The legend names the curves only when there are two (score and IoU).
        self.legend = item.addLegend(
            offset=(-6, 1), labelTextSize="8pt", verSpacing=-6, brush=pg.mkBrush(20, 20, 24, 200)
        )
        self.curve = item.plot(pen=pg.mkPen(TRACKED_COLOUR, width=1.5), connect="finite", name="score")
        self.iou_curve = item.plot(
            pen=pg.mkPen(IOU_COLOUR, width=1.5, style=Qt.PenStyle.DashLine),
            connect="finite",
            name="IoU with the ground truth",
        )
        # Frames flagged for review (red, on the curve) and manual keyframes (small marks on top).
        self.flag_marks = pg.ScatterPlotItem(
            size=9, symbol="t", pen=pg.mkPen("#ff5252"), brush=pg.mkBrush("#ff5252")
        )
        self.key_marks = pg.ScatterPlotItem(size=6, symbol="d", pen=None, brush=pg.mkBrush("#ffd400"))
        item.addItem(self.flag_marks)
        item.addItem(self.key_marks)
        self.flagged: list[int] = []
        #: a live comparison's curves: (score, IoU) per compared tracker, made when first needed
        self.compare_items: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        self.cursor = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen("#ffd400", width=1.5))
        self.cursor.sigDragged.connect(lambda line: self._request(line.value()))
        item.addItem(self.cursor)
        self.scene().sigMouseClicked.connect(self._on_click)
        self._frame_count = 0
        self.setFixedHeight(110)
        self.set_frame_count(0)

    def set_frame_count(self, count: int) -> None:
        self._frame_count = count
        self.getPlotItem().setXRange(0, max(count - 1, 1), padding=0.01)
        self.cursor.setVisible(count > 0)
        self.set_scores(np.zeros(0))
        self.set_iou(None)

    def set_colour(self, colour: str) -> None:
        """The curve takes the colour of the track it shows."""
        self.curve.setPen(pg.mkPen(colour, width=1.5))

    def set_scores(self, scores: np.ndarray, flagged=(), keyframes=()) -> None:
        """Scores of all frames (NaN where not tracked), drawn with gaps at the NaNs; flagged
        frames as red marks on the curve (at 0 where there is no score), keyframes on top."""
        if len(scores) == 0 or np.isnan(scores).all():
            self.curve.setData([], [])
        else:
            self.curve.setData(np.arange(len(scores)), scores, connect="finite")
        self.flagged = sorted(flagged)
        if self.flagged:
            at = np.asarray(self.flagged)
            y = np.nan_to_num(np.asarray(scores, dtype=float)[at[at < len(scores)]], nan=0.0)
            self.flag_marks.setData(at[: len(y)], y)
        else:
            self.flag_marks.setData([], [])
        keys = sorted(keyframes)
        self.key_marks.setData(keys, [1.04] * len(keys))

    def set_iou(self, values: np.ndarray | None) -> None:
        """IoU with the ground truth per frame (NaN: not compared), or None: no ground truth."""
        shown = values is not None and not np.isnan(values).all()
        if shown:
            self.iou_curve.setData(np.arange(len(values)), values, connect="finite")
        else:
            self.iou_curve.setData([], [])
        self.legend.setVisible(shown)

    def set_compare_curves(self, curves: list[tuple[str, np.ndarray, np.ndarray | None]]) -> None:
        """A comparison's curves, one (colour, scores, IoU with the ground truth or None) per
        tracker: the score solid, the IoU dashed, in the tracker's colour; [] removes them."""
        item = self.getPlotItem()
        while len(self.compare_items) < len(curves):
            self.compare_items.append((item.plot(connect="finite"), item.plot(connect="finite")))
        for i, (score_item, iou_item) in enumerate(self.compare_items):
            colour, scores, ious = curves[i] if i < len(curves) else (None, None, None)
            for plotted, values, style in (
                (score_item, scores, Qt.PenStyle.SolidLine),
                (iou_item, ious, Qt.PenStyle.DashLine),
            ):
                if values is None or np.isnan(values).all():
                    plotted.setData([], [])
                    continue
                plotted.setPen(pg.mkPen(colour, width=1.5, style=style))
                plotted.setData(np.arange(len(values)), values, connect="finite")

    def compare_curves_shown(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The y values of each comparison curve pair (score, IoU) now (for tests and scripts)."""
        return [
            tuple(np.asarray(c.yData if c.yData is not None else [], dtype=float) for c in pair)
            for pair in self.compare_items
        ]

    def iou_shown(self) -> np.ndarray:
        """The y values of the IoU curve now (for tests and scripts)."""
        y = self.iou_curve.yData
        return np.asarray(y if y is not None else [], dtype=float)

    def set_current(self, frame: int) -> None:
        self.cursor.setValue(frame)

    def reserve_columns(self, left: int, right: int) -> None:
        """Widen the score axis to ``left`` px and keep ``right`` px free on the right, so that
        widgets under the plot (the track lanes) can share its frame axis."""
        item = self.getPlotItem()
        item.getAxis("left").setWidth(left)
        margin_left, top, _right, bottom = item.layout.getContentsMargins()
        item.layout.setContentsMargins(margin_left, top, right, bottom)

    def frame_axis(self, widget: QWidget) -> tuple[float, float, float, float]:
        """(first, last, left, right): the frames ``first`` to ``last`` at either end of the plot's
        view lie at x = ``left`` and ``right`` in ``widget``'s coordinates."""
        viewbox = self.getPlotItem().getViewBox()
        (first, last), _ = viewbox.viewRange()
        rect = viewbox.sceneBoundingRect()
        ends = []
        for scene_x in (rect.left(), rect.right()):
            on_view = self.viewportTransform().map(QPointF(scene_x, rect.top()))
            ends.append(widget.mapFromGlobal(self.viewport().mapToGlobal(on_view)).x())
        return first, last, ends[0], ends[1]

    def scores_shown(self) -> np.ndarray:
        """The y values on the curve now (for tests and scripts)."""
        y = self.curve.yData
        return np.asarray(y if y is not None else [], dtype=float)

    def _on_click(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        viewbox = self.getPlotItem().getViewBox()
        if not viewbox.sceneBoundingRect().contains(ev.scenePos()):
            return
        self._request(viewbox.mapSceneToView(ev.scenePos()).x())

    def _request(self, x: float) -> None:
        if self._frame_count > 0:
            self.frame_requested.emit(int(np.clip(round(x), 0, self._frame_count - 1)))
