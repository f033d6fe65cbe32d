"""Each loss on a case computed by hand (trackers/training/losses.py)."""

from __future__ import annotations

import math

import pytest
import torch

from trackers.training import losses

LOG2 = math.log(2)


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_balanced_bce_hand_case():
    labels = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    logits = torch.tensor([[2.0, 0.0, 0.0, -2.0]])
    # weights 1 (pos) and 1/3 (each neg), normalised by their sum 2: 0.5 and 1/6.
    expected = 0.5 * softplus(-2) + (softplus(0) + softplus(0) + softplus(-2)) / 6
    assert losses.balanced_bce(logits, labels).item() == pytest.approx(expected, rel=1e-6)
    assert losses.balanced_bce(
        torch.zeros(2, 5, 5), (torch.rand(2, 5, 5) > 0.5).float()
    ).item() == pytest.approx(LOG2)


def test_select_cross_entropy_hand_case():
    # one anchor-free cell per class: logits (bg, fg) = (0, ln 3) -> p_fg = 3/4.
    logits = torch.zeros(1, 2, 1, 3)
    logits[0, 1] = math.log(3)
    labels = torch.tensor([[[1, 0, -1]]])
    expected = 0.5 * -math.log(0.75) + 0.5 * -math.log(0.25)
    assert losses.select_cross_entropy(logits, labels).item() == pytest.approx(expected, rel=1e-6)
    # anchors: channels [bg x K, fg x K]; zero logits give log 2 whatever the labels.
    assert losses.select_cross_entropy(
        torch.zeros(2, 10, 4, 4), torch.randint(0, 2, (2, 5, 4, 4))
    ).item() == pytest.approx(LOG2)
    assert (
        losses.select_cross_entropy(torch.zeros(1, 2, 2, 2), -torch.ones(1, 2, 2, dtype=torch.long)).item()
        == 0
    )


def test_weighted_l1_and_smooth_l1():
    b, k, s = 2, 5, 3
    target = torch.zeros(b, 4, k, s, s)
    pred = torch.zeros(b, 4 * k, s, s)
    pred.view(b, 4, k, s, s)[0, :, 1, 2, 2] = 0.5  # one anchor of sample 0 is off by 0.5 on every coordinate
    weight = torch.zeros(b, k, s, s)
    weight[0, 1, 2, 2] = 1.0
    assert losses.weighted_l1(pred, target, weight).item() == pytest.approx(4 * 0.5 / b)
    beta = 1 / 9
    assert losses.weighted_smooth_l1(pred, target, weight, beta).item() == pytest.approx(
        4 * (0.5 - beta / 2) / b
    )
    small = pred * 0.1  # 0.05 < beta: quadratic part
    assert losses.weighted_smooth_l1(small, target, weight, beta).item() == pytest.approx(
        4 * 0.5 * 0.05**2 / beta / b
    )


def test_iou_losses_hand_case():
    pred = torch.tensor([[1.0, 1.0, 1.0, 1.0]])
    target = torch.tensor([[2.0, 2.0, 2.0, 2.0]])
    # intersection 2 x 2 = 4, union 4 + 16 - 4 = 16; siamban's +1 smoothing: 5 / 17.
    assert losses.ltrb_iou(pred, target).item() == pytest.approx(0.25)
    assert losses.iou_loss(pred, target, "linear").item() == pytest.approx(12 / 17)
    assert losses.iou_loss(pred, target, "log").item() == pytest.approx(-math.log(5 / 17))
    assert losses.iou_loss(torch.zeros(0, 4), torch.zeros(0, 4)).item() == 0
    maps = torch.ones(1, 4, 2, 2)
    assert torch.allclose(losses.ltrb_iou(maps, 2 * maps), torch.full((1, 2, 2), 0.25))
    with pytest.raises(ValueError):
        losses.iou_loss(pred, target, "giou")


def test_balanced_bce_masked_soft_targets():
    logits = torch.zeros(1, 2, 2)
    target = torch.tensor([[[0.5, 1.0], [0.0, 0.0]]])
    pos = target > 0
    # pos: BCE(0, 0.5) = BCE(0, 1) = log 2; neg: log 2 -> 0.5 log 2 + 0.5 log 2.
    assert losses.balanced_bce_masked(logits, target, pos, ~pos).item() == pytest.approx(LOG2)
    logits = torch.tensor([[[0.0, 0.0], [-2.0, -2.0]]])
    expected = 0.5 * LOG2 + 0.5 * softplus(-2)
    assert losses.balanced_bce_masked(logits, target, pos, ~pos).item() == pytest.approx(expected, rel=1e-6)
