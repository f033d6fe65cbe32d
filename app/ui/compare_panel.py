"""The Compare dock: the line-up of 2-4 trackers (tracker and weights per slot), the buttons of
a comparison, and per slot its live response map, frame rate, score and IoU.

The combos are the line-up to start or to swap in; what runs and what it found is the
session's comparison, which this panel only shows (``show_comparison``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGraphicsRectItem,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

import trackers
from app.engine.jobs import TrackerSpec
from app.model.comparison import MAX_SLOTS, SLOT_COLOURS, Comparison
from app.ui.tracker_panel import (
    CHECKPOINT_FILTER,
    IMPORT,
    fill_device_combo,
    fill_tracker_combo,
    fill_weights_combo,
    identify_or_report,
)
from app.ui.video_view import OVERLAY_COLORMAP

#: the line-up offered first: the shipped mobile trackers and SiamFC, fastest first
DEFAULT_LINEUP = ("siamrpnpp-mobilev2", "siamban-mobilev2", "siamcross-mobilev2", "siamfc")
MAP_SIZE = 112  # px: a slot's live response map


class SlotCard(QFrame):
    """One slot: its tracker and weights, its live response map and numbers."""

    #: re-run this slot with the tracker chosen here (swapped in, or the same one again)
    swap_requested = Signal()
    keep_requested = Signal()
    #: something the user should see (title, message): a checkpoint that cannot be used
    error = Signal(str, str)

    def __init__(self, slot: int, parent=None):
        super().__init__(parent)
        self.slot = slot
        colour = SLOT_COLOURS[slot]
        self.setFrameShape(QFrame.StyledPanel)
        self.setStyleSheet(f"SlotCard {{ border: 1px solid {colour}; border-radius: 4px; }}")
        self._imported: dict[str, str] = {}  # tracker name -> checkpoint chosen for this slot
        chip = QLabel(f" {slot + 1} ")
        chip.setStyleSheet(f"background: {colour}; color: #000; font-weight: bold; border-radius: 3px;")
        self.tracker_combo = QComboBox()
        fill_tracker_combo(self.tracker_combo)
        self.tracker_combo.setToolTip("The tracker this slot runs")
        self.weights_combo = QComboBox()
        self.weights_combo.setToolTip("Its weights: the shipped ones or a checkpoint file")
        self.swap_button = QToolButton()
        self.swap_button.setText("Swap / re-run")
        self.swap_button.setToolTip(
            "Run this slot again from the start frame with the tracker and weights chosen here "
            "(while a comparison runs, every slot restarts)"
        )
        self.keep_button = QToolButton()
        self.keep_button.setText("Keep as track")
        self.keep_button.setToolTip("Copy this tracker's boxes into a new track (undoable)")
        for button in (self.swap_button, self.keep_button):
            button.setFocusPolicy(Qt.NoFocus)

        self.map_view = pg.GraphicsLayoutWidget()
        self.map_view.setFixedSize(MAP_SIZE, MAP_SIZE)
        self.map_view.ci.setContentsMargins(0, 0, 0, 0)
        self.map_box = self.map_view.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.map_box.setMouseEnabled(False, False)
        self.map_image = pg.ImageItem(axisOrder="row-major")
        self.map_image.setLookupTable(pg.colormap.get(OVERLAY_COLORMAP).getLookupTable(0.0, 1.0, 256))
        self.map_box.addItem(self.map_image)
        self.map_rect = QGraphicsRectItem()  # the slot's box, where the map puts it
        self.map_rect.setPen(pg.mkPen(colour, width=1.5))
        self.map_rect.setZValue(5)
        self.map_box.addItem(self.map_rect)
        self.stats = QLabel("not run yet")
        self.stats.setWordWrap(True)
        self.stats.setTextFormat(Qt.RichText)

        top = QHBoxLayout()
        top.addWidget(chip)
        top.addWidget(self.tracker_combo, 1)
        top.addWidget(self.weights_combo, 1)
        side = QVBoxLayout()
        side.addWidget(self.stats, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.swap_button)
        buttons.addWidget(self.keep_button)
        buttons.addStretch(1)
        side.addLayout(buttons)
        bottom = QHBoxLayout()
        bottom.addWidget(self.map_view)
        bottom.addLayout(side, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addLayout(bottom)

        self.tracker_combo.currentIndexChanged.connect(self._fill_weights)
        self.weights_combo.activated.connect(self._on_weights_activated)
        self.swap_button.clicked.connect(self.swap_requested)
        self.keep_button.clicked.connect(self.keep_requested)
        self._fill_weights()

    # -- the tracker chosen here -----------------------------------------------------------------

    def set_tracker(self, name: str) -> None:
        index = self.tracker_combo.findData(name)
        if index >= 0:
            self.tracker_combo.setCurrentIndex(index)

    def spec(self, device: str) -> TrackerSpec:
        weights = self.weights_combo.currentData()
        return TrackerSpec(self.tracker_combo.currentData(), None if weights == IMPORT else weights, device)

    def import_weights(self, path: str | Path) -> bool:
        """Run checkpoint ``path`` in this slot: its tracker is recognised and chosen."""
        path = str(path)
        found = identify_or_report(path, self.error)
        if found is None:
            self._fill_weights()  # back off "Import file…" to the weights in use
            return False
        name, _arch = found
        self._imported[name] = path
        if name != self.tracker_combo.currentData():
            self.set_tracker(name)  # fills the weights, which pick up the import
        else:
            self._fill_weights()
        return True

    def _on_weights_activated(self, _index: int) -> None:
        if self.weights_combo.currentData() != IMPORT:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Weights for this slot", "", CHECKPOINT_FILTER)
        if path:
            self.import_weights(path)
        else:
            self._fill_weights()

    def _fill_weights(self, *_args) -> None:
        name = self.tracker_combo.currentData()
        fill_weights_combo(self.weights_combo, name, self._imported.get(name))

    # -- what the slot found ---------------------------------------------------------------------

    def show_result(self, comparison: Comparison, frame: int, iou: np.ndarray | None) -> None:
        """The slot's numbers, its map and box on ``frame`` (``iou``: per frame, or None)."""
        if self.slot >= len(comparison.slots):
            self.stats.setText("not in this comparison: Start to run it")
            self.map_image.clear()
            self.map_rect.hide()
            return
        tracked = comparison.slots[self.slot]
        kept = comparison.map_at(self.slot, frame)
        box = tracked.box_at(frame)
        if kept is None:
            self.map_image.clear()
            self.map_rect.hide()
        else:
            rows, cols = kept.response.shape[:2]
            extent = kept.geometry.extent((rows, cols)) if kept.geometry is not None else (0, 0, cols, rows)
            self.map_image.setImage(kept.response, autoLevels=False, levels=(0.0, 1.0))
            self.map_image.setRect(QRectF(*extent))
            self.map_box.setRange(QRectF(*extent), padding=0.0)
            self.map_rect.setVisible(box is not None and kept.geometry is not None)
            if box is not None:
                self.map_rect.setRect(QRectF(*box))
        score = tracked.score_at(frame)
        parts = [f"<b style='color:{tracked.colour}'>{tracked.title}</b> · {tracked.status}"]
        parts.append(f"{tracked.fps:.1f} fps" if math.isfinite(tracked.fps) else "– fps")
        parts.append(f"score {score:.3f}" if math.isfinite(score) else "score –")
        if iou is not None:
            now = float(iou[frame]) if 0 <= frame < len(iou) else math.nan
            text = f"IoU {now:.2f}" if math.isfinite(now) else "IoU –"
            if not np.isnan(iou).all():
                text += f" (mean {float(np.nanmean(iou)):.3f})"
            parts.append(text)
        self.stats.setText("<br>".join(parts))


