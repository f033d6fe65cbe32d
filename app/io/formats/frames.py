"""Detection-dataset exports (YOLO, COCO, Pascal VOC): which frames, which boxes, and the images.

Shared conventions of the three exporters (rows come from ``selection.select_job``, so tracks,
classes, frame range, step and "reviewed only" mean what they mean in every format):

* An image is written for every selected frame where at least one selected track has a box;
  frames no track covers are skipped, since nothing says what is on them, and so are frames
  where every object is absent (counted in the selection's ``left_out``) unless the
  ``absent_frames`` option asks for them as images without boxes.
* Image files are named by the 0-based decoded frame index: ``frame_000000.jpg`` is the first
  frame of the video (the CVAT naming), and ``frames.csv`` maps each file to its frame index.
* With "only reviewed frames" (or "leave out flagged boxes"), a frame is exported only when
  every selected track's entry on it is manual or accepted (or not flagged): an image with an
  object left out would teach a detector that the object is background.

The export is built in a staged folder (``output.staged_folder``: hidden, beside the target,
renamed into place at the end), so a cancelled or failed export leaves nothing half-written;
the disk space is checked from the first image written, before the others are decoded.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.io.formats.output import (
    ProgressSteps,
    image_format_suffix,
    read_frame,
    staged_folder,
    write_image,
    write_manifest,
)
from app.io.formats.registry import ExportJob, ExportOptions, FrameReader
from app.io.formats.selection import Selection, SelectionError, kept, select_job
from app.model.annotations import FrameBox, Track

# Disk-space estimate: the first image's size times the frame count, with this much headroom
# (later frames may compress worse) plus room for the annotation files.
_SPACE_HEADROOM = 1.3
_SPACE_EXTRA_BYTES = 4 << 20


def frame_stem(frame: int) -> str:
    """File name stem of a frame: its 0-based decoded index, zero-padded to 6 digits."""
    return f"frame_{frame:06d}"


@dataclass(frozen=True)
class FrameObjects:
    """One exported frame and the boxes on it (absent entries carry no box and are left out)."""

    frame: int
    objects: tuple[tuple[Track, FrameBox], ...]


@dataclass(frozen=True)
class ImageInfo:
    frame: int
    file_name: str  # relative to the images folder
    width: int
    height: int
    depth: int


@dataclass(frozen=True)
class DetectionExport:
    """What an exporter writes its annotation files from."""

    job: ExportJob
    selection: Selection
    frames: list[FrameObjects]
    images: dict[int, ImageInfo]  # frame -> image written for it
    #: the selected tracks' classes in the project's class order (stable ids whatever frame
    #: range is chosen); a class id is the index here (YOLO) or index + 1 (COCO)
    classes: list[str]


# -- which frames and boxes ---------------------------------------------------------------------


def detection_frames(selection: Selection, options: ExportOptions) -> list[FrameObjects]:
    """The frames to export with their boxes, in frame order (rules in the module docstring)."""
    by_frame = selection.by_frame()
    if options.reviewed_only or options.skip_flagged:  # drop frames whose other entries were left out
        by_frame = {
            f: rows
            for f, rows in by_frame.items()
            if all(kept(e, options) for t in selection.tracks if (e := t.get(f)) is not None)
        }
    frames = [
        FrameObjects(f, tuple((r.track, r.entry) for r in rows if r.entry.box is not None))
        for f, rows in sorted(by_frame.items())
    ]
    # A frame where every chosen object is absent says nothing about what else is on it: an
    # image without boxes would teach a detector that whatever is there is background.
    shown = [f for f in frames if f.objects or options.absent_frames]
    selection.left_out["frames where every object is absent left out"] = len(frames) - len(shown)
    return shown


# -- images -------------------------------------------------------------------------------------


def check_disk_space(folder: Path, bytes_needed: float, what: str, target: Path) -> Selection:
    free = shutil.disk_usage(folder).free
    if bytes_needed > free:
        raise OSError(
            f"{target}: not enough disk space for {what}: about {bytes_needed / 2**20:.0f} MB "
            f"needed, {free / 2**20:.0f} MB free"
        )


def extract_frames(
    job: ExportJob, frames: Sequence[int], folder: Path, suffix: str, progress: ProgressSteps
) -> dict[int, ImageInfo]:
    """Write ``frames`` (read in increasing order: cheap on a video) as images into ``folder``.

    The disk space is checked from the size of the first image, before any other frame is
    decoded. ``progress`` cancels by raising ExportCancelled; the caller's staged folder then
    removes what was written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    ordered = sorted(set(frames))
    images: dict[int, ImageInfo] = {}
    for frame in ordered:
        image = read_frame(job, frame)
        name = frame_stem(frame) + suffix
        write_image(folder / name, image)
        if not images:
            needed = (folder / name).stat().st_size * len(ordered) * _SPACE_HEADROOM + _SPACE_EXTRA_BYTES
            check_disk_space(folder, needed, f"{len(ordered)} frames", Path(job.target))
        height, width = image.shape[:2]
        depth = image.shape[2] if image.ndim == 3 else 1
        images[frame] = ImageInfo(frame, name, int(width), int(height), int(depth))
        progress.step()
    return images


# -- the pipeline the three exporters share -----------------------------------------------------


def export_detection_dataset(
    job: ExportJob, images_dir: str, write_annotations: Callable[[Path, DetectionExport], None]
) -> None:
    """Select frames, extract their images and let ``write_annotations(root, export)`` write the
    format's files into the staged folder ``root``; the whole folder appears at the end or not at all."""
    reader: FrameReader | None = job.frames
    if reader is None:
        raise ValueError("this format writes the video's frames: a frame reader is needed")
    suffix = image_format_suffix(job.options.image_format)
    selection = select_job(job, cut=True)  # the visible part, as detectors are trained on
    frames = detection_frames(selection, job.options)
    if not frames:
        options = job.options
        why = (
            "boxes nobody has reviewed yet"
            if options.reviewed_only
            else "boxes still flagged for review"
            if options.skip_flagged
            else "every object absent"
        )
        raise SelectionError(f"nothing to export: every chosen frame has {why}")
    with staged_folder(job.target) as root:
        progress = ProgressSteps(job, len(frames))
        images = extract_frames(job, [f.frame for f in frames], root / images_dir, suffix, progress)
        write_annotations(root, DetectionExport(job, selection, frames, images, list(selection.classes)))
        ordered = sorted(images)
        write_manifest(root, [f"{images_dir}/{images[f].file_name}" for f in ordered], ordered)
    return selection
