"""Project files (``*.siamark.json``): the video, its annotations and settings, versioned, Qt-free.

A project refers to its video by path and by a fingerprint, so a moved video can be found and
a different video under the same name is noticed. Saves are atomic (temporary file + rename):
a crash mid-save leaves the previous file whole. The annotations carry the class list
(``annotations.classes``, an optional key of version 1: a file written before class lists opens
with the labels its tracks use as its classes).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from app.model.annotations import Annotations, require
from trackers.io import IMAGE_EXTENSIONS, atomic_write_text

FORMAT = "siamark-project"
VERSION = 1
SUFFIX = ".siamark.json"
# The fingerprint hashes the size and this much of the start and the end of a video file:
# cheap on a 10 GB file, and any re-encode or different clip changes it.
_FINGERPRINT_BYTES = 4 << 20


class ProjectError(ValueError):
    """A project file that cannot be read; the message names the file and what is wrong."""


def video_fingerprint(path: str | Path) -> str:
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_dir():  # an image folder: names and sizes of its images, in order
        for item in sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS):
            digest.update(f"{item.name}:{item.stat().st_size}\n".encode())
        return "sha256-folder:" + digest.hexdigest()
    size = path.stat().st_size
    digest.update(str(size).encode())
    with path.open("rb") as f:
        digest.update(f.read(_FINGERPRINT_BYTES))
        if size > _FINGERPRINT_BYTES:
            f.seek(max(size - _FINGERPRINT_BYTES, _FINGERPRINT_BYTES))
            digest.update(f.read())
    return "sha256-headtail:" + digest.hexdigest()


@dataclass
class VideoRef:
    path: str
    fingerprint: str = ""
    frame_count: int = 0
    width: int = 0
    height: int = 0
    fps: float | None = None


@dataclass
class Project:
    video: VideoRef
    annotations: Annotations
    settings: dict = field(default_factory=dict)  # tracker name, drift thresholds, …

    def to_dict(self, relative_to: Path | None = None) -> dict:
        video_path = self.video.path
        if relative_to is not None:
            # Relative when the video sits under the project's folder: the pair can be moved together.
            try:
                video_path = os.path.relpath(Path(self.video.path).resolve(), relative_to.resolve())
                if video_path.startswith(".."):
                    video_path = str(Path(self.video.path).resolve())
            except ValueError:  # another drive on Windows
                video_path = self.video.path
        return {
            "format": FORMAT,
            "version": VERSION,
            "video": {
                "path": video_path,
                "fingerprint": self.video.fingerprint,
                "frame_count": self.video.frame_count,
                "width": self.video.width,
                "height": self.video.height,
                "fps": self.video.fps,
            },
            "settings": self.settings,
            "annotations": self.annotations.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict, base: Path | None = None) -> Project:
        require(
            isinstance(data, dict) and data.get("format") == FORMAT,
            f'not a Siamark project (expected "format": "{FORMAT}")',
        )
        version = data.get("version")
        require(
            isinstance(version, int) and version >= 1,
            f"version: expected a positive integer, got {version!r}",
        )
        if version > VERSION:
            raise ValueError(
                f"written by a newer Siamark (project version {version}, this one reads {VERSION})"
            )
        raw = data.get("video")
        require(
            isinstance(raw, dict) and isinstance(raw.get("path"), str),
            'video: expected an object with a "path"',
        )
        path = Path(raw["path"])
        if base is not None and not path.is_absolute():
            path = base / path
        counts = {}
        for key in ("frame_count", "width", "height"):
            value = raw.get(key) or 0
            require(
                isinstance(value, int) and not isinstance(value, bool) and value >= 0,
                f"video.{key}: expected a whole number >= 0, got {value!r}",
            )
            counts[key] = value
        fps = raw.get("fps")
        require(
            fps is None
            or (isinstance(fps, int | float) and not isinstance(fps, bool) and math.isfinite(fps) and fps > 0),
            f"video.fps: expected a positive number or null, got {fps!r}",
        )
        video = VideoRef(
            str(path), str(raw.get("fingerprint", "")), counts["frame_count"], counts["width"], counts["height"], fps
        )
        settings = data.get("settings", {})
        require(isinstance(settings, dict), "settings: expected an object")
        annotations = Annotations.from_dict(data.get("annotations", {}))
        if not annotations.frame_count:
            annotations.frame_count = video.frame_count
        return cls(video, annotations, settings)


def save_project(project: Project, path: str | Path) -> None:
    path = Path(path)
    text = json.dumps(project.to_dict(relative_to=path.parent), indent=1)
    try:
        atomic_write_text(path, text + "\n")
    except OSError as exc:
        raise OSError(f"Cannot save the project to {path}: {exc.strerror or exc}") from exc


def load_project(path: str | Path) -> Project:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{path}: cannot read it ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProjectError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise ProjectError(f"{path}: not a Siamark project (its JSON is nested too deeply)") from None
    try:
        return Project.from_dict(data, base=path.parent)
    except (ValueError, TypeError) as exc:
        raise ProjectError(f"{path}: {exc}") from None
    except RecursionError:
        raise ProjectError(f"{path}: not a Siamark project (its JSON is nested too deeply)") from None


def check_video(project: Project) -> str:
    """ "" when the project's video is there and matches, else what is wrong (for a message)."""
    path = Path(project.video.path)
    if not path.exists():
        return f"The video {path} is not there any more."
    if project.video.fingerprint and video_fingerprint(path) != project.video.fingerprint:
        return f"{path} is not the video this project was made on (its content differs)."
    return ""
