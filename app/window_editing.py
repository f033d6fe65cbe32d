"""The main window's editing commands: boxes, tracks, flags, interpolation — each an undoable
edit of the annotations. A mixin of ``MainWindow``.
"""

from __future__ import annotations

from app.annotations import Edit, FrameBox
from app.undo import push_edit
from trackers.base import Box


class EditingActions:
    # -- editing -------------------------------------------------------------------------------

    def _push(self, edit: Edit, already_applied: bool = False) -> bool:
        return push_edit(self.undo_stack, self.annotations, edit, self._on_model_changed, already_applied)

    def _on_model_changed(self, edit: Edit) -> None:
        if edit.tracks:
            ids = self.annotations.tracks
            if self.selected_track not in ids:
                self.selected_track = next(iter(sorted(ids)), None)
            added = [c.after.id for c in edit.tracks if c.before is None and c.after is not None]
            if added:
                self.selected_track = added[-1]
        self.refresh()

    def _editable(self) -> bool:
        if self.video is None:
            self.show_error("Nothing to edit", "Open a video or a folder of images first (File → Open).")
            return False
        if self.run is not None:
            self.statusBar().showMessage("Stop tracking (Esc) before editing.", 4000)
            return False
        return True

    def select_track(self, track_id: int | None) -> None:
        if track_id is not None and track_id not in self.annotations.tracks:
            return
        self.selected_track = track_id
        self._new_track_pending = False
        self.refresh()

    def new_track(self) -> None:
        """The next box drawn starts a new track."""
        self._new_track_pending = True
        self.view.set_box(None)
        self.statusBar().showMessage("Draw a box around the new object (left-drag on the frame).", 8000)

    def set_box(self, box: Box | None, label: str = "object") -> None:
        """Put a box on the shown frame as if drawn with the mouse (a manual keyframe)."""
        if box is not None:
            self._on_box_drawn(box, label)

    def _on_box_drawn(self, box: Box | None, label: str = "object") -> None:
        if box is None or not self._editable():
            return
        frame = self.displayed_frame if self.displayed_frame is not None else self.current_frame
        try:
            if self._new_track_pending or self.selected_track not in self.annotations.tracks:
                entry = FrameBox(box, reviewed=True)
                edit = self.annotations.add_track_edit(self._label_for_new_track(label), boxes={frame: entry})
                self._new_track_pending = False
            else:
                edit = self.annotations.manual_box_edit(self.selected_track, frame, box)
        except (ValueError, IndexError) as exc:
            self.show_error("Box not set", str(exc))
            return
        self._push(edit)

    def _label_for_new_track(self, default: str) -> str:
        current = self.annotations.tracks.get(self.selected_track)
        return current.label if current is not None and default == "object" else default

    def _on_view_clicked(self, x: float, y: float) -> None:
        """A click on a box selects its track (the smallest box under the cursor wins)."""
        if self.displayed_frame is None:
            return
        hits = []
        for track in self.annotations:
            entry = track.get(self.displayed_frame)
            if entry is not None and entry.box is not None:
                bx, by, bw, bh = entry.box
                if bx <= x <= bx + bw and by <= y <= by + bh:
                    hits.append((bw * bh, track.id))
        if hits:
            self.select_track(min(hits)[1])

    def _selected_entry(self) -> tuple[int, int] | None:
        if not self._editable():
            return None
        if self.selected_track is None:
            self.statusBar().showMessage("No track selected: draw a box first.", 5000)
            return None
        return self.selected_track, self.current_frame

    def delete_box(self) -> None:
        target = self._selected_entry()
        if target is not None:
            self._push(self.annotations.delete_box_edit(*target))

    def delete_track(self, track_id: int | None = None) -> None:
        track_id = self.selected_track if track_id is None or track_id is False else track_id
        if track_id in self.annotations.tracks and self._editable():
            self._push(self.annotations.remove_track_edit(track_id))

    def relabel_track(self, track_id: int, label: str) -> None:
        if track_id in self.annotations.tracks and self._editable():
            try:
                edit = self.annotations.relabel_edit(track_id, label)
            except ValueError as exc:
                self.show_error("Label not changed", str(exc))
                return
            self._push(edit)

    def toggle_flag(self, what: str) -> None:
        target = self._selected_entry()
        if target is None:
            return
        try:
            self._push(self.annotations.toggle_edit(*target, what))
        except ValueError as exc:
            self.statusBar().showMessage(str(exc), 5000)

    def accept_frame(self) -> None:
        """The person looked at this frame's box and accepts it: reviewed, flag cleared."""
        target = self._selected_entry()
        if target is None:
            return
        entry = self.annotations.track(target[0]).get(target[1])
        if entry is None:
            self.statusBar().showMessage("No box here to accept.", 4000)
            return
        self._push(
            self.annotations.set_box_edit(*target, entry.with_(flag="", reviewed=True), "Accept frame")
        )

    def interpolate(self) -> None:
        if not self._editable() or self.selected_track is None:
            return
        edit = self.annotations.interpolate_edit(self.selected_track)
        if not self._push(edit):
            self.statusBar().showMessage(
                "Nothing to interpolate: it needs two manual keyframes with a gap.", 6000
            )
        else:
            self.statusBar().showMessage(f"Interpolated {len(edit.boxes)} frames.", 5000)
