"""Runs a comparison of trackers (``app.engine.compare.compare_frames``) in a worker QThread.

Loading the models, decoding and every tracker's network run happen in the worker; each frame's
results reach the GUI thread as a queued signal. ``finished`` is emitted only after the thread
has really ended (``WorkerThread``), so when a listener sees it no thread is left running.
"""

from __future__ import annotations

import threading
import traceback

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.engine.compare import CompareJob, compare_frames
from app.services.worker_thread import WorkerThread
from trackers.devices import leave_cores_free


class CompareWorker(QObject):
    #: frame index, the frame (read-only), {slot: app.engine.compare.SlotResult}, done, total
    stepped = Signal(int, object, object, int, int)
    ready = Signal(str)  # the models are loaded: "siamfc on cpu, siamban-mobilev2 on cpu"
    failed = Signal(str)
    finished = Signal()

    def __init__(self, job: CompareJob):
        super().__init__()
        self.job = job
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Thread-safe: called from the GUI thread while ``run`` loops in the worker thread."""
        self._cancel.set()

    @Slot()
    def run(self) -> None:
        try:
            leave_cores_free(1)  # one core stays with the GUI thread (as for a tracking run)
            for step in compare_frames(self.job, self._cancel.is_set, self.ready.emit):
                self.stepped.emit(step.index, step.frame, step.results, step.done, step.total)
        except Exception as exc:  # noqa: BLE001 - any failure becomes a message, never a crash
            traceback.print_exc()
            self.failed.emit(str(exc) or type(exc).__name__)
        finally:
            self.finished.emit()


class CompareRunner(QObject):
    """Starts and stops the comparison thread; one comparison run at a time."""

    stepped = Signal(int, object, object, int, int)
    ready = Signal(str)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._runner = WorkerThread("siamark-compare", self)
        self._runner.ended.connect(self.finished)

    @property
    def running(self) -> bool:
        return self._runner.running

    @property
    def last_thread(self) -> QThread | None:
        return self._runner.last_thread

    def start(self, job: CompareJob) -> None:
        worker = CompareWorker(job)
        worker.stepped.connect(self.stepped)
        worker.ready.connect(self.ready)
        worker.failed.connect(self.failed)
        self._runner.start(worker)

    def stop(self) -> None:
        """Ask the worker to stop after the current frame; ``finished`` follows soon."""
        self._runner.cancel()

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        return self._runner.shutdown(timeout_ms)
