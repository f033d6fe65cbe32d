"""pysot / siamban adjust neck: 1x1 conv + BN per level, centre crop of template maps.

Key naming (tracker-specs §2.4): the per-level Sequential is ``downsample``; with one level
the AdjustLayer itself is ``downsample`` (``neck.downsample.downsample.0``), with several it is
``downsample2``, ``downsample3``, ... (numbered from 2, after the backbone layer index).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class AdjustLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, center_size: int = 7) -> None:
        super().__init__()
        self.downsample = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.center_size = center_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.downsample(x)
        # Only template maps (15x15) are narrower than 20; cropping them to the central 7x7
        # drops the border cells dominated by padding context (siamban hard-codes l=4: same).
        # center_size 0: no crop (stride-16 maps, where even the 15x15 search map is < 20).
        if self.center_size and x.size(3) < 20:
            left = (x.size(3) - self.center_size) // 2
            x = x[:, :, left : left + self.center_size, left : left + self.center_size]
        return x


class AdjustAllLayer(nn.Module):
    """One AdjustLayer per level; takes/returns a tensor for one level, a list otherwise."""

    def __init__(self, in_channels: Sequence[int], out_channels: Sequence[int], center_size: int = 7) -> None:
        super().__init__()
        self.num = len(out_channels)
        if self.num == 1:
            self.downsample = AdjustLayer(in_channels[0], out_channels[0], center_size)
        else:
            for i, (cin, cout) in enumerate(zip(in_channels, out_channels, strict=True)):
                self.add_module(f"downsample{i + 2}", AdjustLayer(cin, cout, center_size))

    def forward(self, features: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor | list[torch.Tensor]:
        if self.num == 1:
            return self.downsample(features)
        # contiguous(): the crop is a strided view; pysot materialises it here too.
        return [getattr(self, f"downsample{i + 2}")(f).contiguous() for i, f in enumerate(features)]
