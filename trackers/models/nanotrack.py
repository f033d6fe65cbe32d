"""NanoTrack v1 / v2 / v3 networks (HonglinChu/SiamTrackers, NanoTrack folder).

Architecture (checked: strict load of the official .pth files, outputs equal to the official
ONNX exports in cv2.dnn to ~1e-6 relative, see tests/test_models_nanotrack.py):

* backbone: MobileNetV3-Small trunk, output stride 16 (trackers/models/mobilenet_v3.py).
  127 crop -> 8x8 template map, 255 crop -> 16x16 search map; 48 channels (v1/v2), 96 (v3).
  The template map is NOT cropped for the pixel-wise correlation (all 8x8 = 64 positions
  are kernels); only v3's depthwise branch uses its centre 4x4 (rows/cols 2..5).
* neck: ``neck.downsample`` is in every checkpoint but never applied (see NanoTrackNeck).
* head: v1 one pixel-wise corr + channel attention -> cls / reg towers; v2 separate cls / reg
  pixel-wise corrs with 1x1 adapters; v3 pixel-wise (+2x2 conv) and depthwise (4x4 kernel,
  pad 1) corrs concatenated -> ``down_cls`` / ``down_reg``. S = 16 (v1/v2), 15 (v3).
* outputs: ``cls`` (B,2,S,S) raw logits; score = softmax over the 2 channels, channel 1 =
  target. ``loc`` (B,4,S,S) = exp(.) already applied = (l, t, r, b) distances, in 255-crop
  pixels, from each grid point to the box edges.

Inference facts
---------------
Input: NCHW float32 raw pixels 0..255, no mean/std normalisation (the ONNX graphs start
with a Conv). Colour order differs between the two reference trackers:
the official Python NanoTracker feeds cv2 BGR crops unchanged (trained on BGR); OpenCV's
TrackerNano uses ``blobFromImage(crop, 1.0, swapRB=true)``, i.e. RGB.

OpenCV TrackerNano (opencv modules/video/src/tracking/tracker_nano.cpp). Reproduced in
Python with this module's torch net against cv2.TrackerNano of opencv 5.0.0 on vot_bag
and otb_crossing (v1, v2): identical boxes on every frame but one (1 px), getTrackingScore
within 3e-6. Every quirk below was needed for that (swapRB=False or the "fixed" scale
penalty change the boxes on ~100 of 120 frames). All arithmetic is float32.

* constants: exemplar 127, instance 255, stride 16, score size (255-127)//16 + 8 = 16
  (hard-coded, which is why v3's 15x15 head fails there), context 0.5,
  window_influence 0.455, lr 0.37, penalty_k 0.055 (not the yaml values).
* init(img, Rect x,y,w,h ints): pos = (x + 0.5w, y + 0.5h), size = (w, h);
  s_z = int(sqrt((w + 0.5(w+h)) * (h + 0.5(w+h)))) (truncated); template = crop(s_z -> 127).
* crop(orig, out): avg = cv::mean of the *current* whole frame per channel; c = (orig+1)//2;
  xmin = int(pos.x) - c, ymin = int(pos.y) - c (truncation), xmax = xmin + orig - 1; pad
  with copyMakeBorder(BORDER_CONSTANT, avg), take the orig x orig window, cv::resize
  (INTER_LINEAR) to out x out.
* update: sum = int(w + h) (truncated); wc = w + 0.5 sum, hc = h + 0.5 sum; s_z = sqrt(wc hc);
  scale_z = 127 / s_z; s_x = s_z * (255/127 in C++ integer division = 2); search =
  crop(int(s_x) -> 255); tw, th = w scale_z, h scale_z.
* grid (crop pixels): gx[i, j] = (j - 8) * 16 + 127, gy[i, j] = (i - 8) * 16 + 127.
* x1 = gx - l, y1 = gy - t, x2 = gx + r, y2 = gy + b; score = softmax(cls)[1].
* sc = S(x2-x1, y2-y1) / S(pos.x, pos.y) with S(a, b) = sqrt((a+p)(b+p)), p = (a+b)/2.
  NB OpenCV divides by S of the target *position*, not of (tw, th) as the Python tracker
  does; reproduce it to match cv2. sc = max(sc, 1/sc).
  rc = (tw/th) / ((x2-x1)/(y2-y1)), rc = max(rc, 1/rc); penalty = exp(-(rc sc - 1) penalty_k).
* pscore = penalty score (1 - wi) + hann wi, hann = cv::createHanningWindow(16x16) =
  sqrt(outer(np.hanning(16), np.hanning(16))) (note the sqrt; pysot uses no sqrt).
* best = first argmax (row-major); getTrackingScore() = pscore[best].
* cx = (x1+x2)/2, cy = (y1+y2)/2 at best; pred w = (x2-x1)/scale_z, h likewise;
  pos += ((cx - 127)/scale_z, (cy - 127)/scale_z); lr = penalty[best] score[best] 0.37;
  size = pred lr + (1 - lr) size.
* clip: pos.x in [0, W], pos.y in [0, H], w in [10, W], h in [10, H]; state stays float;
  returned Rect = (int(pos.x - w/2), int(pos.y - h/2), int(w), int(h)) (truncation).

Official Python NanoTracker (nanotrack/tracker/nano_tracker.py, pysot style), for reference:
BGR; channel average of the init frame only; centre = x + (w-1)/2; template size
round(s_z), search round(s_z * 255/127); pysot get_subwindow (xmin = floor(pos - (sz+1)/2
+ 0.5)); points (j - S//2) * 16 relative to the crop centre; window outer(hanning, hanning);
scale penalty S(pred) / S(tw, th); same lr update and clipping; yaml hyper-parameters are
the presets of trackers/nanotrack.py (score size 16 for v1/v2, 15 for v3).
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from trackers.models.mobilenet_v3 import MobileNetV3, mobilenetv3_small_nanotrack
from trackers.ops.xcorr import xcorr_depthwise

NANOTRACK_VERSIONS = (1, 2, 3)

# The pixel-wise correlation has one output channel per template position: 8x8 = 64.
TEMPLATE_POSITIONS = 64


def xcorr_pixelwise(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Pixel-wise correlation: every template position is a 1x1 kernel over the search map.

    (B,C,H,W) x (B,C,h,w) -> (B, h*w, H, W); output channel ``i*w + j`` is template pixel (i, j).
    """
    b, c, h, w = search.shape
    k = kernel.reshape(b, c, -1).transpose(1, 2)
    return torch.matmul(k, search.reshape(b, c, -1)).reshape(b, -1, h, w)


