"""The projects of a ``siamark batch`` output folder as a review queue: most flagged first;
double-click (or Enter, or "Next batch project") opens one."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from app.io.batch_results import BatchEntry


class BatchPanel(QWidget):
    #: a project to open (its path)
    open_requested = Signal(object)

    COLUMNS = ("video", "flagged", "frames", "status")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.caption = QLabel("Open a batch output folder (File → Open batch results…)")
        self.caption.setWordWrap(True)
        self.list = QTreeWidget()
        self.list.setHeaderLabels(list(self.COLUMNS))
        self.list.setRootIsDecorated(False)
        self.list.setFocusPolicy(Qt.NoFocus)  # keys belong to the window's shortcuts
        self.list.itemActivated.connect(self._on_activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self.list, 1)
        self.folder: Path | None = None
        self.entries: list[BatchEntry] = []

    def show_batch(self, folder: Path, entries: list[BatchEntry]) -> None:
        self.folder, self.entries = Path(folder), entries
        self.list.clear()
        for entry in entries:
            item = QTreeWidgetItem([entry.name, str(entry.flagged), str(entry.frames), entry.status])
            item.setData(0, Qt.UserRole, str(entry.project) if entry.project else "")
            item.setToolTip(0, entry.video)
            if entry.project is None:
                item.setToolTip(3, entry.error or "no project")
                item.setForeground(0, Qt.gray)
            self.list.addTopLevelItem(item)
        for column in range(len(self.COLUMNS)):
            self.list.resizeColumnToContents(column)
        flagged = sum(1 for e in entries if e.flagged)
        failed = sum(1 for e in entries if e.project is None)
        self.caption.setText(
            f"<b>{self.folder.name}</b>: {len(entries)} videos, {flagged} with flagged frames"
            + (f", {failed} failed" if failed else "")
            + ". Most flagged first; double-click to open."
        )

    def mark_open(self, project: Path | None) -> None:
        """Highlight the row of the project now open (if it is one of this batch's)."""
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            if project is not None and item.data(0, Qt.UserRole) == str(project):
                self.list.setCurrentItem(item)
                return
        self.list.setCurrentItem(None)

    def next_project(self) -> Path | None:
        """The project after the current row (the first when none is current)."""
        current = self.list.currentItem()
        start = self.list.indexOfTopLevelItem(current) + 1 if current is not None else 0
        for i in range(start, self.list.topLevelItemCount()):
            path = self.list.topLevelItem(i).data(0, Qt.UserRole)
            if path:
                return Path(path)
        return None

    def _on_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        path = item.data(0, Qt.UserRole)
        if path:
            self.open_requested.emit(Path(path))
