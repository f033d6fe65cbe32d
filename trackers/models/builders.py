"""One builder per official architecture, keyed by the fixture / checkpoint stem
(``<repo>__<config>``, as in shared/fixtures/official_keys).

Each builder returns the network in eval mode with the official state_dict layout, so a
released checkpoint loads with ``load_state_dict(..., strict=True)``. Builders of other model
families live in their own modules and are registered in ``ARCHITECTURES`` below.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from trackers.models.alexnet import AlexNetLegacy
from trackers.models.efficientnet_lite import EfficientNetLite
from trackers.models.heads import DepthwiseRPN, MultiBAN, MultiRPN
from trackers.models.mobilenet_v2 import MobileNetV2, mobilenet_v2_imagenet
from trackers.models.neck import AdjustAllLayer
from trackers.models.resnet_atrous import resnet50
from trackers.models.siamese_model import SiameseModel

ANCHOR_NUM = 5  # ratios (0.33, 0.5, 1, 2, 3) x scale 8, all pysot RPN configs
ADJUSTED_CHANNELS = 256


def _adjust_neck(in_channels: list[int]) -> AdjustAllLayer:
    return AdjustAllLayer(in_channels, [ADJUSTED_CHANNELS] * len(in_channels))


def build_siamrpn_alex_dwxcorr() -> SiameseModel:
    """pysot SiamRPN (alex): AlexNetLegacy, no neck, DepthwiseRPN(5, 256, 256)."""
    backbone = AlexNetLegacy()
    head = DepthwiseRPN(ANCHOR_NUM, backbone.feature_size, 256)
    return SiameseModel(backbone, head, head_name="rpn_head").eval()


def _siamrpn_r50_l234(weighted: bool) -> SiameseModel:
    backbone = resnet50(used_layers=(2, 3, 4))
    neck = _adjust_neck(backbone.out_channels)
    head = MultiRPN(ANCHOR_NUM, [ADJUSTED_CHANNELS] * 3, weighted=weighted)
    return SiameseModel(backbone, head, neck, head_name="rpn_head").eval()


def build_siamrpn_r50_l234_dwxcorr() -> SiameseModel:
    """pysot SiamRPN++ r50 (VOT): softmax-weighted level fusion."""
    return _siamrpn_r50_l234(weighted=True)


def build_siamrpn_r50_l234_dwxcorr_otb() -> SiameseModel:
    """pysot SiamRPN++ r50 (OTB): plain-mean fusion, so no ``cls_weight``/``loc_weight`` keys."""
    return _siamrpn_r50_l234(weighted=False)


def build_siamrpn_mobilev2_l234_dwxcorr() -> SiameseModel:
    """pysot SiamRPN++ MobileNetV2 x1.4, layers 3/5/7, unweighted fusion."""
    backbone = MobileNetV2(width_mult=1.4, used_layers=(3, 5, 7))
    neck = _adjust_neck(backbone.out_channels)
    head = MultiRPN(ANCHOR_NUM, [ADJUSTED_CHANNELS] * 3, weighted=False)
    return SiameseModel(backbone, head, neck, head_name="rpn_head").eval()


def build_siamban_r50_l234() -> SiameseModel:
    """siamban r50 l234 (VOT and OTB share the structure): weighted MultiBAN under ``head``."""
    backbone = resnet50(used_layers=(2, 3, 4), layer3_with_layer4=True)
    neck = _adjust_neck(backbone.out_channels)
    head = MultiBAN([ADJUSTED_CHANNELS] * 3, cls_out_channels=2, weighted=True)
    return SiameseModel(backbone, head, neck, head_name="head").eval()


# Our CPU-trainable variant: narrower adjusted features than the ResNet model's 256 keep the
# three depth-wise heads cheap (the heads, not the backbone, dominate a MobileNet's cost).
MOBILE_ADJUSTED_CHANNELS = 128


def build_siamban_mobilev2() -> SiameseModel:
    """Siamark's SiamBAN on the ImageNet MobileNetV2-1.0 (layers 3/5/7): no official counterpart."""
    backbone = mobilenet_v2_imagenet(used_layers=(3, 5, 7))
    neck = AdjustAllLayer(backbone.out_channels, [MOBILE_ADJUSTED_CHANNELS] * 3)
    head = MultiBAN([MOBILE_ADJUSTED_CHANNELS] * 3, cls_out_channels=2, weighted=True)
    return SiameseModel(backbone, head, neck, head_name="head").eval()


