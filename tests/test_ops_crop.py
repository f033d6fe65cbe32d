"""Square crops with mean-colour padding (trackers/ops/crop.py; tracker-specs §1.2, §5.2, §7.2, pitfalls 11, 13).

Exact pixels on tiny hand-made images, plus comparisons with literal re-statements of the
official ``get_subwindow`` (pysot), ``get_subwindow_tracking`` (DaSiamRPN) and
``crop_and_resize`` (siamfc-pytorch) on random cases.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from trackers.ops import crop as crop_mod
from trackers.ops.crop import (
    crop_dasiamrpn,
    crop_pysot,
    crop_siamfc,
    crop_square,
    pysot_pad_value,
    to_tensor_layout,
)

PAD = (7, 8, 9)


def coded_image(h: int = 4, w: int = 5) -> np.ndarray:
    """img[y, x, c] = 100*c + 10*y + x: every pixel names its own position and channel."""
    y, x, c = np.meshgrid(np.arange(h), np.arange(w), np.arange(3), indexing="ij")
    return (100 * c + 10 * y + x).astype(np.uint8)


def px(y: int, x: int) -> list[int]:
    return [10 * y + x, 100 + 10 * y + x, 200 + 10 * y + x]


# --- official code, restated literally (the oracles) ------------------------------------------


def official_subwindow(im, pos, model_sz, original_sz, avg_chans, start):
    """pysot get_subwindow / DaSiamRPN get_subwindow_tracking; ``start`` places the window."""
    sz = original_sz
    c = (original_sz + 1) / 2
    context_xmin = start(pos[0] - c)
    context_xmax = context_xmin + sz - 1
    context_ymin = start(pos[1] - c)
    context_ymax = context_ymin + sz - 1
    left_pad = int(max(0.0, -context_xmin))
    top_pad = int(max(0.0, -context_ymin))
    right_pad = int(max(0.0, context_xmax - im.shape[1] + 1))
    bottom_pad = int(max(0.0, context_ymax - im.shape[0] + 1))
    context_xmin += left_pad
    context_xmax += left_pad
    context_ymin += top_pad
    context_ymax += top_pad
    r, cc, k = im.shape
    if any([top_pad, bottom_pad, left_pad, right_pad]):
        te_im = np.zeros((r + top_pad + bottom_pad, cc + left_pad + right_pad, k), np.uint8)
        te_im[top_pad : top_pad + r, left_pad : left_pad + cc, :] = im
        if top_pad:
            te_im[0:top_pad, left_pad : left_pad + cc, :] = avg_chans
        if bottom_pad:
            te_im[r + top_pad :, left_pad : left_pad + cc, :] = avg_chans
        if left_pad:
            te_im[:, 0:left_pad, :] = avg_chans
        if right_pad:
            te_im[:, cc + left_pad :, :] = avg_chans
        patch = te_im[int(context_ymin) : int(context_ymax + 1), int(context_xmin) : int(context_xmax + 1), :]
    else:
        patch = im[int(context_ymin) : int(context_ymax + 1), int(context_xmin) : int(context_xmax + 1), :]
    if not np.array_equal(model_sz, original_sz):
        patch = cv2.resize(patch, (model_sz, model_sz))
    return patch


def pysot_start(v):
    return np.floor(v + 0.5)


def dasiamrpn_start(v):
    return round(v)  # Python 3 round: half to even


def official_siamfc_crop(img, center, size, out_size, border_value):
    size = round(size)
    corners = np.concatenate((np.round(center - (size - 1) / 2), np.round(center - (size - 1) / 2) + size))
    corners = np.round(corners).astype(int)
    pads = np.concatenate((-corners[:2], corners[2:] - img.shape[:2]))
    npad = max(0, int(pads.max()))
    if npad > 0:
        img = cv2.copyMakeBorder(img, npad, npad, npad, npad, cv2.BORDER_CONSTANT, value=border_value)
    corners = (corners + npad).astype(int)
    patch = img[corners[0] : corners[2], corners[1] : corners[3]]
    return cv2.resize(patch, (out_size, out_size), interpolation=cv2.INTER_LINEAR)


# --- crop_square ---------------------------------------------------------------------------------


def test_crop_square_inside_is_the_exact_slice():
    img = coded_image()
    patch = crop_square(img, 1, 2, 2, 2, PAD)
    assert patch.shape == (2, 2, 3) and patch.dtype == np.uint8
    assert patch.tolist() == [[px(2, 1), px(2, 2)], [px(3, 1), px(3, 2)]]
    assert patch.flags["C_CONTIGUOUS"]


def test_crop_square_partially_outside_top_left():
    img = coded_image()
    patch = crop_square(img, -1, -1, 3, 3, PAD)
    assert patch[0].tolist() == [list(PAD)] * 3  # the row above the image
    assert patch[:, 0].tolist() == [list(PAD)] * 3  # the column left of it
    assert patch[1:, 1:].tolist() == [[px(0, 0), px(0, 1)], [px(1, 0), px(1, 1)]]


def test_crop_square_partially_outside_bottom_right():
    img = coded_image()  # 4 rows, 5 columns
    patch = crop_square(img, 3, 2, 3, 3, PAD)
    assert patch[:2, :2].tolist() == [[px(2, 3), px(2, 4)], [px(3, 3), px(3, 4)]]
    assert patch[:, 2].tolist() == [list(PAD)] * 3
    assert patch[2].tolist() == [list(PAD)] * 3


def test_crop_square_larger_than_the_image_pads_every_side():
    img = coded_image(2, 2)
    patch = crop_square(img, -1, -1, 4, 4, PAD)
    expected = np.empty((4, 4, 3), np.uint8)
    expected[:] = PAD
    expected[1:3, 1:3] = img
    np.testing.assert_array_equal(patch, expected)


@pytest.mark.parametrize("xmin, ymin", [(5, 0), (0, 4), (-3, 0), (0, -3), (10, 10), (-7, 9)])
@pytest.mark.parametrize("size", [1, 3])
def test_crop_square_entirely_outside_is_all_padding(xmin, ymin, size):
    img = coded_image()
    patch = crop_square(img, xmin, ymin, size, size, PAD)
    assert patch.shape == (size, size, 3)
    assert patch.reshape(-1, 3).tolist() == [list(PAD)] * (size * size)


def test_crop_square_entirely_outside_then_resized_stays_padding():
    patch = crop_square(coded_image(), 20, 20, 3, 6, (11, 22, 33))
    assert patch.shape == (6, 6, 3)
    assert patch.reshape(-1, 3).tolist() == [[11, 22, 33]] * 36


def test_cv2_pad_colour_rounds_half_to_even():
    # cv2.copyMakeBorder's constant goes through cvRound: half to even (127.5 -> 128, 128.5 -> 128,
    # 0.5 -> 0, 2.5 -> 2), and 127.7 -> 128.
    img = np.zeros((1, 1, 3), np.uint8)
    assert crop_square(img, -1, 0, 2, 2, (127.5, 128.5, 0.5))[0, 0].tolist() == [128, 128, 0]
    assert crop_square(img, -1, 0, 2, 2, (127.7, 2.5, 126.5))[0, 0].tolist() == [128, 2, 126]
    # The same colour when the window misses the image.
    assert crop_square(img, 5, 5, 2, 2, (127.5, 128.5, 0.5))[1, 1].tolist() == [128, 128, 0]


def test_crop_square_rejects_empty_size():
    with pytest.raises(ValueError, match="at least 1 pixel"):
        crop_square(coded_image(), 0, 0, 0, 4, PAD)


def test_resize_skipped_when_size_equals_out_size(monkeypatch):
    def no_resize(*args, **kwargs):
        raise AssertionError("cv2.resize must not run when the crop already has the output size")

    monkeypatch.setattr(crop_mod.cv2, "resize", no_resize)
    img = coded_image()
    assert crop_square(img, 0, 0, 3, 3, PAD).tolist() == img[:3, :3].tolist()
    assert crop_pysot(img, (3.0, 2.0), 3, 3, np.zeros(3)).tolist() == img[0:3, 1:4].tolist()
    with pytest.raises(AssertionError, match="must not run"):
        crop_square(img, 0, 0, 3, 4, PAD)


def test_resize_is_bilinear_with_half_pixel_centres():
    # 2x2 patch [[0, 100], [0, 100]] -> 4x4: source x = (x + 0.5)/2 - 0.5 = -0.25, 0.25, 0.75, 1.25
    # (clamped) -> 0, 25, 75, 100 in every row.
    img = np.zeros((2, 2, 3), np.uint8)
    img[:, 1] = 100
    patch = crop_square(img, 0, 0, 2, 4, PAD)
    assert patch.shape == (4, 4, 3)
    assert patch[..., 0].tolist() == [[0, 25, 75, 100]] * 4
    assert patch[..., 2].tolist() == [[0, 25, 75, 100]] * 4


# --- pysot / DaSiamRPN -----------------------------------------------------------------------------


def test_pysot_pad_value_truncates():
    assert pysot_pad_value(np.array([127.7, 128.5, 0.99])) == [127.0, 128.0, 0.0]
    assert pysot_pad_value([254.999, 1.0, 3.2]) == [254.0, 1.0, 3.0]


def test_crop_pysot_pads_with_truncated_mean_not_rounded():
    img = coded_image()
    # centre (0, 0), side 3: window starts at floor(0 - 2 + 0.5) = -2 -> rows/cols -2..0.
    patch = crop_pysot(img, (0.0, 0.0), 3, 3, np.array([127.7, 128.5, 0.5]))
    assert patch[0, 0].tolist() == [127, 128, 0]  # cv2 would have made this [128, 128, 0]
    assert patch[2, 2].tolist() == px(0, 0)


def test_crop_siamfc_pads_with_cv2_rounded_mean():
    img = coded_image()
    # (y, x) centre (0, 0), size 3: corners round(0 - 1) = -1 -> rows/cols -1..1.
    patch = crop_siamfc(img, (0.0, 0.0), 3, 3, np.array([127.7, 128.5, 0.5]))
    assert patch[0, 0].tolist() == [128, 128, 0]
    assert patch[1, 1].tolist() == px(0, 0)
    assert patch[2, 2].tolist() == px(1, 1)


def test_crop_pysot_window_start_floor_half_up():
    img = coded_image(6, 6)
    # side 4: c = 2.5; centre 3.0 -> floor(3 - 2.5 + 0.5) = 1 (an exact .5 case, rounded up)
    patch = crop_pysot(img, (3.0, 3.0), 4, 4, np.zeros(3))
    np.testing.assert_array_equal(patch, img[1:5, 1:5])
    # centre 5.0 -> floor(3.0) = 3: rows/cols 3..6, the last one outside (padding 0)
    patch = crop_pysot(img, (5.0, 2.0), 4, 4, np.array([50.9, 60.0, 70.0]))
    np.testing.assert_array_equal(patch[:3, :3], img[0:3, 3:6])  # y start floor(2 - 2) = 0
    assert patch[0, 3].tolist() == [50, 60, 70]


def test_crop_dasiamrpn_window_start_round_half_even():
    img = coded_image(6, 6)
    # side 4, centre 3.0: round(0.5) = 0 (pysot would start at 1)
    np.testing.assert_array_equal(crop_dasiamrpn(img, (3.0, 3.0), 4, 4, np.zeros(3)), img[0:4, 0:4])
    # centre 5.0: round(2.5) = 2 (pysot: 3)
    np.testing.assert_array_equal(crop_dasiamrpn(img, (5.0, 5.0), 4, 4, np.zeros(3)), img[2:6, 2:6])
    # centre 4.0: round(1.5) = 2, the same as pysot's floor(2.0)
    np.testing.assert_array_equal(crop_dasiamrpn(img, (4.0, 4.0), 4, 4, np.zeros(3)), img[2:6, 2:6])
    np.testing.assert_array_equal(crop_pysot(img, (4.0, 4.0), 4, 4, np.zeros(3)), img[2:6, 2:6])
    # x and y rounded independently: x start round(0.5) = 0, y start round(1.5) = 2
    np.testing.assert_array_equal(crop_dasiamrpn(img, (3.0, 4.0), 4, 4, np.zeros(3)), img[2:6, 0:4])


def test_crop_dasiamrpn_negative_half_rounds_to_even():
    img = coded_image(6, 6)
    # side 4, centre 1.0: round(-1.5) = -2 (pysot: floor(-1.0) = -1)
    d = crop_dasiamrpn(img, (1.0, 3.0), 4, 4, np.array([9.0, 9.0, 9.0]))
    assert d[:, :2].reshape(-1, 3).tolist() == [[9, 9, 9]] * 8
    np.testing.assert_array_equal(d[:, 2:], img[0:4, 0:2])
    p = crop_pysot(img, (1.0, 3.0), 4, 4, np.array([9.0, 9.0, 9.0]))
    assert p[:, 0].tolist() == [[9, 9, 9]] * 4
    np.testing.assert_array_equal(p[:, 1:], img[1:5, 0:3])


@pytest.mark.parametrize("seed", range(40))
def test_crop_pysot_and_dasiamrpn_equal_official_code(seed):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (int(rng.integers(3, 12)), int(rng.integers(3, 12)), 3), dtype=np.uint8)
    size = int(rng.integers(1, 16))
    out = int(rng.choice([size, 5, 7, 16]))
    # centres on a half-pixel grid hit the .5 ties often; some far outside the image
    center = (float(rng.integers(-10, 30)) / 2, float(rng.integers(-10, 30)) / 2)
    avg = rng.uniform(0, 255, 3)
    np.testing.assert_array_equal(
        crop_pysot(img, center, out, size, avg), official_subwindow(img, center, out, size, avg, pysot_start)
    )
    np.testing.assert_array_equal(
        crop_dasiamrpn(img, center, out, size, avg),
        official_subwindow(img, center, out, size, avg, dasiamrpn_start),
    )


# --- siamfc ---------------------------------------------------------------------------------------


def test_crop_siamfc_rounds_size_and_corners_half_to_even():
    img = coded_image(7, 7)
    # size round(4.5) = 4; corners round((2, 3) - 1.5) = round(0.5, 1.5) = (0, 2)
    np.testing.assert_array_equal(crop_siamfc(img, (2.0, 3.0), 4.5, 4, np.zeros(3)), img[0:4, 2:6])
    # size round(5.5) = 6; corners round((3, 3) - 2.5) = (0, 0)
    np.testing.assert_array_equal(crop_siamfc(img, (3.0, 3.0), 5.5, 6, np.zeros(3)), img[0:6, 0:6])
    # center is (y, x): (1, 4), size 3 -> rows 0..2, cols 3..5
    np.testing.assert_array_equal(crop_siamfc(img, (1.0, 4.0), 3.0, 3, np.zeros(3)), img[0:3, 3:6])


def test_crop_siamfc_always_resizes(monkeypatch):
    calls = []
    real = cv2.resize

    def spy(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(crop_mod.cv2, "resize", spy)
    crop_siamfc(coded_image(), (1.0, 1.0), 3.0, 3, np.zeros(3))
    assert calls == [(3, 3)]


@pytest.mark.parametrize("seed", range(40))
def test_crop_siamfc_equals_official_code(seed):
    rng = np.random.default_rng(1000 + seed)
    img = rng.integers(0, 256, (int(rng.integers(3, 12)), int(rng.integers(3, 12)), 3), dtype=np.uint8)
    size = float(rng.integers(2, 40)) / 2  # .5 sizes exercise the banker's rounding
    out = int(rng.choice([5, 8, round(size)]))
    center = np.array([float(rng.integers(-10, 30)) / 2, float(rng.integers(-10, 30)) / 2])
    avg = rng.uniform(0, 255, 3)
    np.testing.assert_array_equal(
        crop_siamfc(img, center, size, out, avg), official_siamfc_crop(img, center, size, out, tuple(avg))
    )


# --- layout ---------------------------------------------------------------------------------------


def test_to_tensor_layout_hwc_uint8_to_chw_float32_unscaled():
    patch = coded_image(2, 3)
    patch[1, 2] = (255, 0, 1)
    t = to_tensor_layout(patch)
    assert t.shape == (3, 2, 3) and t.dtype == np.float32 and t.flags["C_CONTIGUOUS"]
    assert t[:, 1, 2].tolist() == [255.0, 0.0, 1.0]
    assert t[0].tolist() == [[0.0, 1.0, 2.0], [10.0, 11.0, 255.0]]
    assert t[2, 0].tolist() == [200.0, 201.0, 202.0]
    assert math.isclose(float(t.sum()), float(patch.astype(np.float64).sum()))
