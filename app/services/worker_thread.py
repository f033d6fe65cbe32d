"""A worker object run in its own QThread, with a lifecycle listeners can rely on.

The worker is a QObject with a ``run`` slot, a ``finished`` signal (its last act) and a
thread-safe ``cancel``. ``ended`` is emitted in the owner's thread only after the thread has
really ended, so when a listener sees it no thread is left running.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread, Signal


class WorkerThread(QObject):
    ended = Signal()

    def __init__(self, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self._thread: QThread | None = None
        self.worker: QObject | None = None
        #: the last thread, kept (ended) until the next start so callers can check it
        self.last_thread: QThread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def thread(self) -> QThread | None:
        return self._thread

    def start(self, worker: QObject) -> None:
        if self.running:
            raise RuntimeError(f"{self.name}: a run is already in progress; stop it first")
        thread = QThread()
        thread.setObjectName(self.name)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.finished.connect(thread.quit)  # quit() is thread-safe: the worker's last act
        thread.finished.connect(self._on_thread_finished)
        self._thread, self.worker = thread, worker
        thread.start()

    def cancel(self) -> None:
        """Ask the worker to stop soon; ``ended`` follows."""
        if self.worker is not None:
            self.worker.cancel()

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        """Cancel and wait (by default as long as it takes): False if the thread did not end
        within ``timeout_ms``."""
        thread = self._thread
        if thread is None:
            return True
        self.cancel()
        thread.quit()
        ended = thread.wait() if timeout_ms is None else thread.wait(timeout_ms)
        if ended:
            self._on_thread_finished()
        return ended

    def _on_thread_finished(self) -> None:
        thread = self._thread
        if thread is None:
            return  # already handled (shutdown() and the queued signal both land here)
        thread.wait()  # finished() is emitted just before the thread really ends
        self._thread = self.worker = None
        self.last_thread = thread  # Python owns it; kept so it is not destroyed while referenced
        self.ended.emit()
