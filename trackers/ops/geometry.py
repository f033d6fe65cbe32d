"""Scale bookkeeping, penalties, size smoothing and clipping of the pysot-family trackers.

Everything here is plain numpy and follows tracker-specs §1.3 and §1.6.
"""

from __future__ import annotations

import math

import numpy as np


def context_side(w: float, h: float, context_amount: float = 0.5) -> float:
    """Side of the square context region around a (w, h) target: sqrt((w + p)(h + p)), p = amount*(w+h)."""
    pad = context_amount * (w + h)
    return float(np.sqrt((w + pad) * (h + pad)))


def box_to_center(box, half_minus_one: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(x, y, w, h) -> centre, size. pysot uses x + (w - 1)/2; DaSiamRPN uses x + w/2."""
    x, y, w, h = box
    if half_minus_one:
        center = np.array([x + (w - 1) / 2, y + (h - 1) / 2])
    else:
        center = np.array([x + w / 2, y + h / 2])
    return center, np.array([w, h], dtype=np.float64)


def center_to_box(center, size) -> tuple[float, float, float, float]:
    """Centre, size -> (x, y, w, h) with x = cx - w/2 (the pysot output convention)."""
    cx, cy = float(center[0]), float(center[1])
    w, h = float(size[0]), float(size[1])
    return (cx - w / 2, cy - h / 2, w, h)


def change(r: np.ndarray) -> np.ndarray:
    """Symmetric ratio: max(r, 1/r), >= 1."""
    return np.maximum(r, 1.0 / r)


def padded_size(w, h):
    pad = (w + h) * 0.5
    return np.sqrt((w + pad) * (h + pad))


def scale_ratio_penalty(pred_w, pred_h, target_w: float, target_h: float, penalty_k: float) -> np.ndarray:
    """exp(-(r_c * s_c - 1) * k): penalises candidates whose size or aspect jumps from the target's.

    ``target_w``/``target_h`` must be in the same (search-patch) units as the predictions.
    """
    s_c = change(padded_size(pred_w, pred_h) / padded_size(target_w, target_h))
    r_c = change((target_w / target_h) / (pred_w / pred_h))
    return np.exp(-(r_c * s_c - 1) * penalty_k)


def blend_window(pscore: np.ndarray, window: np.ndarray, influence: float) -> np.ndarray:
    """Cosine-window prior: (1 - influence) * score + influence * window."""
    return pscore * (1 - influence) + window * influence


def smooth_size(size: np.ndarray, new_w: float, new_h: float, lr: float) -> np.ndarray:
    """Exponential moving average of the target size with rate ``lr``."""
    return np.array([size[0] * (1 - lr) + new_w * lr, size[1] * (1 - lr) + new_h * lr])


def clip_state(cx: float, cy: float, w: float, h: float, img_shape, min_size: float = 10.0):
    """Centre into [0, W] x [0, H]; size into [min_size, W] x [min_size, H] (min wins, as pysot)."""
    img_h, img_w = img_shape[:2]
    cx = _clamp(cx, 0.0, img_w)
    cy = _clamp(cy, 0.0, img_h)
    w = _clamp(w, min_size, img_w)
    h = _clamp(h, min_size, img_h)
    return cx, cy, w, h


def _clamp(v, lo, hi):
    """max(lo, min(v, hi)) (``lo`` wins when lo > hi), but a NaN / inf passes through unchanged:
    clamping it would turn a broken network output into a finite box (a corner, or the whole
    image) that ``Tracker.track``'s non-finite rollback could no longer see."""
    return v if not math.isfinite(v) else max(lo, min(v, hi))
