"""Siamark's main window: video view, timeline, tracks / tracker / response docks, menus.

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
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, QEventLoop, QSize, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
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
from app.annotations import Annotations, BoxChange, Edit, FrameBox, tracked_box
from app.autosave import INTERVAL_MS, AutosaveStore, Recovery
from app.drift import DriftMonitor, DriftSettings, consistency_flags
from app.project import SUFFIX as PROJECT_SUFFIX
from app.project import (
    Project,
    ProjectError,
    VideoRef,
    check_video,
    load_project,
    save_project,
    video_fingerprint,
)
from app.response_panel import ResponsePanel
from app.results import ResultsTable
from app.settings import Settings
from app.shortcuts_dialog import ShortcutsDialog
from app.theme import configure_pyqtgraph
from app.timeline import Timeline
from app.track_panel import TrackPanel
from app.tracker_panel import TrackerPanel, has_shipped_weights
from app.tracking_controller import TrackingController
from app.tracking_worker import Target, TrackerSpec, TrackJob, no_weights_message
from app.undo import push_edit
from app.video_view import BoxOverlay, VideoView
from trackers.base import Box

APP_NAME = "Siamark"
REPAINT_INTERVAL_MS = 33  # at most ~30 repaints per second, however fast the tracker is
DEFAULT_SIZE = QSize(1400, 900)


@dataclass
class Run:
    """The tracking run in progress: what it is for and what it has changed so far."""

    kind: str  # "track" writes boxes; "check" only collects them for the consistency check
    text: str
    direction: int
    track_ids: tuple[int, ...]
    changes: list[BoxChange] = field(default_factory=list)
    collected: dict[int, Box] = field(default_factory=dict)  # "check": frame -> box
    check_range: tuple[int, int] = (0, 0)
    paused_at: str = ""  # why the run paused itself (a drift flag), "" if it did not
    paused_frame: int | None = None


class MainWindow(QMainWindow):
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

    # -- opening -------------------------------------------------------------------------------

    def choose_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open a video or a Siamark project",
            self._start_dir(),
            f"Videos and projects (*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.mpg *{PROJECT_SUFFIX});;"
            f"Siamark projects (*{PROJECT_SUFFIX});;All files (*)",
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
            self.set_box(tuple(demo_boxes(clip)["ball"][0]), label="ball")
        except (OSError, KeyError, IndexError, ValueError):
            return True  # the clip is still usable without its boxes
        self.undo_stack.setClean()  # the demo's own box is not the user's unsaved work
        self.statusBar().showMessage("Demo clip: the ball's box is drawn — press T to track it.", 15000)
        return True

    def open_path(self, path: str | Path) -> bool:
        """Open a video file, image folder or project file; errors are shown, never raised."""
        if str(path).endswith(PROJECT_SUFFIX):
            return self.open_project(path)
        return self._open_video(path)

    def _open_video(self, path: str | Path, annotations: Annotations | None = None) -> bool:
        from app.video import open_video

        if not self.confirm_discard():
            return False
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
        if annotations is not None and annotations.frame_count not in (0, source.frame_count):
            source.close()
            self.show_error(
                "Project does not fit the video",
                f"The project has {annotations.frame_count} frames but {name} has {source.frame_count}.",
            )
            return False
        if self.video is not None:
            self.video.close()
        self.video = source
        self.displayed_frame = None
        self._set_document(annotations or Annotations(source.frame_count), None)
        self.timeline.set_frame_count(source.frame_count)
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

    def confirm_discard(self) -> bool:
        """Before replacing unsaved work: save it, drop it, or stay (True: go ahead)."""
        if self.video is None or self.undo_stack.isClean():
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"Save the changes to {self.project_path.name if self.project_path else self.video.name} first?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel,
            QMessageBox.Save,
        )
        if answer == QMessageBox.Save:
            return self.save()
        return answer == QMessageBox.Discard

    def _set_document(self, annotations: Annotations, project_path: Path | None) -> None:
        annotations.frame_count = annotations.frame_count or self.frame_count
        self.annotations = annotations
        self.undo_stack.clear()
        self.maps = {}
        self.project_path = project_path
        self.autosave.discard()  # a new document: the old one's autosave was written just before
        self._autosaved_version = annotations.version
        self.selected_track = next(iter(annotations.tracks), None)
        self._new_track_pending = False
        self.view.set_box(None)
        self._tracks_dirty = self._scores_dirty = True
        self._update_title()

    def open_project(self, path: str | Path, recovered_from: Recovery | None = None) -> bool:
        try:
            project = load_project(path) if recovered_from is None else AutosaveStore.load(recovered_from)
        except ProjectError as exc:
            self.show_error("Cannot open the project", str(exc))
            return False
        problem = check_video(project)
        if problem:
            self.show_error("Cannot open the project's video", f"{problem}\n\nProject: {path}")
            return False
        if not self._open_video(project.video.path, project.annotations):
            return False
        self.drift_settings = DriftSettings.from_dict(project.settings.get("drift", {}))
        self.pause_on_flag_action.setChecked(self.drift_settings.pause_on_flag)
        self.project_path = (
            Path(path)
            if recovered_from is None
            else (Path(recovered_from.project_path) if recovered_from.project_path else None)
        )
        if recovered_from is not None:
            # Recovered work is unsaved until the user saves it: an undoable, dirty state.
            self.undo_stack.resetClean()
        self._remember_recent(Path(path))
        self._update_title()
        self._tracks_dirty = self._scores_dirty = True
        self.go_to(0, now=True)
        return True

    def _start_dir(self) -> str:
        recent = self._recent_files()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    # -- saving, autosave, recovery --------------------------------------------------------------

    def project(self) -> Project:
        video = self.video
        settings = {"drift": self.drift_settings.to_dict(), "tracker": self.tracker_panel.tracker_name()}
        if video is None:
            return Project(VideoRef(""), self.annotations, settings)
        try:
            fingerprint = video_fingerprint(video.path)
        except OSError:
            fingerprint = ""
        ref = VideoRef(
            str(Path(video.path).resolve()), fingerprint, video.frame_count, *video.size, video.fps
        )
        return Project(ref, self.annotations, settings)

    def save(self) -> bool:
        if self.project_path is None:
            return self.save_as()
        return self.save_project_to(self.project_path)

    def save_as(self) -> bool:
        if self.video is None:
            return False
        suggested = Path(self.video.path).with_name(Path(self.video.path).stem + PROJECT_SUFFIX)
        path, _ = QFileDialog.getSaveFileName(
            self, "Save project", str(suggested), f"Siamark projects (*{PROJECT_SUFFIX})"
        )
        if not path:
            return False
        if not path.endswith(PROJECT_SUFFIX):
            path = str(Path(path).with_suffix("")) + PROJECT_SUFFIX
        return self.save_project_to(path)

    def save_project_to(self, path: str | Path) -> bool:
        if self.video is None:
            self.show_error("Nothing to save", "Open a video first.")
            return False
        try:
            save_project(self.project(), path)
        except OSError as exc:
            self.show_error("Not saved", f"{exc}\n\nYour work is kept (and autosaved); save it elsewhere.")
            return False
        self.project_path = Path(path)
        self.undo_stack.setClean()
        self._remember_recent(Path(path))
        self._update_title()
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def autosave_now(self) -> None:
        """Write the autosave file if anything changed since the last one (timer, end of runs)."""
        if self.video is None or self.annotations.version == self._autosaved_version:
            return
        try:
            self.autosave.write(self.project(), self.project_path)
        except OSError as exc:
            self.statusBar().showMessage(f"Autosave failed: {exc}", 8000)
            return
        self._autosaved_version = self.annotations.version

    def offer_recovery(self) -> Recovery | None:
        """At start: if a crashed session left an autosave, ask (without blocking) to recover it."""
        orphans = self.autosave.orphans()
        if not orphans:
            return None
        newest = orphans[0]
        box = self._message(
            QMessageBox.Question,
            "Recover unsaved work?",
            "Siamark did not close normally last time. Recover its unsaved work?\n\n" + newest.describe(),
        )
        box.setStandardButtons(QMessageBox.Yes | QMessageBox.Discard)
        box.button(QMessageBox.Yes).setText("Recover")

        def answered(result: int) -> None:
            if result == QMessageBox.Yes:
                if self.recover(newest):
                    AutosaveStore.forget(newest)
            elif result == QMessageBox.Discard:
                AutosaveStore.forget(newest)

        # Later, not inside the box's own signal: opening may show (and close) message boxes.
        box.finished.connect(lambda result: QTimer.singleShot(0, lambda: answered(result)))
        return newest

    def recover(self, recovery: Recovery) -> bool:
        ok = self.open_project(recovery.path, recovered_from=recovery)
        if ok:
            self.statusBar().showMessage(f"Recovered {recovery.boxes} boxes — save to keep them.", 15000)
        return ok

    def _update_title(self, _clean: bool | None = None) -> None:
        if self.video is None:
            self.setWindowTitle(APP_NAME)
            return
        name = self.project_path.name if self.project_path else self.video.name
        dirty = "" if self.undo_stack.isClean() else " •"
        self.setWindowTitle(f"{name}{dirty} — {APP_NAME}")

    # -- import / export -------------------------------------------------------------------------

    def choose_import(self) -> None:
        from app.formats import FORMATS

        if self.video is None:
            self.show_error("Nothing to import into", "Open the video the annotations belong to first.")
            return
        names = sorted(n for n, f in FORMATS.items() if f.load is not None)
        filters = ";;".join(f"{FORMATS[n].title} ({n}) (*)" for n in names)
        path, chosen = QFileDialog.getOpenFileName(self, "Import annotations", self._start_dir(), filters)
        if not path:
            return
        name = chosen.rsplit("(", 2)[-2].strip(") ").strip() if "(" in chosen else names[0]
        self.import_annotations(name, path)

    def import_annotations(self, format_name: str, path: str | Path) -> bool:
        """Add the file's tracks as new tracks (one undo step); nothing changes on any error."""
        from app.formats import FORMATS, FormatError

        fmt = FORMATS.get(format_name)
        if fmt is None or fmt.load is None:
            self.show_error("Cannot import", f"{format_name}: not an importable format")
            return False
        try:
            loaded = fmt.load(Path(path), self.frame_count)
        except (FormatError, OSError, ValueError) as exc:
            self.show_error("Cannot import", str(exc))
            return False
        outside = [f for t in loaded for f in t.boxes if not 0 <= f < self.frame_count]
        if outside:
            self.show_error(
                "Cannot import",
                f"{path}: frame {outside[0]} is outside this video (0..{self.frame_count - 1})",
            )
            return False
        edit = self.annotations.import_edit(loaded, f"Import {Path(path).name}")
        self._push(edit)
        self.statusBar().showMessage(
            f"Imported {len(edit.tracks)} tracks, {len(edit.boxes)} boxes from {path}", 8000
        )
        return True

    def export(self) -> None:
        if self.video is None:
            self.show_error("Nothing to export", "Open a video and annotate it first.")
            return
        from app.export_dialog import export_with_dialog

        export_with_dialog(self, self.annotations, self.project().video, self.video.reader().frame)

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

    # -- editing -------------------------------------------------------------------------------

    def _push(self, edit: Edit, already_applied: bool = False) -> bool:
        return push_edit(self.undo_stack, self.annotations, edit, self._on_model_changed, already_applied)

    def _on_model_changed(self, edit: Edit) -> None:
        if edit.tracks:
            ids = self.annotations.tracks
            if self.selected_track not in ids:
                self.selected_track = next(iter(sorted(ids)), None)
            added = [c.after.id for c in edit.tracks if c.before is None and c.after is not None]
            if added:
                self.selected_track = added[-1]
        self.refresh()

    def _editable(self) -> bool:
        if self.video is None:
            self.show_error("Nothing to edit", "Open a video or a folder of images first (File → Open).")
            return False
        if self.run is not None:
            self.statusBar().showMessage("Stop tracking (Esc) before editing.", 4000)
            return False
        return True

    def select_track(self, track_id: int | None) -> None:
        if track_id is not None and track_id not in self.annotations.tracks:
            return
        self.selected_track = track_id
        self._new_track_pending = False
        self.refresh()

    def new_track(self) -> None:
        """The next box drawn starts a new track."""
        self._new_track_pending = True
        self.view.set_box(None)
        self.statusBar().showMessage("Draw a box around the new object (left-drag on the frame).", 8000)

    def set_box(self, box: Box | None, label: str = "object") -> None:
        """Put a box on the shown frame as if drawn with the mouse (a manual keyframe)."""
        if box is not None:
            self._on_box_drawn(box, label)

    def _on_box_drawn(self, box: Box | None, label: str = "object") -> None:
        if box is None or not self._editable():
            return
        frame = self.displayed_frame if self.displayed_frame is not None else self.current_frame
        try:
            if self._new_track_pending or self.selected_track not in self.annotations.tracks:
                entry = FrameBox(box, reviewed=True)
                edit = self.annotations.add_track_edit(self._label_for_new_track(label), boxes={frame: entry})
                self._new_track_pending = False
            else:
                edit = self.annotations.manual_box_edit(self.selected_track, frame, box)
        except (ValueError, IndexError) as exc:
            self.show_error("Box not set", str(exc))
            return
        self._push(edit)

    def _label_for_new_track(self, default: str) -> str:
        current = self.annotations.tracks.get(self.selected_track)
        return current.label if current is not None and default == "object" else default

    def _on_view_clicked(self, x: float, y: float) -> None:
        """A click on a box selects its track (the smallest box under the cursor wins)."""
        if self.displayed_frame is None:
            return
        hits = []
        for track in self.annotations:
            entry = track.get(self.displayed_frame)
            if entry is not None and entry.box is not None:
                bx, by, bw, bh = entry.box
                if bx <= x <= bx + bw and by <= y <= by + bh:
                    hits.append((bw * bh, track.id))
        if hits:
            self.select_track(min(hits)[1])

    def _selected_entry(self) -> tuple[int, int] | None:
        if not self._editable():
            return None
        if self.selected_track is None:
            self.statusBar().showMessage("No track selected: draw a box first.", 5000)
            return None
        return self.selected_track, self.current_frame

    def delete_box(self) -> None:
        target = self._selected_entry()
        if target is not None:
            self._push(self.annotations.delete_box_edit(*target))

    def delete_track(self, track_id: int | None = None) -> None:
        track_id = self.selected_track if track_id is None or track_id is False else track_id
        if track_id in self.annotations.tracks and self._editable():
            self._push(self.annotations.remove_track_edit(track_id))

    def relabel_track(self, track_id: int, label: str) -> None:
        if track_id in self.annotations.tracks and self._editable():
            self._push(self.annotations.relabel_edit(track_id, label))

    def toggle_flag(self, what: str) -> None:
        target = self._selected_entry()
        if target is None:
            return
        try:
            self._push(self.annotations.toggle_edit(*target, what))
        except ValueError as exc:
            self.statusBar().showMessage(str(exc), 5000)

    def accept_frame(self) -> None:
        """The person looked at this frame's box and accepts it: reviewed, flag cleared."""
        target = self._selected_entry()
        if target is None:
            return
        entry = self.annotations.track(target[0]).get(target[1])
        if entry is None:
            self.statusBar().showMessage("No box here to accept.", 4000)
            return
        self._push(
            self.annotations.set_box_edit(*target, entry.with_(flag="", reviewed=True), "Accept frame")
        )

    def interpolate(self) -> None:
        if not self._editable() or self.selected_track is None:
            return
        edit = self.annotations.interpolate_edit(self.selected_track)
        if not self._push(edit):
            self.statusBar().showMessage(
                "Nothing to interpolate: it needs two manual keyframes with a gap.", 6000
            )
        else:
            self.statusBar().showMessage(f"Interpolated {len(edit.boxes)} frames.", 5000)

    # -- tracking ------------------------------------------------------------------------------

    def start_tracking(
        self,
        path: str | Path | None = None,
        box: Box | None = None,
        frame: int | None = None,
        spec: TrackerSpec | None = None,
        direction: int = 1,
        end: int | None = None,
    ) -> bool:
        """Scripted use: open ``path``, show ``frame``, put ``box`` there and track from it
        (up to, not including, frame ``end`` when given)."""
        if path is not None and not self.open_path(path):
            return False
        if frame is not None:
            self.go_to(frame, now=True)
        if box is not None:
            self.set_box(box)
        return self.track(direction, spec=spec, end=end)

    def track_forward(self, spec: TrackerSpec | None = None) -> bool:
        return self.track(1, spec=spec if isinstance(spec, TrackerSpec) else None)

    def track_backward(self) -> bool:
        return self.track(-1)

    def track(
        self,
        direction: int = 1,
        all_tracks: bool = False,
        spec: TrackerSpec | None = None,
        end: int | None = None,
    ) -> bool:
        """(Re-)track from the current frame: the selected track, or every track with a box here.
        Each object stops before its next manual keyframe; manual boxes are never replaced."""
        if self.controller.running:
            return False
        if self.video is None:
            self.show_error("Nothing to track", "Open a video or a folder of images first (File → Open).")
            return False
        start = self.current_frame
        if self.displayed_frame != start:
            self.go_to(start, now=True)
        ids = sorted(self.annotations.tracks) if all_tracks else [self.selected_track]
        targets = []
        for track_id in ids:
            track = self.annotations.tracks.get(track_id)
            entry = track.get(start) if track is not None else None
            if entry is None or entry.box is None:
                continue
            span = self.annotations.tracking_span(track_id, start, direction)
            if end is not None:
                span = range(
                    span.start, min(span.stop, end) if direction == 1 else max(span.stop, end), direction
                )
            if len(span):
                targets.append(Target(track_id, entry.box, span.stop))
        if not targets:
            where = "after" if direction == 1 else "before"
            if any(
                (t := self.annotations.tracks.get(i)) is not None
                and t.get(start) is not None
                and t.get(start).box
                for i in ids
            ):
                self.statusBar().showMessage(
                    f"Nothing to track {where} frame {start}: a keyframe or the end.", 6000
                )
            else:
                self.show_error(
                    "No box", f"Draw a box around the object on frame {start} first (left-drag on the frame)."
                )
            return False
        spec = spec or self.tracker_panel.spec()
        if spec.weights is None and not has_shipped_weights(spec.name):
            self.show_error("No weights for this tracker", no_weights_message(spec.name))
            return False
        way = "forward" if direction == 1 else "backward"
        names = ", ".join(f"#{t.track_id}" for t in targets)
        run = Run(
            "track", f"Track {names} {way} from frame {start}", direction, tuple(t.track_id for t in targets)
        )
        return self._start_run(run, TrackJob(self.video.reader(), start, tuple(targets), spec, direction))

    def check_consistency(self) -> bool:
        """Track the selected object backward from the current frame to its previous manual
        keyframe and flag the frames where the backward box disagrees with the stored one (IoU
        below threshold). Run it from a frame whose box is right — typically one just corrected:
        the flags then show where the forward run went wrong. On a keyframe with no tracked
        frames before it, the tracked stretch after it is checked instead, from its end."""
        if self.controller.running or self.video is None or self.selected_track is None:
            return False
        track = self.annotations.track(self.selected_track)
        here = self.current_frame
        entry = track.get(here)
        first = track.previous_manual(here)
        if entry is not None and entry.box is not None and first is not None and here - first >= 2:
            last = here
        else:
            first = track.previous_manual(here + 1)
            if first is None:
                self.show_error(
                    "No keyframe", "The consistency check runs back to a manual keyframe before this frame."
                )
                return False
            last = first
            while (
                last + 1 < self.frame_count and (e := track.get(last + 1)) is not None and e.box is not None
            ):
                last += 1
                if e.is_manual:
                    break
        if last - first < 2:
            self.statusBar().showMessage(
                "Nothing tracked between the keyframe and this frame to check.", 6000
            )
            return False
        spec = self.tracker_panel.spec()
        if spec.weights is None and not has_shipped_weights(spec.name):
            self.show_error("No weights for this tracker", no_weights_message(spec.name))
            return False
        run = Run("check", f"Consistency check {first}–{last}", -1, (track.id,), check_range=(first, last))
        self.go_to(last, now=True)
        target = Target(track.id, track.get(last).box, first)
        return self._start_run(run, TrackJob(self.video.reader(), last, (target,), spec, -1))

    def _start_run(self, run: Run, job: TrackJob) -> bool:
        self.pause()
        self.run = run
        self._monitors = {t.track_id: DriftMonitor(self.drift_settings) for t in job.targets}
        for target in job.targets:
            self._monitors[target.track_id].reset(target.box)
            self.maps.setdefault(target.track_id, ResultsTable(self.frame_count))
        self.controller.start(job)
        self._follow = True
        self._run_failed = False
        self._set_running(True)
        self.statusBar().showMessage(f"Loading {job.spec.name}…")
        return True

    def stop_tracking(self, wait: bool = False) -> None:
        if wait:
            self.controller.shutdown()
        else:
            self.controller.stop()

    def _set_running(self, running: bool) -> None:
        self.tracker_panel.set_running(running)
        for action in (*self.run_actions, self.undo_action, self.redo_action):
            action.setEnabled(not running)
        if not running:  # the undo stack knows whether there is something to undo / redo
            self.undo_action.setEnabled(self.undo_stack.canUndo())
            self.redo_action.setEnabled(self.undo_stack.canRedo())
        self.stop_action.setEnabled(running)
        self.view.viewbox.drawing_enabled = not running
        self.progress_bar.setVisible(running)
        if running:
            self.progress_bar.setValue(0)
            self.progress_label.setText("")

    def _on_tracked(self, index: int, results: dict) -> None:
        run = self.run
        if run is None or run.paused_frame is not None:
            return  # results the worker sent before it saw the pause are dropped: it stops there
        for track_id, result in results.items():
            if run.kind == "check":  # compared at the end, never stored
                run.collected[index] = tuple(float(v) for v in result.box)
                continue
            self.maps[track_id].set_result(index, result)  # every result is kept, whatever is shown
            flag = self._monitors[track_id].update(index, result.box, result.score)
            if not result.ok:
                flag = result.message or "tracker lost the target (non-finite output)"
            changes = self.annotations.tracked_changes(
                track_id, [(index, tracked_box(result.box, result.score, flag))]
            )
            if changes:
                self.annotations.apply(Edit("", (), tuple(changes)))
                run.changes.extend(changes)
            if flag and self.drift_settings.pause_on_flag and not run.paused_at:
                run.paused_at = f"Paused at frame {index}: track #{track_id} {flag}"
                run.paused_frame = index
                self.controller.stop()
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
        run, self.run = self.run, None
        self.last_run = run
        self._set_running(False)
        self._follow = False
        message = ""
        if run is not None and run.kind == "track":
            # The whole run is one undo step; its boxes are in the model already.
            self._push(Edit(run.text, (), tuple(run.changes)), already_applied=True)
            message = run.paused_at or f"{run.text}: {len({c.frame for c in run.changes})} frames tracked"
        elif run is not None and run.kind == "check":
            message = self._finish_check(run)
        self.autosave_now()
        if not self._run_failed and message:  # keep a failure's message on the status bar
            self.statusBar().showMessage(message, 10000)
        if run is not None and run.paused_frame is not None:
            self._user_goto(run.paused_frame)
        self.refresh()

    def _finish_check(self, run: Run) -> str:
        track_id = run.track_ids[0]
        first, last = run.check_range
        track = self.annotations.track(track_id)
        stored = {
            f: e.box
            for f in range(first + 1, last)
            if (e := track.get(f)) is not None and e.box is not None and not e.is_manual
        }
        backward = {f: b for f, b in run.collected.items() if f in stored}
        if len(backward) < len(stored):
            return f"Consistency check stopped early: {len(backward)} of {len(stored)} frames compared."
        flags = consistency_flags(stored, backward, self.drift_settings.consistency_iou)
        self._push(
            self.annotations.flag_edit({(track_id, f): reason for f, reason in flags.items()}, run.text)
        )
        return f"{run.text}: {len(flags)} of {len(stored)} frames disagree (flagged)"

    def _set_pause_on_flag(self, enabled: bool) -> None:
        self.drift_settings = replace(self.drift_settings, pause_on_flag=bool(enabled))

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
