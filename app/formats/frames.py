"""Detection-dataset exports (YOLO, COCO, Pascal VOC): which frames, which boxes, and the images.

Shared conventions of the three exporters:

* An image is written for every selected frame that is annotated (holds a box, or says the
  object is absent) for at least one selected track; frames no track covers are skipped, since
  nothing says what is on them. Absent entries give an image without that object.
* Image files are named by the 0-based decoded frame index: ``frame_000000.jpg`` is the first
  frame of the video (the CVAT naming), and ``frames.csv`` maps each file to its frame index.
* With "only reviewed frames", a frame is exported only when every selected track's entry on
  it is manual or accepted: an image with an unchecked object left out would teach a detector
  that the object is background.

The export is built in a hidden temporary folder next to the target and renamed into place at
the end, so a cancelled or failed export leaves nothing half-written. The target must be a new
or an empty folder: nothing is ever overwritten.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.annotations import Annotations, FrameBox, Track
from app.formats.registry import ExportCancelled, ExportJob, ExportOptions, FrameReader, Progress

IMAGE_FORMATS = ("jpg", "png")
JPEG_QUALITY = 95
MANIFEST = "frames.csv"
# Disk-space estimate: the first encoded frame times the frame count, with this much headroom
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
    frames: list[FrameObjects]
    images: dict[int, ImageInfo]  # frame -> image written for it
    classes: list[str]  # class names; a class id is the index here (YOLO) or index + 1 (COCO)
    images_dir: str  # the images folder's name inside the export


# -- which frames and boxes ---------------------------------------------------------------------


def selected_tracks(annotations: Annotations, options: ExportOptions) -> list[Track]:
    return [
        t
        for t in annotations
        if (options.tracks is None or t.id in options.tracks)
        and (options.labels is None or t.label in options.labels)
    ]


def frame_range(annotations: Annotations, options: ExportOptions) -> range:
    """The 0-based frames the options select, before looking at annotations."""
    if options.step < 1:
        raise ValueError(f"every k-th frame: k must be 1 or more, got {options.step}")
    last_frame = annotations.frame_count - 1
    if last_frame < 0:  # frame count unknown: up to the last annotated frame
        last_frame = max((f for t in annotations for f in t.boxes), default=-1)
    first = 0 if options.first is None else max(0, options.first)
    last = last_frame if options.last is None else min(last_frame, options.last)
    if options.first is not None and options.last is not None and options.first > options.last:
        raise ValueError(f"the frame range starts after it ends ({options.first} > {options.last})")
    return range(first, last + 1, options.step)


def detection_frames(annotations: Annotations, options: ExportOptions) -> list[FrameObjects]:
    """The frames to export with their boxes, in frame order (rules in the module docstring)."""
    tracks = selected_tracks(annotations, options)
    frames = frame_range(annotations, options)
    by_frame: dict[int, list[tuple[Track, FrameBox]]] = {}
    unreviewed: set[int] = set()
    for track in tracks:
        for frame, entry in track.boxes.items():
            if frame not in frames:
                continue
            if options.reviewed_only and not (entry.is_manual or entry.reviewed):
                unreviewed.add(frame)
            by_frame.setdefault(frame, []).append((track, entry))
    return [
        FrameObjects(f, tuple((t, e) for t, e in by_frame[f] if e.box is not None))
        for f in sorted(by_frame)
        if f not in unreviewed
    ]


def class_names(annotations: Annotations, options: ExportOptions) -> list[str]:
    """Sorted labels of the selected tracks: stable class ids whatever frame range is chosen."""
    return sorted({t.label for t in selected_tracks(annotations, options)})


def clip_box(box: Sequence[float], width: int, height: int) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) of the box cut to the image, or None when nothing of it is inside."""
    x, y, w, h = box
    x0, y0 = max(0.0, x), max(0.0, y)
    x1, y1 = min(float(width), x + w), min(float(height), y + h)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


# -- the target folder --------------------------------------------------------------------------


def _reason(exc: OSError) -> str:
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied (read-only folder?)"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full"
    return exc.strerror or str(exc)


def check_target_folder(target: Path) -> None:
    """OSError with a clear message unless ``target`` can become the export folder."""
    if target.exists() and not target.is_dir():
        raise OSError(f"{target}: is a file; choose a folder to export into")
    if target.is_dir() and any(target.iterdir()):
        raise OSError(f"{target}: the folder already holds files; choose a new or empty folder")
    if not target.parent.is_dir():
        raise OSError(f"{target.parent}: the folder does not exist")


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """A hidden temporary folder beside ``target``, renamed to ``target`` when the block ends
    normally and deleted with everything in it when it raises (cancel included)."""
    target = Path(target)
    check_target_folder(target)
    try:
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial"))
    except OSError as exc:
        raise OSError(f"{target.parent}: cannot write there: {_reason(exc)}") from exc
    try:
        yield staging
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; give what mkdir would
        if target.is_dir():
            target.rmdir()  # checked empty; fails (and we clean up) if something appeared since
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


