"""The tracker contract every Siamark tracker follows.

Conventions, stated once for the whole engine:

* **Frames** are ``numpy.uint8`` arrays of shape (H, W, 3) in **BGR** channel order, exactly
  what ``cv2.imread`` / ``cv2.VideoCapture`` return. A tracker that wants another order
  (SiamFC wants RGB) converts inside itself. Grayscale (H, W) frames are accepted and
  expanded to three equal channels.
* **Boxes** are ``(x, y, w, h)`` floats in 0-based pixel coordinates: ``(x, y)`` is the
  top-left corner, the pixel (0, 0) covers [0, 1) x [0, 1).
* **Scores** are in [0, 1]: the tracker's confidence in the returned box. With a calibration
  (``Tracker.calibration``, fitted per shipped weights file: trackers/calibration.py) the score
  is the estimated probability that the box overlaps the target by IoU >= 0.5; the network's
  own score is then kept in ``TrackResult.extras["raw_score"]``.
* **Appearance** (``set_appearance``): ``TrackResult.extras["appearance"]``, the cosine of the
  tracked box's template-branch features against the manual boxes' (trackers/appearance.py),
  for the drift flags; off by default, as it costs a template-branch forward per frame.
* **Response maps** are float32 (rows, cols) arrays in [0, 1]; ``MapGeometry`` places each
  cell on the image so a GUI can overlay the map without knowing the tracker.
"""

from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from trackers.appearance import AppearanceMemory

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class MapGeometry:
    """Where a response map lies on the image.

    The centre of cell (row, col) is at image pixel ``(x0 + col * step, y0 + row * step)``.
    """

    x0: float
    y0: float
    step: float

    def cell_centre(self, row: float, col: float) -> tuple[float, float]:
        return self.x0 + col * self.step, self.y0 + row * self.step

    def extent(self, shape: tuple[int, int]) -> Box:
        """Image rectangle (x, y, w, h) covered by a map of ``shape`` (cell edges, not centres)."""
        rows, cols = shape
        half = self.step / 2.0
        return (self.x0 - half, self.y0 - half, cols * self.step, rows * self.step)


@dataclass
class TrackResult:
    """One tracked frame."""

    box: Box
    score: float
    response: np.ndarray
    geometry: MapGeometry
    search_region: Box
    #: False when the network produced a non-finite output; ``box`` is then the last good box.
    ok: bool = True
    message: str = ""
    extras: dict[str, Any] = field(default_factory=dict)


def as_bgr_frame(frame: Any) -> np.ndarray:
    """Check a frame and return it as a contiguous (H, W, 3) uint8 array."""
    if not isinstance(frame, np.ndarray):
        raise TypeError(f"frame must be a numpy array, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise ValueError(f"frame must be uint8 (BGR 0..255), got dtype {frame.dtype}")
    if frame.ndim == 2:
        frame = np.repeat(frame[:, :, None], 3, axis=2)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"frame must have shape (H, W, 3), got {frame.shape}")
    if frame.shape[0] < 1 or frame.shape[1] < 1:
        raise ValueError(f"frame is empty: shape {frame.shape}")
    return np.ascontiguousarray(frame)


def box_values(box: Any) -> Box:
    """``box`` as four finite floats (x, y, w, h) with w and h above zero, or ValueError saying
    what is wrong with it. The one check of a box's numbers; callers add their own bounds."""
    try:
        values = [float(v) for v in box]
    except (TypeError, ValueError):
        raise ValueError(f"box must be four numbers (x, y, w, h), got {box!r}") from None
    if len(values) != 4:
        raise ValueError(f"box must be four numbers (x, y, w, h), got {len(values)} values")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"box has a non-finite value: {tuple(values)}")
    if values[2] <= 0 or values[3] <= 0:
        raise ValueError(f"box must have positive width and height, got w={values[2]:g}, h={values[3]:g}")
    return tuple(values)


def validate_box(box: Any, frame_shape: tuple[int, ...]) -> Box:
    """Return ``box`` as four floats, or raise ValueError saying what is wrong with it. A box
    wider or taller than the frame is clipped to the frame."""
    x, y, w, h = box_values(box)
    img_h, img_w = frame_shape[:2]
    if x >= img_w or y >= img_h or x + w <= 0 or y + h <= 0:
        raise ValueError(f"box ({x:g}, {y:g}, {w:g}, {h:g}) lies entirely outside the {img_w}x{img_h} frame")
    if w > img_w or h > img_h:
        # No target is larger than the frame it is in: a box that is (e.g. 8000 px on a 360 px
        # frame) becomes its part inside the frame. Unclipped, the context crop around it would
        # allocate gigabytes.
        x0, y0 = max(x, 0.0), max(y, 0.0)
        x, y, w, h = x0, y0, min(x + w, img_w) - x0, min(y + h, img_h) - y0
    return (x, y, w, h)


