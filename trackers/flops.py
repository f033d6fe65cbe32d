"""Counting a network's floating-point operations.

``count_flops`` runs one forward pass under torch's ``FlopCounterMode``, which counts at the
operator level: convolutions and matrix products issued through the functional API (the
depthwise cross-correlations, attention matmuls) are counted too, which module hooks on
Conv2d / Linear would miss.

Convention: one multiply-add = 2 FLOPs (``FlopCounterMode``'s); ``macs`` is half of it.
Element-wise ops, pooling, softmax, BN and ``grid_sample`` are not counted (small next to the
convolutions, and the usual convention of the tracking papers' "FLOPs" tables, which count
convolution / linear multiply-adds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


@dataclass(frozen=True)
class FlopCount:
    flops: int
    #: FLOPs per outermost module that ran (named as FlopCounterMode names it, see below).
    by_module: dict[str, int] = field(default_factory=dict)

    @property
    def macs(self) -> int:
        return self.flops // 2

    @property
    def gflops(self) -> float:
        return self.flops / 1e9

    @property
    def gmacs(self) -> float:
        return self.macs / 1e9


def count_flops(model: nn.Module, *inputs, fn: Callable | None = None) -> FlopCount:
    """FLOPs of ``fn(*inputs)`` (default ``model(*inputs)``), attributed to ``model``'s children.

    Siamese trackers: call ``model.template(z)`` first, then
    ``count_flops(model, x, fn=model.track)`` counts one search-frame forward only.
    """
    counter = FlopCounterMode(display=False, depth=None)
    with torch.no_grad(), counter:
        (fn or model)(*inputs)
    counts = counter.get_flop_counts()
    total = int(counter.get_total_flops())
    # FlopCounterMode names a module by the class of the outermost module that ran, then the
    # attribute path: "SiamCross.backbone..." when the model itself is called, but
    # "ResNetAtrous...", "OAIN..." when ``fn`` calls its children directly (``track``).
    root = type(model).__name__
    if root in counts:
        picked = {
            k[len(root) + 1 :]: v for k, v in counts.items() if k.count(".") == 1 and k.startswith(root)
        }
    else:
        picked = {k: v for k, v in counts.items() if "." not in k and k != "Global"}
    return FlopCount(total, {k: int(sum(v.values())) for k, v in picked.items()})
