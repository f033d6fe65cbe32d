"""Side by side: one small view per compared tracker (2-4, in a grid), each showing the frame,
that tracker's box and its response map laid on the frame, and the ground truth's box dashed.
It replaces the main video view while the window shows a comparison side by side.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QGraphicsRectItem, QGridLayout, QWidget

from app.model.comparison import MAX_SLOTS
from app.ui.video_view import overlay_lookup_table
from trackers.base import Box, MapGeometry

TRUTH_COLOUR = "#ffffff"


class SlotView(pg.GraphicsLayoutWidget):
    """One tracker's view of the frame."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.title = self.addLabel("", row=0, col=0, size="10pt")
        self.viewbox = self.addViewBox(row=1, col=0, lockAspect=True, invertY=True, enableMenu=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.viewbox.addItem(self.image)
        self.overlay = pg.ImageItem(axisOrder="row-major")
        self.overlay.setLookupTable(overlay_lookup_table())
        self.overlay.setOpacity(0.55)
        self.overlay.setZValue(10)
        self.viewbox.addItem(self.overlay, ignoreBounds=True)
        self.truth = QGraphicsRectItem()
        self.truth.setPen(pg.mkPen(TRUTH_COLOUR, width=1.5, style=Qt.PenStyle.DashLine))
        self.truth.setZValue(19)
        self.viewbox.addItem(self.truth, ignoreBounds=True)
        self.box = QGraphicsRectItem()
        self.box.setZValue(20)
        self.viewbox.addItem(self.box, ignoreBounds=True)
        self._size: tuple[int, int] | None = None
        self.box_shown: Box | None = None  # for tests and scripts

    def show_slot(
        self,
        rgb: np.ndarray | None,
        title: str,
        colour: str,
        box: Box | None,
        truth: Box | None,
        response: np.ndarray | None,
        geometry: MapGeometry | None,
    ) -> None:
        if rgb is not None:
            self.image.setImage(rgb, autoLevels=False, levels=(0, 255))
            size = (rgb.shape[1], rgb.shape[0])
            if size != self._size:
                self._size = size
                self.viewbox.setRange(QRectF(0, 0, *size), padding=0.01)
        self.title.setText(title, color=colour)
        self.box_shown = box
        self.box.setVisible(box is not None)
        if box is not None:
            self.box.setPen(pg.mkPen(colour, width=2.5))
            self.box.setRect(QRectF(*box))
        self.truth.setVisible(truth is not None)
        if truth is not None:
            self.truth.setRect(QRectF(*truth))
        if response is None or geometry is None:
            self.overlay.hide()
            return
        self.overlay.setImage(response, autoLevels=False, levels=(0.0, 1.0))
        self.overlay.setRect(QRectF(*geometry.extent(response.shape[:2])))
        self.overlay.show()


class CompareGrid(QWidget):
    """2-4 SlotViews: two columns, one or two rows."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.views = [SlotView() for _ in range(MAX_SLOTS)]
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        for i, view in enumerate(self.views):
            layout.addWidget(view, i // 2, i % 2)

    def set_count(self, count: int) -> None:
        for i, view in enumerate(self.views):
            view.setVisible(i < count)
