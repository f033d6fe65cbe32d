"""One-pass (OPE) evaluation as pysot's ``tools/eval.py`` / the OTB toolkit compute it.

* Success: fraction of frames whose IoU is **strictly greater** than each of 21 thresholds
  ``np.linspace(0, 1, 21)``; its AUC is the mean of that curve (so a perfect tracker scores
  20/21 = 0.952, as in the OTB toolkit and pysot).
* Precision: fraction of frames whose centre error is <= 20 px, centres at
  ``x + (w - 1) / 2`` (pysot's convention, tracker-specs §10.2).
* Unlike pysot, frames whose ground truth is invalid (NaN, or w / h <= 0: target absent) are
  left out of both numerator and denominator instead of counting as failures.
* A predicted box that is NaN counts as a failure (IoU 0, infinite centre error).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 21)
PRECISION_THRESHOLD = 20.0


def as_boxes(boxes) -> np.ndarray:
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"boxes must have shape (N, 4) (x, y, w, h), got {arr.shape}")
    return arr


def _pair(pred, gt) -> tuple[np.ndarray, np.ndarray]:
    pred, gt = as_boxes(pred), as_boxes(gt)
    if len(pred) != len(gt):
        raise ValueError(f"{len(pred)} predicted boxes but {len(gt)} ground-truth boxes")
    return pred, gt


def valid_mask(gt) -> np.ndarray:
    """Frames whose ground truth describes a visible target."""
    gt = as_boxes(gt)
    return np.isfinite(gt).all(axis=1) & (gt[:, 2] > 0) & (gt[:, 3] > 0)


def iou(a, b) -> np.ndarray:
    """Per-row IoU of two (N, 4) box arrays (continuous coordinates, no +1); NaN rows give 0."""
    a, b = _pair(a, b)
    aw, ah = np.clip(a[:, 2], 0, None), np.clip(a[:, 3], 0, None)
    bw, bh = np.clip(b[:, 2], 0, None), np.clip(b[:, 3], 0, None)
    iw = np.minimum(a[:, 0] + aw, b[:, 0] + bw) - np.maximum(a[:, 0], b[:, 0])
    ih = np.minimum(a[:, 1] + ah, b[:, 1] + bh) - np.maximum(a[:, 1], b[:, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    union = aw * ah + bw * bh - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0, inter / union, 0.0)
    return np.nan_to_num(np.clip(out, 0.0, 1.0), nan=0.0)


def box_iou(a, b) -> float:
    """IoU of two single (x, y, w, h) boxes (``iou`` for one row)."""
    return float(iou(a, b)[0])


def centres(boxes) -> np.ndarray:
    b = as_boxes(boxes)
    return np.stack([b[:, 0] + (b[:, 2] - 1) / 2, b[:, 1] + (b[:, 3] - 1) / 2], axis=1)


def centre_errors(pred, gt) -> np.ndarray:
    """Euclidean distance between centres, per frame; inf where the prediction is NaN."""
    pred, gt = _pair(pred, gt)
    d = np.linalg.norm(centres(pred) - centres(gt), axis=1)
    return np.where(np.isnan(d), np.inf, d)


def success_curve(pred, gt, thresholds=SUCCESS_THRESHOLDS) -> np.ndarray:
    """Fraction of valid-gt frames with IoU > each threshold (NaN everywhere if none is valid)."""
    pred, gt = _pair(pred, gt)
    mask = valid_mask(gt)
    thresholds = np.asarray(thresholds, dtype=np.float64)
    if not mask.any():
        return np.full(len(thresholds), np.nan)
    ious = iou(pred[mask], gt[mask])
    return (ious[:, None] > thresholds[None, :]).mean(axis=0)


def success_auc(pred, gt) -> float:
    return float(np.mean(success_curve(pred, gt)))


def precision(pred, gt, threshold: float = PRECISION_THRESHOLD) -> float:
    """Fraction of valid-gt frames whose centre error is <= ``threshold`` pixels."""
    pred, gt = _pair(pred, gt)
    mask = valid_mask(gt)
    if not mask.any():
        return float("nan")
    return float(np.mean(centre_errors(pred[mask], gt[mask]) <= threshold))


@dataclass(frozen=True)
class Scores:
    auc: float
    precision: float
    #: frames that counted (valid ground truth)
    valid_frames: int


def evaluate(pred, gt) -> Scores:
    pred, gt = _pair(pred, gt)
    return Scores(success_auc(pred, gt), precision(pred, gt), int(valid_mask(gt).sum()))
