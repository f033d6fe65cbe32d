"""One lane per track under the score plot: keyframes, tracked, interpolated, occluded, absent and
flagged frames of every track at a glance.

The lanes share the plot's frame axis (``ConfidencePlot.frame_axis``), so a frame is at the same
x in both and the lanes follow the plot's range. Each lane is painted as runs of equal state
(``app.model.spans``), never one item per frame. The runs of a track are recomputed only after
an edit touched it (``forget``), and a long track that a tracking run edits at every result at
most every COST_RATIO times what that costs: the lanes follow the run live, cheaply. A click
selects the lane's track and shows the clicked frame; dragging along a lane scrubs.
"""

from __future__ import annotations

import math
import time
from functools import cache
from typing import NamedTuple

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QFrame, QScrollArea, QToolTip, QWidget

from app.model.annotations import Annotations, Edit, Track
from app.model.spans import FrameState, Span, flagged_spans, frame_state, keyframe_marks, track_spans
from app.ui.confidence_plot import ConfidencePlot

ROW_HEIGHT = 16
FLAG_STRIP = (1, 3)  # y offset and height in a row of the flagged-frames strip
BODY = (5, 9)  # y offset and height of the runs, under the flag strip
MAX_VISIBLE_LANES = 6  # then the lanes scroll
SELECTED_BACKGROUND = "#3a3f4b"
ROW_BACKGROUND = ("#24262a", "#282a2f")  # alternating, so neighbouring lanes read apart
CURSOR_COLOUR = "#ffd400"  # the plot's current-frame line
KEYFRAME_COLOUR = "#ffd400"  # the plot's keyframe marks
FLAG_COLOUR = "#ff5252"
ABSENT_COLOUR = "#8a8a8a"
COST_RATIO = 10  # a long track's runs take at most ~1/COST_RATIO of the GUI thread during a run
CHEAP_S = 0.002  # runs computed faster than this are always recomputed at once
MIN_KEYFRAME_GAP = 6.0  # px between keyframes below which they are drawn as ticks, not diamonds
LEGEND = (
    "One lane per track, frames left to right as in the score plot; the selected track's lane is "
    "highlighted, the yellow line is the frame shown. Click a lane to select its track and show "
    "that frame; drag along it to scrub."
)


class LaneRuns(NamedTuple):
    """What a lane draws, computed once per change of its track."""

    spans: list[Span]
    flags: list[Span]
    keyframes: list[int]


def lane_runs(track: Track) -> LaneRuns:
    return LaneRuns(track_spans(track), flagged_spans(track), keyframe_marks(track))


@cache  # made at the first paint: a pixmap needs the QApplication
def stripes() -> QBrush:
    """Thick dark diagonal stripes on transparent: laid over a solid run, it reads 'occluded'."""
    tile = QPixmap(8, 8)
    tile.fill(Qt.transparent)
    painter = QPainter(tile)
    painter.setRenderHint(QPainter.Antialiasing, True)
    painter.setPen(QPen(QColor(0, 0, 0, 170), 2.5))
    for offset in (-8, 0, 8):
        painter.drawLine(QPointF(offset, 8), QPointF(offset + 8, 0))
    painter.end()
    return QBrush(tile)


def paint_state(painter: QPainter, rect: QRectF, state: FrameState, colour: str) -> None:
    """One run of frames in ``state``: solid for boxes a person drew or the tracker found, light
    and hatched for interpolated ones, striped for occluded, a thin grey bar for absent."""
    base = QColor(colour)
    if state in (FrameState.MANUAL, FrameState.TRACKED):
        painter.fillRect(rect, base)
    elif state is FrameState.INTERPOLATED:
        light = QColor(base)
        light.setAlpha(80)
        painter.fillRect(rect, light)
        painter.fillRect(rect, QBrush(base, Qt.BDiagPattern))
    elif state is FrameState.OCCLUDED:
        painter.fillRect(rect, base)
        painter.fillRect(rect, stripes())
    else:  # absent: the object is out of view, said so by a person
        middle = rect.center().y()
        painter.fillRect(QRectF(rect.left(), middle - 1.5, rect.width(), 3.0), QColor(ABSENT_COLOUR))


def keyframe_diamond(x: float, middle: float, half: float) -> QPolygonF:
    return QPolygonF(
        [
            QPointF(x, middle - half),
            QPointF(x + half, middle),
            QPointF(x, middle + half),
            QPointF(x - half, middle),
        ]
    )


