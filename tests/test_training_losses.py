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


def test_hardest_keeps_each_pairs_highest_loss_cells():
    loss = torch.tensor([[[0.1, 0.9], [0.5, 0.3]], [[0.2, 0.8], [0.7, 0.4]]])
    mask = torch.tensor([[[True, True], [True, False]], [[True, False], [False, False]]])
    # pair 0: 3 cells, a third of them rounds up to 1: the 0.9; pair 1: its only cell stays
    kept = losses.hardest(loss, mask, 1 / 3)
    assert kept.tolist() == [[[False, True], [False, False]], [[True, False], [False, False]]]
    # half of pair 0's 3 rounds up to 2 (0.9, 0.5); the 0.3 outside the mask never counts
    assert losses.hardest(loss, mask, 0.5)[0].tolist() == [[False, True], [True, False]]
    assert losses.hardest(loss, mask, 1.0) is mask
    assert not losses.hardest(loss, torch.zeros_like(mask), 0.5).any()
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="hard-negative fraction"):
            losses.hardest(loss, mask, bad)


def test_hard_negatives_move_the_cls_loss_to_the_confusing_cells():
    # one positive cell, three negatives: background at -4, -4 and a distractor at +2
    logits = torch.tensor([[[3.0, -4.0], [-4.0, 2.0]]], requires_grad=True)
    target = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]])
    pos = target > 0
    every = 0.5 * softplus(-3) + 0.5 * (2 * softplus(-4) + softplus(2)) / 3
    assert losses.balanced_bce_masked(logits, target, pos, ~pos).item() == pytest.approx(every, rel=1e-6)
    mined = losses.balanced_bce_masked(logits, target, pos, ~pos, neg_fraction=0.2)
    assert mined.item() == pytest.approx(0.5 * softplus(-3) + 0.5 * softplus(2), rel=1e-6)
    mined.backward()
    # the easy background gets no gradient; the distractor all of the negatives' half
    assert logits.grad[0, 0, 1] == 0 and logits.grad[0, 1, 0] == 0
    assert logits.grad[0, 1, 1] > 0


def test_siamcross_family_takes_and_checks_hard_negatives():
    import trackers
    from trackers.training.families import SiamCrossFamily

    config = trackers.get("siamcross-mobilev2").config_cls.create("s16")
    assert SiamCrossFamily(config, 255).opt["hard_negatives"] == 1.0
    assert SiamCrossFamily(config, 255, {"hard_negatives": 0.25}).opt["hard_negatives"] == 0.25
    with pytest.raises(ValueError, match="hard-negative fraction"):
        SiamCrossFamily(config, 255, {"hard_negatives": 0})
    # the option reaches the cls term: a map with one positive and one high-scoring negative
    s = SiamCrossFamily(config, 255).score_size
    logits = torch.full((1, 1, s, s), -4.0)
    logits[0, 0, 0, 0] = 2.0
    labels = torch.zeros(1, s, s)
    labels[0, s // 2, s // 2] = 1.0
    out = {"cls": logits, "align": torch.zeros(1, 1, s, s), "loc": torch.full((1, 4, s, s), 32.0)}
    batch = {"cls": labels, "inside": labels, "ltrb": torch.full((1, 4, s, s), 32.0)}
    every = SiamCrossFamily(config, 255).loss(out, batch)["cls"]
    mined = SiamCrossFamily(config, 255, {"hard_negatives": 0.01}).loss(out, batch)["cls"]
    assert every.item() == pytest.approx(
        0.5 * softplus(4) + 0.5 * (softplus(2) + (s * s - 2) * softplus(-4)) / (s * s - 1), rel=1e-5
    )
    assert mined.item() == pytest.approx(0.5 * softplus(4) + 0.5 * softplus(2), rel=1e-5)
