"""The open document and what the user is looking at, Qt-free.

One ``Session`` per window: the video, its annotations (every box, score and flag), the
response maps of tracked boxes, the selected track and active class, the current frame, the
marked frame range, the drift settings and the project path. Controllers change it; widgets
subscribe to its events and repaint. Every change to the annotations goes through ``apply`` so
that the response maps never outlive the boxes they belong to.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from app.model.annotations import Annotations, BoxChange, Edit, FrameBox
from app.model.comparison import Comparison
from app.model.events import Event
from app.model.results import ResponseMaps
from trackers.base import Box
from trackers.drift import DriftSettings


class Session:
    def __init__(self):
        self.video = None  # app.io.video.SeekableVideo, or None before one is opened
        self.annotations = Annotations()
        self.maps = ResponseMaps()
        #: a live comparison of trackers (not annotations: never part of the document or undo)
        self.comparison = Comparison()
        self.selected_track: int | None = None
        #: the class a new track gets (a name of ``annotations.classes``, or None: the selected
        #: track's)
        self.active_class: str | None = None
        #: the track whose response map is shown; None: the selected one (during a multi-object
        #: run the person may watch another track's map than the one selected)
        self.response_track: int | None = None
        self.current_frame = 0
        #: frames marked with in / out points for the range actions: (first, last) or None
        self.selected_range: tuple[int, int] | None = None
        self.drift_settings = DriftSettings()
        self.project_path: Path | None = None
        #: a new video, annotations or project path (no arguments)
        self.document_changed = Event("document_changed")
        #: an edit was applied (the Edit)
        self.annotations_changed = Event("annotations_changed")
        #: the selected track (its id or None)
        self.selection_changed = Event("selection_changed")
        #: the active class (its name or None)
        self.active_class_changed = Event("active_class_changed")
        #: the frame asked for (its index)
        self.frame_changed = Event("frame_changed")
        #: the drift settings (the new DriftSettings)
        self.settings_changed = Event("settings_changed")
        #: the marked frame range ((first, last) or None)
        self.range_changed = Event("range_changed")
        #: the choice of the track whose response map is shown (its id or None)
        self.response_track_changed = Event("response_track_changed")

    # -- the document --------------------------------------------------------------------------

    @property
    def frame_count(self) -> int:
        return self.video.frame_count if self.video is not None else 0

    def set_document(self, video, annotations: Annotations, project_path: Path | None) -> None:
        annotations.frame_count = annotations.frame_count or (video.frame_count if video else 0)
        annotations.add_missing_classes()  # tracks a format loaded carry labels, not a class list
        self.video = video
        self.annotations = annotations
        self.maps.clear()
        if self.comparison.active:
            self.comparison.clear()  # it was on the previous video
        self.project_path = project_path
        self.selected_track = next(iter(annotations.tracks), None)
        self.active_class = None
        self.response_track = None
        self.current_frame = 0
        self.selected_range = None
        self.document_changed.emit()
        self.selection_changed.emit(self.selected_track)
        self.active_class_changed.emit(None)
        self.frame_changed.emit(0)
        self.range_changed.emit(None)

    def set_project_path(self, path: Path | None) -> None:
        self.project_path = Path(path) if path is not None else None
        self.document_changed.emit()

    def set_drift_settings(self, settings: DriftSettings) -> None:
        self.drift_settings = settings
        self.settings_changed.emit(settings)

    def change_drift_settings(self, **changes) -> None:
        self.set_drift_settings(replace(self.drift_settings, **changes))

    # -- edits ---------------------------------------------------------------------------------

    def apply(self, edit: Edit) -> None:
        """Apply ``edit`` (undo / redo apply edits and their inverses here too)."""
        self.annotations.apply(edit)
        for change in edit.boxes:
            before, after = change.before, change.after
            if before is None or after is None or before.box != after.box:
                self.maps.drop(change.track, change.frame)  # the map belonged to the replaced box
        for change in edit.tracks:
            if change.after is None:
                self.maps.drop_track(change.track)
        if edit.tracks:
            ids = self.annotations.tracks
            added = [c.after.id for c in edit.tracks if c.before is None and c.after is not None]
            if added:
                self._select(added[-1])
            elif self.selected_track not in ids:
                self._select(next(iter(sorted(ids)), None))
            if self.response_track is not None and self.response_track not in ids:
                self.set_response_track(None)
        self.annotations_changed.emit(edit)

    def store_tracked(self, track: int, frame: int, entry: FrameBox, response, geometry) -> list[BoxChange]:
        """A tracker result: its box stored (never over a manual box) and its map kept.
        Returns the changes made, for the run's undo step."""
        changes = self.annotations.tracked_changes(track, [(frame, entry)])
        if changes:
            self.apply(Edit("", (), tuple(changes)))
            self.maps.put(track, frame, response, geometry)
        return changes

    # -- what the user looks at ------------------------------------------------------------------

    def select(self, track_id: int | None) -> None:
        if track_id is not None and track_id not in self.annotations.tracks:
            return
        self._select(track_id)

    def _select(self, track_id: int | None) -> None:
        self.selected_track = track_id
        self.selection_changed.emit(track_id)

    def set_active_class(self, name: str | None) -> None:
        """The class new tracks get; a name that is not a class is ignored."""
        if name is not None and name not in self.annotations.class_names():
            return
        self.active_class = name
        self.active_class_changed.emit(name)

    def set_response_track(self, track_id: int | None) -> None:
        """Show ``track_id``'s response map (None: the selected track's)."""
        if track_id is not None and track_id not in self.annotations.tracks:
            return
        self.response_track = track_id
        self.response_track_changed.emit(track_id)

    def shown_response_track(self) -> int | None:
        """The track whose response map is on screen: the chosen one, else the selected one."""
        return self.response_track if self.response_track is not None else self.selected_track

    def set_range(self, selected: tuple[int, int] | None) -> None:
        """Mark frames first..last (clamped to the video, in order), or clear the mark (None)."""
        if selected is not None:
            last_frame = max(self.frame_count - 1, 0)
            first, last = sorted(max(0, min(int(f), last_frame)) for f in selected)
            selected = (first, last)
        self.selected_range = selected
        self.range_changed.emit(selected)

    def go_to(self, frame: int) -> int:
        """Ask for ``frame`` (clamped to the video); returns the frame asked for."""
        if self.video is None:
            return self.current_frame
        self.current_frame = max(0, min(int(frame), self.frame_count - 1))
        self.frame_changed.emit(self.current_frame)
        return self.current_frame

    def boxes_at(self, frame: int) -> dict[int, Box]:
        """track id -> its box on ``frame`` (tracks with none there left out)."""
        return self.annotations.boxes_at(frame)