class LanesCanvas(QWidget):
    """The painted lanes (inside TrackLanes' scroll area); see the module's docstring."""

    track_requested = Signal(int)
    frame_requested = Signal(int)

    def __init__(self, plot: ConfidencePlot, parent=None):
        super().__init__(parent)
        self.plot = plot
        self.annotations: Annotations | None = None  # the session's, as last shown
        self.selected: int | None = None
        self.current = 0
        self.frame_count = 0
        self.runs: dict[int, LaneRuns] = {}  # per track id
        self.stale: set[int] = set()  # tracks edited since their runs were computed
        self.cost: dict[int, tuple[float, float]] = {}  # track id -> (when computed, seconds it took)
        self.order: list[int] = []  # track ids, top to bottom
        # A long track edited at every result of a run is recomputed at most every
        # COST_RATIO times what it costs; this timer shows the last edit once that time is up.
        self.catch_up = QTimer(self)
        self.catch_up.setSingleShot(True)
        self.catch_up.timeout.connect(self._catch_up)

    # -- what is shown -------------------------------------------------------------------------

    def show_tracks(self, annotations: Annotations, selected: int | None, frame_count: int) -> None:
        if annotations is not self.annotations:
            self.forget()
        self.annotations, self.selected, self.frame_count = annotations, selected, frame_count
        self.order = sorted(annotations.tracks)
        for track_id in [t for t in self.runs if t not in annotations.tracks]:
            del self.runs[track_id], self.cost[track_id]
        wait = math.inf
        for track in annotations:
            if track.id in self.runs and track.id not in self.stale:
                continue
            now = time.perf_counter()
            computed, cost = self.cost.get(track.id, (-math.inf, 0.0))
            due = computed + cost * COST_RATIO
            if track.id in self.runs and cost > CHEAP_S and now < due:
                wait = min(wait, due - now)  # shown a moment ago: the old runs stay a little longer
                continue
            self.runs[track.id] = lane_runs(track)
            self.stale.discard(track.id)
            self.cost[track.id] = (now, time.perf_counter() - now)
        if wait < math.inf and not self.catch_up.isActive():
            self.catch_up.start(math.ceil(wait * 1000))
        self.setMinimumHeight(max(len(self.order), 1) * ROW_HEIGHT)
        self.update()

    def forget(self, edit: Edit | None = None) -> None:
        """The tracks ``edit`` touched (all with None) are recomputed at the next show_tracks."""
        if edit is None:
            self.runs.clear()
            self.cost.clear()
            self.stale.clear()
            return
        self.stale |= {c.track for c in edit.boxes} | {c.track for c in edit.tracks}

    def _catch_up(self) -> None:
        if self.annotations is not None:
            self.show_tracks(self.annotations, self.selected, self.frame_count)

    def set_current(self, frame: int) -> None:
        if frame == self.current:
            return
        first, last, left, right = self._axis()
        for f in (self.current, frame):  # only the strips under the old and new line change
            x = self._x(f, first, last, left, right)
            self.update(int(x) - 3, 0, 7, self.height())
        self.current = frame

    # -- geometry ------------------------------------------------------------------------------

    def _axis(self) -> tuple[float, float, float, float]:
        return self.plot.frame_axis(self)

    @staticmethod
    def _x(frame: float, first: float, last: float, left: float, right: float) -> float:
        if last <= first:
            return left
        return left + (frame - first) * (right - left) / (last - first)

    def frame_at(self, x: float) -> int:
        first, last, left, right = self._axis()
        if right <= left or self.frame_count <= 0:
            return 0
        frame = first + (x - left) * (last - first) / (right - left)
        return int(min(max(round(frame), 0), self.frame_count - 1))

    def track_at(self, y: float) -> int | None:
        row = int(y // ROW_HEIGHT)
        return self.order[row] if 0 <= row < len(self.order) else None

    def row_of(self, track_id: int) -> int | None:
        return self.order.index(track_id) if track_id in self.order else None

    def in_labels(self, x: float) -> bool:
        return x < self._axis()[2] - 2

    # -- painting ------------------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        first, last, left, right = self._axis()
        exposed = event.rect()
        if not self.order or self.annotations is None:
            painter.fillRect(self.rect(), QColor(ROW_BACKGROUND[0]))
            painter.setPen(QColor("#8a8a8a"))
            text = "No tracks yet: draw a box on the frame to start one." if self.frame_count else ""
            painter.drawText(QRectF(left + 6, 0, max(right - left, 0), ROW_HEIGHT), Qt.AlignVCenter, text)
            return
        for row, track_id in enumerate(self.order):
            top = row * ROW_HEIGHT
            if top > exposed.bottom() or top + ROW_HEIGHT < exposed.top():
                continue
            track = self.annotations.tracks.get(track_id)
            runs = self.runs.get(track_id)
            if track is None or runs is None:
                continue
            self._paint_lane(painter, track, runs, top, (first, last, left, right))
        self._paint_cursor(painter, first, last, left, right)

    def _paint_lane(self, painter: QPainter, track: Track, runs: LaneRuns, top: int, axis) -> None:
        first, last, left, right = axis
        row = top // ROW_HEIGHT
        selected = track.id == self.selected
        background = SELECTED_BACKGROUND if selected else ROW_BACKGROUND[row % 2]
        painter.fillRect(QRectF(0, top, self.width(), ROW_HEIGHT), QColor(background))
        # The label column: "#id label" in the track's colour, bold when selected.
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF() - 1, 7))
        font.setBold(selected)
        painter.setFont(font)
        painter.setPen(QColor(track.color))
        label_rect = QRectF(4, top, max(left - 10, 0), ROW_HEIGHT)
        text = painter.fontMetrics().elidedText(
            f"#{track.id} {track.label}", Qt.ElideRight, int(label_rect.width())
        )
        painter.drawText(label_rect, Qt.AlignVCenter | Qt.AlignLeft, text)

        painter.save()
        painter.setClipRect(QRectF(left, top, max(right - left, 0), ROW_HEIGHT))
        painter.setPen(Qt.NoPen)
        frame_width = (right - left) / (last - first) if last > first else 0.0
        body = QRectF(0, top + BODY[0], 0, BODY[1])
        for span in runs.spans:
            x0 = self._x(span.start - 0.5, first, last, left, right)
            body.setLeft(x0)
            body.setWidth(max((span.end - span.start + 1) * frame_width, 1.0))
            paint_state(painter, body, span.state, track.color)
        for span in runs.flags:  # red marks above the runs, at least 3 px wide
            x0 = self._x(span.start - 0.5, first, last, left, right)
            width = max((span.end - span.start + 1) * frame_width, 3.0)
            painter.fillRect(QRectF(x0, top + FLAG_STRIP[0], width, FLAG_STRIP[1]), QColor(FLAG_COLOUR))
        self._paint_keyframes(painter, runs.keyframes, top, axis)
        painter.restore()

    def _paint_keyframes(self, painter: QPainter, keyframes: list[int], top: int, axis) -> None:
        """A diamond per keyframe; one crowding the previous diamond is a short tick instead,
        so runs of keyframes never hide the state under them."""
        first, last, left, right = axis
        middle = top + BODY[0] + BODY[1] / 2
        half = BODY[1] / 2 + 1
        diamonds = QPainterPath()
        painter.setPen(QPen(QColor(KEYFRAME_COLOUR), 1))
        previous = -math.inf
        for f in keyframes:
            x = self._x(f, first, last, left, right)
            if x - previous < MIN_KEYFRAME_GAP:
                painter.drawLine(QPointF(x, middle - 2.5), QPointF(x, middle + 2.5))
                continue
            diamonds.addPolygon(keyframe_diamond(x, middle, half))
            diamonds.closeSubpath()
            previous = x
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setPen(QPen(QColor("#1e1f22"), 1))
        painter.setBrush(QColor(KEYFRAME_COLOUR))
        painter.drawPath(diamonds)
        painter.setRenderHint(QPainter.Antialiasing, False)

    def _paint_cursor(self, painter: QPainter, first, last, left, right) -> None:
        if self.frame_count <= 0:
            return
        x = self._x(self.current, first, last, left, right)
        painter.setPen(QPen(QColor(CURSOR_COLOUR), 1.5))
        painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))

    # -- the mouse -----------------------------------------------------------------------------

    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.LeftButton:
            return
        track_id = self.track_at(event.position().y())
        if track_id is not None:
            self.track_requested.emit(track_id)
        if not self.in_labels(event.position().x()) and self.frame_count > 0:
            self.frame_requested.emit(self.frame_at(event.position().x()))

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.LeftButton and self.frame_count > 0:
            self.frame_requested.emit(self.frame_at(event.position().x()))

    def event(self, event) -> bool:
        if event.type() == QEvent.ToolTip:
            text = self.describe(QPointF(event.pos()))
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def describe(self, pos: QPointF) -> str:
        """The tooltip at ``pos``: track, frame and what the track is there."""
        track_id = self.track_at(pos.y())
        if track_id is None or self.annotations is None:
            return LEGEND if self.frame_count else ""
        track = self.annotations.tracks[track_id]
        name = f"#{track.id} {track.label}"
        if self.in_labels(pos.x()):
            boxes = sum(1 for b in track.boxes.values() if b.box is not None)
            keys = len(self.runs[track_id].keyframes) if track_id in self.runs else 0
            return f"{name}: {boxes} boxes, {keys} keyframes. Click to select."
        frame = self.frame_at(pos.x())
        entry = track.get(frame)
        if entry is None:
            return f"{name} · frame {frame} · not annotated"
        parts = [name, f"frame {frame}", frame_state(entry).value]
        if math.isfinite(entry.score):
            parts.append(f"score {entry.score:.2f}")
        if entry.reviewed:
            parts.append("reviewed")
        if entry.flag:
            parts.append(f"⚑ {entry.flag}")
        return " · ".join(parts)


