"""pysot MobileNetV2 backbone (SiamRPN++ mobilev2; width_mult 1.4 in the released model).

Not torchvision-compatible (tracker-specs §2.2, §12.4): widths are plain ``int(c * width)``
truncations (no ``_make_divisible``), the stem conv has padding 0, even t=1 blocks carry an
expand conv, stages 4-7 keep stride 8 through dilation, and no final 1280-channel conv exists.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

# (expand t, channels c, repeats n, stride s, dilation d) for layer1..layer7.
SETTINGS = (
    (1, 16, 1, 1, 1),
    (6, 24, 2, 2, 1),
    (6, 32, 3, 2, 1),
    (6, 64, 4, 1, 2),
    (6, 96, 3, 1, 2),
    (6, 160, 3, 1, 4),
    (6, 320, 1, 1, 4),
)


def _conv_bn_relu6(inp: int, oup: int, kernel: int, stride: int, padding: int, **kw) -> list[nn.Module]:
    return [
        nn.Conv2d(inp, oup, kernel, stride, padding, bias=False, **kw),
        nn.BatchNorm2d(oup),
        nn.ReLU6(inplace=True),
    ]


class InvertedResidual(nn.Module):
    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int, dilation: int = 1) -> None:
        super().__init__()
        hidden = inp * expand_ratio
        self.use_res_connect = stride == 1 and inp == oup
        # Same padding rule as the pysot ResNet: 0 when strided, otherwise the dilation.
        padding = dilation if dilation > 1 else 2 - stride
        # Indices conv.0/1 expand, conv.3/4 depthwise, conv.6/7 linear projection.
        self.conv = nn.Sequential(
            *_conv_bn_relu6(inp, hidden, 1, 1, 0),
            *_conv_bn_relu6(hidden, hidden, 3, stride, padding, dilation=dilation, groups=hidden),
            nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    """Stages ``layer0`` (stem) .. ``layer7``; ``forward`` returns the ``used_layers`` outputs
    (a tensor for one index, a list otherwise)."""

    def __init__(self, width_mult: float = 1.0, used_layers: Sequence[int] = (3, 5, 7)) -> None:
        super().__init__()
        self.used_layers = list(used_layers)
        channels = [int(32 * width_mult)]
        self.layer0 = nn.Sequential(*_conv_bn_relu6(3, channels[0], 3, 2, 0))
        last_dilation = 1
        for idx, (t, c, n, s, d) in enumerate(SETTINGS, start=1):
            out_c = int(c * width_mult)
            # The first block of a stage whose dilation just grew uses half of it (as ResNet).
            first_d = d if d == last_dilation else max(d // 2, 1)
            blocks = [InvertedResidual(channels[-1], out_c, s, t, first_d)]
            blocks += [InvertedResidual(out_c, out_c, 1, t, d) for _ in range(1, n)]
            self.add_module(f"layer{idx}", nn.Sequential(*blocks))
            channels.append(out_c)
            last_dilation = d
        self._channels = channels

    @property
    def out_channels(self) -> list[int]:
        return [self._channels[i] for i in self.used_layers]

    def forward(self, x: torch.Tensor) -> torch.Tensor | list[torch.Tensor]:
        outs = []
        for idx in range(len(SETTINGS) + 1):
            x = getattr(self, f"layer{idx}")(x)
            outs.append(x)
        picked = [outs[i] for i in self.used_layers]
        return picked[0] if len(picked) == 1 else picked
