"""The frame display: zoom / pan, drawing and editing the box, the tracked box, the response overlay.

Coordinates in the view are image pixels: the ImageItem sits at the origin, y points down
(inverted axis), and pixel (0, 0) covers [0, 1) x [0, 1) — the engine's box convention.
Mouse: left-drag on empty frame area draws a box (replacing the previous one), the box then
moves / resizes with its handles; right- or middle-drag pans; the wheel zooms.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QLabel

from app.ui.frame_labels import place_labels, readable_text_colour
from trackers.base import Box, MapGeometry


@dataclass(frozen=True)
class BoxOverlay:
    """One track's box on the shown frame, as the view draws it (display only)."""

    track_id: int
    box: Box  # for an absent track: where it was last seen (only its chip is drawn)
    colour: str  # the outline: the track's colour
    text: str  # in the label chip: id, class, state
    chip: str  # the chip's fill: the class colour (grey for an absent track)
    style: str = "solid"  # "dashed" occluded, "dotted" interpolated, "none" absent: no outline
    selected: bool = False
    flagged: bool = False  # the chip gets a warning border


BOX_COLOUR = "#ffd400"  # the box the user draws
FLAG_COLOUR = "#ffab00"  # a flagged frame's chip border
LABEL_PIXELS = 13  # chip text height on screen, whatever the zoom
_OUTLINES = {"solid": Qt.PenStyle.SolidLine, "dashed": Qt.PenStyle.DashLine, "dotted": Qt.PenStyle.DotLine}
TRACKED_COLOUR = "#00e5ff"  # the tracker's box
OVERLAY_COLORMAP = "inferno"
# Drags smaller than this (image pixels, either side) are treated as clicks, not boxes.
MIN_BOX_SIDE = 2.0


