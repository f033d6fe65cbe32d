"""Depthwise-correlation heads of pysot (SiamRPN / SiamRPN++) and siamban (SiamBAN).

Layouts follow tracker-specs §3.1-§3.3 and §3.6. Every head takes template features ``z_f``
and search features ``x_f`` with the same batch size B (one template per search image) and
returns ``(cls, loc)``; single-level heads take tensors, multi-level heads lists of tensors.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from trackers.ops.xcorr import xcorr_depthwise


def _conv_bn_relu(cin: int, cout: int, kernel: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel_size=kernel, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class DepthwiseXCorr(nn.Module):
    """conv_kernel / conv_search (3x3, no padding) -> depthwise xcorr -> 1x1 head.

    Keys: ``conv_kernel.{0,1}``, ``conv_search.{0,1}``, ``head.{0,1,3}`` (only the last conv
    has a bias).
    """

    def __init__(self, in_channels: int, hidden: int, out_channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.conv_kernel = _conv_bn_relu(in_channels, hidden, kernel_size)
        self.conv_search = _conv_bn_relu(in_channels, hidden, kernel_size)
        self.head = nn.Sequential(
            *_conv_bn_relu(hidden, hidden, 1),
            nn.Conv2d(hidden, out_channels, kernel_size=1),
        )

    def correlate(self, kernel: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        """The correlation feature before ``head`` (SiamMask's mask branch also needs it)."""
        return xcorr_depthwise(self.conv_search(search), self.conv_kernel(kernel))

    def forward(self, kernel: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        return self.head(self.correlate(kernel, search))


class DepthwiseRPN(nn.Module):
    """Anchor-based head: ``cls`` gives 2A channels ([bg x A, fg x A]), ``loc`` 4A."""

    def __init__(self, anchor_num: int = 5, in_channels: int = 256, hidden: int = 256) -> None:
        super().__init__()
        self.cls = DepthwiseXCorr(in_channels, hidden, 2 * anchor_num)
        self.loc = DepthwiseXCorr(in_channels, hidden, 4 * anchor_num)

    def forward(self, z_f: torch.Tensor, x_f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cls(z_f, x_f), self.loc(z_f, x_f)


class DepthwiseBAN(nn.Module):
    """Anchor-free head: ``cls`` gives ``cls_out_channels`` logits, ``loc`` raw (l, t, r, b)."""

    def __init__(self, in_channels: int = 256, hidden: int = 256, cls_out_channels: int = 2) -> None:
        super().__init__()
        self.cls = DepthwiseXCorr(in_channels, hidden, cls_out_channels)
        self.loc = DepthwiseXCorr(in_channels, hidden, 4)

    def forward(self, z_f: torch.Tensor, x_f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cls(z_f, x_f), self.loc(z_f, x_f)


def _fuse(maps: list[torch.Tensor], weight: torch.Tensor | None) -> torch.Tensor:
    """Average over levels: plain mean, or softmax(weight)-weighted sum.

    The accumulation order (starting from 0, level by level) is the official one, so float32
    results agree to the last bits.
    """
    if weight is None:
        return sum(maps) / len(maps)
    w = F.softmax(weight, 0)
    total = 0
    for i, m in enumerate(maps):
        total = total + m * w[i]
    return total


class _MultiLevel(nn.Module):
    """One branch per level named ``<prefix>2``, ``<prefix>3``, ... plus optional learnable
    fusion weights ``cls_weight`` / ``loc_weight`` (absent, not just unused, when unweighted —
    the unweighted checkpoints have no such keys)."""

    prefix = ""
    takes_levels = True  # called with a list of per-level maps, even for one level

    def __init__(self, branches: Sequence[nn.Module], weighted: bool) -> None:
        super().__init__()
        for i, branch in enumerate(branches):
            self.add_module(f"{self.prefix}{i + 2}", branch)
        self.num_levels = len(branches)
        self.weighted = weighted
        if weighted:
            self.cls_weight = nn.Parameter(torch.ones(self.num_levels))
            self.loc_weight = nn.Parameter(torch.ones(self.num_levels))

    def _loc_level(self, level: int, loc: torch.Tensor) -> torch.Tensor:
        return loc

    def levels(
        self, z_fs: Sequence[torch.Tensor], x_fs: Sequence[torch.Tensor]
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Each level's (cls, loc) before the fusion."""
        cls, loc = [], []
        for level, (z_f, x_f) in enumerate(zip(z_fs, x_fs, strict=True)):
            c, raw_loc = getattr(self, f"{self.prefix}{level + 2}")(z_f, x_f)
            cls.append(c)
            loc.append(self._loc_level(level, raw_loc))
        return cls, loc

    def fuse(self, cls: list[torch.Tensor], loc: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        if self.weighted:
            return _fuse(cls, self.cls_weight), _fuse(loc, self.loc_weight)
        return _fuse(cls, None), _fuse(loc, None)

    def level_weights(self) -> torch.Tensor:
        """The normalised weights ``fuse`` gives each level's cls: softmax(cls_weight), or 1 / L."""
        if self.weighted:
            return F.softmax(self.cls_weight.detach().float(), 0)
        return torch.full((self.num_levels,), 1.0 / self.num_levels)

    def forward(
        self, z_fs: Sequence[torch.Tensor], x_fs: Sequence[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.fuse(*self.levels(z_fs, x_fs))


class MultiRPN(_MultiLevel):
    """SiamRPN++ head: ``rpn2..`` DepthwiseRPN per level (hidden = that level's channels)."""

    prefix = "rpn"

    def __init__(self, anchor_num: int, in_channels: Sequence[int], weighted: bool = False) -> None:
        super().__init__([DepthwiseRPN(anchor_num, c, c) for c in in_channels], weighted)


class MultiBAN(_MultiLevel):
    """SiamBAN head: ``box2..`` DepthwiseBAN per level, plus ``loc_scale`` (always present).

    loc of each level becomes exp(loc * loc_scale[level]) *before* the fusion, so the fused
    output is already the (l, t, r, b) distances in search-patch pixels.
    """

    prefix = "box"

    def __init__(self, in_channels: Sequence[int], cls_out_channels: int = 2, weighted: bool = False) -> None:
        super().__init__([DepthwiseBAN(c, c, cls_out_channels) for c in in_channels], weighted)
        self.loc_scale = nn.Parameter(torch.ones(len(in_channels)))

    def _loc_level(self, level: int, loc: torch.Tensor) -> torch.Tensor:
        return torch.exp(loc * self.loc_scale[level])
