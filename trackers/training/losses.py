"""Loss functions of the tracker families (torch; batched, float32).

* SiamFC: ``balanced_bce`` (siamfc-pytorch ``BalancedLoss``).
* SiamRPN: ``select_cross_entropy`` (pysot) + ``weighted_l1`` (pysot) or ``weighted_smooth_l1``
  (SiamRPN paper's smooth L1, our default; beta 1/9 as Faster R-CNN's sigma 3).
* SiamBAN / NanoTrack: ``select_cross_entropy`` + ``iou_loss`` (linear, siamban).
* SiamCross: ``balanced_bce_masked`` on cls (optionally on its hardest negatives, ``hardest``) and
  align + ``iou_loss`` (-log IoU, UnitBox / Ocean).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def balanced_bce(logits: torch.Tensor, labels: torch.Tensor, neg_weight: float = 1.0) -> torch.Tensor:
    """BCE-with-logits weighted 1/num_pos on positives and neg_weight/num_neg on negatives, the
    weights normalised to sum 1, summed (siamfc-pytorch); counts over the whole batch."""
    pos, neg = labels == 1, labels == 0
    weight = torch.zeros_like(labels)
    weight[pos] = 1.0 / pos.sum().clamp_min(1)
    weight[neg] = neg_weight / neg.sum().clamp_min(1)
    weight = weight / weight.sum().clamp_min(1e-12)
    return F.binary_cross_entropy_with_logits(logits, labels, weight, reduction="sum")


def select_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """pysot: log-softmax over the 2-way class of each cell / anchor, NLL averaged over the
    positives and over the negatives separately, 0.5 * pos + 0.5 * neg; -1 labels are ignored.

    ``logits`` (B, 2K, S, S) with channels [background x K, foreground x K] (the trackers' layout);
    ``labels`` (B, K, S, S) or (B, S, S) for K = 1.
    """
    b, c, h, w = logits.shape
    logp = F.log_softmax(logits.reshape(b, 2, c // 2, h, w), dim=1)
    labels = labels.reshape(b, c // 2, h, w)
    total = logits.new_zeros(())
    for cls in (0, 1):
        mask = labels == cls
        if mask.any():
            total = total + 0.5 * -logp[:, cls][mask].mean()
    return total


def _per_anchor(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    b, c, h, w = pred.shape
    return pred.reshape(b, 4, c // 4, h, w), target.reshape(b, 4, c // 4, h, w)


def weighted_l1(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """pysot ``weight_l1_loss``: |pred - target| summed over the 4 coordinates, times the weight
    (1 / num_pos of each pair), summed, divided by the batch size. ``pred`` (B, 4K, S, S),
    ``target`` (B, 4, K, S, S), ``weight`` (B, K, S, S)."""
    pred, target = _per_anchor(pred, target)
    return ((pred - target).abs().sum(1) * weight).sum() / pred.shape[0]


def weighted_smooth_l1(
    pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, beta: float = 1.0 / 9
) -> torch.Tensor:
    """As ``weighted_l1`` with smooth L1 (quadratic below ``beta``) per coordinate."""
    pred, target = _per_anchor(pred, target)
    diff = F.smooth_l1_loss(pred, target, reduction="none", beta=beta)
    return (diff.sum(1) * weight).sum() / pred.shape[0]


def ltrb_iou(pred: torch.Tensor, target: torch.Tensor, smooth: float = 0.0) -> torch.Tensor:
    """IoU of boxes given as (l, t, r, b) distances from the same point, along dim 1 (or -1 for
    2-D inputs): (I + smooth) / (U + smooth)."""
    dim = 1 if pred.dim() > 2 else -1
    pl, pt, pr, pb = pred.unbind(dim)
    tl, tt, tr, tb = target.unbind(dim)
    inter = (torch.min(pl, tl) + torch.min(pr, tr)).clamp_min(0) * (
        torch.min(pt, tt) + torch.min(pb, tb)
    ).clamp_min(0)
    union = (pl + pr) * (pt + pb) + (tl + tr) * (tt + tb) - inter
    return (inter + smooth) / (union + smooth)


def iou_loss(pred: torch.Tensor, target: torch.Tensor, kind: str = "linear") -> torch.Tensor:
    """Mean over rows of (N, 4) ltrb boxes: ``linear`` 1 - IoU (siamban ``linear_iou``) or ``log``
    -log IoU (UnitBox, Ocean); IoU with siamban's +1 smoothing. Zero for no rows."""
    if pred.numel() == 0:
        return pred.sum() * 0
    iou = ltrb_iou(pred, target, smooth=1.0)
    if kind == "linear":
        return (1 - iou).mean()
    if kind == "log":
        return -torch.log(iou.clamp_min(1e-6)).mean()
    raise ValueError(f"unknown IoU loss {kind!r}: linear or log")


def check_fraction(fraction: float) -> None:
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"the hard-negative fraction must be in (0, 1], got {fraction:g}")


def hardest(loss: torch.Tensor, mask: torch.Tensor, fraction: float) -> torch.Tensor:
    """``mask`` narrowed, pair by pair (dim 0), to the ``fraction`` of its cells with the highest
    ``loss`` (rounded up: a pair with any cell keeps at least one). Online hard-negative mining:
    the negatives the network still scores high — a distractor, clutter — carry the loss, not
    the easy background that dominates every map. ``fraction`` 1 keeps ``mask`` as it is."""
    check_fraction(fraction)
    if fraction == 1.0:
        return mask
    b = loss.shape[0]
    flat = mask.reshape(b, -1)
    hardness = loss.detach().reshape(b, -1).masked_fill(~flat, -math.inf)
    rank = hardness.argsort(dim=1, descending=True).argsort(dim=1)  # 0 = the hardest cell
    # 0 where the pair has no such cell; float64 and a hair below so 3 x (1/3) stays 1, not 2
    keep = torch.ceil(flat.sum(1, dtype=torch.float64) * fraction - 1e-9)
    return (flat & (rank < keep[:, None])).reshape(mask.shape)


def balanced_bce_masked(
    logits: torch.Tensor,
    target: torch.Tensor,
    pos: torch.Tensor,
    neg: torch.Tensor,
    neg_fraction: float = 1.0,
) -> torch.Tensor:
    """0.5 * mean BCE over ``pos`` cells + 0.5 * mean BCE over ``neg`` cells (Ocean's weighted BCE;
    soft targets allowed), the negatives narrowed to each pair's hardest ``neg_fraction``
    (``hardest``). Empty groups add nothing."""
    loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    neg = hardest(loss, neg, neg_fraction)
    total = logits.new_zeros(())
    for mask in (pos, neg):
        if mask.any():
            total = total + 0.5 * loss[mask].mean()
    return total
