"""Starts and stops the tracking thread; the GUI talks to this object only.

One run at a time. The worker lives in its own QThread; its signals reach this object (which
lives in the GUI thread) as queued signals and are re-emitted. ``finished`` is emitted only
after the thread has really ended, so when a listener sees it no thread is left running.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal

from app.tracking_worker import TrackingWorker, TrackJob
from trackers.checkpoints import warm_up_loader


class TrackingController(QObject):
    tracked = Signal(int, object)
    progress = Signal(int, int, float)
    ready = Signal(str)
    failed = Signal(str)
    finished = Signal()
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: TrackingWorker | None = None
        self.last_thread: QThread | None = None
        self._last_worker: TrackingWorker | None = None
        # Pay torch.load's first-call imports here, in the GUI thread, not in a running worker.
        warm_up_loader()

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def thread(self) -> QThread | None:
        return self._thread

    def start(self, job: TrackJob) -> None:
        if self.running:
            raise RuntimeError("a tracking run is already in progress; stop it first")
        thread = QThread()
        thread.setObjectName("siamark-tracking")
        worker = TrackingWorker(job)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # quit() is thread-safe; called directly from the worker thread as its last act.
        worker.finished.connect(thread.quit)
        worker.tracked.connect(self.tracked)
        worker.progress.connect(self.progress)
        worker.ready.connect(self.ready)
        worker.failed.connect(self.failed)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._worker = thread, worker
        thread.start()
        self.running_changed.emit(True)

    def stop(self) -> None:
        """Ask the worker to stop after the current frame; ``finished`` follows soon."""
        if self._worker is not None:
            self._worker.cancel()

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        """Stop and wait for the thread (window close; by default as long as it takes, which is
        one frame or one model load): returns False if it did not end within ``timeout_ms``."""
        thread = self._thread
        if thread is None:
            return True
        self.stop()
        thread.quit()
        ended = thread.wait() if timeout_ms is None else thread.wait(timeout_ms)
        if ended:
            self._on_thread_finished()
        return ended

    def recent_frame(self, index: int) -> np.ndarray | None:
        worker = self._worker
        return worker.recent_frame(index) if worker is not None else None

    def _on_thread_finished(self) -> None:
        thread, worker = self._thread, self._worker
        if thread is None:
            return  # already handled (shutdown() and the queued signal both land here)
        thread.wait()  # finished() is emitted just before the thread really ends
        self._thread = self._worker = None
        # Kept (ended) until the next run so callers can check it; Python owns both objects.
        self.last_thread, self._last_worker = thread, worker
        self.running_changed.emit(False)
        self.finished.emit()