class LaneLegend(QWidget):
    """What each mark in a lane means, drawn with the lanes' own painting."""

    ROWS = (
        (FrameState.MANUAL, "manual keyframe (drawn by you)"),
        (FrameState.TRACKED, "tracked"),
        (FrameState.INTERPOLATED, "interpolated"),
        (FrameState.OCCLUDED, "occluded"),
        (FrameState.ABSENT, "absent / out of view"),
        ("flag", "flagged for review"),
        (None, "not annotated"),
    )
    WIDTH = 330

    def __init__(self, parent=None):
        super().__init__(parent)
        metrics = self.fontMetrics()
        self.line = max(metrics.height() + 6, ROW_HEIGHT + 4)
        wrapped = metrics.boundingRect(QRect(0, 0, self.WIDTH - 16, 1000), Qt.TextWordWrap, LEGEND)
        self.header = wrapped.height() + 8
        self.setFixedSize(self.WIDTH, self.header + self.line * len(self.ROWS) + 6)

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(ROW_BACKGROUND[0]))
        painter.setPen(QColor("#d4d4d4"))
        painter.drawText(QRectF(8, 4, self.width() - 16, self.header), Qt.TextWordWrap, LEGEND)
        colour = "#40c4ff"
        for i, (state, text) in enumerate(self.ROWS):
            top = self.header + self.line * i
            swatch = QRectF(10, top + (self.line - ROW_HEIGHT) / 2 + BODY[0], 44, BODY[1])
            if state == "flag":
                paint_state(painter, swatch, FrameState.TRACKED, colour)
                strip = swatch.top() - BODY[0] + FLAG_STRIP[0]
                flag = QRectF(swatch.left() + 12, strip, 20, FLAG_STRIP[1])
                painter.fillRect(flag, QColor(FLAG_COLOUR))
            elif state is not None:
                paint_state(painter, swatch, state, colour)
            if state is FrameState.MANUAL:
                painter.setRenderHint(QPainter.Antialiasing, True)
                painter.setPen(QPen(QColor("#1e1f22"), 1))
                painter.setBrush(QColor(KEYFRAME_COLOUR))
                painter.drawPolygon(keyframe_diamond(swatch.center().x(), swatch.center().y(), 5))
                painter.setRenderHint(QPainter.Antialiasing, False)
            painter.setPen(QColor("#d4d4d4"))
            painter.drawText(QRectF(64, top, self.width() - 70, self.line), Qt.AlignVCenter, text)


