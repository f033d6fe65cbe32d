"""The strip under the video: confidence plot, then play / step buttons, frame slider and label."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QStyle, QToolButton, QVBoxLayout, QWidget

from app.ui.confidence_plot import ConfidencePlot


def format_time(seconds: float | None) -> str:
    if seconds is None:
        return "--:--.--"
    minutes, rest = divmod(max(seconds, 0.0), 60.0)
    return f"{int(minutes):02d}:{rest:05.2f}"


class Timeline(QWidget):
    #: the user asked for a frame (slider, plot click); programmatic changes do not emit this.
    frame_requested = Signal(int)
    play_toggled = Signal()
    step_requested = Signal(int)  # -1 or +1

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
        self.label = QLabel("no video")
        self.label.setMinimumWidth(190)
        self.label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)

        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        for button in (self.back_button, self.play_button, self.next_button):
            controls.addWidget(button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(self.plot)
        layout.addLayout(controls)

        self.slider.valueChanged.connect(self._on_slider)
        self.plot.frame_requested.connect(self.frame_requested)
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
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(count - 1, 0))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.plot.set_frame_count(count)

    def set_current(self, frame: int, count: int, seconds: float | None) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(frame)
        self.slider.blockSignals(False)
        self.plot.set_current(frame)
        self.label.setText(f"frame {frame} / {max(count - 1, 0)}   {format_time(seconds)}")

    def set_playing(self, playing: bool) -> None:
        icon = QStyle.SP_MediaPause if playing else QStyle.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))

    def _on_slider(self, value: int) -> None:
        self.frame_requested.emit(value)
