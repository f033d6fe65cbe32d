"""What a tracking run is (``TrackerSpec``, ``TrackJob``) and its frame loop (``track_frames``).

The loop opens its own video source (decoders are not shared across threads or processes),
builds one ``MultiTracker`` for every target, decodes ahead in a thread of its own and yields
each frame's results. The GUI's worker thread and the batch command run the same loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import trackers

# Imported here, at start-up: a first import inside a worker thread holds the GIL for hundreds
# of milliseconds (C extensions loading) and would freeze a window.
import trackers.architectures
import trackers.checkpoints
import trackers.multi
from app.io.video import SeekableVideo, open_video
from app.model.run_rules import Target
from trackers.devices import resolve_device
from trackers.io import read_ahead
from trackers.onnx_runner import float32_backend

FrameProvider = Callable[[int], np.ndarray]


@dataclass(frozen=True)
class TrackerSpec:
    name: str
    weights: str | None = None  # None: the shipped default
    device: str = "auto"
    preset: str | None = None  # None: the checkpoint decides
    #: "auto" (on the CPU the shipped models run INT8 where it is exact), "float32" (the reference precision) or
    #: "int8" (any checkpoint with measured INT8 parameters, on the CPU)
    precision: str = "auto"

    def backend(self) -> str:
        """The ``trackers.create`` backend for this precision on this spec's device."""
        if self.precision == "auto":
            return "auto"
        if self.precision == "int8":
            return "openvino-int8"
        if self.precision != "float32":
            raise ValueError(f"precision {self.precision!r}: auto, float32 or int8")
        return float32_backend(resolve_device(self.device))


@dataclass(frozen=True)
class TrackJob:
    """What to track: frames from ``source`` from ``start`` in ``direction`` (1 or -1), every
    target initialised with its box on ``start``; all targets go through one MultiTracker."""

    source: str | Path | SeekableVideo | FrameProvider
    start: int
    targets: tuple[Target, ...]
    spec: TrackerSpec
    direction: int = 1
    #: needed when ``source`` is a callable; a path's source knows its own length.
    frame_count: int | None = None
    #: results carry ``extras["appearance"]`` for the drift flags (one template-branch forward
    #: per frame and target; each target's ``references`` join its start box)
    appearance: bool = False

    def frames(self, count: int) -> range:
        """The frame indices the run visits after ``start``, in order."""
        edge = count if self.direction == 1 else -1
        stops = [edge if t.stop is None else t.stop for t in self.targets]
        last = max(stops) if self.direction == 1 else min(stops)
        last = min(last, count) if self.direction == 1 else max(last, -1)
        return range(self.start + self.direction, last, self.direction)


@dataclass(frozen=True)
class Step:
    """One tracked frame: its index, the frame (read-only), {track id: trackers.TrackResult},
    and how far the run is (frames done, frames to do)."""

    index: int
    frame: np.ndarray
    results: dict
    done: int
    total: int


def track_frames(
    job: TrackJob,
    cancelled: Callable[[], bool] = lambda: False,
    on_ready: Callable[[str], None] | None = None,
    inspect: Callable[[], bool] = lambda: False,
) -> Iterator[Step]:
    """Run ``job``; each target stops before its ``stop`` frame. Raises on bad jobs and on
    tracker or video errors; stops early when ``cancelled()``. While ``inspect()`` is True the
    results carry ``extras["inside"]`` (trackers/inside.py); it is asked before every frame."""
    if job.direction not in (1, -1):
        raise ValueError("direction is 1 (forward) or -1 (backward)")
    source, get_frame, count = open_frames(job.source, job.frame_count)
    try:
        if not 0 <= job.start < count:
            raise ValueError(f"start frame {job.start} is outside the video (0..{count - 1})")
        if not job.targets:
            raise ValueError("nothing to track: no box on the start frame")
        spec = job.spec
        # Looked up at call time so tests can substitute trackers.multi.MultiTracker / trackers.create.
        tracker = trackers.multi.MultiTracker(
            spec.name, weights=spec.weights, device=spec.device, preset=spec.preset, backend=spec.backend()
        )
        tracker.set_appearance(job.appearance)
        if cancelled():
            return
        first = get_frame(job.start)
        stops = {}
        for target in job.targets:
            tracker.add(target.track_id, first, target.box)
            stops[target.track_id] = target.stop
            if job.appearance:
                for index, box in target.references:
                    tracker.add_keyframe(target.track_id, get_frame(index), box)
        if on_ready is not None:
            on_ready(f"{spec.name} on {tracker.device}")
        frames = job.frames(count)
        # Decoded ahead in a thread of its own: decoding overlaps tracking instead of adding to it.
        decoded = read_ahead(get_frame(index) for index in frames)
        inspecting = False
        try:
            for done, index in enumerate(frames, start=1):
                if cancelled():
                    break
                if inspect() != inspecting:
                    inspecting = not inspecting
                    tracker.set_inspect(inspecting)
                for track_id, stop in list(stops.items()):
                    if stop is not None and (index - stop) * job.direction >= 0:
                        tracker.remove(track_id)  # reached its next keyframe
                        del stops[track_id]
                if not stops:
                    break
                frame = next(decoded)
                results = tracker.track(frame)
                frame.flags.writeable = False  # may be shared with another thread from here on
                yield Step(index, frame, results, done, len(frames))
        finally:
            decoded.close()
    finally:
        if source is not None:
            source.close()


def open_frames(source: str | Path | SeekableVideo | FrameProvider, frame_count: int | None = None):
    """(the video to close or None, frame index -> frame, frame count) of a job's source."""
    if callable(source):
        if frame_count is None:
            raise ValueError("a frame-provider job needs frame_count")
        return None, source, frame_count
    if not isinstance(source, SeekableVideo):
        # A path: index it here; read front to back, a frame cache would only cost memory.
        # (A SeekableVideo is the GUI's index with the worker's own decoder, made in the GUI thread.)
        source = open_video(source, cache_bytes=0)
    return source, source.frame, source.frame_count


def has_shipped_weights(name: str) -> bool:
    return trackers.get(name).default_weights() is not None


def no_weights_message(name: str) -> str:
    return (
        f"The tracker '{name}' has no shipped weights.\n\n"
        f"Import a checkpoint for it: in the tracker panel choose Weights → Import file… "
        f"and pick the official .pth file. Siamark never tracks with random weights."
    )
