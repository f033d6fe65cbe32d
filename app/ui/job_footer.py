"""The bottom of a dialog that runs a long job (export, recording): a progress bar, a status
line, the job's button and Close (which reads Cancel while the job runs)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton


@dataclass
class JobFooter:
    progress_bar: QProgressBar
    status_label: QLabel
    start_button: QPushButton
    close_button: QPushButton


def add_job_footer(layout: QBoxLayout, start_text: str, start, close, status: str = "") -> JobFooter:
    """Adds the footer to ``layout``; ``start`` / ``close``: what the two buttons do."""
    progress_bar = QProgressBar()
    progress_bar.setRange(0, 1)
    progress_bar.setValue(0)
    status_label = QLabel(status)
    status_label.setWordWrap(True)
    status_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    layout.addWidget(progress_bar)
    layout.addWidget(status_label)
    start_button = QPushButton(start_text)
    start_button.setDefault(True)
    start_button.clicked.connect(start)
    close_button = QPushButton("Close")
    close_button.clicked.connect(close)
    buttons = QHBoxLayout()
    buttons.addStretch(1)
    buttons.addWidget(start_button)
    buttons.addWidget(close_button)
    layout.addLayout(buttons)
    return JobFooter(progress_bar, status_label, start_button, close_button)
