"""Random-access, frame-exact video for the GUI (video files and image-sequence folders).

``open_video(path).frame(i)`` is the i-th frame of a plain sequential ``cv2.VideoCapture``
decode (the frames the CLI tracks), after any seek history.

How seeking stays exact. Opening decodes the file once with ``grab()`` (no colour conversion)
and records each frame's timestamp (``CAP_PROP_POS_MSEC``). That pass gives the true frame count
(headers lie: tree.avi says 444 and holds 68), per-frame timestamps for variable-frame-rate
detection, and an identity for every frame with a unique timestamp. A seek then uses OpenCV's
own ``CAP_PROP_POS_FRAMES`` (fast: keyframe + forward decode) and *verifies* where it landed by the
timestamp of the frame it returned; on a mismatch it decodes forward from the verified frame, or
from the start if nothing can be verified. PyAV was measured too: same pixels (same FFmpeg
decoders), same keyframe-bound seek cost, so it would only add a dependency. Forward jumps short
enough to decode faster than a seek read on from the current position (playback), and stepping
backwards decodes a run of earlier frames into the cache so the next steps back are instant.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from trackers.io import (
    GROUNDTRUTH_NAMES,
    ImageFolderSource,
    SourceError,
    open_capture,
    open_source,
    read_groundtruth,
)

__all__ = ["ImageSequence", "SeekableVideo", "SourceError", "VideoFile", "open_video"]

DEFAULT_CACHE_BYTES = 512 * 2**20
#: frame rate assumed for image sequences, which carry no timing (OTB / GOT-10k convention).
IMAGE_SEQUENCE_FPS = 30.0
# Failed grabs in a row after which the stream is taken to have ended (same rule as trackers.io).
_PROBE_FRAMES = 8
# At most this many earlier frames are decoded into the cache when the user steps backwards.
_BACKFILL_FRAMES = 48

Progress = Callable[[int, int], object]


def media_name(path: str | Path) -> str:
    """What to call a video: the file's stem, or the sequence folder's name for the image
    folder of a layout (OTB's ``<seq>/img``, MOT's ``<seq>/img1``)."""
    p = Path(path)
    if p.name in ("img", "img1") and p.parent.name:
        p = p.parent
    return p.stem if p.suffix and not p.is_dir() else p.name


class SeekableVideo:
    """Base: bounds checks, a byte-bounded LRU frame cache and a lock (GUI worker threads)."""

    path: Path
    frame_count: int
    fps: float
    size: tuple[int, int]  # (w, h)
    variable_frame_rate: bool = False
    frame_rate_note: str = ""
    #: (N, 4) x, y, w, h ground truth found beside the frames (OTB / GOT-10k folders), else None.
    groundtruth: np.ndarray | None = None

    def __init__(self, path: Path, cache_bytes: int):
        self.path = path
        self.cache_bytes = int(cache_bytes)
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_used = 0
        self._lock = threading.RLock()
        self._closed = False

    @property
    def name(self) -> str:
        return media_name(self.path)

    @property
    def cache_used_bytes(self) -> int:
        return self._cache_used

    def __len__(self) -> int:
        return self.frame_count

    def frame(self, i: int) -> np.ndarray:
        """BGR uint8 frame ``i`` (0-based). Read-only: it is shared with the cache; copy to draw."""
        i = int(i)
        if not 0 <= i < self.frame_count:
            raise IndexError(f"frame index {i} out of range 0..{self.frame_count - 1} ({self.path})")
        with self._lock:
            if self._closed:
                raise ValueError(f"{self.path}: video is closed")
            hit = self._cache.get(i)
            if hit is not None:
                self._cache.move_to_end(i)
                return hit
            frame = self._decode(i)
            self._remember(i, frame)
            return frame

    def reader(self) -> SeekableVideo:
        """An independent reader of the same frames for another thread: no cache, its own decoder,
        and the index this source already built (re-indexing would decode the whole file again)."""
        clone = copy.copy(self)
        SeekableVideo.__init__(clone, self.path, 0)
        clone._reopen()
        return clone

    def _reopen(self) -> None:
        """Give a clone its own decoder state (subclasses with one)."""

    def timestamp(self, i: int) -> float:
        """Seconds from the first frame to frame ``i``."""
        return float(self._timestamps[int(i)])

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._cache.clear()
            self._cache_used = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- for subclasses

    _timestamps: np.ndarray

    def _decode(self, i: int) -> np.ndarray:
        raise NotImplementedError

    def _remember(self, i: int, frame: np.ndarray) -> None:
        frame.flags.writeable = False
        if i in self._cache or frame.nbytes > self.cache_bytes:
            return
        self._cache[i] = frame
        self._cache_used += frame.nbytes
        while self._cache_used > self.cache_bytes:
            _, old = self._cache.popitem(last=False)
            self._cache_used -= old.nbytes


class ImageSequence(SeekableVideo):
    """A folder of images (plain, OTB ``img/``, or GOT-10k ``00000001.jpg`` + ``groundtruth.txt``)."""

    def __init__(self, folder: ImageFolderSource, cache_bytes: int):
        super().__init__(folder.path, cache_bytes)
        self.files = folder.files
        self.frame_count = len(self.files)
        self.groundtruth = folder.groundtruth
        if self.groundtruth is None:  # GOT-10k / LaSOT keep groundtruth.txt beside the images
            gt = next((folder.path / n for n in GROUNDTRUTH_NAMES if (folder.path / n).is_file()), None)
            self.groundtruth = read_groundtruth(gt) if gt else None
        self.fps = IMAGE_SEQUENCE_FPS
        self.frame_rate_note = f"image sequence (no timing): shown at {IMAGE_SEQUENCE_FPS:g} fps"
        self._timestamps = np.arange(self.frame_count) / self.fps
        self.size = (0, 0)
        first = self._decode(0)
        self.size = (first.shape[1], first.shape[0])
        self._remember(0, first)

    def _decode(self, i: int) -> np.ndarray:
        file = self.files[i]
        frame = cv2.imread(str(file), cv2.IMREAD_COLOR)  # grey images come back as 3 channels
        if frame is None:
            raise SourceError(f"{file}: cannot read image (frame index {i}; missing or corrupt)")
        if self.size != (0, 0) and (frame.shape[1], frame.shape[0]) != self.size:
            w, h = self.size
            raise SourceError(
                f"{file}: image is {frame.shape[1]}x{frame.shape[0]}, the sequence is {w}x{h} "
                f"(frame index {i})"
            )
        return frame


class VideoFile(SeekableVideo):
    """A video file read through cv2.VideoCapture, indexed once at open (see the module doc)."""

    def __init__(self, path: Path, cache_bytes: int, progress: Progress | None = None):
        super().__init__(path, cache_bytes)
        header = open_source(path)  # validation shared with the CLI: missing, empty, undecodable
        cap = self._open()
        try:
            nominal = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            t0 = time.perf_counter()
            raw = _index_pass(cap, nominal, progress)
            elapsed = time.perf_counter() - t0
        finally:
            cap.release()
        if not np.isfinite(raw).any():
            raise SourceError(f"{path}: the video holds no decodable frame")
        self.frame_count = len(raw)
        self.nominal_frame_count = nominal
        #: frame indices that failed to decode while frames after them did (corrupt in the file).
        self.bad_frames = frozenset(np.flatnonzero(np.isnan(raw)).tolist())
        self._raw_ms = raw
        decoded = np.flatnonzero(np.isfinite(raw))
        values, where, counts = np.unique(raw[decoded], return_index=True, return_counts=True)
        # Only a timestamp no other frame shares identifies a frame.
        self._ms_to_index = {float(v): int(decoded[k]) for v, k, c in zip(values, where, counts) if c == 1}
        self._timestamps, intervals = _clean_timestamps(raw)
        self.fps, self.variable_frame_rate, self.frame_rate_note = _frame_rate(
            intervals, header.fps, self.frame_count, self._timestamps
        )
        self._grab_ms = max(1000 * elapsed / max(len(raw), 1), 0.05)
        self._seek_ms = 40 * self._grab_ms  # first guess, then measured
        self.fallbacks = 0  # seeks that had to decode from the start (diagnostics)
        self._last = -1
        self._cap = self._open()
        self._pos: int | None = 0  # index of the frame the next grab() returns; None: unknown
        self.size = (0, 0)
        first = self.frame(int(decoded[0]))  # the decoded shape, after any rotation metadata
        self.size = (first.shape[1], first.shape[0])

    def _reopen(self) -> None:
        self._cap = self._open()
        self._pos = 0
        self._last = -1

    def _open(self) -> cv2.VideoCapture:
        return open_capture(self.path)

    def close(self) -> None:
        with self._lock:
            super().close()
            self._cap.release()

    def _decode(self, i: int) -> np.ndarray:
        if i in self.bad_frames:
            raise SourceError(f"{self.path}: cannot decode frame index {i} (0-based; corrupt in the file)")
        back, self._last = self._last, i
        pos, start = self._pos, i
        if pos is not None and 0 <= i - pos and (i - pos) * self._grab_ms <= self._seek_ms:
            frame = self._read_forward(i, keep_from=i)  # cheaper than a seek (playback)
        else:
            if 0 < back - i <= 4:  # stepping backwards: decode a run before i into the cache
                room = self.cache_bytes // (4 * self.size[0] * self.size[1] * 3 or 1)
                start = max(0, i - min(_BACKFILL_FRAMES, room))
            # OpenCV maps frame numbers to timestamps with the average fps, so on some variable
            # frame-rate files it lands late; a seek further back then still saves decoding.
            for s in dict.fromkeys((start, max(0, start - 32), max(0, start - 256))):
                frame = self._seek(s, i)
                if frame is not None or self._pos is not None:
                    break
            if frame is None and self._pos is not None:
                frame = self._read_forward(i, keep_from=start)
        if frame is None:  # nothing identified where OpenCV landed: decode from the start
            self.fallbacks += 1
            self._cap.release()
            self._cap = cv2.VideoCapture(str(self.path))
            self._pos = 0
            frame = self._read_forward(i, keep_from=start) if self._cap.isOpened() else None
        if frame is None:
            raise SourceError(
                f"{self.path}: cannot decode frame index {i} (0-based; the file is corrupt there "
                f"or changed since it was opened)"
            )
        return frame

    def _seek(self, start: int, target: int) -> np.ndarray | None:
        """Let OpenCV seek to ``start`` and identify the frame it returns by its timestamp.

        Returns the target frame if it landed there; otherwise leaves ``_pos`` after the
        landing frame when that is at or before the target, or None when it is unknown.
        """
        t0 = time.perf_counter()
        self._pos = None
        self._cap.set(cv2.CAP_PROP_POS_FRAMES, start)
        ok, frame = self._cap.read()
        self._seek_ms = 0.7 * self._seek_ms + 0.3 * 1000 * (time.perf_counter() - t0)
        landed = self._ms_to_index.get(self._cap.get(cv2.CAP_PROP_POS_MSEC)) if ok else None
        if landed is None or landed > target:
            return None
        self._pos = landed + 1
        if landed == target:
            return frame
        if landed >= start:
            self._remember(landed, frame)
        return None

    def _read_forward(self, i: int, keep_from: int) -> np.ndarray | None:
        """Decode on from ``_pos`` to frame i (caching those from ``keep_from``); None when the
        frame read is not the one the index expects (lost position, or a changed file)."""
        while self._pos < i:
            if self._pos >= keep_from and self._pos not in self.bad_frames:
                ok, frame = self._cap.read()
                if ok:
                    self._remember(self._pos, frame)
            else:
                self._cap.grab()
            self._pos += 1
        ok, frame = self._cap.read()
        self._pos = i + 1
        expected = self._raw_ms[i]
        if not ok or (expected in self._ms_to_index and self._cap.get(cv2.CAP_PROP_POS_MSEC) != expected):
            self._pos = None
            return None
        return frame


def _index_pass(cap: cv2.VideoCapture, nominal: int, progress: Progress | None) -> np.ndarray:
    """Timestamp (ms) of every frame a sequential decode yields; NaN for a frame that failed
    to decode with decodable frames after it."""
    stamps: list[float] = []
    failed = 0
    while failed <= _PROBE_FRAMES:
        if cap.grab():
            stamps.extend([math.nan] * failed)
            failed = 0
            stamps.append(cap.get(cv2.CAP_PROP_POS_MSEC))
            if progress is not None and len(stamps) % 64 == 0:
                progress(len(stamps), max(nominal, len(stamps)))
        else:
            failed += 1
    return np.asarray(stamps, dtype=np.float64)


def _clean_timestamps(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Seconds from the first frame, plus the intervals between consecutive trustworthy stamps.

    A stamp that is missing or not after its predecessor (e.g. NOPTS read back as 0) is
    replaced by the previous one plus the median interval.
    """
    t = raw / 1000.0
    good = np.isfinite(t)
    good[1:] &= t[1:] > np.fmax.accumulate(np.where(good, t, -np.inf))[:-1]
    pairs = good[1:] & good[:-1]
    intervals = np.diff(t)[pairs]
    step = float(np.median(intervals)) if intervals.size else 0.0
    out = np.empty_like(t)
    origin = t[np.argmax(good)] if good.any() else 0.0
    for k in range(len(t)):
        out[k] = t[k] - origin if good[k] else (out[k - 1] + step if k else 0.0)
    return out, intervals


