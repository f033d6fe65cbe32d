"""Writing an export folder whole or not at all, its frame manifest, and its images.

Exports are built in a hidden temporary folder beside the target and renamed into place at the
end: a failed or cancelled export leaves nothing behind. The target must be a new or an empty
folder (a file target is written with ``trackers.io.atomic_write_text``). Every folder export
holds ``frames.csv``: one row per frame of the format's own numbering, in order, with the image
file name the format gives that frame and its 0-based index in the source video, because a
frame range or step renumbers the frames and a bare annotation file cannot say which they were.
"""

from __future__ import annotations

import csv
import errno
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from app.io.formats.registry import ExportCancelled, ExportJob, FormatError
from app.io.video import media_name

MANIFEST = "frames.csv"
MANIFEST_HEADER = ("image", "frame_index_0based")
JPEG_QUALITY = 95


def os_reason(exc: OSError) -> str:
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied (read-only folder?)"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full"
    return exc.strerror or str(exc)


@contextmanager
def staged_folder(target: str | Path) -> Iterator[Path]:
    """A temporary folder beside ``target`` that becomes ``target`` when the block ends normally
    and is deleted with its contents when it raises (cancel included)."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise OSError(f"{target}: is a file; choose a folder to export into")
    if target.is_dir() and any(target.iterdir()):
        raise OSError(f"{target}: the folder already holds files; choose a new or empty folder")
    if not target.parent.is_dir():
        raise OSError(f"{target.parent}: the folder does not exist")
    try:
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial"))
    except OSError as exc:
        raise OSError(f"{target.parent}: cannot write there: {os_reason(exc)}") from exc
    try:
        yield staging
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; give what mkdir would
        if target.is_dir():
            target.rmdir()  # checked empty above; fails (and we clean up) if something appeared
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Plain write inside a staged folder (the folder's rename is what makes the export atomic)."""
    try:
        path.write_text(text, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise OSError(f"cannot write {path.name}: {os_reason(exc)}; nothing was exported") from exc


def safe_name(text: str) -> str:
    """A file-name-safe form of a label or video name (letters, digits, ``._-``; others become ``_``)."""
    name = re.sub(r"[^\w.-]+", "_", text.strip(), flags=re.ASCII).strip("._-")
    return name or "object"


def video_name(path: str) -> str:
    """A name for the video: the file's stem, or the sequence folder's name for the image folder
    of a layout (OTB's ``<seq>/img``, MOT's ``<seq>/img1``)."""
    return safe_name(media_name(path)) if path else "video"


def track_folder_name(track_id: int, label: str) -> str:
    """``<label>-<id>``: LaSOT's ``<class>-<k>``; ``track_from_folder_name`` reads it back."""
    return f"{safe_name(label).replace('-', '_')}-{track_id}"


def track_from_folder_name(name: str) -> tuple[str, int] | None:
    match = re.fullmatch(r"(.+)-(\d+)", name)
    return (match.group(1), int(match.group(2))) if match else None


# -- the frame manifest -------------------------------------------------------------------------


def write_manifest(folder: Path, images: Sequence[str], frames: Sequence[int]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(MANIFEST_HEADER)
    writer.writerows(zip(images, frames, strict=True))
    write_text(folder / MANIFEST, buffer.getvalue())


def read_manifest(folder: Path) -> list[int] | None:
    """The 0-based video frame of each of the format's frames, in order; None without a manifest."""
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(path, f"cannot read it ({exc})") from None
    lines = text.splitlines()
    if not lines or tuple(c.strip() for c in lines[0].split(",")) != MANIFEST_HEADER:
        raise FormatError(path, f"expected the header {','.join(MANIFEST_HEADER)}", 1)
    frames: list[int] = []
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = next(csv.reader([line]))
        if len(cells) != 2 or not cells[1].strip().isdigit():
            raise FormatError(path, f"expected 'image,frame' with a frame index >= 0, got {line!r}", lineno)
        frame = int(cells[1])
        if frames and frame <= frames[-1]:
            raise FormatError(path, f"frame {frame} does not come after frame {frames[-1]}", lineno)
        frames.append(frame)
    return frames


# -- images and progress ------------------------------------------------------------------------


def write_image(path: Path, image: np.ndarray) -> None:
    """Write a BGR frame as JPEG (quality 95) or PNG, by the file's suffix."""
    import cv2

    if path.suffix.lower() in (".jpg", ".jpeg"):
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    else:
        ok, data = cv2.imencode(path.suffix.lower(), image)
    if not ok:
        raise ValueError(f"cannot encode a {image.shape} {image.dtype} frame as {path.suffix}")
    try:
        path.write_bytes(data.tobytes())
    except OSError as exc:
        raise OSError(f"cannot write {path.name}: {os_reason(exc)}; nothing was exported") from exc


def read_frame(job: ExportJob, frame: int) -> np.ndarray:
    try:
        return job.frames(frame)
    except Exception as exc:
        raise ValueError(f"cannot read frame {frame} (0-based) of the video: {exc}") from exc


def image_format_suffix(name: str) -> str:
    name = name.lower().lstrip(".")
    name = "jpg" if name == "jpeg" else name
    if name not in ("jpg", "png"):
        raise ValueError(f"image format {name!r}: choose jpg or png")
    return "." + name


class ProgressSteps:
    """Counts work units and calls ``job.progress``; its False answer cancels the export."""

    def __init__(self, job: ExportJob, total: int):
        self.job, self.total, self.done = job, max(total, 1), 0
        self.step(0)

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.job.progress is not None and self.job.progress(self.done, self.total) is False:
            raise ExportCancelled("export cancelled; nothing was written")