class Tracker(ABC):
    """Single-object tracker: ``init`` on one frame with a box, then ``track`` each next frame.

    Subclasses implement ``_init`` and ``_track`` and keep everything that changes from frame
    to frame in ``self._state`` so that a frame with a non-finite network output can be
    rolled back: the result then carries the last good box and ``ok=False``.
    """

    name: ClassVar[str] = ""
    #: raw score -> P(IoU >= 0.5); None: the score is the network's own (uncalibrated)
    calibration: Callable[[float], float] | None = None
    #: results carry ``extras["inside"]`` (trackers/inside.py); change it with ``set_inspect``
    inspect: bool = False
    #: results carry ``extras["appearance"]`` (trackers/appearance.py); see ``set_appearance``
    appearance: bool = False

    def __init__(self) -> None:
        self._state: Any = None
        self._last_good: TrackResult | None = None
        self._memory: AppearanceMemory | None = None

    def set_inspect(self, on: bool) -> None:
        """Record what each frame weighed (``extras["inside"]``); trackers without a record ignore it."""
        self.inspect = bool(on)

    def set_appearance(self, on: bool) -> None:
        """From the next ``init`` on, each result carries ``extras["appearance"]``: how much the
        tracked box looks like the manual boxes (cosine of the template-branch features, the
        best over the references; trackers/appearance.py). One template-branch forward per
        frame; trackers without a template branch ignore it."""
        self.appearance = bool(on)

    def add_keyframe(self, frame: np.ndarray, box: Box) -> None:
        """Another manual box of this target (a keyframe elsewhere in the video), after ``init``:
        the appearance check compares with it too. The template stays the start box's: blended
        with a keyframe's it measured no better (resources/weights/README.md)."""
        if self._state is None:
            raise RuntimeError("add_keyframe() after init()")
        if self._memory is None:
            return
        frame = as_bgr_frame(frame)
        self._memory.add(self._embedding(frame, validate_box(box, frame.shape)))

    def _embedding(self, frame: np.ndarray, box: Box) -> np.ndarray | None:
        """The template branch's features of ``box`` on ``frame`` (None: this tracker has none)."""
        return None

    @property
    def initialised(self) -> bool:
        return self._state is not None

    def init(self, frame: np.ndarray, box: Box) -> None:
        frame = as_bgr_frame(frame)
        box = validate_box(box, frame.shape)
        self._last_good = None
        self._init(frame, box)
        self._memory = None
        if self.appearance:
            start = self._embedding(frame, box)
            self._memory = AppearanceMemory(start) if start is not None else None

    def track(self, frame: np.ndarray) -> TrackResult:
        if self._state is None:
            raise RuntimeError(f"{self.name or type(self).__name__}: call init() before track()")
        frame = as_bgr_frame(frame)
        saved = copy.deepcopy(self._state)
        result = self._track(frame)
        if all(math.isfinite(v) for v in result.box) and math.isfinite(result.score):
            result.score = float(min(max(result.score, 0.0), 1.0))
            if self.calibration is not None:
                result.extras["raw_score"] = result.score
                result.score = float(min(max(self.calibration(result.score), 0.0), 1.0))
            if self._memory is not None and result.box[2] > 0 and result.box[3] > 0:
                result.extras["appearance"] = self._memory.similarity(self._embedding(frame, result.box))
            self._last_good = result
            return result
        # A NaN / inf from the network must not poison the state of the following frames.
        self._state = saved
        last_box = self._last_good.box if self._last_good else self._state_box()
        return TrackResult(
            box=last_box,
            score=0.0,
            response=np.nan_to_num(result.response, nan=0.0, posinf=0.0, neginf=0.0),
            geometry=result.geometry,
            search_region=result.search_region,
            ok=False,
            message="network output was not finite; kept the last good box",
        )

    @abstractmethod
    def _init(self, frame: np.ndarray, box: Box) -> None: ...

    @abstractmethod
    def _track(self, frame: np.ndarray) -> TrackResult: ...

    @abstractmethod
    def _state_box(self) -> Box:
        """The box the current state describes (used when no good result exists yet)."""