def _frame_rate(intervals: np.ndarray, nominal: float | None, count: int, ts: np.ndarray):
    """(fps, variable?, note). Variable when an interval departs from the median by more than
    10 % or 2 ms (millisecond time bases round 29.97 fps to 33/34 ms: still constant)."""
    if intervals.size == 0:
        fps = nominal or IMAGE_SEQUENCE_FPS
        return fps, False, f"constant {fps:.4g} fps (single frame)"
    median = float(np.median(intervals))
    tolerance = max(0.002, 0.1 * median)
    variable = bool(np.any(np.abs(intervals - median) > tolerance))
    if not variable:
        measured = 1.0 / median
        fps = nominal if nominal and abs(nominal - measured) <= 0.01 * measured else measured
        return fps, False, f"constant {fps:.4g} fps"
    span = float(ts[-1] - ts[0])
    fps = (count - 1) / span if span > 0 else 1.0 / median
    low, high = 1.0 / float(intervals.max()), 1.0 / float(intervals.min())
    note = (
        f"variable frame rate: {low:.3g}-{high:.3g} fps (average {fps:.3g}); frame numbers count "
        f"decoded frames, times follow the file's timestamps"
    )
    return fps, True, note


def open_video(
    path: str | Path, cache_bytes: int = DEFAULT_CACHE_BYTES, progress: Progress | None = None
) -> SeekableVideo:
    """Open a video file or an image-sequence folder for random access.

    Video files are decoded once here to count and time their frames (about 1 ms a frame on
    SD video; ``progress(done, estimated_total)`` reports it, and an exception it raises aborts
    the open); call from a worker thread for long files. Anything unreadable raises
    ``SourceError`` naming the file.
    """
    path = Path(path)
    if path.is_dir():
        folder = open_source(path)
        assert isinstance(folder, ImageFolderSource)
        return ImageSequence(folder, cache_bytes)
    return VideoFile(path, cache_bytes, progress)
