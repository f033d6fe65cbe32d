"""Choosing the tracker, its preset, weights and device, and starting / stopping a run."""

from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

import trackers
from app.engine.jobs import TrackerSpec, has_shipped_weights
from trackers.devices import resolve_device

IMPORT = "__import__"  # item data of the weights combo's "Import file…" entry
CHECKPOINT_FILTER = "PyTorch checkpoints (*.pth *.pt *.model *.pth.tar);;All files (*)"


def resolved_auto_device() -> str:
    """What the "auto" device runs on here: "cpu", "cuda:0" or "mps"."""
    device = resolve_device("auto")
    return "cuda:0" if device.type == "cuda" else device.type  # "cuda" is the first GPU


def fill_device_combo(combo: QComboBox) -> None:
    """The device choices (data: the name a TrackerSpec takes); "auto" says what it resolves to."""
    combo.addItem(f"auto ({resolved_auto_device()})", "auto")
    combo.setItemData(0, "A CUDA GPU when there is one, then Apple MPS, then the CPU", Qt.ToolTipRole)
    combo.addItem("cpu", "cpu")
    combo.addItem("cuda", "cuda")
    if not torch.cuda.is_available():
        item = combo.model().item(2)
        item.setEnabled(False)
        item.setToolTip("no CUDA GPU available")


def fill_precision_combo(combo: QComboBox) -> None:
    """The precision choices (data: the name a TrackerSpec takes)."""
    combo.addItem("auto (INT8 where exact)", "auto")
    combo.setItemData(
        0,
        "The shipped models' convolutions in 8 bits on the CPU: ~2x the speed, validation accuracy "
        "within 0.01 (model card); float32 for your own checkpoints, on a GPU, and on a CPU "
        "without an 8-bit dot-product instruction (VNNI / AMX), where INT8 saturates",
        Qt.ToolTipRole,
    )
    combo.addItem("float32 (reference)", "float32")
    combo.setItemData(1, "Every model in float32: half the CPU speed of INT8", Qt.ToolTipRole)
    combo.addItem("INT8 (measured parameters)", "int8")
    combo.setItemData(
        2,
        "8-bit convolutions on the CPU for any checkpoint whose INT8 parameters were measured: "
        "the shipped ones, or yours after `python -m trackers quantize --weights FILE ...` "
        "(check its accuracy: INT8 cost NanoTrack v2's official weights 0.03 AUC)",
        Qt.ToolTipRole,
    )


def fill_tracker_combo(combo: QComboBox) -> None:
    """Every tracker (data: its name), those without shipped weights marked, descriptions as tips."""
    for name in trackers.names():
        label = name if has_shipped_weights(name) else f"{name}  (no shipped weights)"
        combo.addItem(label, name)
        combo.setItemData(combo.count() - 1, trackers.get(name).description, Qt.ToolTipRole)


def fill_weights_combo(combo: QComboBox, name: str, imported: str | None) -> None:
    """The weights choices of tracker ``name``: its shipped default, a file imported for it
    (selected), and "Import file…"; without emitting changes."""
    combo.blockSignals(True)
    combo.clear()
    shipped = trackers.get(name).default_weights() is not None
    combo.addItem("Default (shipped)" if shipped else "Default — none shipped", None)
    if imported:
        combo.addItem(Path(imported).name, imported)
        combo.setItemData(1, imported, Qt.ToolTipRole)
        combo.setCurrentIndex(1)
    combo.addItem("Import file…", IMPORT)
    combo.blockSignals(False)


def identify_or_report(path: str, error) -> tuple[str, str] | None:
    """(tracker name, architecture) of checkpoint ``path``, or None after emitting ``error``
    (title, message): a file that is not a usable checkpoint is shown, never fatal."""
    QApplication.setOverrideCursor(Qt.WaitCursor)
    try:
        return trackers.identify_checkpoint(path)
    except Exception as exc:  # noqa: BLE001 - CheckpointError, OSError, ...
        error.emit("Cannot use this checkpoint", f"{Path(path).name}:\n\n{exc}")
        return None
    finally:
        QApplication.restoreOverrideCursor()


def default_tracker() -> str:
    """The recommended tracker (the best shipped one); NanoTrack (real weights exist) otherwise."""
    names = trackers.names()
    return trackers.recommended() or ("nanotrack" if "nanotrack" in names else names[0])


