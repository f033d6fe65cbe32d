"""Several trackers on the same frames at once, for a live comparison (``compare_frames``).

Every tracker starts from the same box on the same frame. Each frame is decoded once (ahead,
in a thread of its own, as in ``track_frames``) and given to every tracker in turn. A tracker's
frame rate counts only its own compute time, so a slow tracker in the line-up does not make a
fast one look slow.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import trackers.multi
from app.engine.jobs import FrameProvider, Step, TrackerSpec, open_frames
from app.io.video import SeekableVideo
from trackers.base import Box, TrackResult
from trackers.io import read_ahead


@dataclass(frozen=True)
class CompareJob:
    """Track ``box`` from frame ``start`` forward with each (slot, spec) of ``slots``, up to
    (not including) frame ``end`` (None: to the end of the video)."""

    source: str | Path | SeekableVideo | FrameProvider
    start: int
    box: Box
    slots: tuple[tuple[int, TrackerSpec], ...]
    end: int | None = None
    #: needed when ``source`` is a callable; a path's source knows its own length.
    frame_count: int | None = None

    def frames(self, count: int) -> range:
        last = count if self.end is None else min(self.end, count)
        return range(self.start + 1, last)


@dataclass(frozen=True)
class SlotResult:
    result: TrackResult
    fps: float  # the tracker's own frames per second of compute, over the run so far


def compare_frames(
    job: CompareJob,
    cancelled: Callable[[], bool] = lambda: False,
    on_ready: Callable[[str], None] | None = None,
) -> Iterator[Step]:
    """Run every slot of ``job`` frame by frame. Raises on bad jobs and on tracker or video
    errors; stops early when ``cancelled()``."""
    if not job.slots:
        raise ValueError("nothing to compare: no tracker chosen")
    source, get_frame, count = open_frames(job.source, job.frame_count)
    try:
        if not 0 <= job.start < count:
            raise ValueError(f"start frame {job.start} is outside the video (0..{count - 1})")
        first = get_frame(job.start)
        running: dict[int, trackers.multi.MultiTracker] = {}
        for slot, spec in job.slots:
            if cancelled():
                return
            # Looked up at call time so tests can substitute trackers.multi.MultiTracker.
            tracker = trackers.multi.MultiTracker(
                spec.name,
                weights=spec.weights,
                device=spec.device,
                preset=spec.preset,
                backend=spec.backend(),
            )
            tracker.add(slot, first, job.box)
            running[slot] = tracker
        if on_ready is not None:
            on_ready(", ".join(f"{spec.name} on {running[slot].device}" for slot, spec in job.slots))
        seconds = dict.fromkeys(running, 0.0)
        frames = job.frames(count)
        decoded = read_ahead(get_frame(index) for index in frames)
        try:
            for done, index in enumerate(frames, start=1):
                if cancelled():
                    break
                frame = next(decoded)
                results = {}
                for slot, tracker in running.items():
                    began = time.perf_counter()
                    result = tracker.track(frame)[slot]
                    seconds[slot] += time.perf_counter() - began
                    results[slot] = SlotResult(result, done / max(seconds[slot], 1e-9))
                frame.flags.writeable = False  # shared with the GUI thread from here on
                yield Step(index, frame, results, done, len(frames))  # results: {slot: SlotResult}
        finally:
            decoded.close()
    finally:
        if source is not None:
            source.close()
