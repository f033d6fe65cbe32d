"""Anchor and point grids on the score map, relative to the search-patch centre (tracker-specs §1.4)."""

from __future__ import annotations

import math

import numpy as np

RATIOS = (0.33, 0.5, 1, 2, 3)
SCALES = (8,)


def anchor_shapes(stride: int = 8, ratios=RATIOS, scales=SCALES) -> np.ndarray:
    """pysot ``Anchors``: (A, 2) widths and heights, float32, ratio-major then scale."""
    base = stride * stride
    shapes = []
    for r in ratios:
        ws = int(math.sqrt(base * 1.0 / r))
        hs = int(ws * r)
        for s in scales:
            shapes.append((ws * s, hs * s))
    return np.asarray(shapes, dtype=np.float32)


def grid_offsets(score_size: int, stride: int) -> np.ndarray:
    """Cell-centre offsets ori + stride * k with ori = -(score_size // 2) * stride."""
    ori = -(score_size // 2) * stride
    return np.asarray([ori + stride * k for k in range(score_size)], dtype=np.float32)


def anchor_grid(score_size: int, stride: int = 8, ratios=RATIOS, scales=SCALES) -> np.ndarray:
    """(A * S * S, 4) anchors (cx, cy, w, h), anchor-major then row then column, float32."""
    shapes = anchor_shapes(stride, ratios, scales)
    offs = grid_offsets(score_size, stride)
    xx, yy = np.meshgrid(offs, offs)
    n = score_size * score_size
    out = np.zeros((len(shapes) * n, 4), dtype=np.float32)
    out[:, 0] = np.tile(xx.flatten(), len(shapes))
    out[:, 1] = np.tile(yy.flatten(), len(shapes))
    out[:, 2] = np.repeat(shapes[:, 0], n)
    out[:, 3] = np.repeat(shapes[:, 1], n)
    return out


def point_grid(score_size: int, stride: int = 8) -> np.ndarray:
    """(S * S, 2) point coordinates (x, y) for anchor-free heads, row-major, float32."""
    offs = grid_offsets(score_size, stride)
    xx, yy = np.meshgrid(offs, offs)
    return np.stack([xx.flatten(), yy.flatten()], axis=1).astype(np.float32)
