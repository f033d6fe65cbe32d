"""Label assignment on the score map, per tracker family (numpy; one pair at a time).

Geometry is the engine's: score cells are ``trackers.ops.grids`` points / anchors (offsets from the
search-crop centre), placed at ``search_size / 2 + offset`` in continuous crop pixels. That is the
pysot tracker's "patch index 127 + offset" (index = continuous - 0.5), so what training calls
cell k is what inference decodes as cell k. Boxes are (x1, y1, x2, y2) in the same coordinates.

Sampling of labelled cells (``rng``) follows pysot / siamban: at most ``pos_num`` positives and
``total_num`` labelled cells in all; negative pairs label only ``neg_num`` cells near the other
object, as negatives.
"""

from __future__ import annotations

import numpy as np

from trackers.ops.grids import anchor_grid, point_grid


def grid_points(score_size: int, stride: int, search_size: int) -> np.ndarray:
    """(S*S, 2) x, y of every score cell in search-crop pixels, row-major."""
    return point_grid(score_size, stride) + np.float32(search_size / 2)


def grid_anchors(score_size: int, stride: int, search_size: int, scale: float = 8.0) -> np.ndarray:
    """(A*S*S, 4) cx, cy, w, h anchors in search-crop pixels, anchor-major then row, column."""
    a = anchor_grid(score_size, stride, scales=(scale,)).copy()
    a[:, :2] += np.float32(search_size / 2)
    return a


def _select(index: np.ndarray, keep: int, rng: np.random.Generator) -> np.ndarray:
    """At most ``keep`` of ``index``, drawn at random (pysot's ``select``)."""
    if len(index) <= keep:
        return index
    return index[rng.permutation(len(index))[:keep]]


def corner_iou(boxes: np.ndarray, box: np.ndarray) -> np.ndarray:
    """IoU of (N, 4) corner boxes with one corner box (no +1, as pysot)."""
    iw = np.clip(np.minimum(boxes[:, 2], box[2]) - np.maximum(boxes[:, 0], box[0]), 0, None)
    ih = np.clip(np.minimum(boxes[:, 3], box[3]) - np.maximum(boxes[:, 1], box[1]), 0, None)
    inter = iw * ih
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / (area + (box[2] - box[0]) * (box[3] - box[1]) - inter)


