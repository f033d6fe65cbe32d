"""Starts and stops the tracking thread; the GUI talks to this object only.

One run at a time. The worker lives in its own QThread; its signals reach this object (which
lives in the GUI thread) as queued signals and are re-emitted. ``finished`` is emitted only
after the thread has really ended, so when a listener sees it no thread is left running.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QThread, Signal

from app.engine.jobs import TrackJob
from app.services.tracking_worker import TrackingWorker
from app.services.worker_thread import WorkerThread
from trackers.checkpoints import warm_up_loader
from trackers.onnx_runner import export_in_subprocess
from trackers.onnx_runner import warm_up as warm_up_fast_path


class TrackingController(QObject):
    tracked = Signal(int, object, object)  # frame index, the frame (read-only), {track id: TrackResult}
    progress = Signal(int, int, float)
    ready = Signal(str)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._runner = WorkerThread("siamark-tracking", self)
        self._runner.ended.connect(self.finished)
        #: while set, runs record what the tracker weighed (the Inside view is open)
        self.inspecting = threading.Event()
        # Pay torch.load's and OpenVINO's first-call imports here, in the GUI thread, not in
        # a running worker.
        warm_up_loader()
        warm_up_fast_path()
        export_in_subprocess()  # a first export holds the GIL for ~0.6 s: not in this process

    @property
    def running(self) -> bool:
        return self._runner.running

    @property
    def thread(self) -> QThread | None:
        return self._runner.thread

    @property
    def last_thread(self) -> QThread | None:
        return self._runner.last_thread

    def start(self, job: TrackJob) -> None:
        worker = TrackingWorker(job, self.inspecting)
        worker.tracked.connect(self.tracked)
        worker.progress.connect(self.progress)
        worker.ready.connect(self.ready)
        worker.failed.connect(self.failed)
        self._runner.start(worker)

    def set_inspecting(self, on: bool) -> None:
        """Thread-safe; a run in progress follows from its next frame."""
        if on:
            self.inspecting.set()
        else:
            self.inspecting.clear()

    def stop(self) -> None:
        """Ask the worker to stop after the current frame; ``finished`` follows soon."""
        self._runner.cancel()

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        """Stop and wait for the thread (window close; by default as long as it takes, which is
        one frame or one model load): returns False if it did not end within ``timeout_ms``."""
        return self._runner.shutdown(timeout_ms)
