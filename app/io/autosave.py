"""Autosave and crash recovery.

While the app runs, its unsaved work is written every few seconds (when something changed) to
``<data dir>/autosave/session-<pid>.siamark.json`` — a normal project file plus an
``autosave`` block naming the process and the project it belongs to. A clean exit deletes the
file; a file whose process is gone is what a crash left behind, and the next start offers it.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from app.io.project import Project, ProjectError, load_project
from trackers.io import atomic_write_text

INTERVAL_MS = 3000  # the default interval (Preferences): at most this much work is lost in a crash


def autosave_dir() -> Path:
    override = os.environ.get("SIAMARK_CONFIG_DIR")  # tests and portable installs
    base = Path(override) if override else Path(platformdirs.user_data_dir("siamark", appauthor=False))
    return base / "autosave"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class Recovery:
    path: Path  # the autosave file
    project_path: str | None  # the project it was autosaving, None if never saved
    video_path: str
    saved_at: float
    boxes: int

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))
        name = Path(self.project_path).name if self.project_path else "an unsaved project"
        return f"{name} on {Path(self.video_path).name}: {self.boxes} boxes, autosaved {when}"


class AutosaveStore:
    def __init__(self, directory: str | Path | None = None, pid: int | None = None):
        self.directory = Path(directory) if directory is not None else autosave_dir()
        self.pid = os.getpid() if pid is None else pid
        self.path = self.directory / f"session-{self.pid}.siamark.json"

    def write(self, project: Project, project_path: str | Path | None) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        data = project.to_dict()  # absolute video path: the autosave folder is elsewhere
        data["autosave"] = {
            "pid": self.pid,
            "saved_at": time.time(),
            "project_path": str(project_path) if project_path else None,
        }
        atomic_write_text(self.path, json.dumps(data) + "\n")

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)

    def orphans(self) -> list[Recovery]:
        """Autosaves left by processes that are gone, newest first; unreadable ones are skipped."""
        found = []
        if not self.directory.is_dir():
            return found
        for path in self.directory.glob("session-*.siamark.json"):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                meta = data["autosave"]
                if _alive(int(meta["pid"])):
                    continue
                boxes = sum(1 for t in data["annotations"]["tracks"] for f in t["frames"] if "box" in f)
                found.append(
                    Recovery(
                        path, meta.get("project_path"), data["video"]["path"], float(meta["saved_at"]), boxes
                    )
                )
            except (OSError, ValueError, KeyError, TypeError, RecursionError):
                # Not an autosave this app can recover (never a reason not to start). Unless its
                # process still runs, set it aside under another name: kept for a person to look
                # at, but not read again at every start.
                pid = path.name.removeprefix("session-").removesuffix(".siamark.json")
                if not (pid.isdigit() and _alive(int(pid))):
                    with contextlib.suppress(OSError):
                        path.rename(path.with_name(path.name + ".unreadable"))
                continue
        return sorted(found, key=lambda r: r.saved_at, reverse=True)

    @staticmethod
    def load(recovery: Recovery) -> Project:
        return load_project(recovery.path)

    @staticmethod
    def forget(recovery: Recovery) -> None:
        recovery.path.unlink(missing_ok=True)


__all__ = ["INTERVAL_MS", "AutosaveStore", "ProjectError", "Recovery", "autosave_dir"]
