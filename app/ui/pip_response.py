"""The demo's picture-in-picture response map: a small framed panel over a corner of the video
with the live response map of the track the response panel shows (drawn by the panel's own
``MapItems``) and a one-line caption. It shows what the presenter hands it and holds nothing of
the document; demo mode decides whether it is shown and in which corner.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from app.model.annotations import FrameBox
from app.model.results import ResponseMap
from app.ui.response_panel import MapItems
from app.ui.video_view import TRACKED_COLOUR

#: where the panel may sit, in the order the "next corner" key visits them (the HUD has the
#: top-left corner)
CORNERS = ("bottom-right", "bottom-left", "top-right")
SIDE_OF_VIEW = 0.32  # the map's side, as a share of the video area's shorter side
CAPTION_PIXELS = 10  # the caption's text height at scale 1


class PipResponse(QFrame):
    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setObjectName("pip")
        self.setStyleSheet(
            f"#pip {{ background: #111214; border: 2px solid {TRACKED_COLOUR}; border-radius: 6px; }}"
            "#pip QLabel { color: #f0f0f0; background: transparent; }"
        )
        self.setAttribute(Qt.WA_TransparentForMouseEvents)  # clicks and drags reach the video
        self.setFocusPolicy(Qt.NoFocus)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setFocusPolicy(Qt.NoFocus)
        self.graphics.ci.setContentsMargins(0, 0, 0, 0)
        self.viewbox = self.graphics.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.viewbox.setMouseEnabled(False, False)
        self.map = MapItems(self.viewbox)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.caption)
        self.corner = CORNERS[0]
        self.scale = 1.0
        self.set_scale(1.0)
        self.hide()

    def set_scale(self, scale: float) -> None:
        """Caption text and box outline ``scale`` times their normal size."""
        self.scale = scale
        self.caption.setStyleSheet(f"font-size: {round(CAPTION_PIXELS * scale)}px; font-weight: 600;")
        self.map.box.setPen(pg.mkPen(TRACKED_COLOUR, width=1.5 * scale))

    def next_corner(self) -> str:
        self.corner = CORNERS[(CORNERS.index(self.corner) + 1) % len(CORNERS)]
        self.place()
        return self.corner

    def place(self) -> None:
        """Into its corner of the parent (the video view), a margin off the edges."""
        area: QRect = self.parentWidget().rect()
        margin = round(12 * self.scale)
        side = round(min(area.width(), area.height()) * SIDE_OF_VIEW)
        width, height = side, side + self.caption.sizeHint().height() + 2
        x = area.left() + margin if self.corner.endswith("left") else area.right() - margin - width
        y = area.top() + margin if self.corner.startswith("top") else area.bottom() - margin - height
        self.setGeometry(x, y, width, height)

    # -- what the presenter shows (FramePresenter.result_views) ------------------------------------

    def show_result(self, frame: int | None, entry: FrameBox | None, kept: ResponseMap | None) -> None:
        if self.isHidden():
            return  # painted when shown (demo mode asks the presenter to repaint)
        self.map.show(entry, kept)
        if kept is not None:
            self.caption.setText("response map")
        elif frame is None or entry is None or entry.box is None:
            self.caption.setText("no box here")
        else:
            self.caption.setText("no map here")
