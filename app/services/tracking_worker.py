"""The object that runs a tracker, one frame per step, inside a worker QThread.

Everything slow happens here, off the GUI thread: loading the model (``trackers.create``),
decoding frames and running the network, all in ``app.engine.jobs.track_frames``. Results go
back to the GUI as queued signals.
"""

from __future__ import annotations

import threading
import time
import traceback

from PySide6.QtCore import QObject, Signal, Slot

import trackers
from app.engine.jobs import TrackJob, no_weights_message, track_frames
from trackers.devices import leave_cores_free

# Progress is reported at most this often (seconds); every tracked frame is still emitted.
_PROGRESS_INTERVAL = 0.1


class TrackingWorker(QObject):
    #: frame index, the frame (read-only: the GUI shows it without decoding it again),
    #: {track id: trackers.TrackResult}
    tracked = Signal(int, object, object)
    progress = Signal(int, int, float)  # frames done, frames to do, tracking fps
    ready = Signal(str)  # the model is loaded: a description such as "nanotrack on cpu"
    failed = Signal(str)
    finished = Signal()

    def __init__(self, job: TrackJob, inspect: threading.Event | None = None):
        super().__init__()
        self.job = job
        self._cancel = threading.Event()
        #: set while the results should carry the inside record (the GUI sets it mid-run too)
        self.inspect = inspect if inspect is not None else threading.Event()

    def cancel(self) -> None:
        """Thread-safe: called from the GUI thread while ``run`` loops in the worker thread."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @Slot()
    def run(self) -> None:
        try:
            # One core stays with the GUI thread: torch's threads would otherwise starve it (stalls).
            leave_cores_free(1)
            t0 = last_report = time.perf_counter()
            for step in track_frames(self.job, lambda: self.cancelled, self.ready.emit, self.inspect.is_set):
                self.tracked.emit(step.index, step.frame, step.results)
                now = time.perf_counter()
                if now - last_report >= _PROGRESS_INTERVAL or step.done == step.total:
                    self.progress.emit(step.done, step.total, step.done / max(now - t0, 1e-9))
                    last_report = now
        except trackers.NoWeightsError:
            self.failed.emit(no_weights_message(self.job.spec.name))
        except Exception as exc:  # noqa: BLE001 - any failure becomes a message, never a crash
            traceback.print_exc()
            self.failed.emit(f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc))
        finally:
            self.finished.emit()
