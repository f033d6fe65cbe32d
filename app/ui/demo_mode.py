"""Demo mode, for talks: View > Demo mode (F11; Esc or F11 leaves).

The window goes full screen with the video alone: docks, menu bar and status bar hidden, the
strip under the video reduced to a big score curve (S hides it), on-frame chips and outlines
scaled for the room (``label_scale``), a HUD in the top-left corner, the live response map as a
picture-in-picture (P shows / hides it, Shift+P moves it) and a card of the keys (H).

Keyboard only: Space tracks forward from the frame shown, or stops the run (at the last frame it
restarts); Left / Right step (stopping a run first); R restarts: back to the keyframe where the
last run began and track again from it; N switches to the next tracker with shipped weights and
restarts with it. The keys are actions on the window only in demo mode (so no two of its actions
share a key otherwise); the window's actions on the same keys are hidden meanwhile (a hidden
action's shortcut is off), and everything is put back exactly on leaving: dock layout, menu bar,
status bar, window state and geometry.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QEvent, QObject, QRect, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget

import trackers
from app.engine.jobs import has_shipped_weights
from app.ui.demo_overlays import DemoBanner, DemoHelpCard, DemoHud
from app.ui.frame_labels import label_scale
from app.ui.pip_response import PipResponse
from app.ui.shortcuts_dialog import shortcut_rows

BANNER_MS = 1500  # how long the next tracker's name stays up
STRIP_SHARE = 0.18  # the score strip's height, as a share of the screen's
TICK_PIXELS = 11  # the strip's axis numbers at scale 1


@dataclass(frozen=True)
class _Saved:
    """The window as it was before demo mode, put back on leaving."""

    state: QByteArray  # docks and toolbars (QMainWindow.saveState)
    geometry: QRect
    window_state: Qt.WindowState
    menu_bar: bool
    status_bar: bool
    compact_docks: bool  # the compact-docks flag that goes with that layout


class DemoMode(QObject):
    """Demo mode of ``window`` (the MainWindow): its View menu action, keys and overlays."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.active = False
        self._saved: _Saved | None = None
        #: the dock layout again once the window is back at its size (see ``leave``)
        self._layout_pending = False
        self._hidden_actions: list[QAction] = []
        self._restart_pending = False
        #: where the last tracking run began: (track id, frame)
        self.last_start: tuple[int, int] | None = None
        #: trackers N cycles through: those that can track out of the box
        self.tracker_names = [n for n in trackers.names() if has_shipped_weights(n)]
        self.strip_shown = True
        self.pip_shown = True
        self._strip_height = 0  # set from the screen on entering

        view = window.view
        self.pip = PipResponse(view)
        self.hud = DemoHud(view, lambda: window.session.frame_count)
        self.banner = DemoBanner(view)
        self.help_card = DemoHelpCard(view)
        window.presenter.result_views.extend((self.pip, self.hud))
        view.installEventFilter(self)  # overlays follow the view's size
        window.installEventFilter(self)  # the layout is put back at the window's own size

        self.toggle_action = QAction("&Demo mode (full screen, for talks)", window)
        self.toggle_action.setShortcut(QKeySequence("F11"))
        window.addAction(self.toggle_action)  # the key works with the menu bar hidden
        self.toggle_action.setCheckable(True)
        self.toggle_action.toggled.connect(self.set_active)
        self.toggle_action.setToolTip(
            "Full screen with big overlays and keyboard-only control, for a projector (F11; Esc leaves)"
        )
        self.toggle_action.setStatusTip(self.toggle_action.toolTip())
        a = self._demo_action
        self.actions = [
            a("Demo: track forward / stop", self.toggle_run, "Space"),
            a("Demo: previous frame", lambda: self.step(-1), "Left"),
            a("Demo: next frame", lambda: self.step(1), "Right"),
            a("Demo: restart the run from its keyframe", self.restart, "R"),
            a("Demo: next tracker (restarts the run)", self.next_tracker, "N"),
            a("Demo: response map picture-in-picture on / off", self.toggle_pip, "P"),
            a("Demo: move the picture-in-picture to the next corner", self.move_pip, "Shift+P"),
            a("Demo: score strip on / off", self.toggle_strip, "S"),
            a("Demo: show / hide these keys", self.toggle_help, "H"),
            a("Demo: leave (back to the editing layout)", lambda: self.set_active(False), "Esc"),
        ]
        self.help_card.set_rows(
            [(key, what.removeprefix("Demo: ")) for key, what in shortcut_rows(self.actions)]
            + [("F11", "demo mode on / off")]
        )

        runs = window.runs
        runs.running_changed.connect(self._on_running)
        runs.progress.connect(self.hud.set_progress)
        window.tracker_panel.spec_changed.connect(self._show_tracker)
        window.statusBar().messageChanged.connect(self.hud.set_message)
        self._show_tracker()

    def _demo_action(self, text: str, slot, key: str) -> QAction:
        """A key of demo mode: on the window (so live) only while in demo mode."""
        action = QAction(text, self.window)
        action.setShortcut(QKeySequence(key))
        action.triggered.connect(slot)
        return action

    # -- entering and leaving --------------------------------------------------------------------

    def set_active(self, on: bool) -> None:
        if on:
            self.enter()
        else:
            self.leave()

    def enter(self) -> None:
        if self.active:
            return
        window = self.window
        self._saved = _Saved(
            window.saveState(),
            window.geometry(),
            window.windowState(),
            window.menuBar().isVisible(),
            window.statusBar().isVisible(),
            window.compact_docks.compact,
        )
        self.active = True
        self._layout_pending = False
        window.playback.pause()
        for dock in window.findChildren(QDockWidget):
            dock.hide()
        window.menuBar().hide()
        window.statusBar().hide()
        screen = window.screen().geometry()
        scale = label_scale(screen.height())
        self._strip_height = round(screen.height() * STRIP_SHARE)
        window.view.set_label_scale(scale)
        self._show_strip()
        for overlay in (self.pip, self.hud, self.banner, self.help_card):
            overlay.set_scale(scale)
        self._set_keys(True)
        window.showFullScreen()
        window.setGeometry(screen)  # where no window manager makes a window full screen
        self.hud.show()
        self.pip.setVisible(self.pip_shown)
        self._place_overlays()
        self.toggle_action.setChecked(True)
        window.presenter.refresh(now=True)
        self.banner.flash("Demo mode · H: keys · Esc: leave", 2 * BANNER_MS)

    def leave(self) -> None:
        if not self.active:
            return
        window, saved = self.window, self._saved
        self.active = False
        self._set_keys(False)
        for overlay in (self.pip, self.hud, self.banner, self.help_card):
            overlay.hide()
        window.view.set_label_scale(1.0)
        window.timeline.set_score_only(False)
        window.timeline.show()
        window.menuBar().setVisible(saved.menu_bar)
        window.statusBar().setVisible(saved.status_bar)
        window.setWindowState(saved.window_state)
        if not saved.window_state & (Qt.WindowMaximized | Qt.WindowFullScreen):
            window.setGeometry(saved.geometry)  # where no window manager put it back
        # The layout comes back with the flag that goes with it: the resize back to the saved
        # size then moves no dock.
        window.compact_docks.compact = saved.compact_docks
        window.restoreState(saved.state)
        # Docks laid out at the full-screen size get other sizes when the window shrinks back:
        # the layout once more when it has (the platform resizes it later).
        self._layout_pending = window.size() != saved.geometry.size()
        self.toggle_action.setChecked(False)
        QTimer.singleShot(0, window.view.fit)

    def _set_keys(self, demo: bool) -> None:
        """Turn the demo's actions on (and the window's actions on the same keys off), or back."""
        if demo:
            self.window.addActions(self.actions)
            keys = {key.toString() for action in self.actions for key in action.shortcuts()}
            self._hidden_actions = [
                action
                for action in self.window.actions()
                if action not in self.actions
                and action.isVisible()
                and any(key.toString() in keys for key in action.shortcuts())
            ]
        for action in self._hidden_actions:
            action.setVisible(not demo)  # an invisible action's shortcut is off; its enabled state stays
        if not demo:
            self._hidden_actions = []
            for action in self.actions:
                self.window.removeAction(action)

    # -- layout ----------------------------------------------------------------------------------

    def eventFilter(self, watched, event) -> bool:
        if event.type() != QEvent.Resize:
            return False
        window = self.window
        if self.active and watched is window.view:
            self._place_overlays()
            QTimer.singleShot(0, window.view.fit)  # the frame fills the new size
        elif self._layout_pending and watched is window and event.size() == self._saved.geometry.size():
            self._layout_pending = False
            window.restoreState(self._saved.state)
        return False

    def _place_overlays(self) -> None:
        for overlay in (self.hud, self.pip, self.banner, self.help_card):
            overlay.place()
            overlay.raise_()

    def _show_strip(self) -> None:
        timeline = self.window.timeline
        timeline.set_score_only(True, self._strip_height, round(TICK_PIXELS * self.window.view.label_scale))
        timeline.setVisible(self.strip_shown)

    # -- keys ------------------------------------------------------------------------------------

    def toggle_run(self) -> None:
        """Stop the run; or track forward from the frame shown (restart at the last frame)."""
        window, session = self.window, self.window.session
        if window.runs.running:
            self._restart_pending = False
            window.stop_tracking()
        elif session.video is not None and session.current_frame >= session.frame_count - 1:
            self.restart()
        else:
            window.track_forward()

    def step(self, delta: int) -> None:
        if self.window.runs.running:
            self._restart_pending = False
            self.window.stop_tracking()
        self.window.playback.step(delta)

    def restart_frame(self) -> int | None:
        """The selected track's keyframe where the last run began (or the last one before it;
        before any run: the last one up to the frame shown)."""
        session = self.window.session
        track = session.annotations.tracks.get(session.selected_track)
        if track is None:
            return None
        start = session.current_frame
        if self.last_start is not None and self.last_start[0] == track.id:
            start = self.last_start[1]
        entry = track.get(start)
        return start if entry is not None and entry.is_manual else track.previous_manual(start)

    def restart(self) -> None:
        """Back to the keyframe the last run began from and track again (a run in progress is
        stopped first; the new one starts when it has ended)."""
        window = self.window
        if window.runs.running:
            self._restart_pending = True
            window.stop_tracking()
            return
        frame = self.restart_frame()
        if frame is None:
            window.show_status("Nothing to restart: the selected track has no keyframe here or before.")
            return
        window.go_to(frame, now=True)
        window.track_forward()

    def next_tracker(self) -> str:
        """Switch to the next tracker with shipped weights, show its name, restart with it."""
        panel = self.window.tracker_panel
        names = self.tracker_names
        current = panel.tracker_name()
        name = names[(names.index(current) + 1) % len(names)] if current in names else names[0]
        panel.set_tracker(name)
        self.banner.flash(name, BANNER_MS)
        self.restart()
        return name

    def toggle_pip(self) -> None:
        self.pip_shown = not self.pip_shown
        self.pip.setVisible(self.pip_shown)
        if self.pip_shown:
            self.pip.place()
            self.window.presenter.refresh(now=True)  # it skipped frames while hidden

    def move_pip(self) -> None:
        if not self.pip_shown:
            self.toggle_pip()
        self.pip.next_corner()

    def toggle_strip(self) -> None:
        self.strip_shown = not self.strip_shown
        self._show_strip()

    def toggle_help(self) -> None:
        self.banner.hide()  # the card alone in the middle
        self.help_card.setVisible(self.help_card.isHidden())
        self.help_card.place()
        self.help_card.raise_()

    # -- what the HUD shows ------------------------------------------------------------------------

    def _show_tracker(self) -> None:
        self.hud.set_tracker(self.window.tracker_panel.tracker_name())

    def _on_running(self, running: bool) -> None:
        runs, session = self.window.runs, self.window.session
        self.hud.set_running(running)
        if running and runs.run is not None and runs.run.kind == "track":
            self.last_start = (session.selected_track, session.current_frame)
        if not running and self._restart_pending:
            self._restart_pending = False
            # After the run's end has been handled everywhere (its undo step, its last frame).
            QTimer.singleShot(0, self.restart)