def build_siamban_mobilev2_s16() -> SiameseModel:
    """Siamark's fast SiamBAN: one BAN head on MobileNetV2-1.0 layer5 (ImageNet features.13, 96 ch)
    at stride 16 (127 -> 7x7, 255 -> 15x15; the whole 7x7 template map is the kernel, so the head
    gives a 9x9 map). No official counterpart."""
    backbone = mobilenet_v2_imagenet(used_layers=(5,), output_stride=16)
    neck = AdjustAllLayer(backbone.out_channels, [MOBILE_ADJUSTED_CHANNELS], center_size=0)
    head = MultiBAN([MOBILE_ADJUSTED_CHANNELS], cls_out_channels=2, weighted=False)
    return SiameseModel(backbone, head, neck, head_name="head").eval()


def build_siamban_efflite0_s16() -> SiameseModel:
    """``build_siamban_mobilev2_s16`` on EfficientNet-Lite0 stage 5 (112 ch, stride 16; 127 -> 8x8,
    255 -> 16x16, again a 9x9 map). No official counterpart."""
    backbone = EfficientNetLite(used_layers=(5,), output_stride=16)
    neck = AdjustAllLayer(backbone.out_channels, [MOBILE_ADJUSTED_CHANNELS], center_size=0)
    head = MultiBAN([MOBILE_ADJUSTED_CHANNELS], cls_out_channels=2, weighted=False)
    return SiameseModel(backbone, head, neck, head_name="head").eval()


def build_siamrpn_mobilev2_imagenet() -> SiameseModel:
    """Siamark's SiamRPN++ on the ImageNet MobileNetV2-1.0 (layers 3/5/7): no official counterpart.

    pysot's model is width 1.4 in a layout no available ImageNet file fits (tracker-specs §2.2), and
    training it from scratch on a CPU's data is hopeless; this sibling takes the real ImageNet-1.0
    backbone, with SiamBAN-MobileNetV2's 128-channel neck and weighted level fusion.
    """
    backbone = mobilenet_v2_imagenet(used_layers=(3, 5, 7))
    neck = AdjustAllLayer(backbone.out_channels, [MOBILE_ADJUSTED_CHANNELS] * 3)
    head = MultiRPN(ANCHOR_NUM, [MOBILE_ADJUSTED_CHANNELS] * 3, weighted=True)
    return SiameseModel(backbone, head, neck, head_name="rpn_head").eval()


def build_siamrpn_mobilev2_s16() -> SiameseModel:
    """Siamark's fast SiamRPN++: one depth-wise RPN head on MobileNetV2-1.0 layer5 at stride 16
    (as ``build_siamban_mobilev2_s16``, 9x9 cells x 5 anchors). No official counterpart."""
    backbone = mobilenet_v2_imagenet(used_layers=(5,), output_stride=16)
    neck = AdjustAllLayer(backbone.out_channels, [MOBILE_ADJUSTED_CHANNELS], center_size=0)
    head = MultiRPN(ANCHOR_NUM, [MOBILE_ADJUSTED_CHANNELS], weighted=False)
    return SiameseModel(backbone, head, neck, head_name="rpn_head").eval()


ARCHITECTURES: dict[str, Callable[[], nn.Module]] = {
    "pysot__siamrpn_alex_dwxcorr": build_siamrpn_alex_dwxcorr,
    "pysot__siamrpn_alex_dwxcorr_otb": build_siamrpn_alex_dwxcorr,
    "pysot__siamrpn_r50_l234_dwxcorr": build_siamrpn_r50_l234_dwxcorr,
    "pysot__siamrpn_r50_l234_dwxcorr_otb": build_siamrpn_r50_l234_dwxcorr_otb,
    "pysot__siamrpn_mobilev2_l234_dwxcorr": build_siamrpn_mobilev2_l234_dwxcorr,
    "siamban__siamban_r50_l234": build_siamban_r50_l234,
    "siamban__siamban_r50_l234_otb": build_siamban_r50_l234,
    "siamark__siamban_mobilev2": build_siamban_mobilev2,
    "siamark__siamban_mobilev2_s16": build_siamban_mobilev2_s16,
    "siamark__siamban_efflite0_s16": build_siamban_efflite0_s16,
    "siamark__siamrpn_mobilev2": build_siamrpn_mobilev2_imagenet,
    "siamark__siamrpn_mobilev2_s16": build_siamrpn_mobilev2_s16,
}
