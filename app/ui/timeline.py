"""The strip under the video: the score plot, one lane per track, then play / step buttons, the
frame slider, the frame box (type a frame, Enter goes there), the time and the playback speed.

Frame numbers are 0-based everywhere, as in the files Siamark writes."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSlider,
    QSpinBox,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from app.ui.confidence_plot import ConfidencePlot
from app.ui.track_lanes import LaneLegend, TrackLanes

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)  # times the video's frame rate
LABEL_COLUMN = 112  # px left of the frame axis: the plot's score axis, the lanes' track names


def format_time(seconds: float | None) -> str:
    if seconds is None:
        return "--:--.--"
    minutes, rest = divmod(max(seconds, 0.0), 60.0)
    return f"{int(minutes):02d}:{rest:05.2f}"


class Timeline(QWidget):
    #: the user asked for a frame (slider, plot, lanes, frame box); programmatic changes do not
    #: emit this.
    frame_requested = Signal(int)
    play_toggled = Signal()
    step_requested = Signal(int)  # -1 or +1
    track_requested = Signal(int)  # a click on a track's lane
    speed_changed = Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = ConfidencePlot()
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setFocusPolicy(Qt.NoFocus)  # arrow keys belong to the window's step shortcuts
        style = self.style()
        self.back_button = self._button(
            style.standardIcon(QStyle.SP_MediaSeekBackward), "Previous frame (Left)"
        )
        self.play_button = self._button(style.standardIcon(QStyle.SP_MediaPlay), "Play / pause (Space)")
        self.next_button = self._button(style.standardIcon(QStyle.SP_MediaSeekForward), "Next frame (Right)")
        self.frame_box = QSpinBox()
        self.frame_box.setPrefix("frame ")
        self.frame_box.setRange(0, 0)
        self.frame_box.setEnabled(False)
        self.frame_box.setKeyboardTracking(False)  # jump on Enter, not at every digit typed
        self.frame_box.setButtonSymbols(QAbstractSpinBox.NoButtons)
        self.frame_box.setAlignment(Qt.AlignRight)
        self.frame_box.setFocusPolicy(Qt.ClickFocus)  # arrow keys stay with the window's shortcuts
        self.frame_box.setToolTip(
            "The frame shown (0-based): type a number and press Enter to go there (Ctrl+G)"
        )
        self.label = QLabel("no video")
        # Wide enough for a long video's "/ last frame   time": the row does not jiggle as it plays.
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance("/ 00000   00:00.00 "))
        self.speed_box = QComboBox()
        for speed in SPEEDS:
            self.speed_box.addItem(f"{speed:g}×", speed)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_box.setFocusPolicy(Qt.NoFocus)
        self.speed_box.setToolTip("Playback speed, times the video's frame rate")
        self.legend_button = QToolButton()
        self.legend_button.setText("?")
        self.legend_button.setAutoRaise(True)
        self.legend_button.setFocusPolicy(Qt.NoFocus)
        self.legend_button.setToolTip("What the marks in the track lanes mean")
        self.legend_button.setPopupMode(QToolButton.InstantPopup)
        self.legend_button.setStyleSheet("QToolButton::menu-indicator { image: none; }")
        legend_menu = QMenu(self.legend_button)
        legend = QWidgetAction(legend_menu)
        legend.setDefaultWidget(LaneLegend())
        legend_menu.addAction(legend)
        self.legend_button.setMenu(legend_menu)
        # The lanes share the plot's frame axis: the plot leaves room for their names and scroll bar.
        self.lanes = TrackLanes(self.plot)
        self.plot.reserve_columns(LABEL_COLUMN, self.style().pixelMetric(QStyle.PM_ScrollBarExtent))

        self.controls = QWidget()  # the row under the lanes, hidden as one in demo mode
        controls = QHBoxLayout(self.controls)
        controls.setContentsMargins(0, 0, 0, 0)
        for button in (self.back_button, self.play_button, self.next_button):
            controls.addWidget(button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.frame_box)
        controls.addWidget(self.label)
        controls.addWidget(self.speed_box)
        controls.addWidget(self.legend_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(self.plot)
        layout.addWidget(self.lanes)
        layout.addWidget(self.controls)
        self._plot_height = self.plot.minimumHeight()  # its fixed height

        self.slider.valueChanged.connect(self._on_slider)
        self.frame_box.valueChanged.connect(self.frame_requested)
        self.frame_box.editingFinished.connect(self.frame_box.clearFocus)
        self.speed_box.currentIndexChanged.connect(lambda i: self.speed_changed.emit(SPEEDS[i]))
        self.plot.frame_requested.connect(self.frame_requested)
        self.lanes.frame_requested.connect(self.frame_requested)
        self.lanes.track_requested.connect(self.track_requested)
        self.back_button.clicked.connect(lambda: self.step_requested.emit(-1))
        self.next_button.clicked.connect(lambda: self.step_requested.emit(1))
        self.play_button.clicked.connect(self.play_toggled)

    def _button(self, icon, tip: str) -> QToolButton:
        button = QToolButton()
        button.setIcon(icon)
        button.setToolTip(tip)
        button.setFocusPolicy(Qt.NoFocus)
        button.setAutoRaise(True)
        return button

    def set_frame_count(self, count: int) -> None:
        for widget in (self.slider, self.frame_box):
            widget.blockSignals(True)
            widget.setRange(0, max(count - 1, 0))
            widget.setValue(0)
            widget.blockSignals(False)
        self.frame_box.setEnabled(count > 0)
        self.plot.set_frame_count(count)

    def set_current(self, frame: int, count: int, seconds: float | None) -> None:
        # A number being typed in the frame box is not overwritten (a run moves the frame on).
        for widget in (self.slider, *(() if self.frame_box.hasFocus() else (self.frame_box,))):
            widget.blockSignals(True)
            widget.setValue(frame)
            widget.blockSignals(False)
        self.plot.set_current(frame)
        self.lanes.set_current(frame)
        self.label.setText(f"/ {max(count - 1, 0)}   {format_time(seconds)}")

    def edit_frame(self) -> None:
        """Put the cursor in the frame box, its number selected: type a frame, Enter goes there."""
        self.frame_box.setFocus(Qt.ShortcutFocusReason)
        self.frame_box.selectAll()

    def set_score_only(self, on: bool, plot_height: int = 0, tick_pixels: int = 0) -> None:
        """Only the score curve, ``plot_height`` px tall with ``tick_pixels`` high axis numbers
        (a talk's big strip), without the lanes and controls; or (``on`` False) everything back
        as it was."""
        self.lanes.setVisible(not on)
        self.controls.setVisible(not on)
        self.plot.setFixedHeight(plot_height if on and plot_height else self._plot_height)
        font = None  # pyqtgraph's default
        if on and tick_pixels:
            font = QFont()
            font.setPixelSize(tick_pixels)
        for side in ("left", "bottom"):
            self.plot.getPlotItem().getAxis(side).setStyle(tickFont=font)

    def set_speed(self, speed: float) -> None:
        """Show ``speed`` (the nearest offered) without asking for it."""
        nearest = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - speed))
        self.speed_box.blockSignals(True)
        self.speed_box.setCurrentIndex(nearest)
        self.speed_box.blockSignals(False)

    def set_playing(self, playing: bool) -> None:
        icon = QStyle.SP_MediaPause if playing else QStyle.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))

    #: the marked frame range (in / out points): a band across the plot, made when first shown
    range_band: pg.LinearRegionItem | None = None

    def set_range(self, selected: tuple[int, int] | None) -> None:
        """Highlight frames first..last (both included) on the plot, or hide the band (None)."""
        if self.range_band is None:
            if selected is None:
                return
            self.range_band = pg.LinearRegionItem(
                movable=False, brush=pg.mkBrush(64, 196, 255, 60), pen=pg.mkPen("#40c4ff", width=1)
            )
            self.range_band.setZValue(-10)  # under the curve and the marks
            self.plot.addItem(self.range_band)
        self.range_band.setVisible(selected is not None)
        if selected is not None:
            first, last = selected
            self.range_band.setRegion((first - 0.5, last + 0.5))
            self.range_band.setToolTip(f"Marked range: frames {first}–{last} (Shift+X clears it)")

    def _on_slider(self, value: int) -> None:
        self.frame_requested.emit(value)
