"""The current frame's response map, colour-mapped on a fixed 0..1 scale."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.results import FrameResult
from app.video_view import OVERLAY_COLORMAP


class ResponsePanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.plot = self.graphics.addPlot()
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)  # row 0 at the top, as on the image
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        for side, label in (("bottom", "column"), ("left", "row")):
            self.plot.getAxis(side).setLabel(label)
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        self.plot.setRange(xRange=(0, 17), yRange=(0, 17), padding=0)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        # Fixed levels: scores of different frames and trackers stay comparable by colour.
        self.colorbar = pg.ColorBarItem(
            values=(0.0, 1.0), colorMap=pg.colormap.get(OVERLAY_COLORMAP), interactive=False, width=12
        )
        self.colorbar.setImageItem(self.image)
        self.graphics.addItem(self.colorbar)
        self.graphics.ci.layout.setColumnFixedWidth(1, 60)  # the map's aspect lock must not squeeze it
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.graphics)
        self.title = ""
        self.show_result(None, None)

    def show_result(self, frame: int | None, result: FrameResult | None) -> None:
        if result is None or result.response is None:
            self.image.clear()
            if result is not None:
                self._set_title(f"frame {frame} · your box")
            else:
                self._set_title("no response" if frame is None else f"frame {frame} · not tracked")
            return
        response = np.asarray(result.response, dtype=np.float32)
        first = self.image.image is None or self.image.image.shape != response.shape
        self.image.setImage(response, autoLevels=False, levels=(0.0, 1.0))
        if first:
            self.plot.autoRange(padding=0.02)
        score = "–" if math.isnan(result.score) else f"{result.score:.3f}"
        note = "" if result.ok else " · lost (non-finite output)"
        self._set_title(f"frame {frame} · score {score}{note}")

    def _set_title(self, text: str) -> None:
        self.title = text
        self.plot.setTitle(text, size="9pt")
        # A long title must not widen the layout past the dock (it would push the colour bar out).
        self.plot.titleLabel.setMinimumWidth(0)
