"""Persistent user settings: a typed wrapper over QSettings (INI file).

The file lives in the user's configuration folder (``trackers.user_dirs.config_dir``) — never
inside the install folder — or in ``$SIAMARK_CONFIG_DIR`` when set (tests point it at a
temporary folder).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from app.io.autosave import INTERVAL_MS
from trackers.drift import DriftSettings
from trackers.user_dirs import config_dir

MAX_RECENT = 10
AUTOSAVE_RANGE_S = (1, 600)  # the autosave interval a person may choose, in seconds
DEFAULT_OVERLAY_OPACITY = 0.5


@dataclass(frozen=True)
class ExportDefaults:
    """What the export dialog starts with: the last export's choices, or the person's defaults."""

    format: str = "otb"
    write_frames: bool = False  # formats where the frames are optional
    image_format: str = "jpg"
    reviewed_only: bool = False
    skip_flagged: bool = False  # leave out boxes still flagged for review


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
    def precision(self) -> str:
        return self._str("tracking/precision", "auto")

    @precision.setter
    def precision(self, name: str) -> None:
        self._qs.setValue("tracking/precision", name)

    @property
    def export_folder(self) -> Path | None:
        """The folder the last export went into (exports are suggested there)."""
        value = self._str("files/export_folder", None)
        return Path(value) if value else None

    @export_folder.setter
    def export_folder(self, folder: str | Path) -> None:
        self._qs.setValue("files/export_folder", str(folder))

    @property
    def drift_settings(self) -> DriftSettings:
        """The drift thresholds a new document starts with (a project keeps its own)."""
        try:
            return DriftSettings.from_dict(json.loads(self._str("tracking/drift", "{}")))
        except ValueError:  # a hand-edited or older file: the measured defaults
            return DriftSettings()

    @drift_settings.setter
    def drift_settings(self, settings: DriftSettings) -> None:
        self._qs.setValue("tracking/drift", json.dumps(settings.to_dict()))

    @property
    def autosave_interval_ms(self) -> int:
        """How often unsaved work is autosaved: at most this much is lost in a crash."""
        low, high = AUTOSAVE_RANGE_S
        value = self._number("files/autosave_interval_ms", INTERVAL_MS)
        return int(min(max(value, low * 1000), high * 1000))

    @autosave_interval_ms.setter
    def autosave_interval_ms(self, ms: int) -> None:
        self._qs.setValue("files/autosave_interval_ms", int(ms))

    @property
    def overlay_opacity(self) -> float:
        """Opacity of the response map laid on the frame, 0..1."""
        return min(max(self._number("view/overlay_opacity", DEFAULT_OVERLAY_OPACITY), 0.0), 1.0)

    @overlay_opacity.setter
    def overlay_opacity(self, value: float) -> None:
        self._qs.setValue("view/overlay_opacity", float(value))

    @property
    def export_defaults(self) -> ExportDefaults:
        try:
            stored = json.loads(self._str("files/export_defaults", "{}"))
            known = {f.name for f in fields(ExportDefaults)}
            return ExportDefaults(**{k: v for k, v in stored.items() if k in known})
        except (ValueError, TypeError, AttributeError):
            return ExportDefaults()

    @export_defaults.setter
    def export_defaults(self, defaults: ExportDefaults) -> None:
        self._qs.setValue("files/export_defaults", json.dumps(asdict(defaults)))

    def _number(self, key: str, default: float) -> float:
        try:
            return float(self._str(key, str(default)))
        except ValueError:
            return float(default)

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

    @property
    def playback_speed(self) -> float:
        """Times the video's frame rate; a broken value plays at 1x."""
        value = self._number("view/playback_speed", 1.0)
        return value if 0.01 <= value <= 100 else 1.0

    @playback_speed.setter
    def playback_speed(self, speed: float) -> None:
        self._qs.setValue("view/playback_speed", float(speed))

    def sync(self) -> None:
        """Write to disk now (Qt also writes on destruction and from its event loop)."""
        self._qs.sync()