class TrackLanes(QScrollArea):
    """The lanes, scrolling once there are more than MAX_VISIBLE_LANES tracks."""

    def __init__(self, plot: ConfidencePlot, parent=None):
        super().__init__(parent)
        self.canvas = LanesCanvas(plot)
        self.track_requested = self.canvas.track_requested
        self.frame_requested = self.canvas.frame_requested
        self.setWidget(self.canvas)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.NoFrame)
        self.setFocusPolicy(Qt.NoFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        self._fit_height(0)
        # The plot's range or size moved its frame axis: the lanes follow.
        viewbox = plot.getPlotItem().getViewBox()
        viewbox.sigXRangeChanged.connect(lambda *_: self.canvas.update())
        viewbox.sigResized.connect(lambda *_: self.canvas.update())

    def show_tracks(self, annotations: Annotations, selected: int | None, frame_count: int) -> None:
        reselected = selected != self.canvas.selected
        self.canvas.show_tracks(annotations, selected, frame_count)
        self._fit_height(len(annotations.tracks))
        row = self.canvas.row_of(selected) if selected is not None else None
        if reselected and row is not None:
            self.ensureVisible(0, row * ROW_HEIGHT + ROW_HEIGHT // 2, 0, ROW_HEIGHT)

    def forget(self, edit: Edit | None = None) -> None:
        self.canvas.forget(edit)

    def set_current(self, frame: int) -> None:
        self.canvas.set_current(frame)

    def lane_count(self) -> int:
        return len(self.canvas.order)

    def _fit_height(self, tracks: int) -> None:
        self.setFixedHeight(min(max(tracks, 1), MAX_VISIBLE_LANES) * ROW_HEIGHT)
