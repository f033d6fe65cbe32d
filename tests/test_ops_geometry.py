"""Scale bookkeeping, penalties, smoothing and clipping (trackers/ops/geometry.py; tracker-specs §1.3, §1.6)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trackers.ops.geometry import (
    blend_window,
    box_to_center,
    center_to_box,
    change,
    clip_state,
    context_side,
    padded_size,
    scale_ratio_penalty,
    smooth_size,
)


def test_context_side():
    # w=6, h=2: p = 0.5 * 8 = 4 -> sqrt(10 * 6)
    assert context_side(6, 2) == pytest.approx(math.sqrt(60), abs=1e-12)
    # square target: p = w -> side 2w
    assert context_side(4, 4) == pytest.approx(8.0, abs=1e-12)
    # no context: sqrt(w h)
    assert context_side(9, 4, context_amount=0.0) == pytest.approx(6.0, abs=1e-12)
    # context_amount 1: p = 5 -> sqrt(9 * 6)
    assert context_side(4, 1, context_amount=1.0) == pytest.approx(math.sqrt(54), abs=1e-12)
    assert isinstance(context_side(6, 2), float)


def test_box_to_center_pysot_half_minus_one():
    center, size = box_to_center((10, 20, 30, 40))
    assert center.tolist() == [24.5, 39.5]
    assert size.tolist() == [30.0, 40.0] and size.dtype == np.float64


def test_box_to_center_dasiamrpn_half():
    center, size = box_to_center((10, 20, 30, 40), half_minus_one=False)
    assert center.tolist() == [25.0, 40.0]
    assert size.tolist() == [30.0, 40.0]


def test_center_to_box_uses_half_width():
    assert center_to_box((24.5, 39.5), (30, 40)) == (9.5, 19.5, 30.0, 40.0)
    assert center_to_box(np.array([25.0, 40.0]), np.array([30.0, 40.0])) == (10.0, 20.0, 30.0, 40.0)
    # pysot's 0.5 px asymmetry: init centre (w-1)/2, output w/2
    c, s = box_to_center((10, 20, 30, 40))
    assert center_to_box(c, s) == (9.5, 19.5, 30.0, 40.0)
    # DaSiamRPN round-trips exactly
    c, s = box_to_center((10, 20, 30, 40), half_minus_one=False)
    assert center_to_box(c, s) == (10.0, 20.0, 30.0, 40.0)


def test_change():
    np.testing.assert_array_equal(change(np.array([2.0, 0.5, 1.0, 0.25])), [2.0, 2.0, 1.0, 4.0])


def test_padded_size():
    assert padded_size(4, 4) == pytest.approx(8.0)
    assert padded_size(6, 2) == pytest.approx(math.sqrt(60))


def test_scale_ratio_penalty_identical_box_is_one():
    p = scale_ratio_penalty(np.array([63.5, 20.0]), np.array([40.0, 7.0]), 63.5, 40.0, 0.04)
    assert p[0] == pytest.approx(1.0, abs=1e-12)
    assert p[1] < 1.0


def test_scale_ratio_penalty_pure_scale_change():
    # (8, 8) and (2, 2) vs (4, 4): s_c = 2, r_c = 1 -> exp(-k)
    p = scale_ratio_penalty(np.array([8.0, 2.0]), np.array([8.0, 2.0]), 4.0, 4.0, 0.04)
    np.testing.assert_allclose(p, [math.exp(-0.04), math.exp(-0.04)], rtol=1e-12)


def test_scale_ratio_penalty_ratio_change_is_symmetric():
    # (8, 2) vs (4, 4): r_c = 4, s_c = sqrt(13 * 7) / 8; (2, 8) gives the same
    expected = math.exp(-(4 * math.sqrt(91) / 8 - 1) * 0.1)
    p = scale_ratio_penalty(np.array([8.0, 2.0]), np.array([2.0, 8.0]), 4.0, 4.0, 0.1)
    np.testing.assert_allclose(p, [expected, expected], rtol=1e-12)
    assert expected < 1.0


def test_scale_ratio_penalty_k_zero_is_one_and_monotone_in_k():
    w, h = np.array([10.0, 50.0]), np.array([30.0, 5.0])
    np.testing.assert_allclose(scale_ratio_penalty(w, h, 20.0, 20.0, 0.0), [1.0, 1.0])
    assert np.all(scale_ratio_penalty(w, h, 20.0, 20.0, 0.3) < scale_ratio_penalty(w, h, 20.0, 20.0, 0.1))


def test_blend_window():
    out = blend_window(np.array([1.0, 0.0, 0.5]), np.array([0.0, 1.0, 0.5]), 0.25)
    np.testing.assert_allclose(out, [0.75, 0.25, 0.5], rtol=0, atol=1e-15)


def test_smooth_size():
    out = smooth_size(np.array([10.0, 20.0]), 30.0, 40.0, 0.25)
    assert out.tolist() == [15.0, 25.0]
    assert smooth_size(np.array([10.0, 20.0]), 30.0, 40.0, 0.0).tolist() == [10.0, 20.0]
    assert smooth_size(np.array([10.0, 20.0]), 30.0, 40.0, 1.0).tolist() == [30.0, 40.0]


def test_clip_state_inside_is_unchanged():
    assert clip_state(50.0, 40.0, 20.0, 30.0, (100, 120, 3)) == (50.0, 40.0, 20.0, 30.0)


def test_clip_state_clamps_centre_to_closed_image_range():
    # centre into [0, W] x [0, H] (W and H themselves, not W - 1)
    assert clip_state(-5.0, 130.0, 20.0, 30.0, (100, 120, 3)) == (0.0, 100.0, 20.0, 30.0)
    assert clip_state(500.0, -1.0, 20.0, 30.0, (100, 120)) == (120.0, 0.0, 20.0, 30.0)


def test_clip_state_clamps_size():
    # w, h into [10, W] x [10, H]
    assert clip_state(50.0, 50.0, 3.0, 400.0, (100, 120, 3)) == (50.0, 50.0, 10.0, 100.0)
    assert clip_state(50.0, 50.0, 121.0, 9.9, (100, 120, 3)) == (50.0, 50.0, 120.0, 10.0)


def test_clip_state_min_ten_wins_over_narrow_image():
    # image 8 px wide, 6 px high: pysot's max(10, min(w, W)) gives 10, wider than the image
    cx, cy, w, h = clip_state(4.0, 3.0, 50.0, 50.0, (6, 8, 3))
    assert (w, h) == (10.0, 10.0)
    assert (cx, cy) == (4.0, 3.0)
    assert clip_state(4.0, 3.0, 2.0, 2.0, (6, 8, 3))[2:] == (10.0, 10.0)


def test_clip_state_custom_min_size():
    assert clip_state(5.0, 5.0, 1.0, 1.0, (100, 100), min_size=4.0)[2:] == (4.0, 4.0)


def test_clip_state_propagates_nan():
    # A NaN from the network must stay NaN so the tracker can detect it and roll back; a clamp
    # that turned NaN into 0 / 10 would silently move the target to the image corner.
    cx, cy, w, h = clip_state(float("nan"), 5.0, float("nan"), 20.0, (100, 100))
    assert math.isnan(cx) and math.isnan(w)
    assert (cy, h) == (5.0, 20.0)
    cx, cy, w, h = clip_state(5.0, float("nan"), 20.0, float("nan"), (100, 100))
    assert math.isnan(cy) and math.isnan(h)


def test_clip_state_passes_inf_through():
    # Python's min/max would clamp inf to the image edge / width: a finite box from a broken output.
    inf = float("inf")
    cx, cy, w, h = clip_state(inf, -inf, inf, 20.0, (100, 100))
    assert (cx, cy, w, h) == (inf, -inf, inf, 20.0)
