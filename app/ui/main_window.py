"""Siamark's main window: builds the video view, timeline, docks and menus, and connects them
to the session and its controllers.

- ``app.model.session.Session``: the document and what is shown (Qt-free, emits events);
- ``app.controllers``: ``DocumentsController`` (open, save, autosave, recovery),
  ``EditingController`` (undoable edits), ``ClassesController`` (the class list, a track's
  class), ``RunsController`` (tracking runs and checks);
- ``FramePresenter`` paints the session; ``Playback`` moves through it; ``FileActions`` asks
  the questions of the File menu (which file, save first?, recover?).

The window builds the widgets, menus and connections, and shows messages.
"""

from __future__ import annotations

import gc
from pathlib import Path

from PySide6.QtCore import QByteArray, QSize, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

import trackers
from app import APP_NAME
from app.controllers.classes import ClassesController
from app.controllers.comparisons import ComparisonController
from app.controllers.documents import DocumentsController
from app.controllers.editing import EditingController
from app.controllers.range_editing import RangeEditing
from app.controllers.runs import RunsController
from app.engine.jobs import TrackerSpec
from app.io.autosave import AutosaveStore
from app.model.session import Session
from app.services.settings import Settings
from app.ui import dialogs
from app.ui.batch_panel import BatchPanel
from app.ui.class_actions import ClassActions
from app.ui.compact_docks import CompactDocks
from app.ui.compare_actions import CompareActions
from app.ui.compare_grid import CompareGrid
from app.ui.compare_panel import ComparePanel
from app.ui.demo_mode import DemoMode
from app.ui.file_actions import FileActions
from app.ui.frame_presenter import FramePresenter
from app.ui.inside_panel import InsidePanel, InsideView
from app.ui.playback import Playback
from app.ui.response_panel import ResponsePanel
from app.ui.review_panel import ReviewPanel
from app.ui.shortcuts_dialog import ShortcutsDialog
from app.ui.theme import configure_pyqtgraph
from app.ui.timeline import Timeline
from app.ui.track_panel import TrackPanel
from app.ui.tracker_panel import TrackerPanel
from app.ui.video_view import VideoView
from trackers.base import Box

