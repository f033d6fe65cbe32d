"""OpenCV's own trackers behind the Siamark tracker contract, as reference rows for ``bench``.

These are not Siamese trackers and are not in the registry: ``create_reference`` builds them.

* ``csrt``: cv2.TrackerCSRT (discriminative correlation filter with channel reliability).
* ``kcf``: cv2.TrackerKCF (kernelised correlation filter).
* ``opencv-nano``: cv2.TrackerNano running the official NanoTrack backbone + head ONNX files;
  its score is ``getTrackingScore()``.
* ``opencv-vit``: cv2.TrackerVit running VitTrack's ONNX file (a one-stream ViT tracker, not
  Siamese; a pseudo-label teacher, trackers/training/pseudo.py).

cv2 trackers take integer rectangles. A float box is rounded edge by edge to the nearest
pixel (``x0 = floor(x + 0.5)``, ``x1 = floor(x + w + 0.5)``, ``w = max(1, x1 - x0)``), so the
rectangle covers the same pixels as the float box; their integer outputs come back as floats.
They produce no response map: results carry an empty (0, 0) map.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from trackers.base import Box, MapGeometry, Tracker, TrackResult

REFERENCE_NAMES = ("csrt", "kcf", "opencv-nano", "opencv-vit")

_NO_MAP = np.zeros((0, 0), dtype=np.float32)
_NO_GEOMETRY = MapGeometry(0.0, 0.0, 1.0)


def to_cv_rect(box: Box) -> tuple[int, int, int, int]:
    x, y, w, h = (float(v) for v in box)
    x0, y0 = math.floor(x + 0.5), math.floor(y + 0.5)
    x1, y1 = math.floor(x + w + 0.5), math.floor(y + h + 0.5)
    return (x0, y0, max(1, x1 - x0), max(1, y1 - y0))


class OpenCVTracker(Tracker):
    """Adapter: ``self._state`` is the last box (cheap to deep-copy); the cv2 object lives beside it."""

    weights_source = "OpenCV built-in"

    def _make(self):
        raise NotImplementedError

    def _score(self, ok: bool) -> float:
        return 1.0 if ok else 0.0

    def _init(self, frame: np.ndarray, box: Box) -> None:
        # A fresh cv2 object per init: cv2 trackers have no documented reset.
        self._cv = self._make()
        self._cv.init(frame, to_cv_rect(box))
        self._state = tuple(float(v) for v in box)

    def _track(self, frame: np.ndarray) -> TrackResult:
        ok, rect = self._cv.update(frame)
        box = tuple(float(v) for v in rect)
        message = ""
        if not ok or box[2] <= 0 or box[3] <= 0:
            # cv2 reports a lost target with a junk rectangle; keep the last box instead.
            box, message = self._state, "OpenCV tracker reported the target lost; kept the last box"
        self._state = box
        return TrackResult(
            box=box,
            score=self._score(bool(ok)),
            response=_NO_MAP,
            geometry=_NO_GEOMETRY,
            search_region=box,
            message=message,
        )

    def _state_box(self) -> Box:
        return self._state


class CSRTReference(OpenCVTracker):
    name = "csrt"

    def _make(self):
        return cv2.TrackerCSRT.create()


class KCFReference(OpenCVTracker):
    name = "kcf"

    def _make(self):
        return cv2.TrackerKCF.create()


class OpenCVNanoReference(OpenCVTracker):
    name = "opencv-nano"

    def __init__(self, backbone: str | Path, head: str | Path):
        super().__init__()
        for label, path in (("backbone", backbone), ("head", head)):
            if not Path(path).is_file():
                raise ValueError(f"opencv-nano: {label} ONNX file not found: {path}")
        self.backbone, self.head = str(backbone), str(head)
        self.weights_source = f"{self.backbone} + {self.head}"
        self._make()  # fail now, with a clear message, if the ONNX pair does not load

    def _make(self):
        params = cv2.TrackerNano_Params()
        params.backbone = self.backbone
        params.neckhead = self.head
        try:
            return cv2.TrackerNano.create(params)
        except cv2.error as exc:
            detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise ValueError(
                f"opencv-nano: cannot load {Path(self.backbone).name} + {Path(self.head).name} ({detail})"
            ) from None

    def _init(self, frame: np.ndarray, box: Box) -> None:
        try:
            super()._init(frame, box)
        except cv2.error as exc:
            # e.g. NanoTrack v3 ONNX: its head's shapes differ from what cv2.TrackerNano expects.
            raise ValueError(f"opencv-nano: these ONNX files do not run in cv2.TrackerNano ({exc})") from None

    def _score(self, ok: bool) -> float:
        return float(self._cv.getTrackingScore()) if ok else 0.0


class OpenCVVitReference(OpenCVTracker):
    name = "opencv-vit"

    def __init__(self, net: str | Path):
        super().__init__()
        if not Path(net).is_file():
            raise ValueError(f"opencv-vit: ONNX file not found: {net}")
        self.net = str(net)
        self.weights_source = self.net
        self._make()  # fail now, with a clear message, if the file does not load

    def _make(self):
        params = cv2.TrackerVit_Params()
        params.net = self.net
        try:
            return cv2.TrackerVit.create(params)
        except cv2.error as exc:
            detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise ValueError(f"opencv-vit: cannot load {Path(self.net).name} ({detail})") from None

    def _score(self, ok: bool) -> float:
        return float(self._cv.getTrackingScore()) if ok else 0.0


def create_reference(
    name: str, nano_onnx: tuple[str | Path, str | Path] | None = None, vit_onnx: str | Path | None = None
) -> Tracker:
    """Build reference tracker ``name`` (one of REFERENCE_NAMES); opencv-nano needs its two ONNX paths."""
    if name == "csrt":
        return CSRTReference()
    if name == "kcf":
        return KCFReference()
    if name == "opencv-nano":
        if not nano_onnx:
            raise ValueError("opencv-nano needs its backbone and head ONNX files (--nano-onnx BACKBONE HEAD)")
        return OpenCVNanoReference(*nano_onnx)
    if name == "opencv-vit":
        if not vit_onnx:
            raise ValueError("opencv-vit needs VitTrack's ONNX file (--vit-onnx FILE)")
        return OpenCVVitReference(vit_onnx)
    raise ValueError(f"unknown reference tracker {name!r}; available: {', '.join(REFERENCE_NAMES)}")
