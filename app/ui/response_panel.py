"""The response map of one track on the current frame, colour-mapped on a fixed 0..1 scale.

The map is drawn where the tracker computed it on the frame (the search region, in frame
pixels), with the track's box on it, so its axes read as positions on the frame. Which track's
map is shown is the session's choice (the selected track unless the person picks another, e.g.
during a multi-object run); the panel only shows it and asks to change it. The overlay on the
frame is switched by the window's action (R) and blended with the opacity set here.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QAction, QFont, QFontMetrics
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.model.annotations import Annotations, FrameBox
from app.model.results import ResponseMap
from app.ui.flag_text import short_flag
from app.ui.video_view import OVERLAY_COLORMAP, TRACKED_COLOUR

SELECTED = -1  # combo data of "the selected track" (None does not survive a QVariant round trip)
COLOUR_BAR_COLUMN = 60  # px: the colour bar's column beside the map


class MapItems:
    """A response map colour-mapped on a fixed 0..1 scale, drawn where the tracker computed it
    on the frame, and the track's box on it: the pieces the panel and the demo's
    picture-in-picture put in their views."""

    def __init__(self, view):
        """``view``: the pyqtgraph ViewBox or PlotItem (y inverted, as on the frame) to draw in."""
        self.view = view
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get(OVERLAY_COLORMAP))
        view.addItem(self.image)
        self.box = QGraphicsRectItem()  # the track's box on this frame, where the map puts it
        self.box.setPen(pg.mkPen(TRACKED_COLOUR, width=1.5))  # cosmetic: same width at any zoom
        self.box.setZValue(5)
        self.box.hide()
        view.addItem(self.box)

    def show(self, entry: FrameBox | None, kept: ResponseMap | None) -> None:
        """Draw ``kept`` (None clears) with ``entry``'s box, and frame the view on the map."""
        if kept is None:
            self.image.clear()
            self.box.hide()
            return
        response = np.asarray(kept.response, dtype=np.float32)
        self.image.setImage(response, autoLevels=False, levels=(0.0, 1.0))
        rows, cols = response.shape[:2]
        # On the frame where the tracker computed it; map cells when the geometry is unknown.
        extent = kept.geometry.extent((rows, cols)) if kept.geometry is not None else (0, 0, cols, rows)
        self.image.setRect(QRectF(*extent))
        self.view.setRange(QRectF(*extent), padding=0.02)
        if kept.geometry is not None and entry is not None and entry.box is not None:
            self.box.setRect(QRectF(*entry.box))
            self.box.show()
        else:
            self.box.hide()


