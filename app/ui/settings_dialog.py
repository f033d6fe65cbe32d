"""Preferences (Edit → Preferences…, Ctrl+,): drift thresholds, autosave interval, default
tracker and device, export defaults.

The dialog only shows values and returns the person's choice (``Preferences``); the window
applies them to the session and the app, and stores them in ``Settings``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.io.autosave import INTERVAL_MS
from app.services.settings import AUTOSAVE_RANGE_S, ExportDefaults
from app.ui.export_dialog import IMAGE_FORMATS, exportable_formats
from app.ui.tracker_panel import fill_device_combo, fill_tracker_combo
from trackers.drift import DriftSettings

# DriftSettings fields the person sets here: (field, label, tooltip, minimum, maximum, step).
# Pausing at flags and fusing with keyframes are switched in the Track menu.
DRIFT_FIELDS = (
    ("min_score", "Flag a score below", "Scores are calibrated: about P(IoU >= 0.5)", 0.0, 1.0, 0.05),
    (
        "drop_ratio",
        "Flag a score drop of",
        "Fraction below the mean of the recent frames (0.3 = 30 % lower)",
        0.0,
        1.0,
        0.05,
    ),
    ("window", "Recent frames", "Frames in the recent mean and in the start level", 1, 100, 1),
    (
        "start_ratio",
        "Flag a score below its start level ×",
        "Each target's own start level (median of its first scores)",
        0.0,
        1.0,
        0.05,
    ),
    (
        "start_evidence",
        "… once its shortfall adds up to",
        (
            "The score's shortfall below that fraction, summed over the frames (a frame above it pays "
            "back): a deep fall is flagged at once, a shallow one once it lasts"
        ),
        0.01,
        10.0,
        0.05,
    ),
    (
        "appearance_ratio",
        "Flag a box that looks unlike the target ×",
        "Template-branch similarity to the manual boxes against its start level (0: off, no cost)",
        0.0,
        1.0,
        0.05,
    ),
    (
        "appearance_evidence",
        "… once its shortfall adds up to",
        (
            "The similarity's shortfall below that fraction, summed over the frames (a frame above it "
            "pays back)"
        ),
        0.01,
        10.0,
        0.05,
    ),
    (
        "max_size_change",
        "Flag a size change above ×",
        "Box size change from one frame to the next",
        1.01,
        5,
        0.05,
    ),
    (
        "max_aspect_change",
        "Flag an aspect change above ×",
        "Width / height change in one frame",
        1.01,
        5,
        0.05,
    ),
    (
        "max_jump",
        "Flag a jump above (target sizes)",
        "Centre movement in one frame, in target sizes",
        0.1,
        10,
        0.1,
    ),
    (
        "converge_iou",
        "Flag two tracks meeting at IoU",
        "Two tracks ending up on the same object",
        0.0,
        1.0,
        0.05,
    ),
    (
        "consistency_iou",
        "Forward / backward check: disagree below IoU",
        "The consistency check (C) flags frames where the two runs overlap less than this",
        0.0,
        1.0,
        0.05,
    ),
)


@dataclass(frozen=True)
class Preferences:
    drift: DriftSettings
    autosave_interval_ms: int
    tracker: str
    device: str
    export: ExportDefaults


class SettingsDialog(QDialog):
    def __init__(self, parent: QWidget | None, preferences: Preferences):
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self._drift = preferences.drift  # the fields not shown here are kept as they are
        layout = QVBoxLayout(self)

        tracking = QGroupBox("Tracking")
        form = QFormLayout(tracking)
        self.tracker_combo = QComboBox()
        fill_tracker_combo(self.tracker_combo)
        self.tracker_combo.setToolTip("The tracker the Tracker panel uses (also at the next start)")
        self.device_combo = QComboBox()
        fill_device_combo(self.device_combo)
        self.device_combo.setToolTip("Where the tracker runs; “auto” shows what it chooses on this machine")
        form.addRow("Tracker:", self.tracker_combo)
        form.addRow("Device:", self.device_combo)
        layout.addWidget(tracking)

        drift = QGroupBox("Drift flags (frames to look at)")
        form = QFormLayout(drift)
        self.drift_spins: dict[str, QSpinBox | QDoubleSpinBox] = {}
        for name, label, tip, low, high, step in DRIFT_FIELDS:
            spin = QSpinBox() if isinstance(step, int) else QDoubleSpinBox()
            if isinstance(spin, QDoubleSpinBox):
                spin.setDecimals(2)
            spin.setRange(low, high)
            spin.setSingleStep(step)
            spin.setToolTip(f"{tip}. Measured default: {getattr(DriftSettings(), name):g}")
            form.addRow(label + ":", spin)
            self.drift_spins[name] = spin
        note = QLabel("Applied to the open project (saved with it) and to videos opened from now on.")
        note.setWordWrap(True)
        note.setStyleSheet("color: #9a9a9a;")
        form.addRow(note)
        layout.addWidget(drift)

        files = QGroupBox("Autosave and export")
        form = QFormLayout(files)
        self.autosave_spin = QSpinBox()
        self.autosave_spin.setRange(*AUTOSAVE_RANGE_S)
        self.autosave_spin.setSuffix(" s")
        self.autosave_spin.setToolTip(
            "Unsaved work is autosaved this often: at most this much is lost in a crash"
        )
        self.export_format_combo = QComboBox()
        for fmt in exportable_formats():
            self.export_format_combo.addItem(fmt.title, fmt.name)
        self.export_frames_check = QCheckBox("Write the video frames as images (where optional)")
        self.export_image_combo = QComboBox()
        self.export_image_combo.addItems(IMAGE_FORMATS)
        self.export_reviewed_check = QCheckBox("Only reviewed frames")
        self.export_flagged_check = QCheckBox("Leave out boxes still flagged for review")
        form.addRow("Autosave every:", self.autosave_spin)
        form.addRow("Export format:", self.export_format_combo)
        form.addRow("", self.export_frames_check)
        form.addRow("Image format:", self.export_image_combo)
        form.addRow("", self.export_reviewed_check)
        form.addRow("", self.export_flagged_check)
        layout.addWidget(files)

        buttons = QDialogButtonBox(
            QDialogButtonBox.Ok | QDialogButtonBox.Cancel | QDialogButtonBox.RestoreDefaults
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.restore_button = buttons.button(QDialogButtonBox.RestoreDefaults)
        self.restore_button.setToolTip("The measured drift thresholds and the default autosave interval")
        self.restore_button.clicked.connect(self.restore_defaults)
        layout.addWidget(buttons)
        self.show_preferences(preferences)

    def show_preferences(self, preferences: Preferences) -> None:
        self.tracker_combo.setCurrentIndex(max(self.tracker_combo.findData(preferences.tracker), 0))
        index = self.device_combo.findData(preferences.device)
        if index >= 0 and self.device_combo.model().item(index).isEnabled():
            self.device_combo.setCurrentIndex(index)
        for name, spin in self.drift_spins.items():
            spin.setValue(getattr(preferences.drift, name))
        self.autosave_spin.setValue(round(preferences.autosave_interval_ms / 1000))
        export = preferences.export
        self.export_format_combo.setCurrentIndex(max(self.export_format_combo.findData(export.format), 0))
        self.export_frames_check.setChecked(export.write_frames)
        self.export_image_combo.setCurrentText(export.image_format)
        self.export_reviewed_check.setChecked(export.reviewed_only)
        self.export_flagged_check.setChecked(export.skip_flagged)

    def restore_defaults(self) -> None:
        """The measured drift thresholds and the default autosave interval (the other choices stay)."""
        current = self.preferences()
        self.show_preferences(replace(current, drift=DriftSettings(), autosave_interval_ms=INTERVAL_MS))

    def preferences(self) -> Preferences:
        """The values as set in the dialog (spin box ranges keep them valid)."""
        drift = replace(self._drift, **{name: spin.value() for name, spin in self.drift_spins.items()})
        return Preferences(
            drift,
            self.autosave_spin.value() * 1000,
            self.tracker_combo.currentData(),
            self.device_combo.currentData(),
            ExportDefaults(
                self.export_format_combo.currentData(),
                self.export_frames_check.isChecked(),
                self.export_image_combo.currentText(),
                self.export_reviewed_check.isChecked(),
                self.export_flagged_check.isChecked(),
            ),
        )
