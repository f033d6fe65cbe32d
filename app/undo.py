"""QUndoStack glue: every change to the annotations is one ``EditCommand`` holding an ``Edit``.

The command knows nothing of what the edit does; the model applies it and its inverse. A
tracking run applies its results as they arrive (so they show live) and is pushed once at the
end with ``already_applied=True``: undo reverts the whole run in one step.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand, QUndoStack

from app.annotations import Annotations, Edit


class EditCommand(QUndoCommand):
    def __init__(
        self, model: Annotations, edit: Edit, changed: Callable[[Edit], None], already_applied=False
    ):
        super().__init__(edit.text)
        self.model, self.edit, self._changed = model, edit, changed
        self._skip_first_redo = already_applied

    def redo(self) -> None:
        if self._skip_first_redo:
            self._skip_first_redo = False
            return
        self.model.apply(self.edit)
        self._changed(self.edit)

    def undo(self) -> None:
        inverse = self.edit.inverse()
        self.model.apply(inverse)
        self._changed(inverse)


def push_edit(stack: QUndoStack, model: Annotations, edit: Edit, changed, already_applied=False) -> bool:
    """Apply ``edit`` (unless already applied) as one undoable step; empty edits are dropped."""
    if not edit:
        return False
    stack.push(EditCommand(model, edit, changed, already_applied))
    return True
