"""Label assignment on hand-made boxes (trackers/training/targets.py).

Search crop 255, stride 8, 25x25 score map (17x17 for SiamFC): cell (r, c) sits at
127.5 + 8 * (c - 12), 127.5 + 8 * (r - 12) in continuous crop pixels.
"""

from __future__ import annotations

import numpy as np

from trackers.ops.grids import anchor_grid
from trackers.training import targets

S, STRIDE, SEARCH = 25, 8, 255
C = SEARCH / 2  # 127.5, the centre of cell (12, 12)


def centred_box(w: float, h: float, dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
    cx, cy = C + dx, C + dy
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dtype=np.float32)


def test_grids_are_the_engines_offsets_around_the_crop_centre():
    p = targets.grid_points(S, STRIDE, SEARCH).reshape(S, S, 2)
    np.testing.assert_allclose(p[12, 12], [C, C])
    np.testing.assert_allclose(p[0, 0], [C - 96, C - 96])
    np.testing.assert_allclose(p[3, 5], [C + 8 * (5 - 12), C + 8 * (3 - 12)])
    a = targets.grid_anchors(S, STRIDE, SEARCH)
    np.testing.assert_allclose(a[:, 2:], anchor_grid(S, STRIDE)[:, 2:])


# --- SiamFC ------------------------------------------------------------------------------------


def test_siamfc_radius_16px_is_a_diamond_of_13_cells():
    labels = targets.siamfc_labels(centred_box(40, 60), 17, STRIDE, SEARCH, negative=False, r_pos=16)
    rows, cols = np.nonzero(labels)
    assert len(rows) == 13 and set(np.abs(rows - 8) + np.abs(cols - 8)) == {0, 1, 2}
    shifted = targets.siamfc_labels(centred_box(40, 60, dx=8), 17, STRIDE, SEARCH, False)
    np.testing.assert_array_equal(shifted[:, 1:], labels[:, :-1])  # follows the target one cell
    assert not targets.siamfc_labels(centred_box(40, 60), 17, STRIDE, SEARCH, negative=True).any()


# --- SiamRPN -----------------------------------------------------------------------------------


