"""The dark look: Qt's Fusion style with a dark palette, and matching pyqtgraph defaults."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

BACKGROUND = "#1e1f22"
FOREGROUND = "#d4d4d4"


def configure_pyqtgraph() -> None:
    """Must run before any pyqtgraph widget is built (they read the options when created)."""
    pg.setConfigOptions(
        antialias=True, imageAxisOrder="row-major", background=BACKGROUND, foreground=FOREGROUND
    )


def apply_dark_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = QPalette()
    colours = {
        QPalette.Window: "#2b2d31",
        QPalette.WindowText: FOREGROUND,
        QPalette.Base: "#1e1f22",
        QPalette.AlternateBase: "#2b2d31",
        QPalette.ToolTipBase: "#2b2d31",
        QPalette.ToolTipText: FOREGROUND,
        QPalette.Text: FOREGROUND,
        QPalette.Button: "#35373c",
        QPalette.ButtonText: FOREGROUND,
        QPalette.BrightText: "#ff5a5a",
        QPalette.Highlight: "#3d7bd9",
        QPalette.HighlightedText: "#ffffff",
        QPalette.Link: "#6aa5ff",
        QPalette.PlaceholderText: "#808080",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        palette.setColor(QPalette.Disabled, role, QColor("#6e6e6e"))
    app.setPalette(palette)
