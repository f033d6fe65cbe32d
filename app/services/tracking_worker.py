"""The object that runs a tracker, one frame per step, inside a worker QThread.

Everything slow happens here, off the GUI thread: loading the model (``trackers.create``),
decoding frames (the worker opens its own video source; decoders are not shared across
threads) and running the network. Results go back to the GUI as queued signals.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

import trackers

# Imported here, in the GUI thread at start-up: a first import inside the worker thread holds
# the GIL for hundreds of milliseconds (C extensions loading) and would freeze the window.
import trackers.architectures
import trackers.checkpoints
import trackers.multi
from app.io.video import SeekableVideo, open_video
from app.model.run_rules import Target
from trackers.devices import leave_cores_free
from trackers.io import read_ahead

FrameProvider = Callable[[int], np.ndarray]

# Progress is reported at most this often (seconds); every tracked frame is still emitted.
_PROGRESS_INTERVAL = 0.1


@dataclass(frozen=True)
class TrackerSpec:
    name: str
    weights: str | None = None  # None: the shipped default
    device: str = "auto"
    preset: str | None = None  # None: the checkpoint decides


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

    def frames(self, count: int) -> range:
        """The frame indices the run visits after ``start``, in order."""
        edge = count if self.direction == 1 else -1
        stops = [edge if t.stop is None else t.stop for t in self.targets]
        last = max(stops) if self.direction == 1 else min(stops)
        last = min(last, count) if self.direction == 1 else max(last, -1)
        return range(self.start + self.direction, last, self.direction)


class TrackingWorker(QObject):
    #: frame index, the frame (read-only: the GUI shows it without decoding it again),
    #: {track id: trackers.TrackResult}
    tracked = Signal(int, object, object)
    progress = Signal(int, int, float)  # frames done, frames to do, tracking fps
    ready = Signal(str)  # the model is loaded: a description such as "nanotrack on cpu"
    failed = Signal(str)
    finished = Signal()

    def __init__(self, job: TrackJob):
        super().__init__()
        self.job = job
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Thread-safe: called from the GUI thread while ``run`` loops in the worker thread."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @Slot()
    def run(self) -> None:
        source = None
        try:
            source, get_frame, count = self._open_source()
            self._track(get_frame, count)
        except trackers.NoWeightsError:
            self.failed.emit(no_weights_message(self.job.spec.name))
        except Exception as exc:  # noqa: BLE001 - any failure becomes a message, never a crash
            traceback.print_exc()
            self.failed.emit(f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc))
        finally:
            if source is not None:
                source.close()
            self.finished.emit()

    def _open_source(self):
        job = self.job
        if callable(job.source):
            if job.frame_count is None:
                raise ValueError("a frame-provider job needs frame_count")
            return None, job.source, job.frame_count

        if isinstance(job.source, SeekableVideo):
            # The GUI's index, the worker's own decoder (made in the GUI thread, used only here).
            source = job.source
        else:  # a path: index it here; read front to back, a frame cache would only cost memory
            source = open_video(job.source, cache_bytes=0)
        return source, source.frame, source.frame_count

    def _track(self, get_frame: FrameProvider, count: int) -> None:
        job = self.job
        spec = job.spec
        if job.direction not in (1, -1):
            raise ValueError("direction is 1 (forward) or -1 (backward)")
        if not 0 <= job.start < count:
            raise ValueError(f"start frame {job.start} is outside the video (0..{count - 1})")
        if not job.targets:
            raise ValueError("nothing to track: no box on the start frame")
        # One core stays with the GUI thread: torch's threads would otherwise starve it (stalls).
        leave_cores_free(1)
        # Looked up at call time so tests can substitute trackers.multi.MultiTracker / trackers.create.
        tracker = trackers.multi.MultiTracker(
            spec.name, weights=spec.weights, device=spec.device, preset=spec.preset
        )
        if self.cancelled:
            return
        first = get_frame(job.start)
        stops = {}
        for target in job.targets:
            tracker.add(target.track_id, first, target.box)
            stops[target.track_id] = target.stop
        self.ready.emit(f"{spec.name} on {tracker.device}")

        frames = job.frames(count)
        # Decoded ahead in a thread of its own: decoding overlaps tracking instead of adding to it.
        decoded = read_ahead(get_frame(index) for index in frames)
        try:
            self._loop(tracker, frames, decoded, stops)
        finally:
            decoded.close()

    def _loop(self, tracker, frames: range, decoded, stops: dict) -> None:
        job, total = self.job, len(frames)
        t0 = last_report = time.perf_counter()
        for done, index in enumerate(frames, start=1):
            if self.cancelled:
                break
            for track_id, stop in list(stops.items()):
                if stop is not None and (index - stop) * job.direction >= 0:
                    tracker.remove(track_id)  # reached its next keyframe
                    del stops[track_id]
            if not stops:
                break
            frame = next(decoded)
            results = tracker.track(frame)
            frame.flags.writeable = False  # shared with the GUI thread from here on
            self.tracked.emit(index, frame, results)
            now = time.perf_counter()
            if now - last_report >= _PROGRESS_INTERVAL or done == total:
                self.progress.emit(done, total, done / max(now - t0, 1e-9))
                last_report = now


def has_shipped_weights(name: str) -> bool:
    return trackers.get(name).default_weights() is not None


def no_weights_message(name: str) -> str:
    return (
        f"The tracker '{name}' has no shipped weights.\n\n"
        f"Import a checkpoint for it: in the tracker panel choose Weights → Import file… "
        f"and pick the official .pth file. Siamark never tracks with random weights."
    )