# -- images -------------------------------------------------------------------------------------


def encode_image(frame: np.ndarray, image_format: str) -> bytes:
    import cv2

    if image_format == "jpg":
        ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    else:
        ok, data = cv2.imencode(".png", frame, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise ValueError(f"cannot encode a {frame.shape} {frame.dtype} frame as {image_format}")
    return data.tobytes()


def normalise_image_format(name: str) -> str:
    name = name.lower().lstrip(".")
    name = "jpg" if name == "jpeg" else name
    if name not in IMAGE_FORMATS:
        raise ValueError(f"image format {name!r}: choose one of {', '.join(IMAGE_FORMATS)}")
    return name


def check_disk_space(folder: Path, bytes_needed: float, what: str) -> None:
    free = shutil.disk_usage(folder).free
    if bytes_needed > free:
        raise OSError(
            f"{folder.parent}: not enough disk space for {what}: about {bytes_needed / 2**20:.0f} MB "
            f"needed, {free / 2**20:.0f} MB free"
        )


def extract_frames(
    frames: Sequence[int],
    reader: FrameReader,
    folder: Path,
    image_format: str = "jpg",
    progress: Progress | None = None,
) -> dict[int, ImageInfo]:
    """Write ``frames`` (read in increasing order: cheap on a video) as images into ``folder``.

    The disk space is checked once the first frame is encoded, before any file is written.
    ``progress(done, total)`` returning False cancels (ExportCancelled); the caller's staged
    folder then removes what was written.
    """
    image_format = normalise_image_format(image_format)
    folder.mkdir(parents=True, exist_ok=True)
    ordered = sorted(set(frames))
    total = len(ordered)
    images: dict[int, ImageInfo] = {}
    if progress is not None and progress(0, total) is False:
        raise ExportCancelled("export cancelled; nothing was written")
    for done, frame in enumerate(ordered, start=1):
        try:
            image = reader(frame)
        except Exception as exc:
            raise ValueError(f"cannot read frame {frame} (0-based) of the video: {exc}") from exc
        data = encode_image(image, image_format)
        if done == 1:
            check_disk_space(
                folder, len(data) * total * _SPACE_HEADROOM + _SPACE_EXTRA_BYTES, f"{total} frames"
            )
        name = f"{frame_stem(frame)}.{image_format}"
        try:
            (folder / name).write_bytes(data)
        except OSError as exc:
            raise OSError(f"cannot write {name}: {_reason(exc)}; nothing was exported") from exc
        height, width = image.shape[:2]
        depth = image.shape[2] if image.ndim == 3 else 1
        images[frame] = ImageInfo(frame, name, int(width), int(height), int(depth))
        if progress is not None and progress(done, total) is False:
            raise ExportCancelled("export cancelled; nothing was written")
    return images


def write_manifest(root: Path, images_dir: str, images: dict[int, ImageInfo]) -> None:
    lines = ["image,frame_index_0based"]
    lines += [f"{images_dir}/{info.file_name},{frame}" for frame, info in sorted(images.items())]
    (root / MANIFEST).write_text("\n".join(lines) + "\n", encoding="utf-8")


# -- the pipeline the three exporters share -----------------------------------------------------


def export_detection_dataset(
    job: ExportJob, images_dir: str, write_annotations: Callable[[Path, DetectionExport], None]
) -> None:
    """Select frames, extract their images and let ``write_annotations(root, export)`` write the
    format's files into the staged folder ``root``; the whole folder appears at the end or not at all."""
    if job.frames is None:
        raise ValueError("this format writes the video's frames: a frame reader is needed")
    image_format = normalise_image_format(job.options.image_format)
    target = Path(job.target)
    check_target_folder(target)
    frames = detection_frames(job.annotations, job.options)
    if not frames:
        raise ValueError(
            "nothing to export: no annotated frame matches the chosen tracks, classes and frames"
        )
    with staged_folder(target) as root:
        images = extract_frames(
            [f.frame for f in frames], job.frames, root / images_dir, image_format, job.progress
        )
        export = DetectionExport(job, frames, images, class_names(job.annotations, job.options), images_dir)
        write_annotations(root, export)
        write_manifest(root, images_dir, images)
