"""The "Inside the tracker" dock: what the tracker weighed to pick its box on one frame.

For the shown track's current frame (the response map's track: the selected one unless the
person picked another), from the inside record of the run (trackers/inside.py): the template
crop, the raw score map, per-level maps with their weights, the penalty, the cosine window and
the final map with the chosen candidate; on the frame (toggle) the search region and the
anchors / points around the winner. Each view says in one line what it is.

Records cost work, so runs make them only while this dock is visible (``InsideView`` turns
recording on and off, also mid-run); they are kept for recent frames only.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDockWidget,
    QGraphicsRectItem,
    QGridLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.controllers.runs import RunsController
from app.model.session import Session
from app.ui.video_view import OVERLAY_COLORMAP, TRACKED_COLOUR, VideoView
from trackers.inside import Inside

REFRESH_MS = 80  # during a run records arrive at the tracker's rate; the dock repaints at this pace
WINNER_COLOUR = "#39ff14"
NEIGHBOURHOOD = 2  # cells either side of the winner whose points are drawn on the frame
MAP_COLOURS = pg.colormap.get(OVERLAY_COLORMAP).getLookupTable(nPts=256)


class MapView(QWidget):
    """One map (or the template image) with its title above and a one-line explanation below."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold;")
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setMinimumSize(140, 120)
        self.plot = self.graphics.addPlot()
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)  # rows grow downwards, as on the frame
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMouseEnabled(False, False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.marker = pg.ScatterPlotItem(
            symbol="+", size=16, pen=pg.mkPen(WINNER_COLOUR, width=2), brush=None
        )
        self.marker.setZValue(5)
        self.plot.addItem(self.marker)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color: #9a9a9a;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.caption)

    def show_map(
        self,
        title: str,
        values: np.ndarray,
        caption: str,
        levels: tuple[float, float] | None = (0.0, 1.0),
        mark: tuple[int, int] | None = None,
    ) -> None:
        """``values``: (rows, cols) shown with the overlay's colour map (levels None: its range),
        or (h, w, 3) BGR uint8 shown as a picture; ``mark``: (row, col) of the chosen cell."""
        self.title.setText(title)
        self.caption.setText(caption)
        if values.ndim == 3:
            self.image.setLookupTable(None)
            self.image.setImage(np.ascontiguousarray(values[..., ::-1]), autoLevels=False, levels=(0, 255))
        else:
            lo, hi = levels if levels is not None else (float(values.min()), float(values.max()))
            self.image.setLookupTable(MAP_COLOURS)
            self.image.setImage(values.astype(np.float32), autoLevels=False, levels=(lo, max(hi, lo + 1e-9)))
        rows, cols = values.shape[:2]
        self.image.setRect(QRectF(0, 0, cols, rows))
        self.plot.setRange(QRectF(0, 0, cols, rows), padding=0.02)
        self.marker.setData([] if mark is None else [mark[1] + 0.5], [] if mark is None else [mark[0] + 0.5])
        self.show()


def _explain(inside: Inside) -> list[tuple[str, np.ndarray, str, tuple | None, bool]]:
    """(title, map or image, caption, colour levels, mark the winner) per view, in order."""
    a, row, col = inside.best
    at = (a, row, col)
    score, final = float(inside.score[at]), float(inside.final[at])
    window, w = float(inside.window[at]), inside.window_influence
    fc = inside.decode == "scales"
    views = [
        (
            "Template",
            inside.template,
            "The exemplar crop the tracker initialised with: every search region is compared with it.",
            None,
            False,
        ),
        (
            "Raw score",
            inside.cell_map(inside.score),
            (
                "The chosen scale's correlation, upsampled x16 (sigmoid): 1 = looks like the template."
                if fc
                else "The network's confidence per candidate before any prior"
                + (" (each cell: its best anchor)." if inside.anchors is not None else ".")
            )
            + f" Winner {score:.3f}.",
            (0.0, 1.0),
            True,
        ),
    ]
    if inside.penalty is not None:
        penalty = float(inside.penalty[at])
        views.append(
            (
                "Penalty",
                inside.cell_map(inside.penalty),
                (
                    "How much a candidate's change of size and shape from the last frame costs it "
                    f"(SiamRPN's scale / ratio penalty, k = {inside.penalty_k:g}); 1 = no change. "
                    f"Winner x{penalty:.3f}: {score:.3f} -> {score * penalty:.3f}."
                ),
                (0.0, 1.0),
                True,
            )
        )
    views += [
        (
            "Cosine window",
            inside.cell_map(inside.window),
            (
                f"Favours small motion from the last position; blended in with influence {w:.2f}: "
                f"final = {1 - w:.2f} x {'normalised score' if fc else 'score x penalty'} + {w:.2f} x window."
            ),
            None,
            True,
        ),
        (
            "Final",
            inside.cell_map(inside.final),
            f"The map whose maximum (+) picked the box: {final:.3f} "
            f"(window {window:.3f} there). Cell ({row}, {col})"
            + (
                f", anchor {a} ({inside.anchors[a][0]:.0f} x {inside.anchors[a][1]:.0f} px)."
                if inside.anchors is not None
                else "."
            ),
            None,
            True,
        ),
    ]
    return views


def _level_views(inside: Inside) -> list[tuple[str, np.ndarray, str]]:
    levels = inside.levels
    if levels is None:
        return []
    if levels.kind == "levels":
        caption = "The head's map of this backbone level; the levels are summed with the learned weights softmax(cls_weight)."
    elif levels.kind == "branches":
        caption = "SiamCross sums its two classification maps with these shares into the raw score."
    else:
        caption = "This scale's correlation (sigmoid); the scale whose penalised peak is highest is searched."
    views = []
    for i, (name, values) in enumerate(zip(levels.names, levels.maps, strict=True)):
        weight = (
            f"penalty x{levels.weights[i]:.4g}"
            if levels.kind == "scales"
            else f"weight {levels.weights[i]:.2f}"
        )
        chosen = " · chosen" if levels.chosen == i else ""
        views.append((f"{name} · {weight}{chosen}", values, caption))
    return views


class InsidePanel(QWidget):
    """Shows one inside record (``show_record``) or says why there is none (``show_message``)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.overlay_button = QToolButton()
        self.overlay_button.setToolButtonStyle(Qt.ToolButtonTextOnly)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #9a9a9a;")
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.views: list[MapView] = []
        content = QWidget()
        inner = QVBoxLayout(content)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addLayout(self.grid)
        inner.addWidget(self.note)
        inner.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.heading)
        layout.addWidget(self.overlay_button)
        layout.addWidget(scroll, 1)
        self.record: Inside | None = None
        self.show_message("Track with this view open to see what the tracker weighed on each frame.")

    def set_overlay_action(self, action: QAction) -> None:
        action.setIconText("Search region and candidates on the frame")
        self.overlay_button.setDefaultAction(action)

    def _view(self, i: int) -> MapView:
        while len(self.views) <= i:
            view = MapView()
            self.grid.addWidget(view, len(self.views) // 2, len(self.views) % 2)
            self.views.append(view)
        return self.views[i]

    def show_message(self, text: str, heading: str = "") -> None:
        self.record = None
        self.heading.setText(heading)
        self.note.setText(text)
        for view in self.views:
            view.hide()

    def show_record(self, heading: str, inside: Inside) -> None:
        self.record = inside
        self.heading.setText(heading)
        shown = 0
        for title, values, caption, levels, mark in _explain(inside):
            self._view(shown).show_map(title, values, caption, levels, inside.best[1:] if mark else None)
            shown += 1
        for title, values, caption in _level_views(inside):
            self._view(shown).show_map(title, values, caption)
            shown += 1
        for view in self.views[shown:]:
            view.hide()
        self.note.setText(
            "" if inside.levels is not None and inside.levels.kind == "levels" else inside.level_note
        )

    def shown_titles(self) -> list[str]:
        return [v.title.text() for v in self.views if not v.isHidden()]


class InsideOverlay:
    """On the frame: the search region, the anchors of the winner's cell (anchor heads) and the
    points around the winner, the chosen one highlighted."""

    def __init__(self, view: VideoView):
        self.viewbox = view.viewbox
        self.region = QGraphicsRectItem()
        self.region.setPen(pg.mkPen(TRACKED_COLOUR, width=1.5, style=Qt.PenStyle.DashLine))
        self.anchors: list[QGraphicsRectItem] = []
        self.points = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(255, 255, 255, 170))
        self.winner = pg.ScatterPlotItem(
            symbol="+", size=14, pen=pg.mkPen(WINNER_COLOUR, width=2), brush=None
        )
        for item in (self.region, self.points, self.winner):
            item.setZValue(12)
            self.viewbox.addItem(item, ignoreBounds=True)
        self.enabled = False
        self.show(None)

    def show(self, inside: Inside | None) -> None:
        visible = self.enabled and inside is not None
        for item in (self.region, self.points, self.winner, *self.anchors):
            item.setVisible(False)
        if not visible:
            return
        self.region.setRect(QRectF(*inside.search_region))
        xs, ys = zip(*inside.neighbourhood(NEIGHBOURHOOD), strict=True)
        self.points.setData(list(xs), list(ys))
        x, y = inside.cell_centre(*inside.best[1:])
        self.winner.setData([x], [y])
        boxes = inside.anchor_boxes()
        while len(self.anchors) < len(boxes):
            item = QGraphicsRectItem()
            item.setZValue(11)
            self.viewbox.addItem(item, ignoreBounds=True)
            self.anchors.append(item)
        for i, (item, box) in enumerate(zip(self.anchors, boxes, strict=False)):
            chosen = i == inside.best[0]
            style = Qt.PenStyle.SolidLine if chosen else Qt.PenStyle.DotLine
            item.setPen(
                pg.mkPen(WINNER_COLOUR if chosen else "#ffffff", width=2 if chosen else 1, style=style)
            )
            item.setRect(QRectF(*box))
            item.setVisible(True)
        for item in (self.region, self.points, self.winner):
            item.setVisible(True)


class InsideView(QObject):
    """Keeps the dock on the shown track's current frame and recording on while it is visible."""

    def __init__(
        self, session: Session, runs: RunsController, dock: QDockWidget, panel: InsidePanel, view: VideoView
    ):
        super().__init__(dock)
        self.session, self.runs, self.dock, self.panel = session, runs, dock, panel
        self.overlay = InsideOverlay(view)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        # Checked once the dock has settled: floating it, or a tab coming to the front, sends
        # several changes whose last one need not be the state it ends in.
        dock.visibilityChanged.connect(lambda _visible: QTimer.singleShot(0, self._sync_recording))
        dock.topLevelChanged.connect(lambda _floating: QTimer.singleShot(0, self._sync_recording))
        # Opened from the menu it comes to the front: a tab behind another one is not visible
        # (and records nothing).
        dock.toggleViewAction().triggered.connect(lambda on: on and dock.raise_())
        for event in (session.frame_changed, session.selection_changed, session.response_track_changed):
            event.connect(lambda _value: self.schedule())
        session.annotations_changed.connect(lambda _edit: self.schedule())
        runs.inside_recorded.connect(lambda _frame: self.schedule())

    def _sync_recording(self) -> None:
        """Record while the dock can be seen (a tab behind another one cannot)."""
        dock = self.dock
        self.runs.tracking.set_inspecting(dock.isVisible() and not dock.visibleRegion().isEmpty())
        self.refresh()

    def set_overlay_enabled(self, enabled: bool) -> None:
        self.overlay.enabled = bool(enabled)
        self.refresh()

    def schedule(self) -> None:
        if not self.timer.isActive():
            self.timer.start()

    def refresh(self) -> None:
        session = self.session
        frame, track_id = session.current_frame, session.shown_response_track()
        inside = self.runs.inside.get(track_id, frame) if session.video is not None else None
        self.overlay.show(inside)
        if not self.dock.isVisible():
            return
        if inside is not None:
            heading = f"Frame {frame} · track #{track_id} · {inside.decode} · {inside.level_note}"
            if inside.search_note:
                heading += f" · {inside.search_note}"
            self.panel.show_record(heading, inside)
            return
        track = session.annotations.tracks.get(track_id)
        entry = track.get(frame) if track is not None else None
        if session.video is None or track is None:
            text = "Open a video, draw a box and track with this view open."
        elif entry is not None and entry.is_manual:
            text = "Your box: the tracker starts from it. Step to a tracked frame."
        else:
            text = (
                "Run with the Inside view open to see this frame (records are kept for recent frames only)."
            )
        self.panel.show_message(text, f"Frame {frame} · track #{track_id}" if track is not None else "")
