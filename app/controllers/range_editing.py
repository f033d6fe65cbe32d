"""Edits over many frames: the in / out points of a frame range, accept / mark absent / delete
over that range (or, with none marked, from the current frame to the end of the span), split
and merge of tracks, and accepting every review item in the range. Each is one undo step.
"""

from __future__ import annotations

from collections.abc import Callable

from app.controllers.editing import EditingController
from app.model.annotations import Annotations, Edit
from app.model.ranges import (
    absent_edit,
    accept_edit,
    accept_frames_edit,
    delete_edit,
    describe,
    merge_edit,
    span_from,
    split_edit,
    with_in_point,
    with_out_point,
)
from app.model.review import frames_in, review_queue

RANGE_KEYS = "Shift+K accept, Shift+A absent, Ctrl+Del delete; Shift+X clears the range"


class RangeEditing:
    def __init__(self, editing: EditingController):
        self.editing = editing
        self.session = editing.session
        self.feedback = editing.feedback

    # -- the marked range ------------------------------------------------------------------------

    def mark_in(self) -> None:
        self._mark(with_in_point)

    def mark_out(self) -> None:
        self._mark(with_out_point)

    def _mark(self, rule: Callable) -> None:
        session = self.session
        if session.video is None:
            self.feedback.show_status("Open a video first.", 4000)
            return
        session.set_range(rule(session.selected_range, session.current_frame))
        first, last = session.selected_range
        self.feedback.show_status(f"Range: {describe(range(first, last + 1))}. {RANGE_KEYS}.", 10000)

    def clear(self) -> None:
        if self.session.selected_range is not None:
            self.session.set_range(None)
            self.feedback.show_status("Range cleared: range actions work from here to the end of the span.")

    # -- accept / absent / delete over the range or the rest of the span ---------------------------

    def accept(self) -> None:
        self._over_frames(accept_frames_edit, "accepted")

    def mark_absent(self) -> None:
        self._over_frames(absent_edit, "marked absent")

    def delete(self) -> None:
        self._over_frames(delete_edit, "deleted")

    def _over_frames(self, build: Callable[[Annotations, int, range], Edit], done: str) -> None:
        target = self.editing.selected_entry()
        if target is None:
            return
        track_id, frame = target
        annotations = self.session.annotations
        if self.session.selected_range is not None:
            first, last = self.session.selected_range
            frames = range(first, last + 1)
        else:
            frames = span_from(annotations.track(track_id), frame)
            if not frames:
                self.feedback.show_status(
                    f"Track #{track_id} has no tracked frames from frame {frame} to its next keyframe: "
                    "mark a range with Shift+I / Shift+O.",
                    6000,
                )
                return
        edit = build(annotations, track_id, frames)
        if self.editing.push(edit):
            self.feedback.show_status(f"Track #{track_id}: {describe(frames)} {done}.", 6000)
        else:
            self.feedback.show_status(f"Nothing to change on {describe(frames)} of track #{track_id}.", 5000)

    # -- split / merge -----------------------------------------------------------------------------

    def split_here(self) -> None:
        target = self.editing.selected_entry()
        if target is None:
            return
        track_id, frame = target
        try:
            edit = split_edit(self.session.annotations, track_id, frame)
        except ValueError as exc:
            self.feedback.show_status(f"Not split: {exc}.", 6000)
            return
        self.editing.push(edit)
        new_id = edit.tracks[0].track
        frames = self.session.annotations.track(new_id).frames()
        self.feedback.show_status(
            f"Track #{track_id} split: {describe(range(frames[0], frames[-1] + 1))} are now track #{new_id}.",
            8000,
        )

    def merge_candidates(self) -> list[int]:
        """The tracks the selected one can take in (empty, and said why, when there are none)."""
        if not self.editing.editable():
            return []
        keep_id = self.session.selected_track
        others = [t.id for t in self.session.annotations if t.id != keep_id]
        if keep_id is None or not others:
            self.feedback.show_status("Merging needs two tracks: select the one to keep first.", 5000)
            return []
        return others

    def merge_with(self, other_id: int) -> bool:
        """The other track's frames join the selected track; refused (and said why) where both
        have a box on one frame."""
        target = self.editing.selected_entry()
        if target is None:
            return False
        keep_id = target[0]
        try:
            edit = merge_edit(self.session.annotations, keep_id, other_id)
        except (ValueError, KeyError) as exc:
            self.feedback.show_error("Tracks not merged", str(exc).strip("'\""))
            return False
        self.editing.push(edit)
        self.feedback.show_status(f"Track #{other_id} merged into track #{keep_id}.", 8000)
        return True

    # -- review ------------------------------------------------------------------------------------

    def accept_review_items(self) -> None:
        """Accept every flagged frame of every track inside the marked range."""
        if not self.editing.editable():
            return
        selected = self.session.selected_range
        if selected is None:
            self.feedback.show_status("Mark a range first (Shift+I / Shift+O).", 5000)
            return
        flagged = frames_in(review_queue(self.session.annotations), selected)
        frames = describe(range(selected[0], selected[1] + 1))
        edit = accept_edit(
            self.session.annotations, flagged, f"Accept {len(flagged)} flagged frames in {frames}"
        )
        if self.editing.push(edit):
            self.feedback.show_status(f"Accepted {len(flagged)} flagged frames in {frames}.", 6000)
        else:
            self.feedback.show_status(f"Nothing flagged in {frames}.", 5000)
