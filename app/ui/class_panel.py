"""The project's class list: colour swatch, hotkey number, name and how many tracks have it;
add / rename / colour / remove. The selected class is the active class (what a new track gets).

It only shows the model and asks for changes through signals; the window turns them into
undoable edits.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QColorDialog,
    QHBoxLayout,
    QInputDialog,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.model.annotations import ObjectClass

#: keys 1-9 set a class: the first nine classes have one
HOTKEY_CLASSES = 9

_COLOUR_ROLE = Qt.UserRole + 1
#: two rows: the Tracks dock, holding this list too, still fits a small window
LIST_MIN_HEIGHT = 44


def colour_icon(colour: str) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


def class_item_text(number: int, name: str, tracks: int) -> str:
    key = str(number) if number <= HOTKEY_CLASSES else " "
    return f"{key}  {name}   {tracks} track{'' if tracks == 1 else 's'}"


class ClassPanel(QWidget):
    activated = Signal(object)  # class name or None: the active class
    add_requested = Signal(str)
    rename_requested = Signal(str, str)  # name, new name
    recolour_requested = Signal(str, str)  # name, #rrggbb
    remove_requested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setFocusPolicy(Qt.NoFocus)  # keys belong to the window's shortcuts
        self.list.setMinimumHeight(LIST_MIN_HEIGHT)
        self.list.setToolTip(
            "The project's classes. The selected one is given to new tracks; "
            "keys 1-9 give class 1-9 to the selected track."
        )
        self.add_button = QPushButton("Add…")
        self.add_button.setToolTip("Add a class to the project")
        self.rename_button = QPushButton("Rename…")
        self.rename_button.setToolTip("Rename the selected class; its tracks are relabelled")
        self.colour_button = QPushButton("Colour…")
        self.colour_button.setToolTip("The colour of the selected class's labels on the frame")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected class (only when no track has it)")
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (self.add_button, self.rename_button, self.colour_button, self.remove_button):
            button.setFocusPolicy(Qt.NoFocus)
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

        self.list.currentItemChanged.connect(self._on_current)
        self.list.itemDoubleClicked.connect(lambda _item: self.ask_rename())
        self.add_button.clicked.connect(self.ask_add)
        self.rename_button.clicked.connect(self.ask_rename)
        self.colour_button.clicked.connect(self.ask_colour)
        self.remove_button.clicked.connect(self._on_remove)
        self._updating = False
        self._set_buttons()

    def refresh(self, classes: Sequence[ObjectClass], counts: dict[str, int], active: str | None) -> None:
        """Show ``classes`` (with their track ``counts``), ``active`` selected."""
        self._updating = True
        try:
            if self.names() != [c.name for c in classes]:
                self.list.clear()
                for c in classes:
                    item = QListWidgetItem()
                    item.setData(Qt.UserRole, c.name)
                    self.list.addItem(item)
            for number, c in enumerate(classes, start=1):
                item = self.list.item(number - 1)
                item.setText(class_item_text(number, c.name, counts.get(c.name, 0)))
                if item.data(_COLOUR_ROLE) != c.color:
                    item.setIcon(colour_icon(c.color))
                    item.setData(_COLOUR_ROLE, c.color)
                if c.name == active:
                    self.list.setCurrentItem(item)
            if active not in self.names():
                self.list.setCurrentRow(-1)
        finally:
            self._updating = False
        self._set_buttons()

    def names(self) -> list[str]:
        return [self.list.item(i).data(Qt.UserRole) for i in range(self.list.count())]

    def current_name(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else item.data(Qt.UserRole)

    def ask_add(self) -> None:
        name, ok = QInputDialog.getText(self, "New class", "Name of the new class:")
        if ok and name.strip():
            self.add_requested.emit(name.strip())

    def ask_rename(self) -> None:
        name = self.current_name()
        if name is None:
            return
        new_name, ok = QInputDialog.getText(
            self, "Rename class", f"New name of class {name!r} (its tracks are relabelled):", text=name
        )
        if ok and new_name.strip() and new_name.strip() != name:
            self.rename_requested.emit(name, new_name.strip())

    def ask_colour(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        name = item.data(Qt.UserRole)
        colour = QColorDialog.getColor(QColor(item.data(_COLOUR_ROLE)), self, f"Colour of class {name!r}")
        if colour.isValid():
            self.recolour_requested.emit(name, colour.name())

    def _on_remove(self) -> None:
        name = self.current_name()
        if name is not None:
            self.remove_requested.emit(name)

    def _on_current(self, item, _previous) -> None:
        self._set_buttons()
        if not self._updating:
            self.activated.emit(None if item is None else item.data(Qt.UserRole))

    def _set_buttons(self) -> None:
        chosen = self.list.currentItem() is not None
        for button in (self.rename_button, self.colour_button, self.remove_button):
            button.setEnabled(chosen)
