"""The current frame's response map, colour-mapped on a fixed 0..1 scale."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.model.annotations import FrameBox
from app.model.results import ResponseMap
from app.ui.video_view import OVERLAY_COLORMAP


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
        self.show_result(None, None, None)

    def show_result(self, frame: int | None, entry: FrameBox | None, kept: ResponseMap | None) -> None:
        """Frame ``frame``'s box of the selected track and, for a tracked box, its map."""
        if kept is None:
            self.image.clear()
            if frame is None:
                self._set_title("no response")
            elif entry is None or entry.box is None:
                self._set_title(f"frame {frame} · no box")
            elif entry.is_manual:
                self._set_title(f"frame {frame} · your box")
            elif entry.source.value == "tracked":
                self._set_title(f"frame {frame} · score {entry.score:.3f} · map not kept")
            else:
                self._set_title(f"frame {frame} · {entry.source.value}")
            return
        response = np.asarray(kept.response, dtype=np.float32)
        first = self.image.image is None or self.image.image.shape != response.shape
        self.image.setImage(response, autoLevels=False, levels=(0.0, 1.0))
        if first:
            self.plot.autoRange(padding=0.02)
        score = "–" if entry is None or math.isnan(entry.score) else f"{entry.score:.3f}"
        note = f" · {entry.flag}" if entry is not None and entry.flag else ""
        self._set_title(f"frame {frame} · score {score}{note}")

    def _set_title(self, text: str) -> None:
        self.title = text
        self.plot.setTitle(text, size="9pt")
        # A long title must not widen the layout past the dock (it would push the colour bar out).
        self.plot.titleLabel.setMinimumWidth(0)
