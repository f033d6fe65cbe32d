"""Siamark's main window: video view, timeline, tracker and response docks, menus.

Threading: tracking runs in a worker QThread (``TrackingController``). Every tracked result
arrives here as a queued signal and is stored in ``self.results`` at once; the screen is
repainted from a single-shot QTimer at most ~30 times a second, showing the newest requested
frame, so a fast tracker never floods the GUI and no result is ever dropped.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, QEventLoop, QSize, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

import trackers
from app.response_panel import ResponsePanel
from app.results import ResultsTable
from app.settings import Settings
from app.theme import configure_pyqtgraph
from app.timeline import Timeline
from app.tracker_panel import TrackerPanel, has_shipped_weights
from app.tracking_controller import TrackingController
from app.tracking_worker import TrackerSpec, TrackJob, no_weights_message
from app.video_view import VideoView
from trackers.base import Box

APP_NAME = "Siamark"
REPAINT_INTERVAL_MS = 33  # at most ~30 repaints per second, however fast the tracker is
DEFAULT_SIZE = QSize(1400, 900)
SHORTCUTS = (
    ("Space", "play / pause"),
    ("Left / Right", "previous / next frame"),
    ("T", "track forward from the current frame"),
    ("Esc", "stop tracking"),
    ("R", "response overlay on the frame"),
    ("F", "fit the frame in the view"),
    ("Ctrl+O", "open a video"),
    ("Ctrl+Shift+O", "open a folder of images"),
    ("mouse", "left-drag: draw the box · right/middle-drag: pan · wheel: zoom"),
)


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None):
        configure_pyqtgraph()
        super().__init__()
        self.settings = settings if settings is not None else Settings()
        self.video = None  # app.video.VideoSource
        self.results = ResultsTable()
        self.controller = TrackingController(self)
        self.current_frame = 0  # the frame asked for; shown at the next repaint
        self.displayed_frame: int | None = None
        self.annotation_frame: int | None = None  # where the user's box was drawn
        self.repaint_count = 0
        self._last_repaint = 0.0
        self.last_error: str | None = None
        self._error_box: QMessageBox | None = None
        self._follow = False  # while tracking, show the newest tracked frame
        self._scores_dirty = False
        self._run_failed = False
        self._pending_frame: int | None = None

        self.setWindowTitle(APP_NAME)
        self.resize(DEFAULT_SIZE)
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.AnimatedDocks | QMainWindow.AllowTabbedDocks)
        self._build_widgets()
        self._build_menus()
        self._connect()
        self._restore_settings()

    # -- construction --------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.view = VideoView()
        self.timeline = Timeline()
        for graphics in (self.view, self.timeline.plot):
            graphics.setAcceptDrops(False)  # let file drops reach the window
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.timeline)
        self.setCentralWidget(central)

        self.tracker_panel = TrackerPanel()
        self.tracker_dock = self._dock("Tracker", "tracker_dock", self.tracker_panel)
        self.response_panel = ResponsePanel()
        self.response_dock = self._dock("Response map", "response_dock", self.response_panel)
        # Default layout (a saved window state replaces it): narrow docks, video gets the room.
        self.resizeDocks([self.tracker_dock, self.response_dock], [360, 360], Qt.Horizontal)
        self.resizeDocks([self.tracker_dock, self.response_dock], [230, 600], Qt.Vertical)

        self.progress_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(180)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.hide()
        self.statusBar().addPermanentWidget(self.progress_label)
        self.statusBar().addPermanentWidget(self.progress_bar)

        self.repaint_timer = QTimer(self)
        self.repaint_timer.setSingleShot(True)
        self.repaint_timer.setInterval(REPAINT_INTERVAL_MS)
        self.play_timer = QTimer(self)

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)  # saveState / restoreState find docks by name
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable | QDockWidget.DockWidgetClosable
        )
        self.addDockWidget(Qt.RightDockWidgetArea, dock)
        return dock

    def _action(self, text: str, slot, shortcut=None, checkable=False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        self.addAction(action)  # shortcuts work even with the menu bar hidden
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self._action("&Open video…", self.choose_video, QKeySequence.Open))
        file_menu.addAction(self._action("Open &folder…", self.choose_folder, "Ctrl+Shift+O"))
        file_menu.addAction(self._action("Open &demo clip", self.open_demo))
        self.recent_menu = file_menu.addMenu("&Recent files")
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", self.close, QKeySequence.Quit))

        view_menu = bar.addMenu("&View")
        self.overlay_action = self._action("Response &overlay on frame", self.set_overlay_enabled, "R", True)
        view_menu.addAction(self.overlay_action)
        view_menu.addAction(self._action("&Fit frame", self.view.fit, "F"))
        view_menu.addSeparator()
        view_menu.addAction(self.tracker_dock.toggleViewAction())
        view_menu.addAction(self.response_dock.toggleViewAction())

        play_menu = bar.addMenu("&Playback")
        self.play_action = self._action("&Play / pause", self.toggle_play, "Space")
        play_menu.addAction(self.play_action)
        play_menu.addAction(self._action("P&revious frame", lambda: self.step(-1), "Left"))
        play_menu.addAction(self._action("&Next frame", lambda: self.step(1), "Right"))

        track_menu = bar.addMenu("&Track")
        self.track_action = self._action("Track &forward", self.track_forward, "T")
        self.stop_action = self._action("&Stop", self.stop_tracking, "Esc")
        self.stop_action.setEnabled(False)
        track_menu.addAction(self.track_action)
        track_menu.addAction(self.stop_action)

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action("&Shortcuts", self.show_shortcuts))
        help_menu.addAction(self._action("&About Siamark", self.show_about))

    def _connect(self) -> None:
        self.repaint_timer.timeout.connect(self._repaint)
        self.play_timer.timeout.connect(self._play_tick)
        self.timeline.frame_requested.connect(self._user_goto)
        self.timeline.step_requested.connect(self.step)
        self.timeline.play_toggled.connect(self.toggle_play)
        self.view.box_changed.connect(self._on_box_changed)
        self.tracker_panel.track_requested.connect(self.track_forward)
        self.tracker_panel.stop_requested.connect(self.stop_tracking)
        self.tracker_panel.error.connect(self.show_error)
        self.tracker_panel.spec_changed.connect(self._save_tracker_choice)
        self.controller.tracked.connect(self._on_tracked)
        self.controller.progress.connect(self._on_progress)
        self.controller.ready.connect(lambda text: self.statusBar().showMessage(f"Tracking with {text}"))
        self.controller.failed.connect(self._on_tracking_failed)
        self.controller.finished.connect(self._on_tracking_finished)

    # -- opening -------------------------------------------------------------------------------

    def choose_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open video",
            self._start_dir(),
            "Videos (*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.mpg);;All files (*)",
        )
        if path:
            self.open_path(path)

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a folder of images", self._start_dir())
        if path:
            self.open_path(path)

    def open_demo(self) -> bool:
        """Open the demo clip with the ball's box already drawn: press T to track it."""
        from app.demo import demo_boxes, demo_path

        clip = demo_path()
        if not self.open_path(clip):
            return False
        try:
            self.set_box(tuple(demo_boxes(clip)["ball"][0]))
        except (OSError, KeyError, IndexError, ValueError):
            return True  # the clip is still usable without its boxes
        self.statusBar().showMessage("Demo clip: the ball's box is drawn — press T to track it.", 15000)
        return True

    def open_path(self, path: str | Path) -> bool:
        """Open a video file or image folder; errors are shown, never raised. True on success."""
        from app.video import open_video

        self.stop_tracking(wait=True)
        self.pause()
        name = Path(path).name

        def indexing(done: int, total: int) -> None:
            # Opening a video decodes it once; keep the window painted meanwhile.
            self.statusBar().showMessage(f"Reading {name}: {done}/{total} frames…")
            QApplication.processEvents(QEventLoop.ExcludeUserInputEvents)

        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            source = open_video(path, progress=indexing)
        except Exception as exc:  # noqa: BLE001 - SourceError or any decoder trouble; the old video stays
            self.show_error("Cannot open", str(exc) or type(exc).__name__)
            return False
        finally:
            QApplication.restoreOverrideCursor()
        if self.video is not None:
            self.video.close()
        self.video = source
        self.displayed_frame = None
        self.results = ResultsTable(source.frame_count)
        self.annotation_frame = None
        self.view.set_box(None)
        self.view.set_tracked_box(None)
        self.timeline.set_frame_count(source.frame_count)
        self.setWindowTitle(f"{source.name} — {APP_NAME}")
        self._remember_recent(Path(path))
        note = getattr(source, "frame_rate_note", "") or ""
        if getattr(source, "variable_frame_rate", False) and note:
            self.statusBar().showMessage(note, 20000)
        else:
            self.statusBar().showMessage(
                f"Opened {source.name}: {source.frame_count} frames, {source.size[0]}x{source.size[1]}"
                + (f", {source.fps:g} fps" if source.fps else ""),
                8000,
            )
        self.go_to(0, now=True)
        self.view.fit()
        return True

    def _start_dir(self) -> str:
        recent = self._recent_files()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    # -- frames and repainting -----------------------------------------------------------------

    @property
    def frame_count(self) -> int:
        return self.video.frame_count if self.video is not None else 0

    def go_to(self, frame: int, now: bool = False) -> None:
        """Show ``frame``: at the next coalesced repaint, or at once with ``now``."""
        if self.video is None:
            return
        self.current_frame = int(np.clip(frame, 0, self.frame_count - 1))
        self._pending_frame = self.current_frame
        if now:
            self.repaint_timer.stop()
            self._repaint()
        elif not self.repaint_timer.isActive():
            # Paced from the previous repaint, not from now: a fixed delay after each new result
            # would add to the paint time and halve the refresh rate.
            since = (time.perf_counter() - self._last_repaint) * 1000.0
            self.repaint_timer.start(int(max(0.0, REPAINT_INTERVAL_MS - since)))

    def _user_goto(self, frame: int) -> None:
        self._follow = False  # the user took over the view from the running tracker
        self.go_to(frame)

    def step(self, delta: int) -> None:
        self.pause()
        self._user_goto(self.current_frame + delta)

    def _frame_image(self, index: int) -> np.ndarray | None:
        frame = self.controller.recent_frame(index)  # decoded by the worker already
        if frame is not None:
            return frame
        try:
            return self.video.frame(index)
        except Exception as exc:  # noqa: BLE001 - a bad frame is reported, the app goes on
            self.statusBar().showMessage(f"Cannot show frame {index}: {exc}", 8000)
            return None

    def _repaint(self) -> None:
        self._last_repaint = time.perf_counter()
        index, self._pending_frame = self._pending_frame, None
        if index is None or self.video is None:
            return
        self.repaint_count += 1
        if index != self.displayed_frame:
            self.view.set_frame(self._frame_image(index))
        self.displayed_frame = index
        row = self.results.get(index)
        self.view.set_tracked_box(
            row.box if row is not None and not row.is_annotation else None, row.ok if row else True
        )
        self.view.set_box_visible(index == self.annotation_frame)
        self.view.set_overlay(row.response if row else None, row.geometry if row else None)
        self.response_panel.show_result(index, row)
        if self._scores_dirty:
            self._scores_dirty = False
            self.timeline.plot.set_scores(self.results.scores)
        self.timeline.set_current(index, self.frame_count, self._timestamp(index))

    def _timestamp(self, index: int) -> float | None:
        try:
            return self.video.timestamp(index)
        except (IndexError, ValueError, AttributeError):
            return None

    # -- playback ------------------------------------------------------------------------------

    def toggle_play(self) -> None:
        if self.play_timer.isActive():
            self.pause()
        elif self.video is not None:
            self._follow = False
            if self.current_frame >= self.frame_count - 1:
                self.go_to(0)
            fps = self.video.fps or 25.0
            self.play_timer.start(max(int(1000 / fps), 1))
            self.timeline.set_playing(True)

    def pause(self) -> None:
        self.play_timer.stop()
        self.timeline.set_playing(False)

    def _play_tick(self) -> None:
        if self.current_frame >= self.frame_count - 1:
            self.pause()
        else:
            self.go_to(self.current_frame + 1)

    # -- the box and tracking ------------------------------------------------------------------

    def _on_box_changed(self, box: Box | None) -> None:
        self.annotation_frame = self.displayed_frame if box is not None else None

    def set_box(self, box: Box | None) -> None:
        """Put the user's box on the frame shown now (as if drawn with the mouse)."""
        self.view.set_box(box)
        self.annotation_frame = self.displayed_frame if box is not None else None

    def start_tracking(
        self,
        path: str | Path | None = None,
        box: Box | None = None,
        frame: int | None = None,
        spec: TrackerSpec | None = None,
        end: int | None = None,
    ) -> bool:
        """Scripted use: open ``path``, show ``frame``, put ``box`` there and track forward."""
        if path is not None and not self.open_path(path):
            return False
        if frame is not None:
            self.go_to(frame, now=True)
        if box is not None:
            self.set_box(box)
        return self.track_forward(spec=spec, end=end)

    def track_forward(self, spec: TrackerSpec | None = None, end: int | None = None) -> bool:
        """Track from the current frame; the box there is the user's or the one tracked there."""
        if self.controller.running:
            return False
        if self.video is None:
            self.show_error("Nothing to track", "Open a video or a folder of images first (File → Open).")
            return False
        start = self.current_frame
        if self.displayed_frame != start:
            self.go_to(start, now=True)
        row = self.results.get(start)
        box = self.view.box() if self.annotation_frame == start else (row.box if row else None)
        if box is None:
            self.show_error(
                "No box", f"Draw a box around the object on frame {start} first (left-drag on the frame)."
            )
            return False
        if start >= self.frame_count - 1:
            self.statusBar().showMessage("This is the last frame: nothing to track after it.", 6000)
            return False
        spec = spec or self.tracker_panel.spec()
        if spec.weights is None and not has_shipped_weights(spec.name):
            self.show_error("No weights for this tracker", no_weights_message(spec.name))
            return False
        self.pause()
        self.results.clear_after(start)
        if self.annotation_frame == start:
            self.results.set_annotation(start, box)
        self._scores_dirty = True
        self.controller.start(
            TrackJob(source=self.video.reader(), start=start, init_box=box, spec=spec, end=end)
        )
        self._follow = True
        self._run_failed = False
        self._set_running(True)
        self.statusBar().showMessage(f"Loading {spec.name}…")
        return True

    def stop_tracking(self, wait: bool = False) -> None:
        if wait:
            self.controller.shutdown()
        else:
            self.controller.stop()

    def _set_running(self, running: bool) -> None:
        self.tracker_panel.set_running(running)
        self.track_action.setEnabled(not running)
        self.stop_action.setEnabled(running)
        self.view.viewbox.drawing_enabled = not running
        if self.view.roi is not None:  # the run uses the box as it was at the start
            self.view.roi.setEnabled(not running)
        self.progress_bar.setVisible(running)
        if running:
            self.progress_bar.setValue(0)
            self.progress_label.setText("")

    def _on_tracked(self, index: int, result) -> None:
        self.results.set_result(index, result)  # every result is kept, whatever is displayed
        self._scores_dirty = True
        if self._follow or index == self.current_frame:
            self.go_to(index)

    def _on_tracking_failed(self, message: str) -> None:
        self._run_failed = True
        self.show_error("Tracking failed", message)

    def _on_progress(self, done: int, total: int, fps: float) -> None:
        self.progress_bar.setMaximum(max(total, 1))
        self.progress_bar.setValue(done)
        self.progress_label.setText(f"{done}/{total} frames · {fps:.1f} fps")

    def _on_tracking_finished(self) -> None:
        self._set_running(False)
        self._follow = False
        tracked = int(np.isfinite(self.results.scores).sum())
        if not self._run_failed:  # keep a failure's message on the status bar
            self.statusBar().showMessage(f"Tracking stopped · {tracked} frames tracked", 8000)
        self._scores_dirty = True
        self.go_to(self.current_frame)

    def set_overlay_enabled(self, enabled: bool) -> None:
        self.view.set_overlay_enabled(enabled)
        if self.overlay_action.isChecked() != enabled:
            self.overlay_action.setChecked(enabled)
        self.go_to(self.current_frame)

    # -- messages ------------------------------------------------------------------------------

    def show_error(self, title: str, message: str) -> None:
        """Status bar + a window-modal box that does not block the caller (tests can read it)."""
        self.last_error = message
        self.statusBar().showMessage(f"{title}: {message.splitlines()[0] if message else ''}", 15000)
        self._message(QMessageBox.Warning, title, message)

    def _message(self, icon, title: str, text: str) -> QMessageBox:
        if self._error_box is not None:
            self._error_box.close()
        box = QMessageBox(icon, title, text, QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.finished.connect(lambda _result: setattr(self, "_error_box", None))
        box.open()  # returns at once, unlike exec()
        self._error_box = box
        return box

    def show_shortcuts(self) -> None:
        rows = "".join(
            f"<tr><td><b>{key}</b></td><td>&nbsp;&nbsp;{what}</td></tr>" for key, what in SHORTCUTS
        )
        self._message(QMessageBox.Information, "Shortcuts", f"<table>{rows}</table>")

    def show_about(self) -> None:
        self._message(
            QMessageBox.Information,
            "About Siamark",
            "<b>Siamark</b><br>Semi-automatic video annotation with Siamese visual trackers.<br><br>"
            "Draw a box, pick a tracker, track forward; correct a drifting frame by drawing a new box "
            "there and tracking forward again.",
        )

    # -- drag and drop -------------------------------------------------------------------------

    def dragEnterEvent(self, event) -> None:
        if self._dropped_path(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        path = self._dropped_path(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.open_path(path)

    @staticmethod
    def _dropped_path(mime) -> Path | None:
        urls: list[QUrl] = mime.urls() if mime.hasUrls() else []
        local = [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]
        return local[0] if local else None

    # -- settings ------------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        settings = self.settings
        if settings.window_geometry:
            self.restoreGeometry(QByteArray(settings.window_geometry))
        if settings.window_state:
            self.restoreState(QByteArray(settings.window_state))
        tracker, device = settings.last_tracker, settings.device  # read both before either is saved
        if tracker in trackers.names():
            self.tracker_panel.set_tracker(tracker)
        self.tracker_panel.set_device(device)
        self._refresh_recent_menu()

    def _save_tracker_choice(self) -> None:
        self.settings.last_tracker = self.tracker_panel.tracker_name()
        self.settings.device = self.tracker_panel.device()

    def _recent_files(self) -> list[str]:
        return [str(p) for p in self.settings.recent_files()]

    def _remember_recent(self, path: Path) -> None:
        self.settings.add_recent(path)
        self._refresh_recent_menu()

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self._recent_files()
        for path in recent:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(str(path))
            action.setStatusTip(str(path))
            action.triggered.connect(lambda _checked=False, p=path: self.open_path(p))
        self.recent_menu.setEnabled(bool(recent))

    def closeEvent(self, event) -> None:
        self.pause()
        self.controller.shutdown()  # no tracking thread outlives the window
        self._save_window_state()
        if self.video is not None:
            self.video.close()
            self.video = None
        super().closeEvent(event)

    def _save_window_state(self) -> None:
        self.settings.window_geometry = bytes(self.saveGeometry().data())
        self.settings.window_state = bytes(self.saveState().data())
        self._save_tracker_choice()
        self.settings.sync()
