"""Docks that make room on a small screen: below COMPACT_BELOW the tracker dock becomes a tab
beside the response map (three stacked docks leave each too short to use at 1024x700) and the
dock column narrows; above it, the tracker dock goes back over the response map.

Only a change across the threshold moves docks, and only while the person left all three open
in the right dock area: a window opened at its saved size keeps its saved layout.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

COMPACT_BELOW = QSize(1200, 820)
COMPACT_DOCK_WIDTH = 320


class CompactDocks(QObject):
    def __init__(self, window: QMainWindow, above: QDockWidget, tabbed: QDockWidget, onto: QDockWidget):
        """``tabbed`` moves between its own place under ``above`` and a tab beside ``onto``."""
        super().__init__(window)
        self.window, self.above, self.tabbed, self.onto = window, above, tabbed, onto
        self.compact = False  # the layout the window builds by default is the roomy one
        window.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.window and event.type() == QEvent.Resize:
            self.fit(event.size())
        return False

    def fit(self, size: QSize) -> None:
        compact = size.width() < COMPACT_BELOW.width() or size.height() < COMPACT_BELOW.height()
        if compact == self.compact:
            return
        self.compact = compact
        window, docks = self.window, (self.above, self.tabbed, self.onto)
        if any(
            d.isFloating() or d.isHidden() or window.dockWidgetArea(d) != Qt.RightDockWidgetArea
            for d in docks
        ):
            return  # the person arranged or closed docks: theirs to keep
        if compact:
            window.tabifyDockWidget(self.onto, self.tabbed)
            self.onto.raise_()
            window.resizeDocks([self.above], [COMPACT_DOCK_WIDTH], Qt.Horizontal)
        else:
            window.splitDockWidget(self.above, self.tabbed, Qt.Vertical)

    def is_tabbed(self) -> bool:
        return self.tabbed in self.window.tabifiedDockWidgets(self.onto)
