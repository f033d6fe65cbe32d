"""SiamFC network of huanglianghua/siamfc-pytorch: ``Net(AlexNetV1(), SiamFC(out_scale=0.001))``,
and Siamark's trainable MobileNetV2 variant of it (``SiamFCMobileV2``).

Module names follow the official ones, so the released ``siamfc_alexnet_e50.pth`` (keys
``backbone.convN.*``) loads with ``strict=True`` and no remapping (tracker-specs §7.1).
"""

from __future__ import annotations

import torch
from torch import nn

from trackers.models.mobilenet_v2 import mobilenet_v2_imagenet
from trackers.models.neck import AdjustLayer
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

    def embed(self, img: torch.Tensor) -> torch.Tensor:
        """Feature map of a crop (the AlexNet backbone; subclasses add a neck)."""
        return self.backbone(img)

    def head(self, kernel: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        # Multiply after the correlation, as the official head does (same float32 rounding).
        return correlate(kernel, search) * self.out_scale

    def template(self, z: torch.Tensor) -> None:
        self.kernel = self.embed(z)

    def track(self, x: torch.Tensor) -> torch.Tensor:
        if self.kernel is None:
            raise RuntimeError("template() must be called before track()")
        return self.head(self.kernel, self.embed(x))

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Stateless pair forward (official ``Net.forward``): no stored template involved."""
        return self.head(self.embed(z), self.embed(x))


def correlate(kernel: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
    """Full-channel xcorr: one template for all searches, or template i for search i."""
    nz, nx = kernel.shape[0], search.shape[0]
    if nz == 1:
        return xcorr_plain(search, kernel)
    if nz == nx:
        return xcorr_batched(search, kernel)
    raise ValueError(f"{nz} templates for {nx} search images: need 1 template or one per search")


def correlate_fft(kernel: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
    """``correlate`` for template i against search i, through the FFT (float32 rounding aside, the
    same values). CPU backward of the grouped conv with a 15x15 kernel is ~8x slower."""
    h, w = search.shape[-2:]
    kh, kw = kernel.shape[-2:]
    # Size h x w suffices: circular wrap-around only reaches the rows / cols the valid part drops.
    spec = torch.fft.rfft2(search, s=(h, w)) * torch.fft.rfft2(kernel.flip(-2, -1), s=(h, w))
    return torch.fft.irfft2(spec.sum(1, keepdim=True), s=(h, w))[..., kh - 1 :, kw - 1 :]


# MobileNetV2-1.0 tap and width of the adjust conv of Siamark's SiamFC variant.
MOBILE_LAYER = 5
MOBILE_CHANNELS = 128
# Initial logit of a perfect (unit-variance) self-match, ~0 elsewhere.
ADJUST_INIT = 5.0


class SiamFCMobileV2(SiamFCNet):
    """Siamark's SiamFC on the ImageNet MobileNetV2-1.0 (no official counterpart), for training.

    backbone: ``mobilenet_v2_imagenet`` up to ``layer5`` (ImageNet features.11-13, 96 ch; stride
    8 through dilation, so 127 -> 15x15 and 255 -> 31x31, centred on the crop). The stride-16
    ``features.13`` tap tracked best untrained in the CPU experiment (training-notes); here it is
    kept at stride 8 so SiamFC's response geometry holds unchanged: the whole 15x15 template map
    is the kernel (as SiamFC's 6x6 AlexNet map covers the whole exemplar), so a 255 search gives
    the 17x17 response at total stride 8 and the tracker's config needs no change.
    neck: 1x1 conv + BN to 128 ch (``neck.downsample.{0,1}``; no template crop).
    head: full-channel xcorr divided by the template's element count (C x 15 x 15: a mean, so a
    unit-variance feature's self-match is ~1 whatever C), then ``adjust`` = a learnable scale and
    bias (the original SiamFC's "adjust" layer; siamfc-pytorch fixes 0.001 on the raw sum). On the
    raw sum a learnable scale gets gradients ~1e4 times its size and training diverges. Inputs as
    the SiamFC tracker feeds them: RGB 0..255, unnormalised.
    """

    def __init__(self) -> None:
        nn.Module.__init__(self)
        self.backbone = mobilenet_v2_imagenet(used_layers=(MOBILE_LAYER,))
        # center_size = the full 15x15 template map: nothing is cropped.
        self.neck = AdjustLayer(self.backbone.out_channels[0], MOBILE_CHANNELS, center_size=15)
        self.adjust = nn.Conv2d(1, 1, kernel_size=1)
        nn.init.constant_(self.adjust.weight, ADJUST_INIT)
        nn.init.zeros_(self.adjust.bias)
        self.kernel = None

    def embed(self, img: torch.Tensor) -> torch.Tensor:
        return self.neck(self.backbone(img))

    def head(self, kernel: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        paired = self.training and kernel.shape[0] == search.shape[0]
        xc = correlate_fft(kernel, search) if paired else correlate(kernel, search)
        return self.adjust(xc / kernel[0].numel())


def build_siamfc_alexnetv1() -> SiamFCNet:
    return SiamFCNet(out_scale=OUT_SCALE)


def build_siamfc_mobilev2() -> SiamFCMobileV2:
    return SiamFCMobileV2().eval()


# Fixture stem -> zero-argument factory (official layouts only: each has an official key list).
SIAMFC_ARCHITECTURES = {"siamfc_pytorch__alexnetv1": build_siamfc_alexnetv1}
# Siamark's own layouts (no official counterpart, hence no fixture).
SIAMARK_SIAMFC_ARCHITECTURES = {"siamark__siamfc_mobilev2": build_siamfc_mobilev2}