class ResponsePanel(QWidget):
    #: the person chose the track whose map is shown (its id, or None: the selected track)
    track_chosen = Signal(object)
    #: the overlay's opacity, 0..1
    opacity_changed = Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.track_combo = QComboBox()
        self.track_combo.setToolTip(
            "Whose response map is shown (here and on the frame): the selected track, or another "
            "one, e.g. while several objects are tracked at once"
        )
        self.track_combo.currentIndexChanged.connect(self._on_track_chosen)

        self.graphics = pg.GraphicsLayoutWidget()
        self.plot = self.graphics.addPlot()
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)  # y grows downwards, as on the frame
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        for side, label in (("bottom", "search region on the frame: x (px)"), ("left", "y (px)")):
            self.plot.getAxis(side).setLabel(label)
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        self.plot.setRange(xRange=(0, 17), yRange=(0, 17), padding=0)
        self.map = MapItems(self.plot)
        self.image = self.map.image
        # Fixed levels: scores of different frames and trackers stay comparable by colour.
        self.colorbar = pg.ColorBarItem(
            values=(0.0, 1.0), colorMap=pg.colormap.get(OVERLAY_COLORMAP), interactive=False, width=12
        )
        self.colorbar.setImageItem(self.image)
        self.graphics.addItem(self.colorbar)
        # the map's aspect lock must not squeeze the colour bar
        self.graphics.ci.layout.setColumnFixedWidth(1, COLOUR_BAR_COLUMN)

        self.caption = QLabel("Where the tracker looks for the target: bright = likely.")
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color: #9a9a9a;")

        self.overlay_button = QToolButton()  # shows the window's overlay action (R)
        self.overlay_button.setToolButtonStyle(Qt.ToolButtonTextOnly)
        self.opacity_slider = QSlider(Qt.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setFocusPolicy(Qt.NoFocus)  # arrow keys step frames, not the slider
        self.opacity_slider.setToolTip("Opacity of the response map laid on the frame")
        self.opacity_label = QLabel()
        self.opacity_label.setMinimumWidth(36)
        self.opacity_slider.valueChanged.connect(self._on_opacity)

        top = QHBoxLayout()
        top.addWidget(QLabel("Map of"))
        top.addWidget(self.track_combo, 1)
        overlay = QHBoxLayout()
        overlay.addWidget(self.overlay_button)
        overlay.addWidget(self.opacity_slider, 1)
        overlay.addWidget(self.opacity_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.caption)
        layout.addLayout(overlay)
        self.title, self._title_lines = "", []
        self.set_tracks(Annotations(), None)
        self.set_opacity(0.5)
        self.show_result(None, None, None)

    # -- the overlay on the frame ----------------------------------------------------------------

    def set_overlay_action(self, action: QAction) -> None:
        """The window's overlay toggle (R): shown as a button here; the opacity slider follows it."""
        action.setIconText("Overlay on the frame")  # what a button shows of it; menus keep the text
        self.overlay_button.setDefaultAction(action)
        action.toggled.connect(self._show_overlay_state)
        self._show_overlay_state(action.isChecked())

    def _show_overlay_state(self, enabled: bool) -> None:
        self.opacity_slider.setEnabled(enabled)

    def set_opacity(self, opacity: float) -> None:
        self.opacity_slider.setValue(round(opacity * 100))
        self._on_opacity(self.opacity_slider.value())

    def opacity(self) -> float:
        return self.opacity_slider.value() / 100.0

    def _on_opacity(self, value: int) -> None:
        self.opacity_label.setText(f"{value} %")
        self.opacity_changed.emit(value / 100.0)

    # -- which track -----------------------------------------------------------------------------

    def set_tracks(self, annotations: Annotations, chosen: int | None) -> None:
        """The tracks to choose from, and the session's choice (None: the selected track)."""
        entries = [("Selected track", SELECTED)] + [(f"#{t.id} {t.label}", t.id) for t in annotations]
        combo = self.track_combo
        combo.blockSignals(True)
        current = [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]
        if current != entries:
            combo.clear()
            for text, data in entries:
                combo.addItem(text, data)
        combo.setCurrentIndex(max(combo.findData(SELECTED if chosen is None else chosen), 0))
        combo.blockSignals(False)

    def _on_track_chosen(self, _index: int) -> None:
        data = self.track_combo.currentData()
        self.track_chosen.emit(None if data in (None, SELECTED) else int(data))

    # -- the map ---------------------------------------------------------------------------------

    def show_result(self, frame: int | None, entry: FrameBox | None, kept: ResponseMap | None) -> None:
        """Frame ``frame``'s box of the shown track and, for a tracked box, its map."""
        self.map.show(entry, kept)
        if kept is None:
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
        score = "–" if entry is None or math.isnan(entry.score) else f"{entry.score:.3f}"
        self._set_title(f"frame {frame} · score {score}", entry.flag if entry is not None else "")

    def _set_title(self, text: str, flag: str = "") -> None:
        """The map's title: the frame, and on a second line the first flag reason (all of them in
        the tooltip)."""
        self._title_lines = [text] + ([f"⚑ {short_flag(flag)}"] if flag else [])
        self.title = " · ".join(self._title_lines)
        self.graphics.setToolTip(flag)
        self._show_title()

    def _show_title(self) -> None:
        # A title wider than the plot widens the layout past the dock, which pushes the map and
        # the colour bar out of sight: each line is cut to the width there is.
        label = self.plot.titleLabel
        font = QFont(label.item.font())
        font.setPointSizeF(9)
        # the title spans the map's column: the panel less the colour bar, the y axis, margins
        room = self.graphics.width() - COLOUR_BAR_COLUMN - self.plot.getAxis("left").width() - 40
        metrics, room = QFontMetrics(font), max(int(room), 60)
        lines = [
            html.escape(metrics.elidedText(t, Qt.TextElideMode.ElideRight, room)) for t in self._title_lines
        ]
        # always two lines, so that the map keeps its size as flags come and go during a run
        self.plot.setTitle("<br>".join([*lines, "&nbsp;"][:2]), size="9pt")
        label.setMinimumWidth(0)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._show_title()
