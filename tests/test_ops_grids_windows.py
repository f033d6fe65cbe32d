"""Anchor / point grids and cosine windows (trackers/ops/grids.py, windows.py; tracker-specs §1.4, §7.2)."""

from __future__ import annotations

import numpy as np
import pytest

from trackers.ops.grids import anchor_grid, anchor_shapes, grid_offsets, point_grid
from trackers.ops.windows import hanning_window, normalised_hanning


def test_anchor_shapes_are_pysots():
    shapes = anchor_shapes()
    assert shapes.dtype == np.float32
    assert shapes.tolist() == [[104, 32], [88, 40], [64, 64], [40, 80], [32, 96]]


def test_anchor_shapes_other_scales_are_scale_inner():
    # ratio-major, then scale: r=1 with scales (4, 8) -> (32, 32), (64, 64)
    assert anchor_shapes(8, ratios=(1, 2), scales=(4, 8)).tolist() == [[32, 32], [64, 64], [20, 40], [40, 80]]


@pytest.mark.parametrize(
    "score_size, ori", [(25, -96), (21, -80), (19, -72), (17, -64), (16, -64), (15, -56)]
)
def test_grid_offsets_origin(score_size, ori):
    offs = grid_offsets(score_size, 8)
    assert offs[0] == ori
    assert offs.tolist() == [ori + 8 * k for k in range(score_size)]
    assert offs.dtype == np.float32


def test_grid_offsets_dasiamrpn_floor_division():
    # pitfall 12: -(19 // 2) * 8 = -72, not py3's -(19 / 2) * 8 = -76
    assert grid_offsets(19, 8)[0] == -72
    assert grid_offsets(19, 8)[-1] == 72


def test_anchor_grid_order_25():
    g = anchor_grid(25)
    assert g.shape == (5 * 625, 4) and g.dtype == np.float32
    # flat index = a * S^2 + i * S + j; cell (i, j) centre (ori + 8j, ori + 8i)
    assert g[0].tolist() == [-96, -96, 104, 32]
    assert g[1].tolist() == [-88, -96, 104, 32]  # next column
    assert g[25].tolist() == [-96, -88, 104, 32]  # next row
    assert g[625].tolist() == [-96, -96, 88, 40]  # next anchor
    assert g[2 * 625 + 12 * 25 + 12].tolist() == [0, 0, 64, 64]  # centre cell, square anchor
    assert g[3 * 625 + 3 * 25 + 7].tolist() == [-96 + 56, -96 + 24, 40, 80]
    assert g[-1].tolist() == [96, 96, 32, 96]


def test_anchor_grid_order_21():
    g = anchor_grid(21)
    assert g.shape == (5 * 441, 4)
    assert g[0].tolist() == [-80, -80, 104, 32]
    assert g[441 + 20].tolist() == [80, -80, 88, 40]
    assert g[441 + 21].tolist() == [-80, -72, 88, 40]
    assert g[-1].tolist() == [80, 80, 32, 96]


def test_anchor_grid_every_cell_matches_formula():
    s = 5
    g = anchor_grid(s).reshape(5, s, s, 4)
    shapes = [(104, 32), (88, 40), (64, 64), (40, 80), (32, 96)]
    for a in range(5):
        for i in range(s):
            for j in range(s):
                assert g[a, i, j].tolist() == [-16 + 8 * j, -16 + 8 * i, *shapes[a]]


def test_point_grid():
    p = point_grid(3, 8)
    assert p.dtype == np.float32
    assert p.tolist() == [[-8, -8], [0, -8], [8, -8], [-8, 0], [0, 0], [8, 0], [-8, 8], [0, 8], [8, 8]]
    p25 = point_grid(25)
    assert p25.shape == (625, 2)
    assert p25[0].tolist() == [-96, -96] and p25[312].tolist() == [0, 0] and p25[-1].tolist() == [96, 96]
    assert p25[1].tolist() == [-88, -96]


def test_hanning_window_values():
    # np.hanning(5) = [0, .5, 1, .5, 0]
    w = hanning_window(5)
    assert w.shape == (25,)
    grid = w.reshape(5, 5)
    np.testing.assert_allclose(grid[2], [0, 0.5, 1, 0.5, 0], atol=1e-15)
    assert grid[1, 1] == pytest.approx(0.25)
    assert grid[1, 3] == pytest.approx(0.25)
    # endpoints exactly 0: the whole border of the grid
    assert grid[0].tolist() == [0.0] * 5 and grid[-1].tolist() == [0.0] * 5
    assert grid[:, 0].tolist() == [0.0] * 5 and grid[:, -1].tolist() == [0.0] * 5
    assert w.argmax() == 12


def test_hanning_window_tiling_is_anchor_major():
    one = hanning_window(25)
    five = hanning_window(25, 5)
    assert five.shape == (5 * 625,)
    for a in range(5):
        np.testing.assert_array_equal(five[a * 625 : (a + 1) * 625], one)
    # the window peak of each anchor block is at the same cell as that anchor's centre (0, 0)
    g = anchor_grid(25)
    peaks = np.flatnonzero(five == five.max())
    assert g[peaks, :2].tolist() == [[0, 0]] * 5


def test_normalised_hanning():
    w = normalised_hanning(5)
    assert w.shape == (5, 5)
    assert w.sum() == pytest.approx(1.0, abs=1e-15)
    # sum of outer(h, h) = (sum h)^2 = 4
    assert w[2, 2] == pytest.approx(0.25)
    assert w[1, 1] == pytest.approx(0.0625)
    assert w[0].tolist() == [0.0] * 5
    w272 = normalised_hanning(272)
    assert w272.shape == (272, 272)
    assert w272.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_array_equal(w272, w272.T)
