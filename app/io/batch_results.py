"""A ``siamark batch`` output folder read back for review: its projects, most flagged first."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SUMMARY = "summary.json"


@dataclass(frozen=True)
class BatchEntry:
    name: str
    video: str
    status: str  # tracked, done (by an earlier run), failed
    project: Path | None  # None when the video failed
    flagged: int = 0  # frames where some track is flagged
    frames: int = 0
    error: str = ""


def is_batch_folder(path: str | Path) -> bool:
    return (Path(path) / SUMMARY).is_file()


def read_batch(folder: str | Path) -> list[BatchEntry]:
    """The videos of a batch output folder: those with a project first, most flagged first;
    failed ones last. ValueError (naming the file) when the summary is not a batch's."""
    folder = Path(folder)
    path = folder / SUMMARY
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        videos = data["per_video"]
        if not isinstance(videos, list):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a Siamark batch summary ({exc})") from None
    entries = []
    for video in videos:
        name = video.get("name") if isinstance(video, dict) else None
        # a folder of this batch, never a path leading elsewhere
        if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
            raise ValueError(f"{path}: not a Siamark batch summary (video name {name!r})")
        project = folder / name / f"{name}.siamark.json"
        entries.append(
            BatchEntry(
                name,
                str(video.get("video", "")),
                str(video.get("status", "")),
                project if project.is_file() else None,
                int(video.get("flagged") or 0),
                int(video.get("frames") or 0),
                str(video.get("error", "")),
            )
        )
    return sorted(entries, key=lambda e: (e.project is None, -e.flagged, e.name))
