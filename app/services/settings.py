"""Persistent user settings: a typed wrapper over QSettings (INI file).

The file lives in ``platformdirs.user_config_dir("siamark")`` — never inside the install
folder — or in ``$SIAMARK_CONFIG_DIR`` when set (tests point it at a temporary folder).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 10


def config_dir() -> Path:
    override = os.environ.get("SIAMARK_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir("siamark", appauthor=False))


class Settings:
    def __init__(self, directory: str | Path | None = None):
        self.path = Path(directory or config_dir()) / "siamark.ini"
        self._qs = QSettings(str(self.path), QSettings.Format.IniFormat)

    def _str(self, key: str, default: str | None) -> str | None:
        value = self._qs.value(key)
        return str(value) if value not in (None, "") else default

    @property
    def last_tracker(self) -> str | None:
        return self._str("tracking/tracker", None)

    @last_tracker.setter
    def last_tracker(self, name: str) -> None:
        self._qs.setValue("tracking/tracker", name)

    @property
    def device(self) -> str:
        return self._str("tracking/device", "auto")

    @device.setter
    def device(self, name: str) -> None:
        self._qs.setValue("tracking/device", name)

    @property
    def export_folder(self) -> Path | None:
        """The folder the last export went into (exports are suggested there)."""
        value = self._str("files/export_folder", None)
        return Path(value) if value else None

    @export_folder.setter
    def export_folder(self, folder: str | Path) -> None:
        self._qs.setValue("files/export_folder", str(folder))

    def recent_files(self) -> list[Path]:
        """Most recent first; files (or sequence folders) that no longer exist are dropped."""
        value = self._qs.value("files/recent") or []
        # INI reads a one-item list back as a plain string.
        paths = [Path(v) for v in ([value] if isinstance(value, str) else value)]
        kept = [p for p in paths if p.exists()]
        if len(kept) != len(paths):
            self._set_recent(kept)
        return kept

    def add_recent(self, path: str | Path) -> None:
        path = Path(path).resolve()
        rest = [p for p in self.recent_files() if p.resolve() != path]
        self._set_recent([path, *rest][:MAX_RECENT])

    def clear_recent(self) -> None:
        self._set_recent([])

    def _set_recent(self, paths: list[Path]) -> None:
        self._qs.setValue("files/recent", [str(p) for p in paths])

    def _bytes(self, key: str) -> bytes | None:
        value = self._qs.value(key)
        return bytes(value.data()) if isinstance(value, QByteArray) and value.size() else None

    @property
    def window_geometry(self) -> bytes | None:
        return self._bytes("window/geometry")

    @window_geometry.setter
    def window_geometry(self, data: bytes) -> None:
        self._qs.setValue("window/geometry", QByteArray(bytes(data)))

    @property
    def window_state(self) -> bytes | None:
        return self._bytes("window/state")

    @window_state.setter
    def window_state(self, data: bytes) -> None:
        self._qs.setValue("window/state", QByteArray(bytes(data)))

    def sync(self) -> None:
        """Write to disk now (Qt also writes on destruction and from its event loop)."""
        self._qs.sync()
