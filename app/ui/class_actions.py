"""The window's ways to give a track a class: keys 1-9 and the class picker.

``menu`` is the Edit menu's "Set class" submenu: class N on key N, named after the project's
classes. ``ask`` pops the picker up next to a new track's box: the classes with their numbers
(press one) and "New class…". It is a popup menu, so nothing waits for it: Esc or a click
elsewhere leaves the track the class it was given (the active class).
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog, QMenu, QWidget

from app.controllers.classes import ClassesController
from app.model.session import Session
from app.ui.class_panel import HOTKEY_CLASSES, colour_icon
from app.ui.video_view import VideoView
from trackers.base import Box


def _menu_text(text: str) -> str:
    return text.replace("&", "&&")  # a class named "R&D" is not a mnemonic


class ClassActions:
    def __init__(self, window: QWidget, session: Session, classes: ClassesController, view: VideoView):
        self.window, self.session, self.classes, self.view = window, session, classes, view
        self.menu = QMenu("Set &class", window)
        self.menu.setToolTipsVisible(True)
        self.set_class_actions: list[QAction] = []
        for number in range(1, HOTKEY_CLASSES + 1):
            action = QAction(window)
            action.setShortcut(QKeySequence(str(number)))
            action.setToolTip(f"Give the selected track class {number} (it becomes the active class)")
            action.triggered.connect(lambda _checked=False, n=number: classes.set_class_number(n))
            window.addAction(action)  # the key works with the menu bar hidden too
            self.menu.addAction(action)
            self.set_class_actions.append(action)
        self.picker = QMenu(window)
        session.document_changed.connect(self.show_names)
        session.annotations_changed.connect(lambda edit: edit.classes is not None and self.show_names())
        self.show_names()

    def show_names(self) -> None:
        """Name the key actions after the classes; keys without a class are disabled."""
        names = self.session.annotations.class_names()
        for number, action in enumerate(self.set_class_actions, start=1):
            known = number <= len(names)
            name = f": {_menu_text(names[number - 1])}" if known else " (none yet)"
            action.setText(f"Class &{number}{name}")
            action.setEnabled(known)

    def ask(self, track_id: int, box: Box) -> None:
        """Offer the classes for the new track ``track_id``, next to its ``box``."""
        picker = self.picker
        picker.clear()
        picker.setTitle(f"Class of track #{track_id}")
        current = self.session.annotations.track(track_id).label
        for number, item in enumerate(self.session.annotations.classes, start=1):
            prefix = f"&{number}  " if number <= HOTKEY_CLASSES else "    "
            action = picker.addAction(colour_icon(item.color), prefix + _menu_text(item.name))
            action.triggered.connect(
                lambda _checked=False, name=item.name: self.classes.set_track_class(track_id, name)
            )
            if item.name == current:
                picker.setActiveAction(action)
        picker.addSeparator()
        picker.addAction("&New class…").triggered.connect(lambda: self._new_class(track_id))
        x, y, w, _h = box
        picker.popup(self.view.mapToGlobal(self.view.map_image_to_widget(x + w, y)))

    def _new_class(self, track_id: int) -> None:
        name, ok = QInputDialog.getText(self.window, "New class", f"Class of track #{track_id}:")
        if ok and name.strip():
            self.classes.set_track_class(track_id, name.strip())
