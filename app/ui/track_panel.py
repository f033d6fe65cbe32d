"""The Tracks dock: the list of tracks (colour, id, class and box count; new / class / delete)
above the project's class list (``ClassPanel``).

It only shows the model and asks for changes through signals; the main window turns them into
undoable edits.
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.model.annotations import Annotations, Track
from app.ui.class_panel import LIST_MIN_HEIGHT, ClassPanel, colour_icon

_LABEL_ROLE, _COLOUR_ROLE = Qt.UserRole + 1, Qt.UserRole + 2


def track_item_text(track: Track) -> str:
    boxes = sum(1 for b in track.boxes.values() if b.box is not None)
    flags = len(track.flagged_frames())
    text = f"#{track.id}  {track.label}   {boxes} box{'' if boxes == 1 else 'es'}"
    return text + (f" · {flags} flagged" if flags else "")


class TrackPanel(QWidget):
    selected = Signal(object)  # track id or None
    new_requested = Signal()
    delete_requested = Signal(int)
    relabel_requested = Signal(int, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setFocusPolicy(Qt.NoFocus)  # keys belong to the window's shortcuts
        self.list.setMinimumHeight(LIST_MIN_HEIGHT)
        self.new_button = QPushButton("New track")
        self.new_button.setToolTip("The next box you draw starts a new track (N)")
        self.rename_button = QPushButton("Class…")
        self.rename_button.setToolTip("Choose or type the selected track's class (keys 1-9: class 1-9)")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected track and all its boxes (Shift+Del)")
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (self.new_button, self.rename_button, self.delete_button):
            button.setFocusPolicy(Qt.NoFocus)
            buttons.addWidget(button)
        self.classes = ClassPanel()

        tracks_part, classes_part = QWidget(), QWidget()
        tracks_layout = QVBoxLayout(tracks_part)
        tracks_layout.setContentsMargins(0, 0, 0, 0)
        tracks_layout.addWidget(self.list, 1)
        tracks_layout.addLayout(buttons)
        classes_layout = QVBoxLayout(classes_part)
        classes_layout.setContentsMargins(0, 4, 0, 0)
        classes_layout.addWidget(QLabel("<b>Classes</b>"))
        classes_layout.addWidget(self.classes, 1)
        self.splitter = QSplitter(Qt.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(tracks_part)
        self.splitter.addWidget(classes_part)
        self.splitter.setSizes([3, 2])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter)

        self.list.currentItemChanged.connect(self._on_current)
        self.list.itemDoubleClicked.connect(lambda _item: self.ask_label())
        self.new_button.clicked.connect(self.new_requested)
        self.rename_button.clicked.connect(self.ask_label)
        self.delete_button.clicked.connect(self._on_delete)
        self._updating = False

    def refresh(self, model: Annotations, selected: int | None, active_class: str | None = None) -> None:
        """Show the tracks and classes. The same tracks as shown are updated in place: a run
        refreshes the counts many times a second without rebuilding the list."""
        self._updating = True
        try:
            ids = [t.id for t in model]
            if [int(self.list.item(i).data(Qt.UserRole)) for i in range(self.list.count())] != ids:
                self.list.clear()
                for track_id in ids:
                    item = QListWidgetItem()
                    item.setData(Qt.UserRole, track_id)
                    self.list.addItem(item)
            for row, track in enumerate(model):
                item = self.list.item(row)
                text = track_item_text(track)
                if item.text() != text:
                    item.setText(text)
                item.setData(_LABEL_ROLE, track.label)
                if item.data(_COLOUR_ROLE) != track.color:
                    item.setIcon(colour_icon(track.color))
                    item.setData(_COLOUR_ROLE, track.color)
                if track.id == selected:
                    self.list.setCurrentItem(item)
            if selected not in ids:
                self.list.setCurrentRow(-1)
        finally:
            self._updating = False
        self.rename_button.setEnabled(selected is not None)
        self.delete_button.setEnabled(selected is not None)
        counts = Counter(t.label for t in model)
        self.classes.refresh(model.classes, counts, active_class)

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else int(item.data(Qt.UserRole))

    def ask_label(self) -> None:
        """The selected track's class: one of the project's, or a new one typed in."""
        item = self.list.currentItem()
        if item is None:
            return
        track_id, label = int(item.data(Qt.UserRole)), item.data(_LABEL_ROLE)
        names = self.classes.names()
        if label not in names:
            names.append(label)
        chosen, ok = QInputDialog.getItem(
            self,
            "Track class",
            f"Class of track #{track_id} (pick one, or type a new class):",
            names,
            names.index(label),
            True,
        )
        if ok and chosen.strip() and chosen.strip() != label:
            self.relabel_requested.emit(track_id, chosen.strip())

    def _on_current(self, item, _previous) -> None:
        if not self._updating:
            self.selected.emit(None if item is None else int(item.data(Qt.UserRole)))

    def _on_delete(self) -> None:
        track_id = self.current_id()
        if track_id is not None:
            self.delete_requested.emit(track_id)
