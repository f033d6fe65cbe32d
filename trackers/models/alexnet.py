"""pysot ``AlexNetLegacy`` (SiamRPN alex) — also the DaSiamRPN ``featureExtract`` trunk.

Layout (tracker-specs §2.3): one ``features`` Sequential, no padding anywhere, BN before
max-pool before ReLU. ``width_mult`` 2 gives DaSiamRPN's SiamRPNBIG channels.
"""

from __future__ import annotations

import torch
from torch import nn


class AlexNetLegacy(nn.Module):
    BASE_CHANNELS = (96, 256, 384, 384, 256)

    def __init__(self, width_mult: float = 1.0) -> None:
        super().__init__()
        c = [3] + [int(x * width_mult) for x in self.BASE_CHANNELS]
        self.features = nn.Sequential(
            nn.Conv2d(c[0], c[1], kernel_size=11, stride=2),
            nn.BatchNorm2d(c[1]),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.ReLU(inplace=True),
            nn.Conv2d(c[1], c[2], kernel_size=5),
            nn.BatchNorm2d(c[2]),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.ReLU(inplace=True),
            nn.Conv2d(c[2], c[3], kernel_size=3),
            nn.BatchNorm2d(c[3]),
            nn.ReLU(inplace=True),
            nn.Conv2d(c[3], c[4], kernel_size=3),
            nn.BatchNorm2d(c[4]),
            nn.ReLU(inplace=True),
            nn.Conv2d(c[4], c[5], kernel_size=3),
            nn.BatchNorm2d(c[5]),
        )
        self.feature_size = c[5]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)
