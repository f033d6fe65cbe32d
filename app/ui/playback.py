"""Playback and frame navigation: play / pause at the chosen speed, step and jump (by frames, to
either end, to keyframes of the selected track, to flagged frames)."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from app.controllers.feedback import Feedback
from app.model.session import Session
from app.services.settings import Settings
from app.ui.timeline import Timeline


class Playback(QObject):
    def __init__(
        self,
        session: Session,
        timeline: Timeline,
        feedback: Feedback,
        settings: Settings,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.session = session
        self.timeline = timeline
        self.feedback = feedback
        self.settings = settings
        self.speed = settings.playback_speed  # times the video's frame rate
        timeline.set_speed(self.speed)
        timeline.speed_changed.connect(self.set_speed)
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

    def seek(self, frame: int) -> None:
        """Stop playing and show ``frame`` (clamped to the video)."""
        self.pause()
        self.go_to(frame)

    def step(self, delta: int) -> None:
        self.seek(self.session.current_frame + delta)

    def first(self) -> None:
        self.seek(0)

    def last(self) -> None:
        self.seek(self.session.frame_count - 1)

    def jump_keyframe(self, direction: int) -> None:
        """Next / previous manual keyframe of the selected track."""
        track = self.session.annotations.tracks.get(self.session.selected_track)
        if track is None:
            self.feedback.show_status("No track selected: select one to jump between its keyframes.", 4000)
            return
        here = self.session.current_frame
        frame = track.next_manual(here) if direction > 0 else track.previous_manual(here)
        if frame is None:
            self.feedback.show_status(f"No more keyframes of track #{track.id} that way.", 4000)
            return
        self.seek(frame)

    def set_speed(self, speed: float) -> None:
        """Play at ``speed`` times the video's frame rate (kept for the next session)."""
        self.speed = speed
        self.settings.playback_speed = speed
        self.timeline.set_speed(speed)
        if self.playing:
            self.timer.setInterval(self.interval_ms())

    def interval_ms(self) -> int:
        fps = (self.session.video.fps if self.session.video is not None else 0) or 25.0
        return max(round(1000 / (fps * self.speed)), 1)

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        elif self.session.video is not None:
            self.on_user_move()
            if self.session.current_frame >= self.session.frame_count - 1:
                self.session.go_to(0)
            self.timer.start(self.interval_ms())
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
        self.seek(min(candidates) if direction > 0 else max(candidates))