def _centre_size(box: np.ndarray) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    return (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1


# --- SiamFC ------------------------------------------------------------------------------------


def siamfc_labels(
    box: np.ndarray, score_size: int, stride: int, search_size: int, negative: bool, r_pos: float = 16.0
) -> np.ndarray:
    """(S, S) float32: 1 where the city-block distance to the target centre is <= r_pos pixels
    (siamfc-pytorch: r_pos / stride cells), else 0; all 0 for a negative pair. siamfc-pytorch
    centres the labels on the map (its searches are not shifted); ours follow the shifted target."""
    labels = np.zeros(score_size * score_size, dtype=np.float32)
    if not negative:
        cx, cy, _, _ = _centre_size(box)
        p = grid_points(score_size, stride, search_size)
        dist = (np.abs(p[:, 0] - cx) + np.abs(p[:, 1] - cy)) / stride
        labels[dist <= r_pos / stride] = 1.0
    return labels.reshape(score_size, score_size)


# --- SiamRPN family ----------------------------------------------------------------------------


def rpn_targets(
    box: np.ndarray,
    anchors: np.ndarray,
    score_size: int,
    stride: int,
    search_size: int,
    negative: bool,
    rng: np.random.Generator,
    pos_iou: float = 0.6,
    neg_iou: float = 0.3,
    pos_num: int = 16,
    total_num: int = 64,
    neg_num: int = 16,
) -> dict[str, np.ndarray]:
    """pysot ``AnchorTarget``: cls (A, S, S) int64 in {-1 ignore, 0, 1}, delta (4, A, S, S) =
    (dx / w_a, dy / h_a, log w / w_a, log h / h_a), delta_weight (A, S, S) = 1 / num_pos on
    positives."""
    n = len(anchors)
    a = len(anchors) // (score_size * score_size)
    cls = -np.ones(n, dtype=np.int64)
    delta = np.zeros((4, n), dtype=np.float32)
    weight = np.zeros(n, dtype=np.float32)
    cx, cy, w, h = _centre_size(box)
    if negative:
        # The 7x7 cells around the other object's centre (all anchors) become negatives, 16 kept.
        # Nearest cell; pysot's ceil(d + 0.5) lands one cell off for a centred object.
        c = score_size // 2
        col = c + round((cx - search_size / 2) / stride)
        row = c + round((cy - search_size / 2) / stride)
        grid = np.zeros((a, score_size, score_size), dtype=bool)
        grid[:, max(row - 3, 0) : max(row + 4, 0), max(col - 3, 0) : max(col + 4, 0)] = True
        cls[_select(np.flatnonzero(grid.reshape(-1)), neg_num, rng)] = 0
    else:
        ac = anchors
        corners = np.stack(
            [
                ac[:, 0] - ac[:, 2] / 2,
                ac[:, 1] - ac[:, 3] / 2,
                ac[:, 0] + ac[:, 2] / 2,
                ac[:, 1] + ac[:, 3] / 2,
            ],
            1,
        )
        iou = corner_iou(corners, np.asarray(box, dtype=np.float64))
        delta[0] = (cx - ac[:, 0]) / ac[:, 2]
        delta[1] = (cy - ac[:, 1]) / ac[:, 3]
        delta[2] = np.log(w / ac[:, 2])
        delta[3] = np.log(h / ac[:, 3])
        pos = _select(np.flatnonzero(iou > pos_iou), pos_num, rng)
        neg = _select(np.flatnonzero(iou < neg_iou), total_num - len(pos), rng)
        cls[pos] = 1
        cls[neg] = 0
        weight[pos] = 1.0 / (len(pos) + 1e-6)
    shape = (a, score_size, score_size)
    return {
        "cls": cls.reshape(shape),
        "delta": delta.reshape(4, *shape),
        "delta_weight": weight.reshape(shape),
    }


# --- SiamBAN / NanoTrack -----------------------------------------------------------------------


def ellipse_value(points: np.ndarray, box: np.ndarray, scale: float) -> np.ndarray:
    """(x - cx)^2 / (w * scale)^2 + (y - cy)^2 / (h * scale)^2 per point (< 1: inside)."""
    cx, cy, w, h = _centre_size(box)
    return (points[:, 0] - cx) ** 2 / (w * scale) ** 2 + (points[:, 1] - cy) ** 2 / (h * scale) ** 2


def ltrb(points: np.ndarray, box: np.ndarray) -> np.ndarray:
    """(4, N) distances from each point to the box's left, top, right, bottom edges."""
    x1, y1, x2, y2 = (float(v) for v in box)
    return np.stack([points[:, 0] - x1, points[:, 1] - y1, x2 - points[:, 0], y2 - points[:, 1]]).astype(
        np.float32
    )


def ban_targets(
    box: np.ndarray,
    points: np.ndarray,
    score_size: int,
    negative: bool,
    rng: np.random.Generator,
    pos_num: int = 16,
    total_num: int = 64,
    neg_num: int = 16,
) -> dict[str, np.ndarray]:
    """siamban ``PointTarget``: cls (S, S) int64 in {-1, 0, 1} with positives inside the ellipse
    of semi-axes (w/4, h/4), negatives outside (w/2, h/2); ltrb (4, S, S) regression targets.
    A negative pair labels ``neg_num`` points inside the small ellipse as negatives."""
    cls = -np.ones(len(points), dtype=np.int64)
    inner = ellipse_value(points, box, 0.25) < 1
    if not inner.any() and not negative:
        # On a coarse (stride-16) grid a small target's ellipse can fall between the points:
        # the point nearest its centre is then the positive, so every pair teaches something.
        cx, cy, _, _ = _centre_size(box)
        inner[np.argmin(np.hypot(points[:, 0] - cx, points[:, 1] - cy))] = True
    if negative:
        cls[_select(np.flatnonzero(inner), neg_num, rng)] = 0
    else:
        pos = _select(np.flatnonzero(inner), pos_num, rng)
        neg = _select(np.flatnonzero(ellipse_value(points, box, 0.5) > 1), total_num - pos_num, rng)
        cls[pos] = 1
        cls[neg] = 0
    return {
        "cls": cls.reshape(score_size, score_size),
        "ltrb": ltrb(points, box).reshape(4, score_size, score_size),
    }


# --- SiamCross ---------------------------------------------------------------------------------


def siamcross_targets(
    box: np.ndarray, points: np.ndarray, score_size: int, negative: bool, radius: float = 16.0
) -> dict[str, np.ndarray]:
    """SiamCross (paper §3.1): the points within ``radius`` px (Euclidean) of the target centre,
    and inside the box, are positive and regressed; all others negative. ``inside`` marks every
    point inside the box (where the align branch learns the IoU of the predicted box). A negative
    pair is negative everywhere."""
    dist = ltrb(points, box)
    inside = (dist > 0).all(axis=0) & (not negative)
    cx, cy, _, _ = _centre_size(box)
    near = np.hypot(points[:, 0] - cx, points[:, 1] - cy) <= radius
    pos = (near & inside).astype(np.float32)
    s = (score_size, score_size)
    return {
        "cls": pos.reshape(s),
        "inside": inside.astype(np.float32).reshape(s),
        "ltrb": dist.reshape(4, *s),
    }
