"""OPE metrics on hand-made boxes whose answers can be worked out on paper."""

import math

import numpy as np
import pytest

from trackers.metrics import (
    SUCCESS_THRESHOLDS,
    centre_errors,
    centres,
    evaluate,
    iou,
    precision,
    success_auc,
    success_curve,
    valid_mask,
)


def test_thresholds_are_the_21_otb_ones():
    assert len(SUCCESS_THRESHOLDS) == 21
    assert SUCCESS_THRESHOLDS[0] == 0.0 and SUCCESS_THRESHOLDS[-1] == 1.0
    np.testing.assert_allclose(SUCCESS_THRESHOLDS, np.arange(0, 1.05, 0.05))  # pysot's spelling


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ((0, 0, 10, 10), (0, 0, 10, 10), 1.0),
        ((0, 0, 10, 10), (5, 0, 10, 10), 50 / 150),
        ((0, 0, 10, 10), (0, 0, 5, 5), 25 / 100),
        ((0, 0, 10, 10), (10, 0, 10, 10), 0.0),  # touching edges: no overlap
        ((0, 0, 10, 10), (30, 30, 4, 4), 0.0),
        ((2.5, 2.5, 5, 5), (0, 0, 10, 10), 0.25),
        ((np.nan, 0, 10, 10), (0, 0, 10, 10), 0.0),
        ((0, 0, 0, 0), (0, 0, 10, 10), 0.0),
        ((0, 0, -5, 10), (0, 0, 10, 10), 0.0),
    ],
)
def test_iou(a, b, expected):
    assert iou([a], [b])[0] == pytest.approx(expected)
    assert iou([b], [a])[0] == pytest.approx(expected)


def test_iou_is_per_row_and_checks_lengths():
    out = iou([(0, 0, 10, 10), (0, 0, 10, 10)], [(0, 0, 10, 10), (5, 0, 10, 10)])
    np.testing.assert_allclose(out, [1.0, 1 / 3])
    with pytest.raises(ValueError):
        iou([(0, 0, 1, 1)], [(0, 0, 1, 1), (0, 0, 1, 1)])
    with pytest.raises(ValueError):
        iou([(0, 0, 1)], [(0, 0, 1)])


def test_perfect_tracking_scores_20_of_21():
    gt = np.array([(0, 0, 10, 10), (3, 4, 20, 30)], float)
    curve = success_curve(gt, gt)
    # IoU 1 is not > 1: the last threshold always fails (OTB toolkit / pysot convention).
    np.testing.assert_array_equal(curve, [1.0] * 20 + [0.0])
    assert success_auc(gt, gt) == pytest.approx(20 / 21)
    assert precision(gt, gt) == 1.0


def test_success_curve_two_frames():
    gt = np.array([(0, 0, 10, 10), (0, 0, 10, 10)], float)
    pred = np.array([(0, 0, 10, 10), (5, 0, 10, 10)], float)  # IoU 1 and 1/3
    curve = success_curve(pred, gt)
    # thresholds 0 .. 0.30 (7): both frames pass; 0.35 .. 0.95 (13): one; 1.0: none.
    np.testing.assert_allclose(curve, [1.0] * 7 + [0.5] * 13 + [0.0])
    assert success_auc(pred, gt) == pytest.approx((7 + 6.5) / 21)


def test_success_is_strictly_greater_than_threshold():
    gt = np.array([(0, 0, 10, 10)], float)
    pred = np.array([(0, 0, 5, 10)], float)  # IoU exactly 0.5
    curve = success_curve(pred, gt)
    assert curve[SUCCESS_THRESHOLDS.tolist().index(0.5)] == 0.0
    assert curve[SUCCESS_THRESHOLDS.tolist().index(0.45)] == 1.0


def test_centre_uses_w_minus_1_over_2():
    np.testing.assert_allclose(centres([(0, 0, 10, 10)]), [[4.5, 4.5]])
    # Centres 20 px apart only with the (w-1)/2 convention (x + w/2 would give 20.5 -> fail).
    gt = np.array([(0, 0, 41, 1)], float)
    pred = np.array([(0, 0, 1, 1)], float)
    assert centre_errors(pred, gt)[0] == pytest.approx(20.0)
    assert precision(pred, gt) == 1.0
    assert precision(pred - [0.5, 0, 0, 0], gt) == 0.0


def test_precision_threshold_is_inclusive_and_nan_fails():
    gt = np.array([(20, 0, 10, 10), (0, 0, 10, 10), (0, 0, 10, 10)], float)
    pred = np.array([(0, 0, 10, 10), (20.5, 0, 10, 10), (np.nan,) * 4], float)
    assert centre_errors(pred, gt)[2] == math.inf
    assert precision(pred, gt) == pytest.approx(1 / 3)
    assert precision(pred, gt, threshold=25) == pytest.approx(2 / 3)


def test_invalid_groundtruth_frames_are_excluded():
    gt = np.array([(0, 0, 10, 10), (np.nan,) * 4, (0, 0, 0, 10), (0, 0, 10, -1), (0, 0, 10, 10)], float)
    pred = np.array([(0, 0, 10, 10), (0, 0, 10, 10), (99, 99, 1, 1), (99, 99, 1, 1), (5, 0, 10, 10)], float)
    np.testing.assert_array_equal(valid_mask(gt), [True, False, False, False, True])
    ref = success_curve(pred[[0, 4]], gt[[0, 4]])
    np.testing.assert_allclose(success_curve(pred, gt), ref)
    scores = evaluate(pred, gt)
    assert scores.valid_frames == 2
    assert scores.auc == pytest.approx((7 + 6.5) / 21)
    assert scores.precision == 1.0  # centre errors 0 and 5 px


def test_no_valid_frame_gives_nan():
    gt = np.array([(np.nan,) * 4], float)
    pred = np.array([(0, 0, 1, 1)], float)
    assert np.isnan(success_curve(pred, gt)).all()
    assert math.isnan(success_auc(pred, gt))
    assert math.isnan(precision(pred, gt))
