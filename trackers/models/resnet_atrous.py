"""pysot "atrous" ResNet-50 (SiamRPN++ r50, SiamMask, SiamBAN).

Not torchvision-compatible (tracker-specs §2.1, §12.1): conv1 has padding 0, layer2 strides
inside a padding-0 3x3 conv, layer3/layer4 keep stride 8 through dilation 2/4, and every
projection shortcut of a strided or dilated stage is a 3x3 conv. These details fix both the
checkpoint shapes and the 15x15 / 31x31 feature sizes the heads rely on.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

# Output channels of the five tappable outputs: relu(conv1), layer1..layer4.
CHANNELS = (64, 256, 512, 1024, 2048)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        dilation: int = 1,
    ) -> None:
        super().__init__()
        # The first block of a dilated stage runs at half the stage dilation (pysot's rule),
        # so the receptive field grows gradually into the stage.
        if downsample is not None and dilation > 1:
            dilation //= 2
        # Undilated: padding 1, but 0 for the strided conv (15x15 / 31x31 maps depend on it).
        padding = dilation if dilation > 1 else 2 - stride
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(
            planes, planes, kernel_size=3, stride=stride, padding=padding, dilation=dilation, bias=False
        )
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + residual)


class ResNetAtrous(nn.Module):
    """Bottleneck ResNet; ``forward`` returns the outputs named by ``used_layers``.

    Output indices: 0 = relu(conv1) (pre-maxpool), 1..4 = layer1..layer4. One index gives a
    tensor, several give a list (as pysot does). layer3 / layer4 are only built when used,
    so unused stages contribute no state_dict keys. ``layer3_with_layer4`` reproduces the
    siamban copy, which also builds layer3 when only layer4 is requested.
    """

    def __init__(
        self,
        layers: Sequence[int] = (3, 4, 6, 3),
        used_layers: Sequence[int] = (2, 3, 4),
        layer3_with_layer4: bool = False,
    ) -> None:
        super().__init__()
        self.used_layers = list(used_layers)
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=0, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, layers[0])
        self.layer2 = self._make_layer(128, layers[1], stride=2)
        build4 = 4 in used_layers
        build3 = 3 in used_layers or (layer3_with_layer4 and build4)
        self.layer3 = self._make_layer(256, layers[2], dilation=2) if build3 else nn.Identity()
        self.layer4 = self._make_layer(512, layers[3], dilation=4) if build4 else nn.Identity()

    @property
    def out_channels(self) -> list[int]:
        return [CHANNELS[i] for i in self.used_layers]

    def _make_layer(self, planes: int, blocks: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
        out_planes = planes * Bottleneck.expansion
        downsample = None
        if stride != 1 or self.inplanes != out_planes:
            if stride == 1 and dilation == 1:
                conv = nn.Conv2d(self.inplanes, out_planes, kernel_size=1, bias=False)
            else:
                # A 3x3 shortcut that matches the first block's conv2 geometry (padding 0 when
                # strided, half the stage dilation when dilated) keeps both paths aligned.
                dd = dilation // 2 if dilation > 1 else 1
                padding = dd if dilation > 1 else 0
                conv = nn.Conv2d(
                    self.inplanes,
                    out_planes,
                    kernel_size=3,
                    stride=stride,
                    padding=padding,
                    dilation=dd,
                    bias=False,
                )
            downsample = nn.Sequential(conv, nn.BatchNorm2d(out_planes))
        blocks_list = [Bottleneck(self.inplanes, planes, stride, downsample, dilation=dilation)]
        self.inplanes = out_planes
        blocks_list += [Bottleneck(self.inplanes, planes, dilation=dilation) for _ in range(1, blocks)]
        return nn.Sequential(*blocks_list)

    def forward(self, x: torch.Tensor) -> torch.Tensor | list[torch.Tensor]:
        x0 = self.relu(self.bn1(self.conv1(x)))
        p1 = self.layer1(self.maxpool(x0))
        p2 = self.layer2(p1)
        p3 = self.layer3(p2)
        p4 = self.layer4(p3)
        outs = [x0, p1, p2, p3, p4]
        picked = [outs[i] for i in self.used_layers]
        return picked[0] if len(picked) == 1 else picked


def resnet50(used_layers: Sequence[int] = (2, 3, 4), layer3_with_layer4: bool = False) -> ResNetAtrous:
    return ResNetAtrous((3, 4, 6, 3), used_layers, layer3_with_layer4)
