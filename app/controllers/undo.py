"""QUndoStack glue: every change to the annotations is one ``EditCommand`` holding an ``Edit``.

The command knows nothing of what the edit does; the session applies it and its inverse (and
tells every view). A tracking run applies its results as they arrive (so they show live) and is
pushed once at the end with ``already_applied=True``: undo reverts the whole run in one step.
"""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand, QUndoStack

from app.model.annotations import Edit
from app.model.session import Session


class EditCommand(QUndoCommand):
    def __init__(self, session: Session, edit: Edit, already_applied=False):
        super().__init__(edit.text)
        self.session, self.edit = session, edit
        self._skip_first_redo = already_applied

    def redo(self) -> None:
        if self._skip_first_redo:
            self._skip_first_redo = False
            return
        self.session.apply(self.edit)

    def undo(self) -> None:
        self.session.apply(self.edit.inverse())


def push_edit(stack: QUndoStack, session: Session, edit: Edit, already_applied=False) -> bool:
    """Apply ``edit`` (unless already applied) as one undoable step; empty edits are dropped."""
    if not edit:
        return False
    stack.push(EditCommand(session, edit, already_applied))
    return True
