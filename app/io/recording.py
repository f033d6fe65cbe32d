"""Recording the view of a run, Qt-free: which frames, how big, where to, and the encoders.

An MP4 (OpenCV, mp4v) or an animated GIF (Pillow) gets exactly one picture per frame of the
range, at the video's frame rate; a PNG is one picture. Every output is written beside its
target under a temporary name and renamed into place when complete, so a cancelled or failed
recording leaves nothing (and an existing file is replaced only by a complete one).
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from trackers.io import atomic_write_bytes

#: format name -> what the dialog calls it
RECORD_FORMATS = {"mp4": "MP4 video", "gif": "Animated GIF"}
FOURCC = "mp4v"
#: GIFs of full-HD frames are huge: by default they are scaled down to this width
GIF_MAX_WIDTH = 640

FrameRange = tuple[int, int]  # (first, last), both included


def default_width(fmt: str, frame_width: int) -> int:
    """The output width a format starts with: the video's, at most ``GIF_MAX_WIDTH`` for a GIF."""
    return min(frame_width, GIF_MAX_WIDTH) if fmt == "gif" else frame_width


def output_size(frame_size: tuple[int, int], width: int) -> tuple[int, int]:
    """(w, h) of a recorded frame ``width`` wide with the video's aspect; both even (what
    MPEG-4 encoders want)."""
    frame_w, frame_h = frame_size
    w = max(2, int(width) // 2 * 2)
    h = max(2, round(w * frame_h / frame_w / 2) * 2)
    return w, h


def suggested_path(video_path: str | Path, fmt: str, frames: FrameRange) -> Path:
    """Beside the video (or the folder of images): ``<name>_view_<first>-<last>.<fmt>``
    (``_view_<frame>`` for a single frame)."""
    video = Path(video_path)
    stem = video.name if video.is_dir() else video.stem
    span = f"{frames[0]}" if frames[0] == frames[1] else f"{frames[0]}-{frames[1]}"
    return video.parent / f"{stem}_view_{span}.{fmt}"


def tracked_range(frames: list[int]) -> FrameRange | None:
    """First to last of a track's frames (sorted), or None for a track without any."""
    return (frames[0], frames[-1]) if frames else None


def gif_durations(count: int, fps: float) -> list[int]:
    """Per-frame durations (ms) for ``count`` frames at ``fps``: GIF counts in hundredths of a
    second, so each frame ends on the hundredth nearest its true end time and the clip's length
    does not drift (30 fps: 30, 40, 30 ms … instead of 30 ms each, 10 % fast)."""
    ends = [round((i + 1) * 100 / fps) * 10 for i in range(count)]
    return [max(10, end - start) for start, end in zip([0, *ends[:-1]], ends, strict=True)]


def _describe(exc: OSError, folder: Path) -> str:
    """A person's reading of a write error."""
    reasons = {
        errno.EACCES: "permission denied (a read-only folder?)",
        errno.EPERM: "permission denied",
        errno.EROFS: "the disk is read-only",
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is used up",
        errno.ENOENT: "the folder does not exist",
        errno.ENOTDIR: "that is not a folder",
    }
    reason = reasons.get(exc.errno, exc.strerror or str(exc))
    return f"Cannot write into {folder}: {reason}."


class RecordingWriter:
    """One output file being written: ``add`` each RGB frame, then ``finish`` (renames it into
    place) or ``abort`` (removes it). Errors are OSError with a message for a person."""

    def __init__(self, path: str | Path, fmt: str, fps: float, size: tuple[int, int]):
        if fmt not in RECORD_FORMATS:
            raise ValueError(f"Unknown recording format {fmt!r}")
        self.path, self.fmt, self.fps, self.size = Path(path), fmt, float(fps), tuple(size)
        self.count = 0
        folder = self.path.parent
        if self.path.is_dir():
            raise OSError(f"{self.path} is a folder: choose a file name.")
        if not folder.is_dir():
            raise OSError(f"Cannot write into {folder}: the folder does not exist.")
        try:
            # The suffix stays: OpenCV picks the container from it.
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{self.path.stem}.", suffix=f".{fmt}")
        except OSError as exc:
            raise OSError(_describe(exc, folder)) from exc
        os.close(fd)
        self._tmp = Path(tmp)
        self._gif_frames: list = []
        self._movie: cv2.VideoWriter | None = None
        if fmt == "mp4":
            self._movie = cv2.VideoWriter(
                str(self._tmp), cv2.VideoWriter_fourcc(*FOURCC), self.fps, self.size
            )
            if not self._movie.isOpened():
                self.abort()
                raise OSError(f"OpenCV cannot write {FOURCC} video into {folder}.")

    def add(self, rgb: np.ndarray) -> None:
        if rgb.shape[1::-1] != self.size:
            raise ValueError(
                f"frame of {rgb.shape[1]}x{rgb.shape[0]}, expected {self.size[0]}x{self.size[1]}"
            )
        if self._movie is not None:
            self._movie.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        else:
            from PIL import Image

            # Each frame gets its own palette (GIF allows one per frame); no dithering: boxes
            # and chips stay flat colour.
            picture = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
            self._gif_frames.append(picture.quantize(256, dither=Image.Dither.NONE))
        self.count += 1

    def finish(self) -> Path:
        """Complete the file and put it at ``path``; returns the path."""
        if self.count == 0:
            self.abort()
            raise ValueError("Nothing was recorded.")
        try:
            if self._movie is not None:
                self._movie.release()
                self._movie = None
                self._check_movie()
            else:
                first, *rest = self._gif_frames
                # Pillow merges a frame identical to the one before into it (with both durations):
                # the timing stays that of the video.
                first.save(
                    self._tmp,
                    format="GIF",
                    save_all=True,
                    append_images=rest,
                    duration=gif_durations(self.count, self.fps),
                    loop=0,
                )
                self._gif_frames = []
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self._tmp, 0o666 & ~umask)  # mkstemp made it private; a plain open() would not
            os.replace(self._tmp, self.path)
        except OSError as exc:
            self.abort()
            raise OSError(_describe(exc, self.path.parent)) from exc
        except BaseException:
            self.abort()
            raise
        return self.path

    def _check_movie(self) -> None:
        """OpenCV's writer reports no error (a full disk truncates the file): read it back."""
        capture = cv2.VideoCapture(str(self._tmp))
        try:
            frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
        finally:
            capture.release()
        if frames != self.count:
            raise OSError(
                errno.EIO,
                f"the video came out unreadable, {frames} of {self.count} frames (is the disk full?)",
            )

    def abort(self) -> None:
        """Stop and remove what was written (also safe after ``finish`` or twice)."""
        if self._movie is not None:
            self._movie.release()
            self._movie = None
        self._gif_frames = []
        self._tmp.unlink(missing_ok=True)


def save_png(path: str | Path, rgb: np.ndarray) -> Path:
    """One picture as PNG, written atomically; OSError with a message for a person."""
    path = Path(path)
    ok, data = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError(f"Cannot encode the picture as PNG for {path}.")
    try:
        atomic_write_bytes(path, data.tobytes())
    except OSError as exc:
        if exc.errno is None:  # atomic_write_bytes' own message (a folder, a missing folder)
            raise
        raise OSError(_describe(exc, path.parent)) from exc
    return path
