"""Tracking runs from the main window: (re-)tracking forward / backward, many objects at once,
drift flags while results arrive, the forward/backward consistency check; a run is one undo step.
A mixin of ``MainWindow``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from app.annotations import BoxChange, Edit, tracked_box
from app.results import ResultsTable
from app.tracker_panel import has_shipped_weights
from app.tracking_worker import Target, TrackerSpec, TrackJob, no_weights_message
from trackers.base import Box
from trackers.drift import DriftMonitor, consistency_flags, converged_with, fuse_runs


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
    collected: dict[int, tuple[Box, float]] = field(default_factory=dict)  # "check" / "fuse": frame -> (box, score)
    check_range: tuple[int, int] = (0, 0)
    #: a "track" run of one object that ends at a manual keyframe: (its start frame, the
    #: keyframe, the tracker) — a run back from the keyframe follows and the two are fused
    fuse_with: tuple[int, int, TrackerSpec] | None = None
    paused_at: str = ""  # why the run paused itself (a drift flag), "" if it did not
    paused_frame: int | None = None


class TrackingActions:
    # -- tracking ------------------------------------------------------------------------------

    def start_tracking(
        self,
        path: str | Path | None = None,
        box: Box | None = None,
        frame: int | None = None,
        spec: TrackerSpec | None = None,
        direction: int = 1,
        end: int | None = None,
    ) -> bool:
        """Scripted use: open ``path``, show ``frame``, put ``box`` there and track from it
        (up to, not including, frame ``end`` when given)."""
        if path is not None and not self.open_path(path):
            return False
        if frame is not None:
            self.go_to(frame, now=True)
        if box is not None:
            self.set_box(box)
        return self.track(direction, spec=spec, end=end)

    def track_forward(self, spec: TrackerSpec | None = None) -> bool:
        return self.track(1, spec=spec if isinstance(spec, TrackerSpec) else None)

    def track_backward(self) -> bool:
        return self.track(-1)

    def track(
        self,
        direction: int = 1,
        all_tracks: bool = False,
        spec: TrackerSpec | None = None,
        end: int | None = None,
    ) -> bool:
        """(Re-)track from the current frame: the selected track, or every track with a box here.
        Each object stops before its next manual keyframe; manual boxes are never replaced."""
        if self.controller.running:
            return False
        if self.video is None:
            self.show_error("Nothing to track", "Open a video or a folder of images first (File → Open).")
            return False
        start = self.current_frame
        if self.displayed_frame != start:
            self.go_to(start, now=True)
        ids = sorted(self.annotations.tracks) if all_tracks else [self.selected_track]
        targets = []
        any_box = False  # some object has a box here (else: ask for one)
        for track_id in ids:
            track = self.annotations.tracks.get(track_id)
            entry = track.get(start) if track is not None else None
            if entry is None or entry.box is None:
                continue
            any_box = True
            span = self.annotations.tracking_span(track_id, start, direction)
            if end is not None:
                span = range(
                    span.start, min(span.stop, end) if direction == 1 else max(span.stop, end), direction
                )
            if len(span):
                targets.append(Target(track_id, entry.box, span.stop))
        if not targets:
            where = "after" if direction == 1 else "before"
            if any_box:
                self.statusBar().showMessage(
                    f"Nothing to track {where} frame {start}: a keyframe or the end.", 6000
                )
            else:
                self.show_error(
                    "No box", f"Draw a box around the object on frame {start} first (left-drag on the frame)."
                )
            return False
        spec = spec or self.tracker_panel.spec()
        if spec.weights is None and not has_shipped_weights(spec.name):
            self.show_error("No weights for this tracker", no_weights_message(spec.name))
            return False
        way = "forward" if direction == 1 else "backward"
        names = ", ".join(f"#{t.track_id}" for t in targets)
        run = Run(
            "track", f"Track {names} {way} from frame {start}", direction, tuple(t.track_id for t in targets)
        )
        keyframe = targets[0].stop
        track = self.annotations.track(targets[0].track_id)
        if (
            len(targets) == 1
            and self.drift_settings.fuse_with_keyframes
            and keyframe is not None
            and (entry := track.get(keyframe)) is not None
            and entry.is_manual
            and entry.box is not None
            and abs(keyframe - start) >= 2
        ):
            run.fuse_with = (start, keyframe, spec)
        return self._start_run(run, TrackJob(self.video.reader(), start, tuple(targets), spec, direction))

    def check_consistency(self) -> bool:
        """Track the selected object backward from the current frame to its previous manual
        keyframe and flag the frames where the backward box disagrees with the stored one (IoU
        below threshold). Run it from a frame whose box is right — typically one just corrected:
        the flags then show where the forward run went wrong. On a keyframe with no tracked
        frames before it, the tracked stretch after it is checked instead, from its end."""
        if self.controller.running or self.video is None or self.selected_track is None:
            return False
        track = self.annotations.track(self.selected_track)
        here = self.current_frame
        entry = track.get(here)
        first = track.previous_manual(here)
        if entry is not None and entry.box is not None and first is not None and here - first >= 2:
            last = here
        else:
            first = track.previous_manual(here + 1)
            if first is None:
                self.show_error(
                    "No keyframe", "The consistency check runs back to a manual keyframe before this frame."
                )
                return False
            last = first
            while (
                last + 1 < self.frame_count and (e := track.get(last + 1)) is not None and e.box is not None
            ):
                last += 1
                if e.is_manual:
                    break
        if last - first < 2:
            self.statusBar().showMessage(
                "Nothing tracked between the keyframe and this frame to check.", 6000
            )
            return False
        spec = self.tracker_panel.spec()
        if spec.weights is None and not has_shipped_weights(spec.name):
            self.show_error("No weights for this tracker", no_weights_message(spec.name))
            return False
        run = Run("check", f"Consistency check {first}–{last}", -1, (track.id,), check_range=(first, last))
        self.go_to(last, now=True)
        target = Target(track.id, track.get(last).box, first)
        return self._start_run(run, TrackJob(self.video.reader(), last, (target,), spec, -1))

    def _start_run(self, run: Run, job: TrackJob) -> bool:
        self.pause()
        self.run = run
        self._monitors = {t.track_id: DriftMonitor(self.drift_settings) for t in job.targets}
        # Every track's box where the run starts: the convergence rule flags only new overlaps.
        self._start_boxes = self._boxes_at(job.start)
        for target in job.targets:
            self._monitors[target.track_id].reset(target.box)
            self.maps.setdefault(target.track_id, ResultsTable(self.frame_count))
        self.controller.start(job)
        self._follow = True
        self._run_failed = False
        self._set_running(True)
        self.statusBar().showMessage(f"Loading {job.spec.name}…")
        return True

    def stop_tracking(self, wait: bool = False) -> None:
        if wait:
            self.controller.shutdown()
        else:
            self.controller.stop()

    def _set_running(self, running: bool) -> None:
        self.tracker_panel.set_running(running)
        for action in (*self.run_actions, self.undo_action, self.redo_action):
            action.setEnabled(not running)
        if not running:  # the undo stack knows whether there is something to undo / redo
            self.undo_action.setEnabled(self.undo_stack.canUndo())
            self.redo_action.setEnabled(self.undo_stack.canRedo())
        self.stop_action.setEnabled(running)
        self.view.viewbox.drawing_enabled = not running
        self.progress_bar.setVisible(running)
        if running:
            self.progress_bar.setValue(0)
            self.progress_label.setText("")

    def _on_tracked(self, index: int, results: dict) -> None:
        run = self.run
        if run is None or run.paused_frame is not None:
            return  # results the worker sent before it saw the pause are dropped: it stops there
        for track_id, result in results.items():
            if run.kind in ("check", "fuse"):  # compared / fused at the end, not stored now
                run.collected[index] = (tuple(float(v) for v in result.box), float(result.score))
                continue
            self.maps[track_id].set_result(index, result)  # every result is kept, whatever is shown
            flag = self._monitors[track_id].update(index, result.box, result.score, self.video.size)
            others = {k: b for k, b in self._boxes_at(index).items() if k != track_id}
            others.update({k: r.box for k, r in results.items() if k != track_id})
            same = converged_with(
                result.box,
                self._start_boxes.get(track_id),
                others,
                self._start_boxes,
                self.drift_settings.converge_iou,
            )
            flag = "; ".join(r for r in (flag, same) if r)
            if not result.ok:
                flag = result.message or "tracker lost the target (non-finite output)"
            changes = self.annotations.tracked_changes(
                track_id, [(index, tracked_box(result.box, result.score, flag))]
            )
            if changes:
                self.annotations.apply(Edit("", (), tuple(changes)))
                run.changes.extend(changes)
            if flag and self.drift_settings.pause_on_flag and not run.paused_at:
                run.paused_at = f"Paused at frame {index}: track #{track_id} {flag}"
                run.paused_frame = index
                self.controller.stop()
        self._scores_dirty = True
        if self._follow or index == self.current_frame:
            self.go_to(index)

    def _boxes_at(self, frame: int) -> dict:
        """track id -> its box on ``frame`` (tracks with none there left out)."""
        boxes = {}
        for track in self.annotations:
            entry = track.get(frame)
            if entry is not None and entry.box is not None:
                boxes[track.id] = entry.box
        return boxes

    def _on_tracking_failed(self, message: str) -> None:
        self._run_failed = True
        self.show_error("Tracking failed", message)

    def _on_progress(self, done: int, total: int, fps: float) -> None:
        self.progress_bar.setMaximum(max(total, 1))
        self.progress_bar.setValue(done)
        self.progress_label.setText(f"{done}/{total} frames · {fps:.1f} fps")

    def _on_tracking_finished(self) -> None:
        run, self.run = self.run, None
        self.last_run = run
        self._set_running(False)
        self._follow = False
        message = ""
        if run is not None and run.kind == "track" and self._start_fuse(run):
            return  # the run back from the keyframe follows; its end finishes both
        if run is not None and run.kind in ("track", "fuse"):
            if run.kind == "fuse":
                message = self._finish_fuse(run)
            # The whole run (both runs, when fused) is one undo step; its boxes are in the model.
            self._push(Edit(run.text, (), tuple(run.changes)), already_applied=True)
            message = message or run.paused_at or f"{run.text}: {len({c.frame for c in run.changes})} frames tracked"
        elif run is not None and run.kind == "check":
            message = self._finish_check(run)
        self.autosave_now()
        if not self._run_failed and message:  # keep a failure's message on the status bar
            self.statusBar().showMessage(message, 10000)
        if run is not None and run.paused_frame is not None:
            self._user_goto(run.paused_frame)
        self.refresh()

    def _finish_check(self, run: Run) -> str:
        track_id = run.track_ids[0]
        first, last = run.check_range
        track = self.annotations.track(track_id)
        stored = {
            f: e.box
            for f in range(first + 1, last)
            if (e := track.get(f)) is not None and e.box is not None and not e.is_manual
        }
        backward = {f: b for f, (b, _score) in run.collected.items() if f in stored}
        if len(backward) < len(stored):
            return f"Consistency check stopped early: {len(backward)} of {len(stored)} frames compared."
        flags = consistency_flags(stored, backward, self.drift_settings.consistency_iou)
        self._push(
            self.annotations.flag_edit({(track_id, f): reason for f, reason in flags.items()}, run.text)
        )
        return f"{run.text}: {len(flags)} of {len(stored)} frames disagree (flagged)"

    def _start_fuse(self, run: Run) -> bool:
        """After a complete "track" run that ended at a manual keyframe: track back from the
        keyframe over the same frames (a "fuse" run carrying the first run's changes)."""
        if run.fuse_with is None or run.paused_frame is not None or self._run_failed:
            return False
        start, keyframe, spec = run.fuse_with
        track_id = run.track_ids[0]
        span = range(start + run.direction, keyframe, run.direction)
        if {c.frame for c in run.changes} != set(span):
            return False  # stopped early: nothing to fuse with
        box = self.annotations.track(track_id).get(keyframe).box
        fuse = Run(
            "fuse",
            f"{run.text}, fused with a run back from keyframe {keyframe}",
            -run.direction,
            run.track_ids,
            changes=run.changes,
            check_range=(start, keyframe),
        )
        job = TrackJob(self.video.reader(), keyframe, (Target(track_id, box, start),), spec, -run.direction)
        return self._start_run(fuse, job)

    def _finish_fuse(self, run: Run) -> str:
        track_id = run.track_ids[0]
        start, keyframe = run.check_range
        track = self.annotations.track(track_id)
        span = range(min(start, keyframe) + 1, max(start, keyframe))
        if set(run.collected) != set(span):
            return f"{run.text}: the run back was stopped; the first run's boxes are kept"
        forward = {
            f: (e.box, e.score) for f in span if (e := track.get(f)) is not None and e.box is not None
        }
        fused = fuse_runs(forward, run.collected, self.drift_settings.consistency_iou)
        changes = self.annotations.tracked_changes(
            track_id, [(f, tracked_box(v.box, v.score, v.flag)) for f, v in fused.items()]
        )
        if changes:
            self.annotations.apply(Edit("", (), tuple(changes)))
            run.changes.extend(changes)
        parted = sum(bool(v.flag) for v in fused.values())
        return f"{run.text}: {len(span)} frames, {parted} where the two runs part (flagged)"

    def _set_pause_on_flag(self, enabled: bool) -> None:
        self.drift_settings = replace(self.drift_settings, pause_on_flag=bool(enabled))

    def _set_fuse_with_keyframes(self, enabled: bool) -> None:
        self.drift_settings = replace(self.drift_settings, fuse_with_keyframes=bool(enabled))

    def set_overlay_enabled(self, enabled: bool) -> None:
        self.view.set_overlay_enabled(enabled)
        if self.overlay_action.isChecked() != enabled:
            self.overlay_action.setChecked(enabled)
        self.go_to(self.current_frame)