class CAModule(nn.Module):
    """Channel attention over the correlation channels (squeeze, 1x1 convs, sigmoid gate)."""

    def __init__(self, channels: int = TEMPLATE_POSITIONS) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels, 1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.mean(dim=(2, 3), keepdim=True)
        return x * torch.sigmoid(self.fc2(self.relu(self.fc1(y))))


def _pw_bn(channels: int) -> nn.Sequential:
    # 1x1 conv (with bias) + BN: the template / search adapters of the v2 and v3 correlations.
    return nn.Sequential(nn.Conv2d(channels, channels, 1), nn.BatchNorm2d(channels))


class PixelwiseCorr(nn.Module):
    """``corr_pw*``: optional 1x1 adapters, pixel-wise xcorr, channel attention, optional 2x2 conv.

    v1: attention only. v2: adds ``conv_kernel`` / ``conv_search``. v3: also ``conv`` (2x2
    depthwise, no padding, so 16x16 -> 15x15, then 1x1) to align with the depthwise branch.
    """

    def __init__(self, in_channels: int, adapters: bool, post_conv: bool) -> None:
        super().__init__()
        self.CA_layer = CAModule(TEMPLATE_POSITIONS)
        if adapters:
            self.conv_kernel = _pw_bn(in_channels)
            self.conv_search = _pw_bn(in_channels)
        else:
            self.conv_kernel = self.conv_search = None
        if post_conv:
            c = TEMPLATE_POSITIONS
            self.conv = nn.Sequential(
                nn.Conv2d(c, c, 2, groups=c, bias=False),
                nn.BatchNorm2d(c),
                nn.ReLU6(inplace=True),
                nn.Conv2d(c, c, 1),
                nn.BatchNorm2d(c),
            )
        else:
            self.conv = None

    def forward(self, kernel: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        if self.conv_kernel is not None:
            kernel = self.conv_kernel(kernel)
            search = self.conv_search(search)
        out = self.CA_layer(xcorr_pixelwise(search, kernel))
        return self.conv(out) if self.conv is not None else out


class DepthwiseCorrV3(nn.Module):
    """``corr_dw*`` of v3: 1x1 adapters, then depthwise xcorr with a 4x4 kernel and padding 1."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv_kernel = _pw_bn(channels)
        self.conv_search = _pw_bn(channels)

    def forward(self, kernel: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        kernel = self.conv_kernel(kernel)
        search = F.pad(self.conv_search(search), (1, 1, 1, 1))  # == conv2d(padding=1): 16x16 -> 15x15
        return xcorr_depthwise(search, kernel)


def _sep_tower(specs: list[tuple[int, int, int]]) -> nn.Sequential:
    """v1/v2 tower: per layer [dw kxk, pw 1x1, BN, ReLU6] (no BN between dw and pw)."""
    layers: list[nn.Module] = []
    for cin, cout, k in specs:
        layers += [
            nn.Conv2d(cin, cin, k, 1, k // 2, groups=cin, bias=False),
            nn.Conv2d(cin, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU6(inplace=True),
        ]
    return nn.Sequential(*layers)


def _sep_tower_v3(channels: int, depth: int) -> nn.Sequential:
    """v3 tower: per layer [dw 3x3, BN, ReLU6, pw 1x1, BN] (linear bottleneck, no act after pw)."""
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [
            nn.Conv2d(channels, channels, 3, 1, 1, groups=channels, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU6(inplace=True),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels),
        ]
    return nn.Sequential(*layers)


class BANHeadV1(nn.Module):
    """One shared pixel-wise correlation feeds both towers. Outputs (cls logits, exp(reg))."""

    def __init__(self) -> None:
        super().__init__()
        self.corr_pw = PixelwiseCorr(48, adapters=False, post_conv=False)
        self.cls_tower = _sep_tower([(64, 128, 5), (128, 128, 5), (128, 128, 3)])
        self.bbox_tower = _sep_tower([(64, 96, 3), (96, 96, 3), (96, 96, 5), (96, 96, 5)])
        self.cls_logits = nn.Sequential(nn.Conv2d(128, 2, 1))
        self.bbox_pred = nn.Sequential(nn.Conv2d(96, 4, 1))

    def forward(self, zf: torch.Tensor, xf: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        corr = self.corr_pw(zf, xf)
        cls = self.cls_logits(self.cls_tower(corr))
        loc = torch.exp(self.bbox_pred(self.bbox_tower(corr)))
        return cls, loc


class BANHeadV2(nn.Module):
    """Separate cls / reg pixel-wise correlations (with 1x1 adapters), 6-layer towers."""

    def __init__(self) -> None:
        super().__init__()
        self.corr_pw_reg = PixelwiseCorr(48, adapters=True, post_conv=False)
        self.corr_pw_cls = PixelwiseCorr(48, adapters=True, post_conv=False)
        specs = [(64, 96, 3)] + [(96, 96, 3)] * 5
        self.cls_pw_tower = _sep_tower(specs)
        self.bbox_pw_tower = _sep_tower(specs)
        self.cls_pred = nn.Sequential(nn.Conv2d(96, 2, 1))
        self.bbox_pred = nn.Sequential(nn.Conv2d(96, 4, 1))

    def forward(self, zf: torch.Tensor, xf: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cls = self.cls_pred(self.cls_pw_tower(self.corr_pw_cls(zf, xf)))
        loc = torch.exp(self.bbox_pred(self.bbox_pw_tower(self.corr_pw_reg(zf, xf))))
        return cls, loc


class BANHeadV3(nn.Module):
    """Pixel-wise (64 ch) + depthwise (96 ch) correlations concatenated, 1x1 down to 96.

    The depthwise branch uses only the centre 4x4 of the 8x8 template map (rows/cols 2..5);
    both branches yield 15x15, hence v3's 15x15 score map.
    """

    def __init__(self, channels: int = 96) -> None:
        super().__init__()
        self.corr_dw_reg = DepthwiseCorrV3(channels)
        self.corr_pw_reg = PixelwiseCorr(channels, adapters=True, post_conv=True)
        self.corr_dw_cls = DepthwiseCorrV3(channels)
        self.corr_pw_cls = PixelwiseCorr(channels, adapters=True, post_conv=True)
        self.cls_tower = _sep_tower_v3(channels, 6)
        self.bbox_tower = _sep_tower_v3(channels, 6)
        self.cls_logits = nn.Sequential(nn.Conv2d(channels, 2, 1))
        self.bbox_pred = nn.Sequential(nn.Conv2d(channels, 4, 1))
        self.down_reg = nn.Sequential(nn.Conv2d(channels + TEMPLATE_POSITIONS, channels, 1))
        self.down_cls = nn.Sequential(nn.Conv2d(channels + TEMPLATE_POSITIONS, channels, 1))

    @staticmethod
    def crop_template(zf: torch.Tensor) -> torch.Tensor:
        return zf[:, :, 2:6, 2:6] if zf.shape[3] > 4 else zf

    def forward(self, zf: torch.Tensor, xf: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        zc = self.crop_template(zf)
        x_reg = self.down_reg(torch.cat((self.corr_pw_reg(zf, xf), self.corr_dw_reg(zc, xf)), 1))
        x_cls = self.down_cls(torch.cat((self.corr_pw_cls(zf, xf), self.corr_dw_cls(zc, xf)), 1))
        cls = self.cls_logits(self.cls_tower(x_cls))
        loc = torch.exp(self.bbox_pred(self.bbox_tower(x_reg)))
        return cls, loc


class NanoTrackNeck(nn.Module):
    """``neck.downsample`` (1x1 conv + BN), present in every checkpoint but never applied.

    The official ModelBuilder.template/track call backbone -> ban_head directly, and the
    official ONNX head takes the raw 48/96-channel backbone maps (v1/v2's neck is even 64->64,
    so it could not take the 48-channel features). Kept only so checkpoints load strictly.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.downsample = nn.Sequential(
            nn.Conv2d(channels, channels, 1, bias=False), nn.BatchNorm2d(channels)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - documented no-op
        raise RuntimeError("NanoTrack's neck is not part of its inference graph")


# Per version: head class, neck width, score-map size for 255 / 127 crops, default tracker
# hyper-parameters of the official config yaml (the OpenCV tracker uses its own; see docstring).
# Per version: backbone output channels, the (unused) neck's channels, score-map size.
NANOTRACK_VARIANTS: dict[int, dict[str, int]] = {
    1: {"feature_channels": 48, "neck_channels": 64, "score_size": 16},
    2: {"feature_channels": 48, "neck_channels": 64, "score_size": 16},
    3: {"feature_channels": 96, "neck_channels": 96, "score_size": 15},
}
_HEADS = {1: BANHeadV1, 2: BANHeadV2, 3: BANHeadV3}


class NanoTrackNet(nn.Module):
    """backbone / neck / ban_head named as in the official checkpoints.

    ``template(z)`` caches the template features (z: (B,3,127,127) float, raw 0..255 pixels);
    ``track(x)`` (x: (B,3,255,255)) returns ``{"cls": (B,2,S,S) logits, "loc": (B,4,S,S)}`` where
    loc is the already-exponentiated (l, t, r, b) distance in search-crop pixels. A single cached
    template is broadcast over a batch of searches; otherwise batch sizes must match.
    """

    def __init__(self, version: int | str = 1) -> None:
        super().__init__()
        if isinstance(version, str):
            version = int(version.removeprefix("nanotrack_v"))
        if version not in NANOTRACK_VERSIONS:
            raise ValueError(f"unknown NanoTrack version {version!r}")
        arch = NANOTRACK_VARIANTS[version]
        self.version = version
        self.score_size = arch["score_size"]
        self.backbone: MobileNetV3 = mobilenetv3_small_nanotrack(version)
        self.neck = NanoTrackNeck(arch["neck_channels"])
        self.ban_head = _HEADS[version]()
        self.zf: torch.Tensor | None = None

    def template(self, z: torch.Tensor) -> torch.Tensor:
        self.zf = self.backbone(z)
        return self.zf

    def head(self, zf: torch.Tensor, xf: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if zf.shape[0] == 1 and xf.shape[0] > 1:
            zf = zf.expand(xf.shape[0], -1, -1, -1)
        return self.ban_head(zf, xf)

    def track(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.zf is None:
            raise RuntimeError("call template() before track()")
        cls, loc = self.head(self.zf, self.backbone(x))
        return {"cls": cls, "loc": loc}

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Stateless pass (training / export): template and search crops -> (cls, loc)."""
        return self.head(self.backbone(z), self.backbone(x))


def build_nanotrack(version: int | str = 1) -> NanoTrackNet:
    """NanoTrackNet in eval mode (load weights with trackers.checkpoints)."""
    return NanoTrackNet(version).eval()


NANOTRACK_ARCHITECTURES = {f"nanotrack_v{v}": partial(build_nanotrack, v) for v in NANOTRACK_VERSIONS}