class TrackerPanel(QWidget):
    track_requested = Signal()
    stop_requested = Signal()
    #: something the user should see (title, message): a checkpoint that cannot be used.
    error = Signal(str, str)
    spec_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._imported: dict[str, str] = {}  # tracker name -> checkpoint path chosen by the user

        self.tracker_combo = QComboBox()
        fill_tracker_combo(self.tracker_combo)
        self.preset_combo = QComboBox()
        self.weights_combo = QComboBox()
        self.device_combo = QComboBox()
        fill_device_combo(self.device_combo)
        self.precision_combo = QComboBox()
        fill_precision_combo(self.precision_combo)

        self.track_button = QPushButton("Track forward")
        self.track_button.setToolTip("Track from the current frame to the end (T)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop tracking (Esc)")
        self.stop_button.setEnabled(False)
        for button in (self.track_button, self.stop_button):
            button.setFocusPolicy(Qt.NoFocus)  # Space / arrows stay with the window shortcuts
        self.weights_note = QLabel()
        self.weights_note.setWordWrap(True)
        self.weights_note.setStyleSheet("color: #c8a040;")

        form = QFormLayout()
        form.addRow("Tracker", self.tracker_combo)
        form.addRow("Preset", self.preset_combo)
        form.addRow("Weights", self.weights_combo)
        form.addRow("Device", self.device_combo)
        form.addRow("Precision", self.precision_combo)
        buttons = QHBoxLayout()
        buttons.addWidget(self.track_button)
        buttons.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.weights_note)
        layout.addLayout(buttons)
        layout.addStretch(1)

        self.tracker_combo.currentIndexChanged.connect(self._on_tracker_changed)
        self.weights_combo.activated.connect(self._on_weights_activated)
        self.weights_combo.currentIndexChanged.connect(self._update_note)
        self.preset_combo.currentIndexChanged.connect(self.spec_changed)
        self.device_combo.currentIndexChanged.connect(self.spec_changed)
        self.precision_combo.currentIndexChanged.connect(self.spec_changed)
        self.track_button.clicked.connect(self.track_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.set_tracker(default_tracker())
        self._on_tracker_changed()

    # -- state ---------------------------------------------------------------------------------

    def tracker_name(self) -> str:
        return self.tracker_combo.currentData()

    def set_tracker(self, name: str) -> None:
        index = self.tracker_combo.findData(name)
        if index >= 0:
            self.tracker_combo.setCurrentIndex(index)

    def device(self) -> str:
        return self.device_combo.currentData()

    def set_device(self, device: str) -> None:
        index = self.device_combo.findData(device)
        if index >= 0 and self._device_model().item(index).isEnabled():
            self.device_combo.setCurrentIndex(index)

    def precision(self) -> str:
        return self.precision_combo.currentData()

    def set_precision(self, precision: str) -> None:
        index = self.precision_combo.findData(precision)
        if index >= 0:
            self.precision_combo.setCurrentIndex(index)

    def weights(self) -> str | None:
        data = self.weights_combo.currentData()
        return None if data in (None, IMPORT) else data

    def spec(self) -> TrackerSpec:
        return TrackerSpec(
            name=self.tracker_name(),
            weights=self.weights(),
            device=self.device(),
            preset=self.preset_combo.currentData(),
            precision=self.precision(),
        )

    def needs_weights(self) -> bool:
        """True when tracking would need a checkpoint the user has not imported."""
        return self.weights() is None and not has_shipped_weights(self.tracker_name())

    def set_running(self, running: bool) -> None:
        self.track_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        combos = (
            self.tracker_combo,
            self.preset_combo,
            self.weights_combo,
            self.device_combo,
            self.precision_combo,
        )
        for combo in combos:
            combo.setEnabled(not running)

    # -- weights -------------------------------------------------------------------------------

    def import_weights(self, path: str | Path) -> bool:
        """Use checkpoint ``path``: its tracker is recognised and selected. False on error."""
        path = str(path)
        found = identify_or_report(path, self.error)
        if found is None:
            self._select_current_weights()
            return False
        name, arch = found
        self._imported[name] = path
        if name != self.tracker_name():
            self.set_tracker(name)  # rebuilds the weights combo, which picks up the import
        else:
            self._fill_weights()
        self.weights_combo.setToolTip(f"{path}\n(recognised as {arch})")
        self.spec_changed.emit()
        return True

    def _on_weights_activated(self, _index: int) -> None:
        if self.weights_combo.currentData() != IMPORT:
            self.spec_changed.emit()
            return
        path, _ = QFileDialog.getOpenFileName(self, "Import tracker weights", "", CHECKPOINT_FILTER)
        if path:
            self.import_weights(path)
        else:
            self._select_current_weights()

    def _select_current_weights(self) -> None:
        """Back off the "Import file…" entry to the weights in use."""
        imported = self._imported.get(self.tracker_name())
        index = self.weights_combo.findData(imported) if imported else 0
        self.weights_combo.setCurrentIndex(max(index, 0))

    # -- filling the combos --------------------------------------------------------------------

    def _on_tracker_changed(self, *_args) -> None:
        name = self.tracker_name()
        self.preset_combo.blockSignals(True)
        self.preset_combo.clear()
        self.preset_combo.addItem("auto (from checkpoint)", None)
        for preset in trackers.get(name).presets:
            self.preset_combo.addItem(preset, preset)
        self.preset_combo.blockSignals(False)
        self._fill_weights()
        self.spec_changed.emit()

    def _fill_weights(self) -> None:
        name = self.tracker_name()
        fill_weights_combo(self.weights_combo, name, self._imported.get(name))
        self._update_note()

    def _update_note(self, *_args) -> None:
        missing = self.needs_weights()
        self.weights_note.setText(
            f"No weights ship with {self.tracker_name()}: import a checkpoint (Weights → Import file…)."
            if missing
            else ""
        )
        self.weights_note.setVisible(missing)

    def _device_model(self) -> QStandardItemModel:
        return self.device_combo.model()
