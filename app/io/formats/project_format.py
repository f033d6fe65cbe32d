"""The Siamark project file (``*.siamark.json``) as a format: the lossless one.

Conventions: those of ``app.model.annotations`` — 0-based frame indices, boxes ``x, y, w, h`` in float
pixels with (0, 0) the top-left corner of the top-left pixel — plus every entry's source, score,
occluded / absent, review flag and reviewed mark, and the class list (names, colours, order). An
export keeps what the options select (tracks, labels, frame range, step, reviewed only), the whole
class list and the video reference; saving is atomic.
"""

from __future__ import annotations

import re
from pathlib import Path

from app.io.formats.output import ProgressSteps, os_reason
from app.io.formats.registry import ExportJob, Format, FormatError, register
from app.io.formats.selection import Selection, select_job
from app.io.project import Project, ProjectError, load_project, save_project
from app.model.annotations import Annotations, Track


def export(job: ExportJob) -> Selection:
    target = Path(job.target)
    if target.is_dir():
        raise OSError(f"{target}: is a folder; a project is one file (*.siamark.json)")
    selection = select_job(job, keep_all=True)  # the project keeps boxes as drawn
    progress = ProgressSteps(job, 1)
    annotations = Annotations(job.annotations.frame_count or job.video.frame_count)
    annotations.classes = job.annotations.classes  # the whole class list: the project's vocabulary
    for track in selection.tracks:
        annotations.tracks[track.id] = Track(track.id, track.label, track.color)
    for row in selection.rows:
        annotations.tracks[row.track.id].boxes[row.frame] = row.entry
    try:
        save_project(Project(job.video, annotations), target)
    except OSError as exc:
        raise OSError(f"cannot write {target}: {os_reason(exc.__cause__ or exc)}") from exc
    progress.step()
    return selection


def load_full(path: str | Path) -> Project:
    """The whole project (video reference and settings too); FormatError when unreadable."""
    path = Path(path)
    try:
        return load_project(path)
    except ProjectError as exc:
        # load_project says "<path>: line N: what"; FormatError adds the path and line itself.
        message = str(exc).removeprefix(f"{path}: ")
        match = re.match(r"line (\d+): (.*)", message, re.DOTALL)
        if match:
            raise FormatError(path, match.group(2), int(match.group(1))) from None
        raise FormatError(path, message) from None


def load(path: str | Path, frame_count: int) -> Annotations:
    annotations = load_full(path).annotations
    last = max((f for t in annotations for f in t.boxes), default=-1)
    if frame_count and last >= frame_count:
        raise FormatError(path, f"annotates frame {last} (0-based) but the video has {frame_count} frames")
    return annotations


register(
    Format(
        "project",
        "Siamark project (*.siamark.json)",
        "Siamark: 0-based frames; x,y,w,h float pixels from the top-left corner of the top-left pixel; "
        "keeps sources, scores, occluded / absent, review flags",
        "file",
        export=export,
        load=load,
    )
)
