"""Editing commands: boxes, tracks, flags, interpolation, import — each one undoable edit of the
session's annotations. No widgets: the window wires its actions and the video view here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QUndoStack

from app.controllers.feedback import Feedback
from app.controllers.undo import push_edit
from app.model.annotations import Edit, FrameBox
from app.model.groundtruth import is_ground_truth
from app.model.ranges import accept_edit
from app.model.session import Session
from trackers.base import Box


class EditingController:
    def __init__(
        self, session: Session, undo_stack: QUndoStack, feedback: Feedback, running: Callable[[], bool]
    ):
        self.session = session
        self.undo_stack = undo_stack
        self.feedback = feedback
        self._running = running  # a run writes boxes: no edits meanwhile
        #: the next box drawn starts a new track
        self.new_track_pending = False
        #: called with (track id, box) when a box drawn without a label started a new track in
        #: a project with classes: the window offers the class picker
        self.ask_class: Callable[[int, Box], None] | None = None

    def push(self, edit: Edit, already_applied: bool = False) -> bool:
        return push_edit(self.undo_stack, self.session, edit, already_applied)

    def editable(self) -> bool:
        if self.session.video is None:
            self.feedback.show_error(
                "Nothing to edit", "Open a video or a folder of images first (File → Open)."
            )
            return False
        if self._running():
            self.feedback.show_status("Stop tracking (Esc) before editing.", 4000)
            return False
        return True

    # -- boxes -----------------------------------------------------------------------------------

    def new_track(self) -> None:
        self.new_track_pending = True
        self.feedback.show_status("Draw a box around the new object (left-drag on the frame).", 8000)

    def select(self, track_id: int | None) -> None:
        self.new_track_pending = False
        self.session.select(track_id)

    def draw_box(self, frame: int, box: Box | None, label: str | None = None) -> bool:
        """A box drawn on ``frame``: a manual keyframe of the selected track, or a new track of
        class ``label`` (default: ``new_track_label``)."""
        session = self.session
        if box is None or not self.editable():
            return False
        annotations = session.annotations
        ask = False
        try:
            if self.new_track_pending or session.selected_track not in annotations.tracks:
                # a choice to make: with one class (or none) the picker would only take the keys
                # (e.g. T right after drawing) for nothing
                ask = label is None and len(annotations.classes) > 1
                edit = annotations.add_track_edit(
                    label or self.new_track_label(), boxes={frame: FrameBox(box, reviewed=True)}
                )
                self.new_track_pending = False
            else:
                edit = annotations.manual_box_edit(session.selected_track, frame, box)
        except (ValueError, IndexError) as exc:
            self.feedback.show_error("Box not set", str(exc))
            return False
        if not self.push(edit):
            return False
        if ask and self.ask_class is not None:
            self.ask_class(edit.tracks[0].after.id, box)
        return True

    def new_track_label(self) -> str:
        """A new track's class: the active class, else the selected track's (a new object of the
        same kind), else "object"."""
        session = self.session
        if session.active_class in session.annotations.class_names():
            return session.active_class
        current = session.annotations.tracks.get(session.selected_track)
        if current is not None and not is_ground_truth(current):
            return current.label
        return "object"

    def click(self, frame: int, x: float, y: float) -> None:
        """A click on a box selects its track (the smallest box under the cursor wins)."""
        hits = []
        for track_id, (bx, by, bw, bh) in self.session.boxes_at(frame).items():
            if bx <= x <= bx + bw and by <= y <= by + bh:
                hits.append((bw * bh, track_id))
        if hits:
            self.select(min(hits)[1])

    def selected_entry(self) -> tuple[int, int] | None:
        """(selected track, current frame) when they can be edited; otherwise says why, None."""
        if not self.editable():
            return None
        if self.session.selected_track is None:
            self.feedback.show_status("No track selected: draw a box first.", 5000)
            return None
        return self.session.selected_track, self.session.current_frame

    def delete_box(self) -> None:
        target = self.selected_entry()
        if target is not None:
            self.push(self.session.annotations.delete_box_edit(*target))

    def delete_track(self, track_id: int | None = None) -> None:
        track_id = self.session.selected_track if track_id is None or track_id is False else track_id
        if track_id in self.session.annotations.tracks and self.editable():
            self.push(self.session.annotations.remove_track_edit(track_id))

    def toggle_flag(self, what: str) -> None:
        target = self.selected_entry()
        if target is None:
            return
        try:
            self.push(self.session.annotations.toggle_edit(*target, what))
        except ValueError as exc:
            self.feedback.show_status(str(exc), 5000)

    def accept_frame(self) -> None:
        """The person looked at this frame's box and accepts it: reviewed, flag cleared."""
        target = self.selected_entry()
        if target is None:
            return
        if self.session.annotations.track(target[0]).get(target[1]) is None:
            self.feedback.show_status("No box here to accept.", 4000)
            return
        self.push(accept_edit(self.session.annotations, [target], "Accept frame"))

    def interpolate(self) -> None:
        if not self.editable() or self.session.selected_track is None:
            return
        edit = self.session.annotations.interpolate_edit(self.session.selected_track)
        if not self.push(edit):
            self.feedback.show_status(
                "Nothing to interpolate: it needs two manual keyframes with a gap.", 6000
            )
        else:
            self.feedback.show_status(f"Interpolated {len(edit.boxes)} frames.", 5000)

    # -- import ----------------------------------------------------------------------------------

    def import_annotations(self, format_name: str, path: str | Path, label: str | None = None) -> bool:
        """Add the file's tracks as new tracks (one undo step), all labelled ``label`` when
        given; nothing changes on any error."""
        from app.io.formats import FORMATS, FormatError

        session = self.session
        if session.video is None:
            self.feedback.show_error(
                "Nothing to import into", "Open the video the annotations belong to first."
            )
            return False
        fmt = FORMATS.get(format_name)
        if fmt is None or fmt.load is None:
            self.feedback.show_error("Cannot import", f"{format_name}: not an importable format")
            return False
        count = session.frame_count
        try:
            loaded = fmt.load(Path(path), count)
        except (FormatError, OSError, ValueError) as exc:
            self.feedback.show_error("Cannot import", str(exc))
            return False
        outside = [f for t in loaded for f in t.boxes if not 0 <= f < count]
        if outside:
            self.feedback.show_error(
                "Cannot import", f"{path}: frame {outside[0]} is outside this video (0..{count - 1})"
            )
            return False
        if label is not None:
            for track in loaded:
                track.label = label
        edit = session.annotations.import_edit(loaded, f"Import {Path(path).name}")
        self.push(edit)
        self.feedback.show_status(
            f"Imported {len(edit.tracks)} tracks, {len(edit.boxes)} boxes from {path}", 8000
        )
        return True
