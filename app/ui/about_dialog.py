"""Help → About: the version, the tracker in use with its model card figures, and what it runs
on here (torch, CUDA / MPS, the CPU backend "auto" picks, OpenCV, Qt) — what a bug report or a
speed question needs. "Copy" puts it on the clipboard as plain text."""

from __future__ import annotations

import html
import platform
import warnings
from importlib import metadata

import cv2
import PySide6
import torch
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

import trackers
from app import APP_NAME
from app.engine.jobs import TrackerSpec
from trackers.devices import mps_available, resolve_device
from trackers.measured import load_run, measured
from trackers.onnx_runner import exact_int8


def app_version() -> str:
    try:
        return metadata.version("siamark")
    except metadata.PackageNotFoundError:
        return "unknown (not installed: run scripts/setup.sh)"


def model_card(tracker: str) -> str:
    """The figures ``python -m trackers list`` shows for the tracker's shipped weights."""
    weights = trackers.get(tracker).default_weights()
    if weights is None:
        return "no shipped weights: no measured figures"
    run = load_run()
    figures = measured(tracker, weights, run)
    if figures is None:
        return f"{weights.name}: not measured (no benchmark run recorded for this file)"
    backend = run.backends.get(tracker)
    return (
        f"validation success AUC {figures.auc:.3f}, precision@20 {figures.precision:.3f}, "
        f"{figures.fps:.0f} fps ({len(run.sequences)} sequences, {run.frames} frames, {run.date}; "
        f"fps on {run.hardware or 'an unrecorded machine'}{f', {backend}' if backend else ''})"
    )


def cuda_status() -> str:
    if torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        return f"available: {names} (CUDA {torch.version.cuda})"
    if torch.version.cuda is None:
        return "not available (this torch is a CPU-only build)"
    return f"not available (torch built for CUDA {torch.version.cuda}; no GPU or driver found)"


def about_facts(spec: TrackerSpec) -> list[tuple[str, str]]:
    """(what, value) rows for the tracker, weights, device and precision chosen in the Tracker
    panel: "Backend" is what a run with them would use."""
    tracker, device = spec.name, spec.device
    recommended = " (recommended)" if tracker == trackers.recommended() else ""
    try:
        resolved = resolve_device(device)
        runs_on = str(resolved) if device == "auto" else device
        with warnings.catch_warnings(record=True) as said:  # said in the dialog instead
            warnings.simplefilter("always")
            backend = trackers.chosen_backend(tracker, resolved, spec.backend(), spec.weights)
        backend = "; ".join([backend, *(str(w.message) for w in said if w.category is RuntimeWarning)])
        if spec.precision == "auto" and backend == "openvino" and not exact_int8():
            backend += " (f32: INT8 saturates on this CPU, which has no VNNI / AMX)"
    except ValueError as exc:  # a device or backend that is not there: say why
        runs_on = backend = str(exc)
    return [
        ("Version", app_version()),
        ("Tracker", tracker + recommended),
        ("Model card", model_card(tracker)),
        ("Device", f"{device} → {runs_on}" if device == "auto" else runs_on),
        (f"Backend ({spec.precision})", backend),
        ("CUDA", cuda_status()),
        ("Apple MPS", "available" if mps_available() else "not available"),
        ("PyTorch", torch.__version__),
        ("OpenCV", cv2.__version__),
        ("Qt / PySide6", f"{qVersion()} / {PySide6.__version__}"),
        ("Python", f"{platform.python_version()} on {platform.system()} {platform.machine()}"),
    ]


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None, spec: TrackerSpec):
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_NAME}")
        self.facts = about_facts(spec)
        intro = QLabel(
            f"<h3>{APP_NAME} {html.escape(self.facts[0][1])}</h3>"
            "Semi-automatic video annotation with Siamese visual trackers.<br>"
            "Draw a box, pick a tracker, track forward; correct a drifting frame by drawing a new "
            "box there and tracking forward again."
        )
        intro.setWordWrap(True)
        rows = "".join(
            f"<tr><td style='padding-right:12px'><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>"
            for k, v in self.facts[1:]
        )
        self.details = QLabel(f"<table>{rows}</table>")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        copy = buttons.addButton("Copy", QDialogButtonBox.ActionRole)
        copy.setToolTip("Copy these details as text (for a bug report)")
        copy.clicked.connect(lambda: QApplication.clipboard().setText(self.text()))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.details)
        layout.addWidget(buttons)
        self.setMinimumWidth(560)

    def text(self) -> str:
        """The details as plain text."""
        return "\n".join(
            f"{APP_NAME} {k.lower()}: {v}" if k == "Version" else f"{k}: {v}" for k, v in self.facts
        )