class ComparePanel(QWidget):
    #: start a comparison of the line-up (a list of TrackerSpec) from the current frame
    start_requested = Signal(object)
    swap_requested = Signal(int, object)  # slot, TrackerSpec
    keep_requested = Signal(int)  # slot
    error = Signal(str, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.count_box = QSpinBox()
        self.count_box.setRange(2, MAX_SLOTS)
        self.count_box.setValue(MAX_SLOTS)
        self.count_box.setToolTip("How many trackers to compare")
        self.device_combo = QComboBox()
        fill_device_combo(self.device_combo)
        self.device_combo.setToolTip("Where every compared tracker runs")
        self.cards = [SlotCard(slot) for slot in range(MAX_SLOTS)]
        names = [n for n in DEFAULT_LINEUP if n in trackers.names()] + list(trackers.names())
        for card, name in zip(self.cards, names, strict=False):
            card.set_tracker(name)
            card.swap_requested.connect(lambda card=card: self._swap(card))
            card.keep_requested.connect(lambda card=card: self.keep_requested.emit(card.slot))
            card.error.connect(self.error)

        self.buttons = QGridLayout()
        self.buttons.setSpacing(2)
        self.caption = QLabel(
            "Every tracker starts from the selected box (or the ground truth's) on the frame shown. "
            "Strip: solid = score, dashed = IoU with the ground truth, in each tracker's colour."
        )
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color: #9a9a9a;")

        form = QFormLayout()
        form.addRow("Trackers", self.count_box)
        form.addRow("Device", self.device_combo)
        cards = QWidget()
        cards_layout = QVBoxLayout(cards)
        cards_layout.setContentsMargins(0, 0, 0, 0)
        for card in self.cards:
            cards_layout.addWidget(card)
        cards_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setWidget(cards)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(form)
        layout.addLayout(self.buttons)
        layout.addWidget(self.caption)
        layout.addWidget(scroll, 1)
        self.count_box.valueChanged.connect(self._show_count)
        self._show_count(self.count_box.value())

    def set_actions(self, actions: list[QAction]) -> None:
        """The window's comparison actions, as buttons here (two to a row)."""
        for i, action in enumerate(actions):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonTextOnly)
            button.setFocusPolicy(Qt.NoFocus)
            button.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
            self.buttons.addWidget(button, i // 2, i % 2)

    def specs(self) -> list[TrackerSpec]:
        """The line-up: one TrackerSpec per slot in use."""
        device = self.device_combo.currentData()
        return [card.spec(device) for card in self.cards[: self.count_box.value()]]

    def request_start(self) -> None:
        self.start_requested.emit(self.specs())

    def _swap(self, card: SlotCard) -> None:
        self.swap_requested.emit(card.slot, card.spec(self.device_combo.currentData()))

    def _show_count(self, count: int) -> None:
        for card in self.cards:
            card.setVisible(card.slot < count)

    def show_comparison(
        self, comparison: Comparison, frame: int, ious: list[np.ndarray] | None, running: bool, busy: bool
    ) -> None:
        """Every slot's numbers and map on ``frame``; which buttons can be used."""
        for card in self.cards:
            in_it = card.slot < len(comparison.slots)
            card.show_result(comparison, frame, ious[card.slot] if ious is not None and in_it else None)
            card.swap_button.setEnabled(in_it and not busy)
            card.keep_button.setEnabled(in_it and not busy and not running)