DEFAULT_SIZE = QSize(1400, 900)


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None, autosave: AutosaveStore | None = None):
        configure_pyqtgraph()
        super().__init__()
        self.settings = settings if settings is not None else Settings()
        self.session = Session()
        self.undo_stack = QUndoStack(self)
        self.last_error: str | None = None
        self._error_box: QMessageBox | None = None

        self.setWindowTitle(APP_NAME)
        self.resize(DEFAULT_SIZE)
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.AnimatedDocks | QMainWindow.AllowTabbedDocks)
        self._build_widgets()
        self.runs = RunsController(self.session, self.undo_stack, self, parent=self)
        self.editing = EditingController(self.session, self.undo_stack, self, lambda: self.runs.running)
        self.comparisons = ComparisonController(
            self.session,
            self.undo_stack,
            self,
            lambda: self.runs.running,
            self.editing.new_track_label,
            parent=self,
        )
        self.ranges = RangeEditing(self.editing)
        self.classes = ClassesController(self.session, self.editing, self)
        self.class_actions = ClassActions(self, self.session, self.classes, self.view)
        self.documents = DocumentsController(
            self.session,
            self.undo_stack,
            autosave if autosave is not None else AutosaveStore(),
            self,
            self.tracker_panel.tracker_name,
            lambda path: self.files.remember_recent(path),
        )
        self.files = FileActions(self, self.session, self.documents, self.settings)
        self.presenter = FramePresenter(
            self.session,
            self.view,
            self.timeline,
            self.track_panel,
            self.response_panel,
            self,
            lambda: self.runs.running,
            self._recent_frame,
            self,
        )
        self.playback = Playback(self.session, self.timeline, self, self.settings, self)
        self.playback.on_user_move = self._user_moved
        self.inside = InsideView(self.session, self.runs, self.inside_dock, self.inside_panel, self.view)
        self._build_menus()
        self.demo = DemoMode(self)  # after the menus: its F11 comes last in the shortcuts list
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.demo.toggle_action)
        self.compare_actions = CompareActions(
            self,
            self.session,
            self.comparisons,
            self.compare_dock,
            self.compare_grid,
            lambda: self.runs.running,
            self.presenter.frame_image,
        )
        self.track_menu.addSeparator()
        self.track_menu.addMenu(self.compare_actions.menu)
        self.view_menu.addAction(self.compare_dock.toggleViewAction())
        self._connect()
        self._restore_settings()
        # Everything imported and built so far lives as long as the app: out of the collector's
        # sight, a full collection (which holds the GIL, in whichever thread triggers it, e.g.
        # the tracking worker building a model) takes milliseconds instead of ~100 ms.
        gc.freeze()

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
        self.compare_grid = CompareGrid()  # a comparison side by side, in the view's place
        self.compare_grid.hide()
        layout.addWidget(self.compare_grid, 1)
        layout.addWidget(self.timeline)
        self.setCentralWidget(central)

        self.track_panel = TrackPanel()
        self.track_dock = self._dock("Tracks", "track_dock", self.track_panel)
        self.tracker_panel = TrackerPanel()
        self.tracker_dock = self._dock("Tracker", "tracker_dock", self.tracker_panel)
        self.response_panel = ResponsePanel()
        self.response_dock = self._dock("Response map", "response_dock", self.response_panel)
        self.review_panel = ReviewPanel(self.session, lambda: self.runs.running)
        self.review_dock = self._dock("Review", "review_dock", self.review_panel)
        self.tabifyDockWidget(self.response_dock, self.review_dock)
        self.batch_panel = BatchPanel()
        self.batch_dock = self._dock("Batch", "batch_dock", self.batch_panel)
        self.tabifyDockWidget(self.review_dock, self.batch_dock)
        self.batch_dock.hide()  # until a batch output folder is opened
        self.inside_panel = InsidePanel()
        self.inside_dock = self._dock("Inside the tracker", "inside_dock", self.inside_panel)
        self.tabifyDockWidget(self.batch_dock, self.inside_dock)
        self.inside_dock.hide()  # runs record what it shows only while it is open (View menu)
        self.compare_dock = self._dock("Compare", "compare_dock", ComparePanel())
        self.tabifyDockWidget(self.batch_dock, self.compare_dock)
        self.compare_dock.hide()  # until Track → Compare trackers… (Ctrl+Shift+C)
        self.response_dock.raise_()
        docks = [self.track_dock, self.tracker_dock, self.response_dock]
        # Default layout (a saved window state replaces it): narrow docks, video gets the room.
        self.resizeDocks(docks, [360, 360, 360], Qt.Horizontal)
        self.resizeDocks(docks, [200, 230, 400], Qt.Vertical)
        self.compact_docks = CompactDocks(self, self.track_dock, self.tracker_dock, self.response_dock)

        self.progress_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(180)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.hide()
        self.statusBar().addPermanentWidget(self.progress_label)
        self.statusBar().addPermanentWidget(self.progress_bar)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(self.settings.autosave_interval_ms)

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

    def _menu(self, title: str, entries, submenu: bool = False) -> QMenu:
        """A menu of actions, submenus and separators (None): on the menu bar, or to put in
        another menu (``submenu``)."""
        menu = QMenu(title, self)
        if not submenu:
            self.menuBar().addMenu(menu)
        for entry in entries:
            if entry is None:
                menu.addSeparator()
            elif isinstance(entry, QMenu):
                menu.addMenu(entry)
            else:
                menu.addAction(entry)
        return menu

    def _build_menus(self) -> None:
        a, editing, playback = self._action, self.editing, self.playback
        self.recent_menu = QMenu("&Recent files", self)
        self.record_action = a("&Record view as MP4 / GIF…", self.record_view, "Ctrl+Shift+R")
        self.record_action.setStatusTip(
            "Record the view of a run (boxes, labels, response overlay, score strip), one picture per frame"
        )
        self.png_action = a("Save view as &PNG…", self.save_view_png, "Ctrl+Shift+P")
        self.png_action.setStatusTip("Save the frame on screen as the view shows it, at the video's size")
        self._menu(
            "&File",
            [
                a("&Open video or project…", self.files.choose_video, QKeySequence.Open),
                a("Open &folder of images…", self.files.choose_folder, "Ctrl+Shift+O"),
                a("Open &demo clip", self.files.open_demo),
                a("Open &batch results…", self.files.choose_batch),
                a("Next batch pro&ject", self.files.next_batch_project, "Ctrl+Alt+N"),
                self.recent_menu,
                None,
                a("&Save project", self.files.save, QKeySequence.Save),
                a("Save project &as…", self.files.save_as, "Ctrl+Shift+S"),
                None,
                a("&Import annotations…", self.files.choose_import, "Ctrl+I"),
                a("&Export annotations…", self.files.export, "Ctrl+E"),
                None,
                self.record_action,
                self.png_action,
                None,
                a("&Quit", self.close, QKeySequence.Quit),
            ],
        )

        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence.Undo)
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.addActions([self.undo_action, self.redo_action])
        self.new_track_action = a("&New track (next box drawn)", self.new_track, "N")
        self._menu(
            "&Edit",
            [
                self.undo_action,
                self.redo_action,
                None,
                self.new_track_action,
                a("&Delete box on this frame", editing.delete_box, "Del"),
                a("Delete &track", lambda: editing.delete_track(), "Shift+Del"),
                a("Toggle &occluded", lambda: editing.toggle_flag("occluded"), "O"),
                a("Toggle &absent / out of view", lambda: editing.toggle_flag("absent"), "A"),
                a("Accept frame (mark &reviewed)", editing.accept_frame, "K"),
                a("&Interpolate between keyframes", editing.interpolate, "I"),
                self.class_actions.menu,
                None,
                a("S&plit track here", self.ranges.split_here, "Ctrl+K"),
                a("&Merge with track…", self.merge_tracks, "Ctrl+M"),
                self._range_menu(),
                self._review_menu(),
                None,
                a("&Preferences…", self.show_preferences, "Ctrl+,"),
            ],
        )

        self.overlay_action = a("Response &overlay on frame", self.set_overlay_enabled, "R", True)
        self.overlay_action.setToolTip("Lay the response map on the frame where the tracker computed it (R)")
        self.response_panel.set_overlay_action(self.overlay_action)
        self.inside_overlay_action = a(
            "&Inside: search region and candidates on frame", self.inside.set_overlay_enabled, "Shift+R", True
        )
        self.inside_overlay_action.setToolTip(
            "Draw the search region, the anchors / points around the winner and the chosen one on the "
            "frame (Shift+R; from the Inside the tracker dock's records)"
        )
        self.inside_panel.set_overlay_action(self.inside_overlay_action)
        inside_toggle = self.inside_dock.toggleViewAction()
        inside_toggle.setShortcut("Ctrl+Shift+I")
        inside_toggle.setToolTip(
            "Inside the tracker: the template, score, per-level maps, penalty, cosine window and the "
            "final map of each tracked frame (Ctrl+Shift+I; runs record them only while it is open)"
        )
        self.view_menu = self._menu(
            "&View",
            [
                self.overlay_action,
                self.inside_overlay_action,
                a("&Fit frame", self.view.fit, "F"),
                None,
                *(
                    d.toggleViewAction()
                    for d in (
                        self.track_dock,
                        self.tracker_dock,
                        self.response_dock,
                        self.review_dock,
                        self.batch_dock,
                        self.inside_dock,
                    )
                ),
            ],
        )
        self._menu(
            "&Playback",
            [
                a("&Play / pause", playback.toggle, "Space"),
                a("P&revious frame", lambda: playback.step(-1), "Left"),
                a("&Next frame", lambda: playback.step(1), "Right"),
                a("Back 10 frames", lambda: playback.step(-10), "Shift+Left"),
                a("Forward 10 frames", lambda: playback.step(10), "Shift+Right"),
                a("Back 100 frames", lambda: playback.step(-100), "PgUp"),
                a("Forward 100 frames", lambda: playback.step(100), "PgDown"),
                a("F&irst frame", playback.first, "Home"),
                a("La&st frame", playback.last, "End"),
                a("&Go to frame…", self.timeline.edit_frame, "Ctrl+G"),
                None,
                a("Previous &keyframe of the track", lambda: playback.jump_keyframe(-1), "Ctrl+Left"),
                a("Next keyframe of the &track", lambda: playback.jump_keyframe(1), "Ctrl+Right"),
                a("Next &flagged frame", lambda: playback.jump_flag(1), "]"),
                a("Previous f&lagged frame", lambda: playback.jump_flag(-1), "["),
            ],
        )

        # Started from the Track menu; all disabled while a run is in progress.
        self.run_actions = (
            a("Track &forward (selected)", self.track_forward, "T"),
            a("Track &backward (selected)", self.track_backward, "Shift+T"),
            a("Track all &objects forward", lambda: self.track(1, True), "Ctrl+T"),
            a("Track all objects back&ward", lambda: self.track(-1, True), "Ctrl+Shift+T"),
            a("&Check forward / backward consistency", self.check_consistency, "C"),
        )
        self.stop_action = a("&Stop", self.stop_tracking, "Esc")
        self.stop_action.setEnabled(False)
        drift = self.session.drift_settings
        self.pause_on_flag_action = a(
            "&Pause at flagged frames",
            lambda on: self.session.change_drift_settings(pause_on_flag=bool(on)),
            None,
            True,
        )
        self.pause_on_flag_action.setChecked(drift.pause_on_flag)
        self.fuse_action = a(
            "&Fuse with a run back from the next keyframe",
            lambda on: self.session.change_drift_settings(fuse_with_keyframes=bool(on)),
            None,
            True,
        )
        self.fuse_action.setChecked(drift.fuse_with_keyframes)
        self.track_menu = self._menu(
            "&Track", [*self.run_actions, self.stop_action, None, self.pause_on_flag_action, self.fuse_action]
        )
        self._menu(
            "&Help",
            [a("&Shortcuts", self.show_shortcuts, "F1"), a("&About Siamark", self.show_about)],
        )

    def _range_menu(self) -> QMenu:
        a, ranges = self._action, self.ranges
        over = (
            "the marked range (every frame in it); with none marked, from this frame to the end of "
            "the tracked span (up to the next keyframe; keyframes kept)"
        )
        self.clear_range_action = a("&Clear range", ranges.clear, "Shift+X")
        self.clear_range_action.setEnabled(False)
        actions = [
            a("Set range &start here", ranges.mark_in, "Shift+I"),
            a("Set range &end here", ranges.mark_out, "Shift+O"),
            self.clear_range_action,
            None,
            a("&Accept range / rest of span", ranges.accept, "Shift+K"),
            a("Mark range / rest of span a&bsent", ranges.mark_absent, "Shift+A"),
            a("&Delete boxes in range / rest of span", ranges.delete, "Ctrl+Del"),
        ]
        for action, tip in zip(actions[4:], ("Accept", "Mark absent", "Delete the boxes of"), strict=True):
            action.setStatusTip(f"{tip} the selected track over {over}")
        return self._menu("&Range", actions, submenu=True)

    def _review_menu(self) -> QMenu:
        a, panel = self._action, self.review_panel
        following = a("&Next flagged item", lambda: panel.step(1), "J")
        previous = a("&Previous flagged item", lambda: panel.step(-1), "Shift+J")
        accept = a("&Accept all flagged in range", self.ranges.accept_review_items, "Ctrl+Shift+K")
        for action, tip in (
            (following, "Go to where the next run of flagged frames starts and select its track (J)"),
            (
                previous,
                "Go to where the previous run of flagged frames starts and select its track (Shift+J)",
            ),
            (accept, "Accept every flagged frame of every track in the marked range (Ctrl+Shift+K)"),
        ):
            action.setToolTip(tip)
        panel.set_actions(previous, following, accept)
        return self._menu("Re&view", [following, previous, accept], submenu=True)

    def _connect(self) -> None:
        session = self.session
        session.document_changed.connect(self._update_title)
        session.settings_changed.connect(self._show_drift_settings)
        self.undo_stack.cleanChanged.connect(self._update_title)
        self.batch_panel.open_requested.connect(self.files.open_batch_project)
        self.autosave_timer.timeout.connect(self.documents.autosave_now)
        self.autosave_timer.start()
        self.timeline.frame_requested.connect(self.playback.go_to)
        self.timeline.step_requested.connect(self.playback.step)
        self.timeline.play_toggled.connect(self.playback.toggle)
        self.timeline.track_requested.connect(self.editing.select)
        self.view.box_changed.connect(self.set_box)
        self.view.clicked.connect(lambda x, y: self.editing.click(self._drawn_frame(), x, y))
        self.track_panel.selected.connect(self.editing.select)
        session.range_changed.connect(self._show_range)
        self.review_panel.item_requested.connect(self.show_review_item)
        self.review_panel.message.connect(self.show_status)
        self.track_panel.new_requested.connect(self.new_track)
        self.track_panel.delete_requested.connect(self.editing.delete_track)
        self.track_panel.relabel_requested.connect(self.classes.set_track_class)
        class_panel = self.track_panel.classes
        class_panel.activated.connect(self.classes.set_active)
        class_panel.add_requested.connect(self.classes.add)
        class_panel.rename_requested.connect(self.classes.rename)
        class_panel.recolour_requested.connect(self.classes.recolour)
        class_panel.remove_requested.connect(self.classes.remove)
        self.editing.ask_class = self.class_actions.ask
        self.tracker_panel.track_requested.connect(self.track_forward)
        self.tracker_panel.stop_requested.connect(self.stop_tracking)
        self.tracker_panel.error.connect(self.show_error)
        self.tracker_panel.spec_changed.connect(self._save_tracker_choice)
        self.response_panel.track_chosen.connect(session.set_response_track)
        self.response_panel.opacity_changed.connect(self._set_overlay_opacity)
        self.runs.running_changed.connect(self._set_running)
        self.runs.progress.connect(self._on_progress)
        self.runs.run_finished.connect(self._on_run_finished)

    # -- feedback (app.controllers.feedback.Feedback) ------------------------------------------

    def show_error(self, title: str, message: str) -> None:
        """Status bar + a window-modal box that does not block the caller (tests can read it)."""
        self.last_error = message
        self.statusBar().showMessage(f"{title}: {message.splitlines()[0] if message else ''}", 15000)
        self.message(QMessageBox.Warning, title, message)

    def show_status(self, message: str, timeout_ms: int = 5000) -> None:
        self.statusBar().showMessage(message, timeout_ms)

    def message(self, icon, title: str, text: str) -> QMessageBox:
        if self._error_box is not None:
            self._error_box.close()
        box = QMessageBox(icon, title, text, QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.finished.connect(lambda _result: setattr(self, "_error_box", None))
        box.open()  # returns at once, unlike exec()
        self._error_box = box
        return box

    # -- frames and editing ----------------------------------------------------------------------

    def go_to(self, frame: int, now: bool = False) -> None:
        """Show ``frame``: at the next coalesced repaint, or at once with ``now``."""
        self.session.go_to(frame)
        self.presenter.schedule(now)

    def _user_moved(self) -> None:
        self.runs.follow = False  # the person took over the view from the running tracker
        self.comparisons.follow = False

    def _recent_frame(self, index: int):
        """A frame the tracking run or the comparison decoded lately (shown without decoding it again)."""
        frame = self.runs.recent_frame(index)
        return frame if frame is not None else self.comparisons.recent_frame(index)

    def _drawn_frame(self) -> int:
        shown = self.presenter.displayed_frame
        return shown if shown is not None else self.session.current_frame

    def set_box(self, box: Box | None, label: str | None = None) -> None:
        """A box drawn on the shown frame (also: scripted use, as if drawn with the mouse); a
        new track gets class ``label``, else the active class and the class picker."""
        self.editing.draw_box(self._drawn_frame(), box, label)

    def merge_tracks(self) -> None:
        """Ask which track joins the selected one, then merge them (one undo step)."""
        others = self.ranges.merge_candidates()
        if others:
            chosen = dialogs.ask_merge_track(
                self, self.session.annotations, self.session.selected_track, others
            )
            if chosen is not None:
                self.ranges.merge_with(chosen)

    def show_review_item(self, track_id: int, frame: int) -> None:
        self.playback.pause()
        self.editing.select(track_id)
        self.playback.go_to(frame)

    def _show_range(self, selected: tuple[int, int] | None) -> None:
        self.timeline.set_range(selected)
        self.clear_range_action.setEnabled(selected is not None)

    def new_track(self) -> None:
        self.editing.new_track()
        self.view.set_box(None)

    def set_overlay_enabled(self, enabled: bool) -> None:
        self.view.set_overlay_enabled(enabled)
        if self.overlay_action.isChecked() != enabled:
            self.overlay_action.setChecked(enabled)
        self.presenter.schedule()

    def _set_overlay_opacity(self, opacity: float) -> None:
        self.view.set_overlay_opacity(opacity)
        self.settings.overlay_opacity = opacity

    # -- tracking ------------------------------------------------------------------------------

    def track(
        self, direction: int = 1, all_tracks: bool = False, spec: TrackerSpec | None = None, end=None
    ) -> bool:
        if self.runs.running or self.comparisons.running:
            return False
        self.playback.pause()
        self.presenter.schedule(now=True)  # the run starts from the frame on screen
        return self.runs.track(spec or self.tracker_panel.spec(), direction, all_tracks, end)

    def track_forward(self, spec: TrackerSpec | None = None) -> bool:
        return self.track(1, spec=spec if isinstance(spec, TrackerSpec) else None)

    def track_backward(self) -> bool:
        return self.track(-1)

    def check_consistency(self) -> bool:
        self.playback.pause()
        return self.runs.check_consistency(self.tracker_panel.spec())

    def start_tracking(self, path=None, box=None, frame=None, spec=None, direction=1, end=None) -> bool:
        """Scripted use: open ``path``, show ``frame``, put ``box`` there and track from it
        (up to, not including, frame ``end`` when given)."""
        if path is not None and not self.files.open_path(path):
            return False
        if frame is not None:
            self.go_to(frame, now=True)
        if box is not None:
            self.set_box(box)
        return self.track(direction, spec=spec, end=end)

    def stop_tracking(self, wait: bool = False) -> None:
        self.runs.stop(wait)

    def _set_running(self, running: bool) -> None:
        self.tracker_panel.set_running(running)
        for action in (*self.run_actions, self.record_action, self.undo_action, self.redo_action):
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
        self.presenter.refresh(now=not running)

    def _on_progress(self, done: int, total: int, fps: float) -> None:
        self.progress_bar.setMaximum(max(total, 1))
        self.progress_bar.setValue(done)
        self.progress_label.setText(f"{done}/{total} frames · {fps:.1f} fps")

    def _on_run_finished(self, message: str) -> None:
        self.documents.autosave_now()
        if message:  # a failure's message stays on the status bar
            self.show_status(message, 10000)
        self.presenter.refresh()

    def _show_drift_settings(self, settings) -> None:
        self.pause_on_flag_action.setChecked(settings.pause_on_flag)
        self.fuse_action.setChecked(settings.fuse_with_keyframes)

    def _update_title(self, _clean: bool | None = None) -> None:
        name = self.documents.display_name()
        dirty = "" if self.undo_stack.isClean() else " •"
        self.setWindowTitle(f"{name}{dirty} — {APP_NAME}" if name else APP_NAME)

    # -- recording the view ----------------------------------------------------------------------

    def record_view(self) -> QDialog | None:
        """The Record view dialog (window-modal, returns at once)."""
        if self.session.video is None:
            self.show_error("Nothing to record", "Open a video and track something first.")
            return None
        from app.ui.record_dialog import RecordDialog

        dialog = RecordDialog(self, self.session, self.view.overlay_enabled, self.view.overlay.opacity())
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.show_status(dialog.message, 30000))
        dialog.open()
        self.record_dialog = dialog
        return dialog

    def save_view_png(self, path: str | Path | None = None) -> Path | None:
        """The frame on screen as the view shows it, to a PNG (asks where without ``path``)."""
        if self.session.video is None:
            self.show_error("Nothing to save", "Open a video first.")
            return None
        from app.ui.record_dialog import ask_png_path, save_view_png

        # (a menu's trigger passes its checked state, not a path)
        path = path if isinstance(path, (str, Path)) and path else ask_png_path(self, self.session)
        if not path:
            return None
        try:
            saved = save_view_png(self.session, path, self.view.overlay_enabled, self.view.overlay.opacity())
        except OSError as exc:
            self.show_error("Cannot save the view", str(exc))
            return None
        self.show_status(f"Saved frame {self.session.current_frame} as shown to {saved}", 15000)
        return saved

    # -- help ------------------------------------------------------------------------------------

    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self.actions(), self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()
        self.shortcuts_dialog = dialog
        return dialog

    def show_about(self) -> QDialog:
        from app.ui.about_dialog import AboutDialog  # reads the model card and probes the devices

        dialog = AboutDialog(self, self.tracker_panel.spec())
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()
        self.about_dialog = dialog
        return dialog

    # -- preferences -----------------------------------------------------------------------------

    def show_preferences(self) -> QDialog:
        from app.ui.settings_dialog import Preferences, SettingsDialog

        current = Preferences(
            self.session.drift_settings,
            self.settings.autosave_interval_ms,
            self.tracker_panel.tracker_name(),
            self.tracker_panel.device(),
            self.settings.export_defaults,
        )
        dialog = SettingsDialog(self, current)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.apply_preferences(dialog.preferences()))
        dialog.open()
        self.preferences_dialog = dialog
        return dialog

    def apply_preferences(self, preferences) -> None:
        """The Preferences dialog's values: on the open document and the app, and stored."""
        settings = self.settings
        self.session.set_drift_settings(preferences.drift)
        settings.drift_settings = preferences.drift
        settings.autosave_interval_ms = preferences.autosave_interval_ms
        self.autosave_timer.setInterval(settings.autosave_interval_ms)
        self.tracker_panel.set_tracker(preferences.tracker)
        self.tracker_panel.set_device(preferences.device)
        settings.export_defaults = preferences.export
        self._save_tracker_choice()
        settings.sync()
        self.show_status("Preferences saved.", 4000)

    # -- drag and drop -------------------------------------------------------------------------

    def dragEnterEvent(self, event) -> None:
        if self._dropped_path(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        path = self._dropped_path(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.files.open_path(path)

    @staticmethod
    def _dropped_path(mime) -> Path | None:
        urls: list[QUrl] = mime.urls() if mime.hasUrls() else []
        local = [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]
        return local[0] if local else None

    # -- settings ------------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        settings = self.settings
        # The docks first: their arrangement (e.g. compact tabs) decides how small the window
        # may be, and the geometry is clamped to that.
        if settings.window_state:
            self.restoreState(QByteArray(settings.window_state))
        if settings.window_geometry:
            self.restoreGeometry(QByteArray(settings.window_geometry))
        self.session.set_drift_settings(settings.drift_settings)
        self.response_panel.set_opacity(settings.overlay_opacity)
        # read all three before any is saved (each set_ below saves the panel's choice)
        tracker, device, precision = settings.last_tracker, settings.device, settings.precision
        if tracker in trackers.names():
            self.tracker_panel.set_tracker(tracker)
        self.tracker_panel.set_device(device)
        self.tracker_panel.set_precision(precision)
        self.files.refresh_recent_menu()

    def _save_tracker_choice(self) -> None:
        self.settings.last_tracker = self.tracker_panel.tracker_name()
        self.settings.device = self.tracker_panel.device()
        self.settings.precision = self.tracker_panel.precision()

    def closeEvent(self, event) -> None:
        # Unsaved work: save it, drop it, or stay. A window that closes leaves no autosave, so
        # the next start offers a recovery only after a crash.
        if self._error_box is not None:
            self._error_box.close()  # the question comes alone, not over an old message
        if not self.files.confirm_discard():
            event.ignore()
            return
        self.playback.pause()
        self.runs.stop(wait=True)  # no tracking thread outlives the window
        self.comparisons.stop(wait=True)
        self.demo.leave()  # the layout saved is the person's, not the demo's
        self._save_window_state()
        self.documents.finish()
        super().closeEvent(event)

    def _save_window_state(self) -> None:
        self.settings.window_geometry = bytes(self.saveGeometry().data())
        self.settings.window_state = bytes(self.saveState().data())
        self._save_tracker_choice()
        self.settings.sync()
