"""How controllers talk back to the person: the window implements this; tests record it."""

from __future__ import annotations

from typing import Protocol


class Feedback(Protocol):
    def show_error(self, title: str, message: str) -> None:
        """Something the person asked for did not happen, and why (a message box)."""

    def show_status(self, message: str, timeout_ms: int = 5000) -> None:
        """A passing note (the status bar)."""


class RecordingFeedback:
    """Feedback kept in lists: for headless use (tests, scripts)."""

    def __init__(self):
        self.errors: list[tuple[str, str]] = []
        self.statuses: list[str] = []

    def show_error(self, title: str, message: str) -> None:
        self.errors.append((title, message))

    def show_status(self, message: str, timeout_ms: int = 5000) -> None:
        self.statuses.append(message)
