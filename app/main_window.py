"""Siamark's main window: video view, timeline, tracks / tracker / response docks, menus.

Its commands live in mixins by topic: ``window_documents`` (open, save, autosave, recovery,
import / export), ``window_editing`` (undoable edits) and ``window_tracking`` (runs and checks).

The annotations (``app.annotations.Annotations``) are the document; every change to them is an
undoable edit on ``self.undo_stack``. Tracking runs in a worker QThread (``TrackingController``);
each result arrives as a queued signal and is written into the annotations at once (never over
a manual box), and the whole run is pushed as one undo step when it ends. The screen is
repainted from a single-shot QTimer at most ~30 times a second, so a fast tracker never floods
the GUI and no result is dropped.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, QSize, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

import trackers
from app import APP_NAME
from app.annotations import Annotations
from app.autosave import INTERVAL_MS, AutosaveStore
from app.response_panel import ResponsePanel
from app.results import ResultsTable
from app.settings import Settings
from app.shortcuts_dialog import ShortcutsDialog
from app.theme import configure_pyqtgraph
from app.timeline import Timeline
from app.track_panel import TrackPanel
from app.tracker_panel import TrackerPanel
from app.tracking_controller import TrackingController
from app.video_view import BoxOverlay, VideoView
from app.window_documents import DocumentActions
from app.window_editing import EditingActions
from app.window_tracking import Run, TrackingActions
from trackers.base import Box
from trackers.drift import DriftMonitor, DriftSettings

REPAINT_INTERVAL_MS = 33  # at most ~30 repaints per second, however fast the tracker is
DEFAULT_SIZE = QSize(1400, 900)


class MainWindow(DocumentActions, EditingActions, TrackingActions, QMainWindow):
    def __init__(self, settings: Settings | None = None, autosave: AutosaveStore | None = None):
        configure_pyqtgraph()
        super().__init__()
        self.settings = settings if settings is not None else Settings()
        self.video = None  # app.video.VideoSource
        self.annotations = Annotations()
        self.undo_stack = QUndoStack(self)
        self.maps: dict[int, ResultsTable] = {}  # per track: response maps of this session's runs
        self.selected_track: int | None = None
        self.project_path: Path | None = None
        self.drift_settings = DriftSettings()
        self.autosave = autosave if autosave is not None else AutosaveStore()
        self._autosaved_version = 0
        self._monitors: dict[int, DriftMonitor] = {}
        self._start_boxes: dict = {}  # track id -> box where the current run started
        self.run: Run | None = None
        self.last_run: Run | None = None
        self.controller = TrackingController(self)
        self.current_frame = 0  # the frame asked for; shown at the next repaint
        self.displayed_frame: int | None = None
        self.repaint_count = 0
        self._last_repaint = 0.0
        self.last_error: str | None = None
        self._error_box: QMessageBox | None = None
        self._follow = False  # while tracking, show the newest tracked frame
        self._scores_dirty = False
        self._tracks_dirty = False
        self._run_failed = False
        self._pending_frame: int | None = None
        self._new_track_pending = False

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

        self.track_panel = TrackPanel()
        self.track_dock = self._dock("Tracks", "track_dock", self.track_panel)
        self.tracker_panel = TrackerPanel()
        self.tracker_dock = self._dock("Tracker", "tracker_dock", self.tracker_panel)
        self.response_panel = ResponsePanel()
        self.response_dock = self._dock("Response map", "response_dock", self.response_panel)
        docks = [self.track_dock, self.tracker_dock, self.response_dock]
        # Default layout (a saved window state replaces it): narrow docks, video gets the room.
        self.resizeDocks(docks, [360, 360, 360], Qt.Horizontal)
        self.resizeDocks(docks, [200, 230, 400], Qt.Vertical)

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
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(INTERVAL_MS)

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
            if isinstance(shortcut, (list, tuple)):
                action.setShortcuts([QKeySequence(k) for k in shortcut])
            else:
                action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        self.addAction(action)  # shortcuts work even with the menu bar hidden
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self._action("&Open video or project…", self.choose_video, QKeySequence.Open))
        file_menu.addAction(self._action("Open &folder of images…", self.choose_folder, "Ctrl+Shift+O"))
        file_menu.addAction(self._action("Open &demo clip", self.open_demo))
        self.recent_menu = file_menu.addMenu("&Recent files")
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Save project", self.save, QKeySequence.Save))
        file_menu.addAction(self._action("Save project &as…", self.save_as, "Ctrl+Shift+S"))
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Import annotations…", self.choose_import, "Ctrl+I"))
        file_menu.addAction(self._action("&Export annotations…", self.export, "Ctrl+E"))
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", self.close, QKeySequence.Quit))

        edit_menu = bar.addMenu("&Edit")
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence.Undo)
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        for action in (self.undo_action, self.redo_action):
            self.addAction(action)
            edit_menu.addAction(action)
        edit_menu.addSeparator()
        self.new_track_action = self._action("&New track (next box drawn)", self.new_track, "N")
        self.delete_box_action = self._action("&Delete box on this frame", self.delete_box, "Del")
        self.delete_track_action = self._action("Delete &track", self.delete_track, "Shift+Del")
        self.occluded_action = self._action("Toggle &occluded", lambda: self.toggle_flag("occluded"), "O")
        self.absent_action = self._action(
            "Toggle &absent / out of view", lambda: self.toggle_flag("absent"), "A"
        )
        self.accept_action = self._action("Accept frame (mark &reviewed)", self.accept_frame, "K")
        self.interpolate_action = self._action("&Interpolate between keyframes", self.interpolate, "I")
        for action in (
            self.new_track_action,
            self.delete_box_action,
            self.delete_track_action,
            self.occluded_action,
            self.absent_action,
            self.accept_action,
            self.interpolate_action,
        ):
            edit_menu.addAction(action)

        view_menu = bar.addMenu("&View")
        self.overlay_action = self._action("Response &overlay on frame", self.set_overlay_enabled, "R", True)
        view_menu.addAction(self.overlay_action)
        view_menu.addAction(self._action("&Fit frame", self.view.fit, "F"))
        view_menu.addSeparator()
        for dock in (self.track_dock, self.tracker_dock, self.response_dock):
            view_menu.addAction(dock.toggleViewAction())

        play_menu = bar.addMenu("&Playback")
        self.play_action = self._action("&Play / pause", self.toggle_play, "Space")
        play_menu.addAction(self.play_action)
        play_menu.addAction(self._action("P&revious frame", lambda: self.step(-1), "Left"))
        play_menu.addAction(self._action("&Next frame", lambda: self.step(1), "Right"))
        play_menu.addAction(self._action("Next &flagged frame", lambda: self.jump_flag(1), "]"))
        play_menu.addAction(self._action("Previous f&lagged frame", lambda: self.jump_flag(-1), "["))

        track_menu = bar.addMenu("&Track")
        self.track_action = self._action("Track &forward (selected)", self.track_forward, "T")
        self.track_back_action = self._action("Track &backward (selected)", self.track_backward, "Shift+T")
        self.track_all_action = self._action(
            "Track all &objects forward", lambda: self.track(1, True), "Ctrl+T"
        )
        self.track_all_back_action = self._action(
            "Track all objects back&ward", lambda: self.track(-1, True), "Ctrl+Shift+T"
        )
        self.check_action = self._action("&Check forward / backward consistency", self.check_consistency, "C")
        self.stop_action = self._action("&Stop", self.stop_tracking, "Esc")
        self.stop_action.setEnabled(False)
        self.pause_on_flag_action = self._action(
            "&Pause at flagged frames", self._set_pause_on_flag, None, True
        )
        self.fuse_action = self._action(
            "&Fuse with a run back from the next keyframe", self._set_fuse_with_keyframes, None, True
        )
        self.fuse_action.setChecked(self.drift_settings.fuse_with_keyframes)
        # Started from the Track menu; all disabled while a run is in progress.
        self.run_actions = (
            self.track_action,
            self.track_back_action,
            self.track_all_action,
            self.track_all_back_action,
            self.check_action,
        )
        for action in (*self.run_actions, self.stop_action):
            track_menu.addAction(action)
        track_menu.addSeparator()
        track_menu.addAction(self.pause_on_flag_action)
        track_menu.addAction(self.fuse_action)

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action("&Shortcuts", self.show_shortcuts, "F1"))
        help_menu.addAction(self._action("&About Siamark", self.show_about))

    def _connect(self) -> None:
        self.repaint_timer.timeout.connect(self._repaint)
        self.play_timer.timeout.connect(self._play_tick)
        self.autosave_timer.timeout.connect(self.autosave_now)
        self.autosave_timer.start()
        self.timeline.frame_requested.connect(self._user_goto)
        self.timeline.step_requested.connect(self.step)
        self.timeline.play_toggled.connect(self.toggle_play)
        self.view.box_changed.connect(self._on_box_drawn)
        self.view.clicked.connect(self._on_view_clicked)
        self.track_panel.selected.connect(self.select_track)
        self.track_panel.new_requested.connect(self.new_track)
        self.track_panel.delete_requested.connect(self.delete_track)
        self.track_panel.relabel_requested.connect(self.relabel_track)
        self.tracker_panel.track_requested.connect(self.track_forward)
        self.tracker_panel.stop_requested.connect(self.stop_tracking)
        self.tracker_panel.error.connect(self.show_error)
        self.tracker_panel.spec_changed.connect(self._save_tracker_choice)
        self.controller.tracked.connect(self._on_tracked)
        self.controller.progress.connect(self._on_progress)
        self.controller.ready.connect(lambda text: self.statusBar().showMessage(f"Tracking with {text}"))
        self.controller.failed.connect(self._on_tracking_failed)
        self.controller.finished.connect(self._on_tracking_finished)
        self.undo_stack.cleanChanged.connect(self._update_title)

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

    def refresh(self, now: bool = True) -> None:
        """Repaint the current frame after an edit (at once: the edit must show under the hand)."""
        self._tracks_dirty = self._scores_dirty = True
        self.go_to(self.current_frame, now=now)

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
        self._show_boxes(index)
        selected = self.selected_track
        row = self.maps[selected].get(index) if selected in self.maps else None
        entry = self.annotations.tracks[selected].get(index) if selected in self.annotations.tracks else None
        if row is not None and (entry is None or entry.is_manual or entry.box != row.box):
            row = None  # the map belongs to a box that has since been replaced
        self.view.set_overlay(row.response if row else None, row.geometry if row else None)
        self.response_panel.show_result(index, row)
        if self._tracks_dirty:
            self._tracks_dirty = False
            self.track_panel.refresh(self.annotations, selected)
        if self._scores_dirty:
            self._scores_dirty = False
            self._show_scores()
        self.timeline.set_current(index, self.frame_count, self._timestamp(index))

    def _show_boxes(self, index: int) -> None:
        overlays = []
        editable: Box | None = None
        colour = "#ffd400"
        for track in self.annotations:
            entry = track.get(index)
            if entry is None or entry.box is None:
                continue
            selected = track.id == self.selected_track
            if selected and self.run is None:
                editable, colour = entry.box, track.color
            tags = [entry.source.value if not entry.is_manual else "key"]
            if math.isfinite(entry.score):
                tags.append(f"{entry.score:.2f}")
            if entry.occluded:
                tags.append("occluded")
            if entry.flag:
                tags.append("⚑ " + entry.flag)
            overlays.append(
                BoxOverlay(
                    track.id,
                    entry.box,
                    track.color,
                    f"#{track.id} {track.label} · " + " · ".join(tags),
                    dashed=entry.source.value == "interpolated" or bool(entry.flag),
                    selected=selected,
                )
            )
        self.view.set_track_boxes(overlays)
        self.view.set_box(editable, colour)

    def _show_scores(self) -> None:
        count = self.frame_count
        scores = np.full(count, np.nan, dtype=np.float32)
        flagged: list[int] = []
        keys: list[int] = []
        track = self.annotations.tracks.get(self.selected_track)
        if track is not None:
            for f, entry in track.boxes.items():
                if 0 <= f < count:
                    scores[f] = entry.score if math.isfinite(entry.score) else np.nan
                    if entry.is_manual:
                        keys.append(f)
            flagged = track.flagged_frames()
            self.timeline.plot.set_colour(track.color)
        self.timeline.plot.set_scores(scores, flagged, keys)

    def _timestamp(self, index: int) -> float | None:
        try:
            return self.video.timestamp(index)
        except (IndexError, ValueError, AttributeError):
            return None

    def jump_flag(self, direction: int) -> None:
        """Next / previous frame flagged for review (any track)."""
        flagged = self.annotations.flagged_frames()
        here = self.current_frame
        candidates = [f for f in flagged if (f - here) * direction > 0]
        if not candidates:
            self.statusBar().showMessage("No more flagged frames that way.", 4000)
            return
        self.pause()
        self._user_goto(min(candidates) if direction > 0 else max(candidates))

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

    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self.actions(), self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()
        self.shortcuts_dialog = dialog
        return dialog

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
        # Unsaved work stays in the autosave file and is offered at the next start; saved or
        # untouched work needs no autosave.
        if self.undo_stack.isClean() or self.video is None:
            self.autosave.discard()
        else:
            self._autosaved_version = -1
            self.autosave_now()
        if self.video is not None:
            self.video.close()
            self.video = None
        super().closeEvent(event)

    def _save_window_state(self) -> None:
        self.settings.window_geometry = bytes(self.saveGeometry().data())
        self.settings.window_state = bytes(self.saveState().data())
        self._save_tracker_choice()
        self.settings.sync()
