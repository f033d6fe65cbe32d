"""MobileNetV3-Small trunk as used by NanoTrack (v1, v2, v3).

Module layout follows the "tonylins"-style MobileNetV3 that NanoTrack trains from, so the
official checkpoints' ``backbone.features.N.conv.K`` keys load with ``strict=True``:

* ``features.0``: 3x3/2 conv, BN, hard-swish.
* ``features.i`` (i >= 1): :class:`InvertedResidual`. Blocks without an expansion
  (``hidden == inp``) are ``[dw, BN, act, SE|Identity, pw, BN]``; expanding blocks are
  ``[pw, BN, act, dw, BN, SE|Identity, act, pw, BN]`` (SE *before* the activation there).
  The ``nn.Identity`` placeholders matter: they keep the Sequential indices of the
  checkpoint when a block has no SE.

NanoTrack truncates MobileNetV3-Small after the 48-channel stage and keeps an output
stride of 16 (no 4th downsampling): 255 -> 16x16 and 127 -> 8x8 feature maps. v3 appends
one more stride-1 block to 96 channels.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

# (kernel, expansion t, out channels, use SE, use hard-swish, stride)
BlockCfg = tuple[int, float, int, bool, bool, int]

NANOTRACK_SMALL_CFG: tuple[BlockCfg, ...] = (
    (3, 1, 16, True, False, 2),
    (3, 4.5, 24, False, False, 2),
    (3, 3.67, 24, False, False, 1),
    (5, 4, 40, True, True, 2),
    (5, 6, 40, True, True, 1),
    (5, 6, 40, True, True, 1),
    (5, 3, 48, True, True, 1),
    (5, 3, 48, True, True, 1),
)
# NanoTrack v3 adds a 96-channel block; stride 1 (ImageNet MobileNetV3 has 2 here) keeps 16x16.
NANOTRACK_SMALL_V3_CFG: tuple[BlockCfg, ...] = NANOTRACK_SMALL_CFG + ((5, 6, 96, True, True, 1),)


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round channel counts to a multiple of ``divisor`` without dropping more than 10%."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class SqueezeExcite(nn.Module):
    """SE with Linear layers (``fc.0`` / ``fc.2`` in the checkpoint) and a hard-sigmoid gate."""

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        hidden = make_divisible(channels // reduction, 8)
        self.fc = nn.Sequential(
            nn.Linear(channels, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, channels),
            nn.Hardsigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        y = self.fc(x.mean(dim=(2, 3))).view(b, c, 1, 1)
        return x * y


def _act(use_hs: bool) -> nn.Module:
    return nn.Hardswish() if use_hs else nn.ReLU(inplace=True)


class InvertedResidual(nn.Module):
    def __init__(
        self, inp: int, hidden: int, oup: int, kernel_size: int, stride: int, use_se: bool, use_hs: bool
    ) -> None:
        super().__init__()
        assert stride in (1, 2)
        self.identity = stride == 1 and inp == oup
        pad = (kernel_size - 1) // 2
        se: nn.Module = SqueezeExcite(hidden) if use_se else nn.Identity()
        if inp == hidden:
            self.conv = nn.Sequential(
                nn.Conv2d(hidden, hidden, kernel_size, stride, pad, groups=hidden, bias=False),
                nn.BatchNorm2d(hidden),
                _act(use_hs),
                se,
                nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
                nn.BatchNorm2d(oup),
            )
        else:
            self.conv = nn.Sequential(
                nn.Conv2d(inp, hidden, 1, 1, 0, bias=False),
                nn.BatchNorm2d(hidden),
                _act(use_hs),
                nn.Conv2d(hidden, hidden, kernel_size, stride, pad, groups=hidden, bias=False),
                nn.BatchNorm2d(hidden),
                se,
                _act(use_hs),
                nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
                nn.BatchNorm2d(oup),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return x + out if self.identity else out


class MobileNetV3(nn.Module):
    """Feature trunk only (no classifier): ``forward`` returns the last block's map."""

    def __init__(self, cfgs: Sequence[BlockCfg], width_mult: float = 1.0) -> None:
        super().__init__()
        in_ch = make_divisible(16 * width_mult, 8)
        layers: list[nn.Module] = [
            nn.Sequential(nn.Conv2d(3, in_ch, 3, 2, 1, bias=False), nn.BatchNorm2d(in_ch), nn.Hardswish())
        ]
        for k, t, c, use_se, use_hs, s in cfgs:
            out_ch = make_divisible(c * width_mult, 8)
            hidden = make_divisible(in_ch * t, 8)
            layers.append(InvertedResidual(in_ch, hidden, out_ch, k, s, use_se, use_hs))
            in_ch = out_ch
        self.features = nn.Sequential(*layers)
        self.out_channels = in_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


def mobilenetv3_small_nanotrack(version: int = 1) -> MobileNetV3:
    """The NanoTrack trunk: 48 output channels for v1/v2, 96 for v3."""
    if version in (1, 2):
        return MobileNetV3(NANOTRACK_SMALL_CFG)
    if version == 3:
        return MobileNetV3(NANOTRACK_SMALL_V3_CFG)
    raise ValueError(f"unknown NanoTrack version {version!r}")
