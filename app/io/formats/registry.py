"""The one table of annotation formats: what each exports / imports and with which conventions.

The export dialog, ``python main.py convert`` and the tests all go through ``FORMATS``, so a
format is written once. Exporters and importers are Qt-free.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.io.project import VideoRef
from app.model.annotations import Annotations

#: frame index -> BGR uint8 image (app.io.video.SeekableVideo.frame, or a trackers.io source)
FrameReader = Callable[[int], np.ndarray]
#: progress(done, total) -> False to cancel
Progress = Callable[[int, int], bool]


class FormatError(ValueError):
    """A file that cannot be imported; the message names the file and, where known, the line."""

    def __init__(self, path: str | Path, message: str, line: int | None = None):
        self.path, self.line = Path(path), line
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


class ExportCancelled(Exception):
    """The user cancelled; the exporter has removed everything it had started writing."""


@dataclass(frozen=True)
class ExportOptions:
    tracks: frozenset[int] | None = None  # None: every track
    labels: frozenset[str] | None = None  # None: every class
    first: int | None = None  # frame range, inclusive, 0-based
    last: int | None = None
    step: int = 1  # every k-th frame of the range
    reviewed_only: bool = False  # only boxes a person drew or accepted
    #: leave out boxes still flagged for review (nobody accepted or fixed them yet)
    skip_flagged: bool = False
    image_format: str = "jpg"  # for formats that extract frames: jpg or png
    #: detection formats: also write frames where every chosen object is absent, as images
    #: without boxes (left out by default: nothing says what else is on them)
    absent_frames: bool = False


@dataclass(frozen=True)
class ExportJob:
    annotations: Annotations
    video: VideoRef
    target: Path  # a file or a folder, as the format says
    options: ExportOptions = field(default_factory=ExportOptions)
    frames: FrameReader | None = None  # needed when Format.needs_frames
    progress: Progress | None = None


@dataclass(frozen=True)
class Format:
    name: str  # as on the command line: project, otb, got10k, lasot, mot, yolo, coco, voc, cvat, pysot
    title: str  # for the export dialog
    #: frame numbering and box convention, shown in the dialog (e.g. "1-based frames; x,y,w,h")
    conventions: str
    target_kind: str  # "file" or "folder"
    #: writes the export; returns the selection written (what it cut or left out in .describe())
    export: Callable[[ExportJob], object] | None = None
    #: (path, frame_count or 0 when unknown) -> Annotations; raises FormatError, imports nothing partially
    load: Callable[[Path, int], Annotations] | None = None
    needs_frames: bool = False
    #: writes the video's frames too when ExportJob.frames is given (benchmark / MOT layouts)
    frames_optional: bool = False

    @property
    def file_suffix(self) -> str:
        """A file format's usual suffix, read from its title ("… (*.siamark.json)" -> ".siamark.json")."""
        match = re.search(r"(\.[A-Za-z]\w*(?:\.[A-Za-z]\w*)*)\)", self.title)
        return match.group(1) if match else ""


FORMATS: dict[str, Format] = {}


def register(fmt: Format) -> Format:
    FORMATS[fmt.name] = fmt
    return fmt