def _cosmetic_pen(colour: str, width: float = 2.0, style=Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(QColor(colour), width, style)
    pen.setCosmetic(True)  # same width at every zoom
    return pen


#: responses from this level up are drawn fully coloured (then blended with the overlay opacity)
OVERLAY_OPAQUE_FROM = 0.4


def overlay_lookup_table() -> np.ndarray:
    """Colormap whose alpha rises quickly with the response: weak cells stay see-through, the
    likely places are solid colour (a linear ramp left most of the peak faint)."""
    lut = pg.colormap.get(OVERLAY_COLORMAP).getLookupTable(0.0, 1.0, 256, alpha=True)
    ramp = np.clip(np.linspace(0.0, 1.0, 256) / OVERLAY_OPAQUE_FROM, 0.0, 1.0)
    lut[:, 3] = np.round(255 * ramp * ramp * (3 - 2 * ramp)).astype(np.uint8)  # smoothstep
    return lut


class FrameViewBox(pg.ViewBox):
    """A ViewBox whose left-drag draws a rectangle instead of panning."""

    rect_drawn = Signal(QRectF)
    clicked = Signal(float, float)  # a left click (not a drag) at image coordinates

    def __init__(self):
        super().__init__(lockAspect=True, invertY=True, enableMenu=False)
        self.drawing_enabled = True
        self._band = QGraphicsRectItem()
        self._band.setPen(_cosmetic_pen(BOX_COLOUR, 1.5, Qt.PenStyle.DashLine))
        self._band.setZValue(30)
        self._band.hide()
        self.addItem(self._band, ignoreBounds=True)

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            point = self.mapToView(ev.pos())
            self.clicked.emit(point.x(), point.y())
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None):
        button = ev.button()
        if button == Qt.MouseButton.LeftButton and self.drawing_enabled:
            ev.accept()
            rect = QRectF(self.mapToView(ev.buttonDownPos()), self.mapToView(ev.pos())).normalized()
            self._band.setRect(rect)
            self._band.setVisible(not ev.isFinish())
            if ev.isFinish():
                self.rect_drawn.emit(rect)
        elif button in (Qt.MouseButton.RightButton, Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            ev.accept()
            delta = self.mapToView(ev.lastPos()) - self.mapToView(ev.pos())
            self.translateBy(x=delta.x(), y=delta.y())
        else:
            ev.ignore()


class VideoView(pg.GraphicsLayoutWidget):
    #: the user drew or edited the box: (x, y, w, h) in image pixels, or None when cleared.
    box_changed = Signal(object)
    clicked = Signal(float, float)  # a click on the frame, image coordinates

    def __init__(self, parent=None):
        super().__init__(parent)
        self.viewbox = FrameViewBox()
        self.addItem(self.viewbox)
        self.ci.setContentsMargins(0, 0, 0, 0)

        self.image = pg.ImageItem(axisOrder="row-major")
        self.viewbox.addItem(self.image)

        self.overlay = pg.ImageItem(axisOrder="row-major")
        self.overlay.setLookupTable(overlay_lookup_table())
        self.overlay.setZValue(10)
        self.overlay.hide()
        self.viewbox.addItem(self.overlay, ignoreBounds=True)
        self._overlay_enabled = False

        self._track_items: list[tuple[QGraphicsRectItem, pg.TextItem]] = []
        self._overlays: list[BoxOverlay] = []
        self._label_rects: list[tuple[float, float, float, float]] = []
        self._label_font = QFont()
        self._label_font.setPixelSize(LABEL_PIXELS)
        self._label_font.setWeight(QFont.Weight.DemiBold)
        self.label_scale = 1.0  # chips and outlines larger than normal (demo mode on a projector)
        # Chips keep their screen size: a zoom changes their size on the frame, so re-place them.
        self.viewbox.sigRangeChanged.connect(lambda *_: self._place_labels())

        self.roi: pg.ROI | None = None
        self._frame_size: tuple[int, int] | None = None  # (width, height)
        self.viewbox.rect_drawn.connect(self._on_rect_drawn)
        self.viewbox.clicked.connect(self.clicked)

        self.hint = QLabel(
            "Open a video or a folder of images (Ctrl+O, Ctrl+Shift+O) or drop one here.\n"
            "Then drag a box around the object and press T to track it.",
            self,
        )
        self.hint.setAlignment(Qt.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #9a9a9a; font-size: 11pt; background: transparent;")

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if hasattr(self, "hint"):  # pyqtgraph resizes once before __init__ is done
            self.hint.setGeometry(self.rect())

    # -- frame -------------------------------------------------------------------------------

    def set_frame(self, frame_bgr: np.ndarray | None) -> None:
        if frame_bgr is None:
            self.image.clear()
            return
        self.hint.hide()
        rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)  # display only; the engine keeps BGR
        self.image.setImage(rgb, autoLevels=False, levels=(0, 255))
        size = (rgb.shape[1], rgb.shape[0])
        if size != self._frame_size:
            self._frame_size = size
            self.viewbox.setLimits(
                xMin=-size[0], xMax=2 * size[0], yMin=-size[1], yMax=2 * size[1]
            )  # cannot lose the frame while panning
            self.fit()

    def fit(self) -> None:
        if self._frame_size is not None:
            w, h = self._frame_size
            self.viewbox.setRange(QRectF(0, 0, w, h), padding=0.02)

    @property
    def frame_size(self) -> tuple[int, int] | None:
        return self._frame_size

    # -- the user's box ------------------------------------------------------------------------

    def box(self) -> Box | None:
        if self.roi is None:
            return None
        pos, size = self.roi.pos(), self.roi.size()
        return (float(pos.x()), float(pos.y()), float(size.x()), float(size.y()))

    def set_box(self, box: Box | None, colour: str = BOX_COLOUR) -> None:
        """Show ``box`` as the editable box (replacing any other); None removes it."""
        pen = _cosmetic_pen(colour, 2.0 * self.label_scale)
        if self.roi is not None and box is not None and self.roi.isVisible():
            # Same handles, new place: no flicker and no lost hover state while stepping frames.
            self.roi.setPen(pen)
            self.roi.setPos((box[0], box[1]), finish=False)
            self.roi.setSize((box[2], box[3]), finish=False)
            return
        if self.roi is not None:
            self.viewbox.removeItem(self.roi)
            self.roi = None
        if box is None:
            return
        x, y, w, h = box
        roi = pg.ROI((x, y), (w, h), pen=pen, rotatable=False)
        roi.hoverPen = _cosmetic_pen("#ffffff")
        for corner, anchor in (((0, 0), (1, 1)), ((1, 0), (0, 1)), ((0, 1), (1, 0)), ((1, 1), (0, 0))):
            roi.addScaleHandle(corner, anchor)
        for edge, anchor in (
            ((0.5, 0), (0.5, 1)),
            ((0.5, 1), (0.5, 0)),
            ((0, 0.5), (1, 0.5)),
            ((1, 0.5), (0, 0.5)),
        ):
            roi.addScaleHandle(edge, anchor)
        roi.setZValue(25)
        roi.sigRegionChangeFinished.connect(lambda _roi: self.box_changed.emit(self.box()))
        self.viewbox.addItem(roi, ignoreBounds=True)
        self.roi = roi

    def _on_rect_drawn(self, rect: QRectF) -> None:
        if self._frame_size is not None:  # keep the box on the frame
            w, h = self._frame_size
            rect = rect.intersected(QRectF(0, 0, w, h))
        if rect.width() < MIN_BOX_SIDE or rect.height() < MIN_BOX_SIDE:
            return  # a click or a zero-size drag: not a box
        self.set_box((rect.x(), rect.y(), rect.width(), rect.height()))
        self.box_changed.emit(self.box())

    # -- every track's box ----------------------------------------------------------------------

    def set_label_scale(self, scale: float) -> None:
        """Draw the chips' text and the outlines ``scale`` times their normal size (1: normal)."""
        self.label_scale = float(scale)
        self._label_font.setPixelSize(round(LABEL_PIXELS * self.label_scale))
        for _rect, chip in self._track_items:
            chip.setFont(self._label_font)
        if self.roi is not None:
            self.roi.setPen(_cosmetic_pen(self.roi.pen.color().name(), 2.0 * self.label_scale))
        self.set_track_boxes(self._overlays)

    def set_track_boxes(self, overlays: list[BoxOverlay]) -> None:
        """Draw the tracks' boxes on this frame, each with a label chip (items are reused)."""
        while len(self._track_items) < len(overlays):
            rect = QGraphicsRectItem()
            rect.setZValue(20)
            chip = pg.TextItem(anchor=(0, 0))
            chip.setFont(self._label_font)
            chip.setZValue(21)
            self.viewbox.addItem(rect, ignoreBounds=True)
            self.viewbox.addItem(chip, ignoreBounds=True)
            self._track_items.append((rect, chip))
        self._overlays = list(overlays)
        for i, (rect, chip) in enumerate(self._track_items):
            if i >= len(overlays):
                rect.hide()
                chip.hide()
                continue
            item = overlays[i]
            if item.style in _OUTLINES:
                width = 3.0 if item.selected else 1.5 if item.style == "dotted" else 2.0
                rect.setPen(_cosmetic_pen(item.colour, width * self.label_scale, _OUTLINES[item.style]))
                rect.setRect(QRectF(*item.box))
            rect.setVisible(item.style in _OUTLINES)
            chip.setText(item.text, color=readable_text_colour(item.chip))
            chip.fill = pg.mkBrush(item.chip)
            border = (FLAG_COLOUR, 2.0) if item.flagged else (item.colour, 1.0)
            chip.border = pg.mkPen(border[0], width=border[1] * self.label_scale)
            chip.show()
        self._place_labels()

    def _place_labels(self) -> None:
        """Put the chips where none covers another (the selected track's first: it gets its
        place above the box)."""
        overlays = self._overlays
        pixel_w, pixel_h = self.viewbox.viewPixelSize()  # one screen pixel in image pixels
        if not overlays or not (pixel_w > 0 and pixel_h > 0):
            self._label_rects = []
            return
        order = sorted(range(len(overlays)), key=lambda i: not overlays[i].selected)
        sizes = []
        for i in order:
            bounds = self._track_items[i][1].textItem.boundingRect()
            sizes.append((bounds.width() * pixel_w, bounds.height() * pixel_h))
        rects = place_labels([overlays[i].box for i in order], sizes, self._frame_size)
        self._label_rects = [None] * len(overlays)
        for i, rect in zip(order, rects, strict=True):
            self._track_items[i][1].setPos(rect[0], rect[1])
            self._label_rects[i] = rect

    def track_box_texts(self) -> list[str]:
        """The label chips drawn now, in track order (for tests and scripts)."""
        return [chip.toPlainText() for _rect, chip in self._track_items[: len(self._overlays)]]

    def track_label_rects(self) -> list[tuple[float, float, float, float]]:
        """Where those chips are, (x, y, w, h) in image pixels."""
        return list(self._label_rects)

    # -- tracker output ------------------------------------------------------------------------

    def set_overlay_enabled(self, enabled: bool) -> None:
        self._overlay_enabled = enabled
        if not enabled:
            self.overlay.hide()

    @property
    def overlay_enabled(self) -> bool:
        return self._overlay_enabled

    def set_overlay_opacity(self, opacity: float) -> None:
        """Blend the response overlay with the frame: 0 invisible .. 1 solid colour."""
        self.overlay.setOpacity(min(max(float(opacity), 0.0), 1.0))

    def set_overlay(self, response: np.ndarray | None, geometry: MapGeometry | None) -> None:
        """Lay the response map on the frame where the tracker computed it."""
        if not self._overlay_enabled or response is None or geometry is None:
            self.overlay.hide()
            return
        # Display only: a coarse map (16x16 or 25x25 cells) reads better smoothly interpolated.
        # cv2's pixel-centre convention keeps each cell centred where the geometry puts it.
        rows, cols = response.shape[:2]
        factor = max(1, 128 // max(rows, cols))
        smooth = cv2.resize(response, (cols * factor, rows * factor), interpolation=cv2.INTER_LINEAR)
        self.overlay.setImage(smooth, autoLevels=False, levels=(0.0, 1.0))
        self.overlay.setRect(QRectF(*geometry.extent((rows, cols))))
        self.overlay.show()

    def map_image_to_widget(self, x: float, y: float):
        """Widget (viewport) coordinates of image point (x, y): for scripted mouse input."""
        scene = self.viewbox.mapViewToScene(QPointF(x, y))
        return self.mapFromScene(scene)
