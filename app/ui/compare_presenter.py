"""Paints the session's comparison: the Compare dock (numbers and maps per slot), the side-by-side
grid, and one score curve (and IoU curve, with a ground truth) per tracker on the strip. The
boxes overlaid on the main view are drawn by FramePresenter with ``comparison_overlays``.

Repaints are coalesced from a single-shot QTimer, as FramePresenter's: a comparison sends results
faster than the screen needs them, and every result is in the session anyway.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import cv2
import numpy as np
from PySide6.QtCore import QObject, QTimer

from app.controllers.comparisons import ComparisonController
from app.model.comparison import Comparison
from app.model.session import Session
from app.ui.compare_grid import CompareGrid
from app.ui.compare_overlays import slot_caption
from app.ui.compare_panel import ComparePanel
from app.ui.confidence_plot import ConfidencePlot
from app.ui.frame_presenter import REPAINT_INTERVAL_MS


class ComparePresenter(QObject):
    def __init__(
        self,
        session: Session,
        controller: ComparisonController,
        panel: ComparePanel,
        grid: CompareGrid,
        plot: ConfidencePlot,
        busy: Callable[[], bool],
        frame_image: Callable[[int], np.ndarray | None],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.session, self.controller = session, controller
        self.panel, self.grid, self.plot = panel, grid, plot
        self._busy = busy  # a tracking run is going
        self._frame_image = frame_image  # BGR, or None
        self._truth: np.ndarray | None = None
        self._truth_dirty = True
        self._last_repaint = 0.0
        self.repaint_count = 0
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.repaint)
        comparison = session.comparison
        comparison.changed.connect(self._on_changed)
        comparison.advanced.connect(lambda _frame: self.schedule())
        session.frame_changed.connect(lambda _frame: self.schedule())
        session.annotations_changed.connect(lambda _edit: self._on_changed())
        session.document_changed.connect(self._on_changed)
        controller.running_changed.connect(lambda _running: self.schedule(now=True))

    def _on_changed(self) -> None:
        self._truth_dirty = True  # the ground truth is looked up again from the start box
        self.schedule(now=True)

    def schedule(self, now: bool = False) -> None:
        if now:
            self.timer.stop()
            self.repaint()
        elif not self.timer.isActive():
            since = (time.perf_counter() - self._last_repaint) * 1000.0
            self.timer.start(int(max(0.0, REPAINT_INTERVAL_MS - since)))

    def truth(self) -> np.ndarray | None:
        """The ground truth's boxes the comparison is measured against (None: none)."""
        if self._truth_dirty:
            self._truth = self.session.comparison.ground_truth(self.session.annotations)
            self._truth_dirty = False
        return self._truth

    def repaint(self) -> None:
        self._last_repaint = time.perf_counter()
        self.repaint_count += 1
        comparison = self.session.comparison
        frame = self.session.current_frame
        truth = self.truth()
        ious = [comparison.iou(s, truth) for s in range(len(comparison.slots))] if truth is not None else None
        self.plot.set_compare_curves(
            [
                (tracked.colour, tracked.scores, ious[slot] if ious is not None else None)
                for slot, tracked in enumerate(comparison.slots)
            ]
        )
        self.panel.show_comparison(comparison, frame, ious, self.controller.running, self._busy())
        if self.grid.isVisible():
            self._show_grid(comparison, frame, truth, ious)

    def _show_grid(self, comparison: Comparison, frame: int, truth, ious) -> None:
        count = len(comparison.slots)
        self.grid.set_count(max(count, 2))
        image = self._frame_image(frame) if self.session.video is not None else None
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image is not None else None  # once for all
        truth_box = None
        if truth is not None and 0 <= frame < len(truth) and not np.isnan(truth[frame]).any():
            truth_box = tuple(float(v) for v in truth[frame])
        for slot, view in enumerate(self.grid.views[: max(count, 2)]):
            if slot >= count:
                view.show_slot(
                    rgb, "no tracker: Start a comparison (Compare dock)", "#9a9a9a", None, None, None, None
                )
                continue
            tracked = comparison.slots[slot]
            kept = comparison.map_at(slot, frame)
            title = f"{slot + 1} · {slot_caption(comparison, slot, frame)}"
            if ious is not None and math.isfinite(ious[slot][frame]):
                title += f" · IoU {ious[slot][frame]:.2f}"
            view.show_slot(
                rgb,
                title,
                tracked.colour,
                tracked.box_at(frame),
                truth_box,
                kept.response if kept else None,
                kept.geometry if kept else None,
            )
