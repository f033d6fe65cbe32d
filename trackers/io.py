"""Frame sources (OTB sequence folders, image folders, video files), ground truth and box text.

Every source yields BGR uint8 frames (``trackers.base`` convention) and knows its length.
Anything that cannot be read raises ``SourceError`` naming the file, never a bare cv2 error.
"""

from __future__ import annotations

import math
import os
import queue
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
#: ground-truth file names looked for in a sequence folder, in this order (OTB first, then GOT/LaSOT).
GROUNDTRUTH_NAMES = ("groundtruth_rect.txt", "groundtruth.txt")
# How many frames past an undecodable one are tried before calling it the end of the stream.
_PROBE_FRAMES = 8


class SourceError(ValueError):
    """A frame source or annotation file that cannot be read; the message names the file."""


def _natural_key(path: Path) -> list:
    # "2.jpg" before "10.jpg"; zero-padded names (OTB's 0001.jpg) sort the same as by plain name.
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def list_images(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
    return sorted(files, key=_natural_key)


class FrameSource:
    """Base of all sources: iterate for frames, ``len()`` for the frame count."""

    path: Path
    #: (N, 4) float array of x, y, w, h per frame (NaN rows allowed), or None.
    groundtruth: np.ndarray | None = None
    fps: float | None = None

    @property
    def name(self) -> str:
        return self.path.stem if self.path.is_file() else self.path.name

    def __len__(self) -> int:
        raise NotImplementedError

    def __iter__(self) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def read_all(self, max_frames: int | None = None) -> list[np.ndarray]:
        """Decode the frames into memory (all, or the first ``max_frames``)."""
        frames = []
        for frame in self:
            if max_frames is not None and len(frames) >= max_frames:
                break
            frames.append(frame)
        return frames


class ImageFolderSource(FrameSource):
    """A folder of images, or an OTB sequence (``img/`` + ``groundtruth_rect.txt``)."""

    def __init__(self, path: Path, image_dir: Path, groundtruth: np.ndarray | None = None):
        self.path = path
        self.image_dir = image_dir
        self.files = list_images(image_dir)
        if not self.files:
            raise SourceError(f"{image_dir}: no images ({', '.join(IMAGE_EXTENSIONS)}) in this folder")
        self.groundtruth = groundtruth

    def __len__(self) -> int:
        return len(self.files)

    def __iter__(self) -> Iterator[np.ndarray]:
        for index, file in enumerate(self.files):
            frame = cv2.imread(str(file), cv2.IMREAD_COLOR)  # grayscale files come back as 3 channels
            if frame is None:
                raise SourceError(f"{file}: cannot read image (frame index {index}; missing or corrupt)")
            yield frame


class VideoSource(FrameSource):
    """A video file read through cv2.VideoCapture.

    ``len()`` is the container's frame count, which some files overstate (OpenCV's own
    tree.avi says 444 and holds 68). When decoding stops early and nothing decodable follows,
    iteration simply ends and ``decoded_frames`` tells the real count; a frame that fails to
    decode with good frames after it raises ``SourceError`` naming its index.
    """

    def __init__(self, path: Path):
        self.path = path
        cap = self._open()
        try:
            self.fps = float(cap.get(cv2.CAP_PROP_FPS)) or None
            count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            ok, _ = cap.read()
            if not ok:
                raise SourceError(f"{path}: the video holds no decodable frame")
            if count <= 0:
                # Some streams do not say how long they are: count by grabbing (no decoding).
                count = 1
                while cap.grab():
                    count += 1
        finally:
            cap.release()
        self._length = count
        self.decoded_frames: int | None = None

    def _open(self) -> cv2.VideoCapture:
        return open_capture(self.path)

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[np.ndarray]:
        cap = self._open()
        index = 0
        try:
            while True:
                ok, frame = cap.read()
                if ok:
                    index += 1
                    yield frame
                    continue
                if index == 0:
                    raise SourceError(f"{self.path}: the video holds no decodable frame")
                if index < self._length and any(cap.grab() for _ in range(_PROBE_FRAMES)):
                    raise SourceError(
                        f"{self.path}: cannot decode frame index {index} (0-based; the file is "
                        f"corrupt there, and frames after it exist)"
                    )
                self.decoded_frames = index
                return
        finally:
            cap.release()


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


#: frames decoded ahead of the tracker (memory: depth x one frame, e.g. 8 x 6 MB at 1080p)
READ_AHEAD_FRAMES = 8
_END = object()


def read_ahead(frames: Iterable[np.ndarray], depth: int = READ_AHEAD_FRAMES) -> Iterator[np.ndarray]:
    """``frames``, decoded by a thread of their own up to ``depth`` frames ahead, when a core is
    free for it (more cores than torch's threads); otherwise simply in turn.

    Decoding (OpenCV releases the GIL) then overlaps tracking instead of adding to it. With no
    free core it would only take time from the network's threads: NanoTrack on 2 cores ran at
    259 fps with a decode thread against 377 fps without (``scripts/bench_backends.py``).
    Frames come in order; an error of the source is raised here, at the frame where it
    happened; closing the iterator (or dropping it) stops the thread after at most one more frame.
    """
    import torch

    if available_cores() <= torch.get_num_threads():
        yield from frames
        return
    buffer: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop, done = threading.Event(), threading.Event()

    def put(item) -> bool:
        """Hand ``item`` over unless the consumer has stopped (False then)."""
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for frame in frames:
                if not put(frame):
                    return
            put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put(exc)
        finally:
            done.set()

    # daemon given and no join(): both would register the calling thread with ``threading``
    # (a _DummyThread that outlives a QThread caller).
    threading.Thread(target=produce, name="siamark-read-ahead", daemon=True).start()
    try:
        while True:
            item = buffer.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        done.wait(timeout=5)


def open_capture(path: str | Path) -> cv2.VideoCapture:
    """cv2.VideoCapture of ``path``, or SourceError naming the file when it cannot be opened."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise SourceError(f"{path}: cannot open video (empty, corrupt or unsupported format)")
    return cap


def open_source(path: str | Path) -> FrameSource:
    """Open a sequence folder (OTB layout), a plain image folder, or a video file."""
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: not found")
    if path.is_dir():
        img = path / "img"
        if img.is_dir():
            gt_file = next((path / n for n in GROUNDTRUTH_NAMES if (path / n).is_file()), None)
            gt = read_groundtruth(gt_file) if gt_file else None
            return ImageFolderSource(path, img, gt)
        return ImageFolderSource(path, path)
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        raise SourceError(f"{path}: is a single image; pass the folder that holds the frames")
    if path.stat().st_size == 0:
        raise SourceError(f"{path}: the file is empty")
    return VideoSource(path)


def _split(text: str) -> list[str]:
    return [t for t in re.split(r"[,;\s]+", text.strip()) if t]


def read_groundtruth(path: str | Path) -> np.ndarray:
    """(N, 4) float array from ``x,y,w,h`` lines (comma, tab or whitespace separated).

    A line of NaNs (``nan,nan,nan,nan`` or a lone ``NaN``: target absent) gives a NaN row;
    blank lines are skipped. Coordinates are returned exactly as written.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SourceError(f"{path}: ground-truth file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read ground truth ({exc})") from None
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        tokens = _split(line)
        if not tokens:
            continue
        try:
            values = [float(t) for t in tokens]
        except ValueError:
            raise SourceError(f"{path}:{lineno}: not numbers: {line.strip()!r}") from None
        if len(values) == 1 and math.isnan(values[0]):
            values = [math.nan] * 4
        if len(values) != 4:
            raise SourceError(
                f"{path}:{lineno}: expected 4 values x,y,w,h, got {len(values)} "
                f"(polygon ground truth is not supported)"
            )
        rows.append(values)
    if not rows:
        raise SourceError(f"{path}: no boxes in the ground-truth file")
    return np.asarray(rows, dtype=np.float64)


def parse_box(text: str) -> tuple[float, float, float, float]:
    """``"x,y,w,h"`` (commas and/or spaces) -> four finite floats with w, h > 0, or ValueError."""
    tokens = _split(str(text))
    try:
        values = [float(t) for t in tokens]
    except ValueError:
        raise ValueError(f"box {text!r} is not numbers; expected x,y,w,h") from None
    if len(values) != 4:
        raise ValueError(f"box {text!r} has {len(values)} values; expected 4 (x,y,w,h)")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"box {text!r} has a non-finite value")
    if values[2] <= 0 or values[3] <= 0:
        raise ValueError(f"box {text!r} must have positive width and height")
    return (values[0], values[1], values[2], values[3])


def format_box(box: Sequence[float]) -> str:
    """``x,y,w,h`` with at most 3 decimals and no trailing zeros (``292.23,128.36,146,132.5``)."""
    return ",".join(np.format_float_positional(float(v), precision=3, trim="-") for v in box)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write via a temporary file in the same folder + os.replace: readers never see half a file."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """``atomic_write_text`` for bytes."""
    path = Path(path)
    if path.is_dir():
        raise OSError(f"{path}: is a folder, not a file")
    if not path.parent.is_dir():
        raise OSError(f"{path.parent}: output folder does not exist")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates 0600; give the file the permissions a plain open() would (umask applied).
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def staged_folder(target: str | Path) -> Iterator[Path]:
    """A temporary folder beside ``target`` to fill; when the block ends without an error it
    replaces ``target`` by one rename, otherwise it is removed: readers never see half a folder."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        yield staging
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def write_boxes(path: str | Path, boxes: Sequence[Sequence[float]]) -> None:
    """One ``x,y,w,h`` line per frame, written atomically."""
    atomic_write_text(path, "".join(format_box(b) + "\n" for b in boxes))
