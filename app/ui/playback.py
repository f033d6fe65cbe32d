"""Playback and frame navigation: play / pause at the video's rate, step, jump to flags."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from app.controllers.feedback import Feedback
from app.model.session import Session
from app.ui.timeline import Timeline


class Playback(QObject):
    def __init__(
        self, session: Session, timeline: Timeline, feedback: Feedback, parent: QObject | None = None
    ):
        super().__init__(parent)
        self.session = session
        self.timeline = timeline
        self.feedback = feedback
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        #: called when the person moves the view themselves (a running tracker stops leading it)
        self.on_user_move = lambda: None

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def go_to(self, frame: int) -> None:
        """The person asked for ``frame``."""
        self.on_user_move()
        self.session.go_to(frame)

    def step(self, delta: int) -> None:
        self.pause()
        self.go_to(self.session.current_frame + delta)

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        elif self.session.video is not None:
            self.on_user_move()
            if self.session.current_frame >= self.session.frame_count - 1:
                self.session.go_to(0)
            fps = self.session.video.fps or 25.0
            self.timer.start(max(int(1000 / fps), 1))
            self.timeline.set_playing(True)

    def pause(self) -> None:
        self.timer.stop()
        self.timeline.set_playing(False)

    def _tick(self) -> None:
        if self.session.current_frame >= self.session.frame_count - 1:
            self.pause()
        else:
            self.session.go_to(self.session.current_frame + 1)

    def jump_flag(self, direction: int) -> None:
        """Next / previous frame flagged for review (any track)."""
        here = self.session.current_frame
        candidates = [f for f in self.session.annotations.flagged_frames() if (f - here) * direction > 0]
        if not candidates:
            self.feedback.show_status("No more flagged frames that way.", 4000)
            return
        self.pause()
        self.go_to(min(candidates) if direction > 0 else max(candidates))
