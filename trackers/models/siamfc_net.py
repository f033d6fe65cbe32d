"""SiamFC network of huanglianghua/siamfc-pytorch: ``Net(AlexNetV1(), SiamFC(out_scale=0.001))``.

Module names follow the official ones, so the released ``siamfc_alexnet_e50.pth`` (keys
``backbone.convN.*``) loads with ``strict=True`` and no remapping (tracker-specs §7.1).
"""

from __future__ import annotations

import torch
from torch import nn

from trackers.ops.xcorr import xcorr_batched, xcorr_plain

OUT_SCALE = 0.001


def _bn(num_features: int) -> nn.BatchNorm2d:
    # The official eps is 1e-6, not torch's 1e-5; the default eps moves the response by ~7e-5.
    return nn.BatchNorm2d(num_features, eps=1e-6, momentum=0.05)


class AlexNetV1(nn.Module):
    """siamfc-pytorch AlexNetV1: grouped conv2/4/5, Conv->BN->ReLU->Pool, bare conv5.

    This is not pysot's AlexNetLegacy (different block order, groups and BN eps), hence a
    separate class. 127 -> 6x6x256, 255 -> 22x22x256.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, 96, 11, 2), _bn(96), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2)
        )
        self.conv2 = nn.Sequential(
            nn.Conv2d(96, 256, 5, 1, groups=2), _bn(256), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2)
        )
        self.conv3 = nn.Sequential(nn.Conv2d(256, 384, 3, 1), _bn(384), nn.ReLU(inplace=True))
        self.conv4 = nn.Sequential(nn.Conv2d(384, 384, 3, 1, groups=2), _bn(384), nn.ReLU(inplace=True))
        # Kept as a one-element Sequential so the key stays backbone.conv5.0.*.
        self.conv5 = nn.Sequential(nn.Conv2d(384, 256, 3, 1, groups=2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv5(self.conv4(self.conv3(self.conv2(self.conv1(x)))))


class SiamFCNet(nn.Module):
    """Backbone + parameter-free correlation head (response = xcorr * out_scale).

    Input: RGB float 0..255, NCHW, no normalisation. ``template(z)`` stores ``self.kernel``;
    ``track(x)`` returns the raw response (B, 1, 17, 17) for 255x255 searches. Two batch
    layouts are accepted, as in the official ``_fast_xcorr``:

    - one template, B searches (the tracker's 3 scales): every search uses that template;
    - B templates, B searches: search i is correlated with template i (several objects).
    """

    def __init__(self, out_scale: float = OUT_SCALE) -> None:
        super().__init__()
        self.backbone = AlexNetV1()
        self.out_scale = out_scale
        self.kernel: torch.Tensor | None = None

    def head(self, kernel: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        nz, nx = kernel.shape[0], search.shape[0]
        if nz == 1:
            out = xcorr_plain(search, kernel)
        elif nz == nx:
            out = xcorr_batched(search, kernel)
        else:
            raise ValueError(f"{nz} templates for {nx} search images: need 1 template or one per search")
        # Multiply after the correlation, as the official head does (same float32 rounding).
        return out * self.out_scale

    def template(self, z: torch.Tensor) -> None:
        self.kernel = self.backbone(z)

    def track(self, x: torch.Tensor) -> torch.Tensor:
        if self.kernel is None:
            raise RuntimeError("template() must be called before track()")
        return self.head(self.kernel, self.backbone(x))

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Stateless pair forward (official ``Net.forward``): no stored template involved."""
        return self.head(self.backbone(z), self.backbone(x))


def build_siamfc_alexnetv1() -> SiamFCNet:
    return SiamFCNet(out_scale=OUT_SCALE)


# Fixture stem -> zero-argument factory.
SIAMFC_ARCHITECTURES = {"siamfc_pytorch__alexnetv1": build_siamfc_alexnetv1}