def test_rpn_anchor_labels_at_known_positions():
    # A 64x64 box on the centre: only the ratio-1 anchor (64x64) overlaps enough. Its IoU with the
    # box shifted by (dx, dy) cells is (64-8|dx|)(64-8|dy|) / (8192 - that): 1, 0.78, 0.70 for
    # |d| <= 1 (positive, > 0.6), exactly 0.6 at 2 cells (not positive).
    anchors = targets.grid_anchors(S, STRIDE, SEARCH)
    t = targets.rpn_targets(centred_box(64, 64), anchors, S, STRIDE, SEARCH, False, np.random.default_rng(0))
    cls, delta, weight = t["cls"], t["delta"], t["delta_weight"]
    assert cls.shape == (5, S, S) and delta.shape == (4, 5, S, S)
    pos = np.argwhere(cls == 1)
    assert len(pos) == 9 and set(pos[:, 0]) == {2}  # ratio index 2 = ratio 1
    assert set(pos[:, 1]) == set(pos[:, 2]) == {11, 12, 13}
    assert (cls == 0).sum() == 64 - 9  # total 64 labelled
    np.testing.assert_allclose(delta[:, 2, 12, 12], 0, atol=1e-6)
    np.testing.assert_allclose(delta[:, 2, 12, 13], [-8 / 64, 0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(weight[cls == 1], 1 / 9, rtol=1e-5)
    assert weight[cls != 1].sum() == 0


def test_rpn_caps_positives_at_16_and_negative_pairs():
    # 2 anchors x 5x5 cells: 40 equal to the box (IoU 1), 10 far off (IoU 0): 16 positives kept,
    # and all 10 negatives (< 64 - 16).
    anchors = np.tile(np.array([[C, C, 64, 64]], np.float32), (50, 1))
    anchors[40:, :2] = 20
    t = targets.rpn_targets(centred_box(64, 64), anchors, 5, STRIDE, SEARCH, False, np.random.default_rng(1))
    assert (t["cls"] == 1).sum() == 16 and (t["cls"] == 0).sum() == 10
    assert np.all(t["cls"].reshape(-1)[40:] == 0)
    anchors = targets.grid_anchors(S, STRIDE, SEARCH)
    neg = targets.rpn_targets(
        centred_box(64, 64, dx=40), anchors, S, STRIDE, SEARCH, True, np.random.default_rng(2)
    )
    cells = np.argwhere(neg["cls"] == 0)
    assert len(cells) == 16 and (neg["cls"] == 1).sum() == 0
    assert np.all(np.abs(cells[:, 1] - 12) <= 3) and np.all(
        np.abs(cells[:, 2] - 17) <= 3
    )  # 7x7 around col 17


# --- SiamBAN / NanoTrack -------------------------------------------------------------------------


def test_ban_ellipse_labels_at_known_points():
    points = targets.grid_points(S, STRIDE, SEARCH)
    box = centred_box(64, 32)  # inner ellipse semi-axes (16, 8), outer (32, 16)
    t = targets.ban_targets(box, points, S, False, np.random.default_rng(0))
    cls = t["cls"]
    assert {tuple(p) for p in np.argwhere(cls == 1)} == {(12, 11), (12, 12), (12, 13)}
    assert (cls == 0).sum() == 48
    neg = np.argwhere(cls == 0)
    assert np.all(((neg[:, 1] - 12) * 8 / 32) ** 2 + ((neg[:, 0] - 12) * 8 / 16) ** 2 > 1)
    np.testing.assert_allclose(t["ltrb"][:, 12, 12], [32, 16, 32, 16])
    np.testing.assert_allclose(t["ltrb"][:, 12, 13], [40, 16, 24, 16])
    negative = targets.ban_targets(box, points, S, True, np.random.default_rng(0))["cls"]
    assert (negative == 0).sum() == 3 and (negative == 1).sum() == 0


# --- SiamCross ---------------------------------------------------------------------------------


def test_siamcross_radius_and_inside():
    points = targets.grid_points(S, STRIDE, SEARCH)
    t = targets.siamcross_targets(centred_box(64, 64), points, S, False, radius=16)
    pos = np.argwhere(t["cls"] == 1) - 12
    # Within 16 px: (0,0), 4 at 8 px, 4 at 11.3 px, 4 at 16 px.
    assert len(pos) == 13 and np.all(np.hypot(*pos.T) * 8 <= 16)
    assert t["inside"].sum() == 49  # |offset| < 32 px: 7 x 7 points
    neg = targets.siamcross_targets(centred_box(64, 64), points, S, True)
    assert neg["cls"].sum() == 0 and neg["inside"].sum() == 0


def test_ban_small_target_between_stride_16_points_still_gets_one_positive():
    points = targets.grid_points(9, 16, SEARCH)  # the stride-16 grid: points 16 px apart
    box = centred_box(20, 20, dx=8, dy=8)  # inner ellipse radius 5 px, centred between 4 points
    assert (targets.ellipse_value(points, box, 0.25) < 1).sum() == 0
    cls = targets.ban_targets(box, points, 9, False, np.random.default_rng(0))["cls"]
    assert (cls == 1).sum() == 1
    r, c = np.argwhere(cls == 1)[0]
    nearest = np.hypot(points[:, 0] - (C + 8), points[:, 1] - (C + 8)).min()
    assert np.hypot(points[r * 9 + c, 0] - (C + 8), points[r * 9 + c, 1] - (C + 8)) == nearest
    negative = targets.ban_targets(box, points, 9, True, np.random.default_rng(0))["cls"]
    assert (negative == 1).sum() == 0  # a negative pair stays without positives
