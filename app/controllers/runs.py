"""Tracking runs: (re-)tracking forward / backward, many objects at once, drift flags while
results arrive, the run back from the next keyframe fused with the first, the forward /
backward consistency check. A run is one undo step. Which frames a run covers is decided by
``app.model.run_rules``; the tracker runs in the worker thread of ``TrackingController``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field, replace

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from app.controllers.feedback import Feedback
from app.controllers.undo import push_edit
from app.engine.flags import RunFlags, fused_changes
from app.engine.jobs import TrackerSpec, TrackJob, has_shipped_weights, no_weights_message
from app.model.annotations import BoxChange, Edit
from app.model.inside import InsideRecords
from app.model.run_rules import Target, check_range, fuse_keyframe, fuse_span, run_targets
from app.model.session import Session
from app.services.tracking_controller import TrackingController
from trackers.base import Box
from trackers.drift import consistency_flags

#: frames the worker sent lately, shown without decoding them again
_RECENT_FRAMES = 16


@dataclass
class Run:
    """The tracking run in progress: what it is for and what it has changed so far."""

    #: "track" writes boxes; "check" only collects them for the consistency check; "fuse" is
    #: the run back from the next keyframe after a "track" run, fused with it when it ends
    kind: str
    text: str
    direction: int
    track_ids: tuple[int, ...]
    changes: list[BoxChange] = field(default_factory=list)
    collected: dict[int, tuple[Box, float]] = field(
        default_factory=dict
    )  # "check" / "fuse": frame -> (box, score)
    check_range: tuple[int, int] = (0, 0)
    #: a "track" run of one object that ends at a manual keyframe: (its start frame, the
    #: keyframe, the tracker) — a run back from the keyframe follows and the two are fused
    fuse_with: tuple[int, int, TrackerSpec] | None = None
    paused_at: str = ""  # why the run paused itself (a drift flag), "" if it did not
    paused_frame: int | None = None
    failed: bool = False


class RunsController(QObject):
    #: a run started (True) or ended (False, after its undo step was pushed)
    running_changed = Signal(bool)
    progress = Signal(int, int, float)  # frames done, frames to do, fps
    #: a run ended: the message for the status bar ("" when it failed: its error was shown)
    run_finished = Signal(str)
    #: inside records of a frame arrived (its index; the Inside view is open)
    inside_recorded = Signal(int)

    def __init__(
        self,
        session: Session,
        undo_stack: QUndoStack,
        feedback: Feedback,
        tracking: TrackingController | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.session = session
        self.undo_stack = undo_stack
        self.feedback = feedback
        self.tracking = tracking if tracking is not None else TrackingController(self)
        self.run: Run | None = None
        self.last_run: Run | None = None
        #: while a run goes, the view follows the newest tracked frame (until the user moves)
        self.follow = False
        self._flags: RunFlags | None = None
        self._frames: OrderedDict[int, np.ndarray] = OrderedDict()
        #: what the tracker weighed on recent frames, recorded while the Inside view is open
        self.inside = InsideRecords()
        session.document_changed.connect(self.inside.clear)
        self.tracking.tracked.connect(self._on_tracked)
        self.tracking.progress.connect(self.progress)
        self.tracking.ready.connect(lambda text: self.feedback.show_status(f"Tracking with {text}", 0))
        self.tracking.failed.connect(self._on_failed)
        self.tracking.finished.connect(self._on_finished)

    @property
    def running(self) -> bool:
        return self.tracking.running

    def recent_frame(self, index: int) -> np.ndarray | None:
        """A frame the worker sent with its results lately (read-only), or None."""
        return self._frames.get(index)

    # -- starting --------------------------------------------------------------------------------

    def track(
        self, spec: TrackerSpec, direction: int = 1, all_tracks: bool = False, end: int | None = None
    ) -> bool:
        """(Re-)track from the current frame: the selected track, or every track with a box here.
        Each object stops before its next manual keyframe (or ``end``); manual boxes stay."""
        session = self.session
        if self.running:
            return False
        if session.video is None:
            self.feedback.show_error(
                "Nothing to track", "Open a video or a folder of images first (File → Open)."
            )
            return False
        start = session.current_frame
        ids = sorted(session.annotations.tracks) if all_tracks else [session.selected_track]
        found = run_targets(session.annotations, ids, start, direction, end)
        if not found.targets:
            if found.any_box:
                where = "after" if direction == 1 else "before"
                self.feedback.show_status(
                    f"Nothing to track {where} frame {start}: a keyframe or the end.", 6000
                )
            else:
                self.feedback.show_error(
                    "No box", f"Draw a box around the object on frame {start} first (left-drag on the frame)."
                )
            return False
        if not self._has_weights(spec):
            return False
        way = "forward" if direction == 1 else "backward"
        names = ", ".join(f"#{t.track_id}" for t in found.targets)
        run = Run(
            "track",
            f"Track {names} {way} from frame {start}",
            direction,
            tuple(t.track_id for t in found.targets),
        )
        keyframe = fuse_keyframe(session.annotations, found.targets, start)
        if keyframe is not None and session.drift_settings.fuse_with_keyframes:
            run.fuse_with = (start, keyframe, spec)
        return self._start(run, TrackJob(session.video.reader(), start, found.targets, spec, direction))

    def check_consistency(self, spec: TrackerSpec) -> bool:
        """Track the selected object backward from the current frame to its previous manual
        keyframe and flag the frames where the backward box disagrees with the stored one (IoU
        below threshold). Run it from a frame whose box is right — typically one just corrected:
        the flags then show where the forward run went wrong."""
        session = self.session
        if self.running or session.video is None or session.selected_track is None:
            return False
        track = session.annotations.track(session.selected_track)
        frames = check_range(track, session.current_frame, session.frame_count)
        if frames is None:
            self.feedback.show_error(
                "No keyframe", "The consistency check runs back to a manual keyframe before this frame."
            )
            return False
        first, last = frames
        if last - first < 2:
            self.feedback.show_status("Nothing tracked between the keyframe and this frame to check.", 6000)
            return False
        if not self._has_weights(spec):
            return False
        run = Run("check", f"Consistency check {first}–{last}", -1, (track.id,), check_range=(first, last))
        session.go_to(last)
        target = Target(track.id, track.get(last).box, first)
        return self._start(run, TrackJob(session.video.reader(), last, (target,), spec, -1))

    def _has_weights(self, spec: TrackerSpec) -> bool:
        if spec.weights is None and not has_shipped_weights(spec.name):
            self.feedback.show_error("No weights for this tracker", no_weights_message(spec.name))
            return False
        return True

    def _start(self, run: Run, job: TrackJob) -> bool:
        self.run = run
        session = self.session
        self._flags = RunFlags(
            session.drift_settings, job.targets, session.boxes_at(job.start), session.video.size
        )
        job = replace(job, appearance=session.drift_settings.checks_appearance)
        self._frames.clear()
        self.tracking.start(job)
        self.follow = True
        self.running_changed.emit(True)
        self.feedback.show_status(f"Loading {job.spec.name}…", 0)
        return True

    def stop(self, wait: bool = False) -> None:
        if wait:
            self.tracking.shutdown()
        else:
            self.tracking.stop()

    # -- results ---------------------------------------------------------------------------------

    def _on_tracked(self, index: int, frame: np.ndarray, results: dict) -> None:
        run = self.run
        if run is None or run.paused_frame is not None:
            return  # results the worker sent before it saw the pause are dropped: it stops there
        session = self.session
        self._frames[index] = frame
        while len(self._frames) > _RECENT_FRAMES:
            self._frames.popitem(last=False)
        settings = session.drift_settings
        if run.kind in ("check", "fuse"):  # compared / fused at the end, not stored now
            for result in results.values():
                run.collected[index] = (tuple(float(v) for v in result.box), float(result.score))
            results = {}
        recorded = [(t, r.extras["inside"]) for t, r in results.items() if "inside" in r.extras]
        for track_id, record in recorded:
            self.inside.put(track_id, index, record)
        entries = self._flags.entries(index, results, session.boxes_at(index))
        for track_id, entry in entries.items():
            result = results[track_id]
            run.changes.extend(
                session.store_tracked(track_id, index, entry, result.response, result.geometry)
            )
            if entry.flag and settings.pause_on_flag and not run.paused_at:
                run.paused_at = f"Paused at frame {index}: track #{track_id} {entry.flag}"
                run.paused_frame = index
                self.tracking.stop()
        if self.follow or index == session.current_frame:
            session.go_to(index)
        if recorded:
            self.inside_recorded.emit(index)

    def _on_failed(self, message: str) -> None:
        if self.run is not None:
            self.run.failed = True
        self.feedback.show_error("Tracking failed", message)

    def _on_finished(self) -> None:
        run, self.run = self.run, None
        self.last_run = run
        self.follow = False
        if run is None:
            self.running_changed.emit(False)
            return
        if run.kind == "track" and self._start_fuse(run):
            return  # the run back from the keyframe follows; its end finishes both
        message = ""
        if run.kind in ("track", "fuse"):
            if run.kind == "fuse":
                message = self._finish_fuse(run)
            # The whole run (both runs, when fused) is one undo step; its boxes are in the model.
            push_edit(
                self.undo_stack, self.session, Edit(run.text, (), tuple(run.changes)), already_applied=True
            )
            frames = len({c.frame for c in run.changes})
            message = message or run.paused_at or f"{run.text}: {frames} frames tracked"
        elif run.kind == "check":
            message = self._finish_check(run)
        self.running_changed.emit(False)
        if run.paused_frame is not None:
            self.session.go_to(run.paused_frame)
        self.run_finished.emit("" if run.failed else message)

    def _finish_check(self, run: Run) -> str:
        track_id = run.track_ids[0]
        first, last = run.check_range
        track = self.session.annotations.track(track_id)
        stored = {
            f: e.box
            for f in range(first + 1, last)
            if (e := track.get(f)) is not None and e.box is not None and not e.is_manual
        }
        backward = {f: b for f, (b, _score) in run.collected.items() if f in stored}
        if len(backward) < len(stored):
            return f"Consistency check stopped early: {len(backward)} of {len(stored)} frames compared."
        flags = consistency_flags(stored, backward, self.session.drift_settings.consistency_iou)
        edit = self.session.annotations.flag_edit(
            {(track_id, f): reason for f, reason in flags.items()}, run.text
        )
        push_edit(self.undo_stack, self.session, edit)
        return f"{run.text}: {len(flags)} of {len(stored)} frames disagree (flagged)"

    def _start_fuse(self, run: Run) -> bool:
        """After a complete "track" run that ended at a manual keyframe: track back from the
        keyframe over the same frames (a "fuse" run carrying the first run's changes)."""
        if run.fuse_with is None or run.paused_frame is not None or run.failed:
            return False
        start, keyframe, spec = run.fuse_with
        track_id = run.track_ids[0]
        if {c.frame for c in run.changes} != set(fuse_span(start, keyframe)):
            return False  # stopped early: nothing to fuse with
        box = self.session.annotations.track(track_id).get(keyframe).box
        fuse = Run(
            "fuse",
            f"{run.text}, fused with a run back from keyframe {keyframe}",
            -run.direction,
            run.track_ids,
            changes=run.changes,
            check_range=(start, keyframe),
        )
        target = Target(track_id, box, start)
        return self._start(
            fuse, TrackJob(self.session.video.reader(), keyframe, (target,), spec, -run.direction)
        )

    def _finish_fuse(self, run: Run) -> str:
        track_id = run.track_ids[0]
        start, keyframe = run.check_range
        changes = fused_changes(
            self.session.annotations,
            track_id,
            start,
            keyframe,
            run.collected,
            self.session.drift_settings.consistency_iou,
        )
        if changes is None:
            return f"{run.text}: the run back was stopped; the first run's boxes are kept"
        if changes:
            self.session.apply(Edit("", (), tuple(changes)))
            run.changes.extend(changes)
        track = self.session.annotations.track(track_id)
        span = fuse_span(start, keyframe)
        parted = sum(bool(e.flag) for f in span if (e := track.get(f)) is not None)
        return f"{run.text}: {len(span)} frames, {parted} where the two runs part (flagged)"
