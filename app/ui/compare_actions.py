"""The window's comparison of trackers: its actions (Track → Compare), the Compare dock's
requests, overlaid or side-by-side display, and its progress on the status bar.

``menu`` is the Track menu's "Compare" submenu. Overlaid, every compared tracker's box is drawn
on the main view (FramePresenter); side by side, the grid of one view per tracker takes the
main view's place.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu

from app.controllers.comparisons import ComparisonController
from app.model.session import Session
from app.ui.compare_grid import CompareGrid
from app.ui.compare_panel import ComparePanel
from app.ui.compare_presenter import ComparePresenter


class CompareActions:
    def __init__(
        self,
        window: QMainWindow,
        session: Session,
        controller: ComparisonController,
        dock: QDockWidget,
        grid: CompareGrid,
        tracking: Callable[[], bool],
        frame_image: Callable[[int], np.ndarray | None],
    ):
        self.window, self.session, self.controller = window, session, controller
        self.dock, self.grid = dock, grid
        self.panel: ComparePanel = dock.widget()
        self._tracking = tracking
        self.presenter = ComparePresenter(
            session, controller, self.panel, grid, window.timeline.plot, tracking, frame_image, window
        )
        self.show_action = self._action(
            "&Compare trackers…",
            self.show_setup,
            "Ctrl+Shift+C",
            "Choose 2-4 trackers to run side by side on this video (the Compare dock)",
        )
        self.start_action = self._action(
            "&Start comparison from this frame",
            self.panel.request_start,
            "Ctrl+Shift+Return",
            "Run the trackers of the Compare dock from the selected box (or the ground truth's) on "
            "this frame",
        )
        self.start_action.setIconText("Start")
        self.restart_action = self._action(
            "&Restart comparison",
            controller.restart,
            "Ctrl+Alt+Return",
            "Run every compared tracker again from the comparison's start frame",
        )
        self.restart_action.setIconText("Restart")
        self.stop_action = self._action(
            "S&top comparison", lambda: controller.stop(), "Shift+Esc", "Stop the comparison after this frame"
        )
        self.stop_action.setIconText("Stop")
        self.clear_action = self._action(
            "C&lear comparison", controller.clear, None, "Stop the comparison and remove its boxes and curves"
        )
        self.clear_action.setIconText("Clear")
        self.side_action = self._action(
            "Side &by side",
            self.set_side_by_side,
            "Ctrl+Shift+V",
            "One view per compared tracker (its box and response map) instead of all boxes on one view",
            checkable=True,
        )
        self.side_action.setIconText("Side by side")
        self.panel.set_actions(
            [self.start_action, self.stop_action, self.restart_action, self.clear_action, self.side_action]
        )
        self.menu = QMenu("Co&mpare", window)
        for action in (
            self.show_action,
            self.start_action,
            self.restart_action,
            self.stop_action,
            self.clear_action,
            None,
            self.side_action,
        ):
            self.menu.addSeparator() if action is None else self.menu.addAction(action)

        self.panel.start_requested.connect(controller.start)
        self.panel.swap_requested.connect(controller.swap)
        self.panel.keep_requested.connect(controller.keep_as_track)
        self.panel.error.connect(window.show_error)
        controller.running_changed.connect(lambda _running: self.update_states())
        controller.progress.connect(self._on_progress)
        window.runs.running_changed.connect(lambda _running: self.update_states())
        session.comparison.changed.connect(self.update_states)
        self.update_states()

    def _action(self, text: str, slot, shortcut, tip: str, checkable: bool = False) -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(f"{tip} ({shortcut})" if shortcut else tip)
        action.setStatusTip(tip)
        action.setCheckable(checkable)
        if checkable:
            action.toggled.connect(slot)
        else:
            action.triggered.connect(lambda _checked=False: slot())
        self.window.addAction(action)  # the keys work with the menu bar hidden too
        return action

    def show_setup(self) -> None:
        """The Compare dock, in front: the line-up to start."""
        self.dock.show()
        self.dock.raise_()

    def set_side_by_side(self, on: bool) -> None:
        """One view per tracker (True) in place of the main view, or every box on the main view."""
        if self.side_action.isChecked() != on:
            self.side_action.setChecked(on)  # comes back here through toggled
            return
        self.window.view.setVisible(not on)
        self.grid.setVisible(on)
        self.presenter.schedule(now=True)
        self.window.presenter.schedule(now=True)

    def update_states(self) -> None:
        """What can be done now: nothing of a comparison during a tracking run."""
        running, tracking = self.controller.running, self._tracking()
        active = self.session.comparison.active
        self.start_action.setEnabled(not tracking)
        self.restart_action.setEnabled(active and not tracking)
        self.stop_action.setEnabled(running)
        self.clear_action.setEnabled(active)
        for action in self.window.run_actions:
            action.setEnabled(not running and not tracking)
        self.window.tracker_panel.track_button.setEnabled(not running and not tracking)
        if not tracking:
            bar = self.window.progress_bar
            bar.setVisible(running)
            if running:
                bar.setValue(0)
                self.window.progress_label.setText("")

    def _on_progress(self, done: int, total: int) -> None:
        self.window.progress_bar.setMaximum(max(total, 1))
        self.window.progress_bar.setValue(done)
        self.window.progress_label.setText(f"comparing: {done}/{total} frames")
