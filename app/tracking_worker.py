"""The object that runs a tracker, one frame per step, inside a worker QThread.

Everything slow happens here, off the GUI thread: loading the model (``trackers.create``),
decoding frames (the worker opens its own video source; decoders are not shared across
threads) and running the network. Results go back to the GUI as queued signals.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import deque
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
from app.video import VideoSource, open_video
from trackers.base import Box
from trackers.devices import leave_cores_free

FrameProvider = Callable[[int], np.ndarray]

# The GUI shows frames the worker just decoded instead of decoding them a second time.
_RECENT_FRAMES = 16
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
    """What to track: frames from ``source`` starting at ``start`` with ``init_box`` there."""

    source: str | Path | VideoSource | FrameProvider
    start: int
    init_box: Box
    spec: TrackerSpec
    #: one past the last frame to track; None: the end of the source.
    end: int | None = None
    #: needed when ``source`` is a callable; a path's source knows its own length.
    frame_count: int | None = None


class TrackingWorker(QObject):
    tracked = Signal(int, object)  # frame index, trackers.TrackResult
    progress = Signal(int, int, float)  # frames done, frames to do, tracking fps
    ready = Signal(str)  # the model is loaded: a description such as "nanotrack on cpu"
    failed = Signal(str)
    finished = Signal()

    def __init__(self, job: TrackJob):
        super().__init__()
        self.job = job
        self._cancel = threading.Event()
        self._recent: deque[tuple[int, np.ndarray]] = deque(maxlen=_RECENT_FRAMES)
        self._recent_lock = threading.Lock()

    def cancel(self) -> None:
        """Thread-safe: called from the GUI thread while ``run`` loops in the worker thread."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def recent_frame(self, index: int) -> np.ndarray | None:
        """A frame the worker decoded lately (read-only array), or None."""
        with self._recent_lock:
            for i, frame in reversed(self._recent):
                if i == index:
                    return frame
        return None

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

        if isinstance(job.source, VideoSource):
            # The GUI's index, the worker's own decoder (made in the GUI thread, used only here).
            source = job.source
        else:  # a path: index it here; read front to back, a frame cache would only cost memory
            source = open_video(job.source, cache_bytes=0)
        return source, source.frame, source.frame_count

    def _track(self, get_frame: FrameProvider, count: int) -> None:
        job = self.job
        spec = job.spec
        end = count if job.end is None else min(job.end, count)
        if not 0 <= job.start < count:
            raise ValueError(f"start frame {job.start} is outside the video (0..{count - 1})")
        # One core stays with the GUI thread: torch's threads would otherwise starve it (stalls).
        leave_cores_free(1)
        # Looked up at call time so tests can substitute trackers.create.
        tracker = trackers.create(spec.name, weights=spec.weights, device=spec.device, preset=spec.preset)
        if self.cancelled:
            return
        tracker.init(get_frame(job.start), job.init_box)
        device = getattr(tracker, "device", spec.device)
        self.ready.emit(f"{spec.name} on {device}")

        total = end - job.start - 1
        t0 = last_report = time.perf_counter()
        for done, index in enumerate(range(job.start + 1, end), start=1):
            if self.cancelled:
                break
            frame = get_frame(index)
            result = tracker.track(frame)
            frame.flags.writeable = False  # shared with the GUI thread from here on
            with self._recent_lock:
                self._recent.append((index, frame))
            self.tracked.emit(index, result)
            now = time.perf_counter()
            if now - last_report >= _PROGRESS_INTERVAL or index == end - 1:
                self.progress.emit(done, total, done / max(now - t0, 1e-9))
                last_report = now


def no_weights_message(name: str) -> str:
    return (
        f"The tracker '{name}' has no shipped weights.\n\n"
        f"Import a checkpoint for it: in the tracker panel choose Weights → Import file… "
        f"and pick the official .pth file. Siamark never tracks with random weights."
    )
