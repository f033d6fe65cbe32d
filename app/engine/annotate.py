"""A whole video annotated from its keyframes, headless: what ``siamark batch`` does per video.

Every track is tracked from each of its manual keyframes forward up to the next keyframe (or
the end), by the GUI's rules (``app.model.run_rules``) and code: drift flags while results
arrive (``RunFlags``), and a run that reaches a keyframe fused with the run back from it
(``fused_changes``); from its first keyframe it is also tracked back to the start. Tracks go in
id order, runs in frame order, so the result depends only on the input (and the arithmetic of
the machine: the same torch thread count gives the same numbers).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from app.engine.flags import RunFlags, fused_changes
from app.engine.jobs import TrackerSpec, TrackJob, track_frames
from app.io.video import SeekableVideo
from app.model.annotations import Annotations, Edit
from app.model.run_rules import Target, fuse_keyframe, fuse_span, run_targets
from trackers.drift import DriftSettings

#: progress(frames done, frames to do)
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class AnnotateStats:
    frames: int  # the video's
    tracks: int
    keyframes: int
    tracked: int  # frames tracked, runs back from keyframes included
    boxes: int  # entries with a box, keyframes included
    flagged: int  # frames where some track is flagged
    seconds: float  # tracking time

    @property
    def fps(self) -> float:
        return self.tracked / self.seconds if self.seconds > 0 else 0.0


def planned_runs(annotations: Annotations) -> list[tuple[int, int, int]]:
    """(track id, start frame, direction) of every run, in the order they go."""
    runs = []
    for track in annotations:
        keys = [f for f in track.manual_frames() if track.get(f).box is not None]
        if keys:
            runs.append((track.id, keys[0], -1))
            runs.extend((track.id, k, 1) for k in keys)
    return runs


def annotate(
    video: SeekableVideo,
    annotations: Annotations,
    spec: TrackerSpec,
    settings: DriftSettings,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> AnnotateStats:
    """Track every track of ``annotations`` (changed in place) from its keyframes."""
    plan = []  # (the run's job, the keyframe to fuse with a run back from, or None)
    total = 0
    for track_id, start, direction in planned_runs(annotations):
        found = run_targets(annotations, [track_id], start, direction)
        if not found.targets:
            continue
        job = TrackJob(video, start, found.targets, spec, direction)
        keyframe = fuse_keyframe(annotations, found.targets, start) if direction == 1 else None
        keyframe = keyframe if settings.fuse_with_keyframes else None
        plan.append((job, keyframe))
        total += len(job.frames(annotations.frame_count))
        total += len(fuse_span(start, keyframe)) if keyframe is not None else 0
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    t0 = time.perf_counter()
    for job, keyframe in plan:
        if cancelled():
            break
        complete = _store_run(video, annotations, settings, job, tick, cancelled)
        if keyframe is None or not complete:
            continue
        track_id = job.targets[0].track_id
        back = Target(track_id, annotations.track(track_id).get(keyframe).box, job.start)
        backward = _collect_run(video, spec, keyframe, -job.direction, back, tick, cancelled)
        changes = fused_changes(
            annotations, track_id, job.start, keyframe, backward, settings.consistency_iou
        )
        if changes:
            annotations.apply(Edit("", (), tuple(changes)))
    seconds = time.perf_counter() - t0
    return AnnotateStats(
        frames=annotations.frame_count,
        tracks=len(annotations),
        keyframes=sum(len(t.manual_frames()) for t in annotations),
        tracked=done,
        boxes=sum(1 for t in annotations for e in t.boxes.values() if e.box is not None),
        flagged=len({f for t in annotations for f in t.flagged_frames()}),
        seconds=seconds,
    )


def _store_run(video, annotations, settings, job: TrackJob, tick, cancelled) -> bool:
    """One run whose results are stored as they come (with their drift flags); True when it
    went the whole way."""
    flags = RunFlags(settings, job.targets, annotations.boxes_at(job.start), video.size)
    expected, seen = job.frames(annotations.frame_count), 0
    run = replace(job, source=video.reader(), appearance=settings.checks_appearance)
    for step in track_frames(run, cancelled):
        entries = flags.entries(step.index, step.results, annotations.boxes_at(step.index))
        for track_id, entry in entries.items():
            changes = annotations.tracked_changes(track_id, [(step.index, entry)])
            if changes:
                annotations.apply(Edit("", (), tuple(changes)))
        seen += 1
        tick()
    return seen == len(expected)


def _collect_run(video, spec, start, direction, target, tick, cancelled) -> dict:
    """A run whose boxes are only collected (frame -> (box, score)), to be fused."""
    collected = {}
    for step in track_frames(TrackJob(video.reader(), start, (target,), spec, direction), cancelled):
        for result in step.results.values():
            collected[step.index] = (tuple(float(v) for v in result.box), float(result.score))
        tick()
    return collected
