"""The project's class list and the class of each track: every change one undoable edit.

A track's class is its label. The active class (the session's) is the one a new track gets;
choosing a class for a track makes it active, so the next object drawn is of the same kind.
"""

from __future__ import annotations

from app.controllers.editing import EditingController
from app.controllers.feedback import Feedback
from app.model.annotations import Edit
from app.model.session import Session


class ClassesController:
    def __init__(self, session: Session, editing: EditingController, feedback: Feedback):
        self.session = session
        self.editing = editing  # its checks (a video open, no run) and its undo stack
        self.feedback = feedback

    def _push(self, build, title: str) -> Edit | None:
        """``build()``'s edit pushed; a refused change (ValueError) is said in ``title``'s box."""
        if not self.editing.editable():
            return None
        try:
            edit = build()
        except ValueError as exc:
            self.feedback.show_error(title, str(exc))
            return None
        return edit if self.editing.push(edit) else None

    def add(self, name: str, color: str | None = None) -> bool:
        annotations = self.session.annotations
        edit = self._push(lambda: annotations.add_class_edit(name, color), "Class not added")
        if edit is None:
            return False
        added = edit.classes.after[-1].name
        self.session.set_active_class(added)
        self.feedback.show_status(f"Class {added!r} added: key {self._key_hint(added)}.", 5000)
        return True

    def rename(self, name: str, new_name: str) -> bool:
        """Renames the class and every track of it (one undo step)."""
        annotations = self.session.annotations
        edit = self._push(lambda: annotations.rename_class_edit(name, new_name), "Class not renamed")
        if edit is None:
            return False
        new = edit.classes.after[[c.name for c in edit.classes.before].index(name)].name
        if self.session.active_class == name:
            self.session.set_active_class(new)
        self.feedback.show_status(
            f"Class {name!r} renamed {new!r} ({len(edit.tracks)} tracks relabelled).", 5000
        )
        return True

    def recolour(self, name: str, color: str) -> bool:
        annotations = self.session.annotations
        return (
            self._push(lambda: annotations.recolour_class_edit(name, color), "Colour not changed") is not None
        )

    def remove(self, name: str) -> bool:
        """Refused with a message while a track has the class: no box is ever lost."""
        annotations = self.session.annotations
        if self._push(lambda: annotations.remove_class_edit(name), "Class not removed") is None:
            return False
        if self.session.active_class == name:
            self.session.set_active_class(None)
        self.feedback.show_status(f"Class {name!r} removed.", 5000)
        return True

    def set_active(self, name: str | None) -> None:
        self.session.set_active_class(name)

    def set_track_class(self, track_id: int, name: str) -> bool:
        """Give the track class ``name`` (a new name becomes a class too, in the same edit); the
        class becomes active."""
        annotations = self.session.annotations
        if track_id not in annotations.tracks:
            return False
        if annotations.track(track_id).label == name:
            self.session.set_active_class(name)
            return True
        edit = self._push(lambda: annotations.relabel_edit(track_id, name), "Class not set")
        if edit is None:
            return False
        label = annotations.track(track_id).label
        self.session.set_active_class(label)
        self.feedback.show_status(f"Track #{track_id} is now {label!r}.", 4000)
        return True

    def set_class_number(self, number: int) -> bool:
        """Key ``number`` (1-based): class ``number`` for the selected track, and active."""
        names = self.session.annotations.class_names()
        if not 1 <= number <= len(names):
            self.feedback.show_status(f"There is no class {number} (classes: Tracks dock).", 4000)
            return False
        name = names[number - 1]
        track_id = self.session.selected_track
        if track_id is None:
            self.session.set_active_class(name)
            self.feedback.show_status(f"New tracks will be {name!r}.", 4000)
            return True
        return self.set_track_class(track_id, name)

    def _key_hint(self, name: str) -> str:
        number = self.session.annotations.class_names().index(name) + 1
        return str(number) if number <= 9 else "none (classes 1-9 have keys)"
