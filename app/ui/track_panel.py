"""The list of tracks: colour, id, class label and box count; new / delete / rename.

It only shows the model and asks for changes through signals; the main window turns them into
undoable edits.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.model.annotations import Annotations


def colour_icon(colour: str) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


class TrackPanel(QWidget):
    selected = Signal(object)  # track id or None
    new_requested = Signal()
    delete_requested = Signal(int)
    relabel_requested = Signal(int, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setFocusPolicy(Qt.NoFocus)  # keys belong to the window's shortcuts
        self.new_button = QPushButton("New track")
        self.new_button.setToolTip("The next box you draw starts a new track (N)")
        self.rename_button = QPushButton("Label…")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected track and all its boxes (Shift+Del)")
        for button in (self.new_button, self.rename_button, self.delete_button):
            button.setFocusPolicy(Qt.NoFocus)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (self.new_button, self.rename_button, self.delete_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

        self.list.currentItemChanged.connect(self._on_current)
        self.list.itemDoubleClicked.connect(lambda _item: self.ask_label())
        self.new_button.clicked.connect(self.new_requested)
        self.rename_button.clicked.connect(self.ask_label)
        self.delete_button.clicked.connect(self._on_delete)
        self._updating = False

    def refresh(self, model: Annotations, selected: int | None) -> None:
        self._updating = True
        try:
            self.list.clear()
            for track in model:
                boxes = sum(1 for b in track.boxes.values() if b.box is not None)
                flags = len(track.flagged_frames())
                text = f"#{track.id}  {track.label}   {boxes} boxes" + (
                    f" · {flags} flagged" if flags else ""
                )
                item = QListWidgetItem(colour_icon(track.color), text)
                item.setData(Qt.UserRole, track.id)
                self.list.addItem(item)
                if track.id == selected:
                    self.list.setCurrentItem(item)
        finally:
            self._updating = False
        self.rename_button.setEnabled(selected is not None)
        self.delete_button.setEnabled(selected is not None)

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else int(item.data(Qt.UserRole))

    def ask_label(self) -> None:
        track_id = self.current_id()
        if track_id is None:
            return
        item = self.list.currentItem()
        current = item.text().split()[1] if item is not None else ""
        label, ok = QInputDialog.getText(
            self, "Track label", f"Class label of track #{track_id}:", text=current
        )
        if ok and label.strip():
            self.relabel_requested.emit(track_id, label.strip())

    def _on_current(self, item, _previous) -> None:
        if not self._updating:
            self.selected.emit(None if item is None else int(item.data(Qt.UserRole)))

    def _on_delete(self) -> None:
        track_id = self.current_id()
        if track_id is not None:
            self.delete_requested.emit(track_id)
