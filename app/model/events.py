"""A minimal Qt-free signal: models announce changes, widgets and controllers subscribe.

Callbacks run synchronously in the emitting thread (the GUI thread: the session is only
changed there), in the order they connected.
"""

from __future__ import annotations

from collections.abc import Callable


class Event:
    def __init__(self, name: str):
        self.name = name
        self._callbacks: list[Callable] = []

    def connect(self, callback: Callable) -> Callable:
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable) -> None:
        self._callbacks.remove(callback)

    def emit(self, *args) -> None:
        for callback in list(self._callbacks):
            callback(*args)
