"""SiamCross (Huang, Feng, Qiang, Pei, Luo: "SiamCross: Siamese Cross Object-Aware Networks for
Visual Object Tracking"), re-implemented from the paper alone (tracker-specs §13; no public code
or weights exist).

Network, inference view (names are the module attributes)::

    z (B,3,127,127) --backbone--> neck: 1x1 conv+BN -> 256, centre 7x7 crop --> zf (B,256,7,7)
    x (B,3,255,255) --backbone--> neck: 1x1 conv+BN -> 256 ----------------> xf (B,256,31,31)
    scan (SCAN / cross-aware module):
        lut:   xf' = xf + alpha * softmax(xf^T zf) V      V = ellipse mask of the init box on
                                                          the 7x7 template grid
        cross: zf' = zf + beta * softmax(xf xf^T) zf      (channel affinity from the search)
    oain (OAIN):
        F_cls = cls.correlate(zf', xf'), F_reg = reg.correlate(zf', xf')   (depthwise xcorr,
                                                          25x25, separate kernels per branch)
        PCA:  F_cls^C = channel_attention(F_cls)
              S_i = sigmoid_i(SLP_i(avgpool_c(F_reg) + maxpool_c(F_reg))) * F_cls^C, i = 1..4
              F_reg^S = sum_i gamma_i S_i,  gamma = (1, 1, 1, 0.05)
        A_cls   = cls.head(F_cls^C)                              -> "cls"   (B,1,25,25) logits
        A_reg   = exp(loc_adjust * reg.head(F_reg^S) + loc_bias) -> "loc"   (B,4,25,25) l,t,r,b
        A_align = ADCA(F_reg^S, A_reg)                           -> "align" (B,1,25,25) logits
    tracker score = ((1 - omega) * sigmoid(A_cls) + sigmoid(A_align)) / (2 - omega)

Design choices the paper leaves open (each is also commented where the code makes it):

1. Backbone taps: only the last stage (pysot atrous ResNet-50 ``layer4``, dilation 4, 2048 ch),
   reduced to 256 by the neck's 1x1 conv + BN. The paper describes one output ("the last
   output") after stage 5 and a single 1x1 reduction; the author note says the last stage was
   enabled on top of Ocean (which stops at layer3). Stage 4 stays only as a step to stage 5.
   Cost (trackers/flops.py, one 255 search frame): 46.6 GMACs = 93.3 GFLOPs, against the
   paper's "31.4 G" (and its 49.2 G for SiamRPN++, whose search frame counts 48.8 GMACs here).
   pysot's 3x3 stage-5 shortcut alone is 18.1 GMACs: with a 1x1 shortcut the total would be
   30.5 GMACs; a layer3-only trunk (Ocean's) gives 15.9 GMACs = 31.8 GFLOPs. Either may be
   what the paper measured. The pysot trunk is kept: it is what Ocean (SiamCross's base)
   builds, so SiamRPN++ / SiamBAN / Ocean backbone weights fit it.
2. The template map is centre-cropped 15x15 -> 7x7 after the neck (pysot/Ocean practice, not in
   the paper): keeps the 25x25 score map of the 127/255 geometry.
3. Multi-level backbones (e.g. MobileNetV2 taps 3/5/7): each level gets its own 1x1 conv + BN to
   256 and the levels are summed with softmax-normalised learnable weights (``fuse.weight``)
   *before* SCAN, so one SCAN + OAIN serves all levels. Single-level backbones have no
   ``fuse`` module (and no keys for it).
4. LUT (SCAN search side): no embedding convs and no 1/sqrt(C) temperature (eq. 3 has none);
   the keys are the 7x7 template features the correlation uses; softmax over template
   positions; values V = 1 at template cells whose centres fall inside the ellipse inscribed in
   the init box (cell i of the 7x7 grid is at (i - 3) * 8 px from the 127-crop centre).
5. Cross attention (SCAN template side): eq. 6 as printed, softmax(f(x)~ f(z)~) with both
   C x N, does not type-check. The text says the map is learnt "from the search features
   rather than the target itself" (SiamAttn's cross attention), so A' = softmax(X X^T) is a
   C x C channel affinity of the search features (row softmax) and the output is
   f(z) + beta * A' f(z), which keeps the template's C x 7 x 7 shape.
6. SCAN's two attentions run in parallel on the un-attended features (Alg. 1 line 6 updates
   both at once), and the template side is recomputed every frame (it depends on x).
7. alpha and beta are learnable scalars initialised to 0 (DANet / SiamAttn practice: the
   attended features start as the plain features and training grows the attention).
8. Correlation branches reuse pysot's DepthwiseXCorr (3x3 conv+BN+ReLU on each side, depthwise
   xcorr, 1x1 conv+BN+ReLU + 1x1 conv head), hidden 256: the paper only says "depth-wise
   correlation, SiamRPN++ style" and gives no head structure. PCA sits between the
   correlation and the head.
9. CBAM channel attention: shared MLP as 1x1 convs with bias (CBAM's nn.Linear), ReLU hidden
   layer of C/16 = 16 channels.
10. SLPs: one 7x7 conv (padding 3) with bias each, packed as the 4 output channels of one
    conv (identical maths, one call). gamma is a fixed buffer, not learnt ("simply set").
    Eq. 9 as written multiplies every S_i with F_cls^C, so the reg head sees the regression
    features only through the spatial maps; implemented literally, via the equivalent
    (sum_i gamma_i sigma_i) * F_cls^C.
11. Regression output positive through Ocean's exp(adjust * x + bias), ``loc_adjust`` init 0.1,
    ``loc_bias`` (1,4,1,1) init 1.0: never zero (a ReLU could give zero-size boxes, which the
    ratio penalty divides by) and tamer than SiamBAN's plain exp for an untrained network.
12. ADCA input is F_reg^S (Alg. 2 line 5). Its 3x3 deformable conv (no bias, padding 1) +
    ReLU + 1x1 conv -> 1 is Ocean's AlignHead. Offsets (tracker-specs §13.2): centre offset =
    predicted box centre - cell, in cells = ((r - l) / 2, (b - t) / 2) / 8, exact (Ocean's
    version carries a 1/16-cell bias from mixing 255/2 and 255//2); shape offset = tap
    t in {-1, 0, 1} times ((x2 - x1 + 1) / 8) / 2 - 1, Ocean's formula with its +1, so the
    outer taps land on the box edges (+ half a pixel). Offsets are computed from the detached
    box: ADCA is "trained as an independent branch" and must not steer the regression.
13. Score fusion: eq. in Alg. 2, (1 - omega) A_cls + A_align with both terms sigmoid
    probabilities, lies in (0, 2 - omega); dividing by 2 - omega maps it onto [0, 1] without
    changing the ranking. omega's default lives in the tracker config (trackers/siamcross.py).

Tracker-side choices (made and commented in trackers/siamcross.py):

14. omega = 0 by default: the written formula gives A_cls at most an equal share, and Ocean's
    tuned blend favours the plain classification (0.93 / 0.07), so equal shares come closest.
15. Post-processing is pysot/SiamBAN's PointTracker loop (one size-smoothing rate, fixed 255
    search), not Ocean's double-lr / 271-search variant; defaults are SiamBAN's VOT2018 values,
    presets ``vot2019`` / ``otb`` SiamBAN's (no values are published for SiamCross).
16. The LUT mask is computed from the init box as it lies in the template crop (state size
    times 127 / round(s_z)), once, at init; the template is never updated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from trackers.models.deform_conv import DeformConv2d
from trackers.models.heads import DepthwiseXCorr
from trackers.models.mobilenet_v2 import mobilenet_v2_imagenet
from trackers.models.neck import AdjustAllLayer
from trackers.models.resnet_atrous import resnet50

HIDDEN = 256  # the paper's 1x1 reduction width
TEMPLATE_GRID = 7  # template map side after the neck's centre crop
STRIDE = 8  # feature stride of the atrous backbones (pixels per cell, search and template)
GAMMA = (1.0, 1.0, 1.0, 0.05)  # SLP weights, paper §3.3
CHANNEL_REDUCTION = 16  # CBAM reduction r, paper eq. 8


# --------------------------------------------------------------------------------------------
# SCAN
# --------------------------------------------------------------------------------------------
def ellipse_mask(target_wh: torch.Tensor, grid: int = TEMPLATE_GRID, stride: float = STRIDE) -> torch.Tensor:
    """LUT values V: (B, 1, grid, grid) binary mask of the template cells inside the target ellipse.

    ``target_wh`` (B, 2): target width and height in template-crop pixels (the target is
    centred in the crop). Cell i lies (i - (grid - 1) / 2) * stride px from the crop centre:
    the 127-crop centre is pixel 63, the centre of 15x15 cell 7 and so of 7x7 cell 3.
    The ellipse is the one inscribed in the box, half-axes (w/2, h/2) (paper §3.2, after SiamBAN).
    """
    target_wh = torch.as_tensor(target_wh, dtype=torch.float32).reshape(-1, 2)
    d = (torch.arange(grid, dtype=torch.float32, device=target_wh.device) - (grid - 1) / 2) * stride
    half_w = (target_wh[:, 0] / 2).clamp_min(1e-6).view(-1, 1, 1)
    half_h = (target_wh[:, 1] / 2).clamp_min(1e-6).view(-1, 1, 1)
    inside = (d.view(1, 1, -1) / half_w) ** 2 + (d.view(1, -1, 1) / half_h) ** 2 <= 1.0
    return inside.to(torch.float32).unsqueeze(1)


class LUTAttention(nn.Module):
    """SCAN search side (paper eq. 3-5): look up the template mask through feature similarity.

    A = softmax over template positions of f(x)^T f(z) (Nx x Nz), M = A V (Nx x 1),
    output f(x) + alpha * M broadcast over channels.
    """

    def __init__(self) -> None:
        super().__init__()
        # Starts at 0 so an untrained attention leaves the features unchanged (design choice 7).
        self.alpha = nn.Parameter(torch.zeros(1))

    def forward(self, xf: torch.Tensor, zf: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, _, h, w = xf.shape
        # No embedding and no 1/sqrt(C) temperature: eq. 3 has none (design choice 4).
        affinity = torch.bmm(xf.flatten(2).transpose(1, 2), zf.flatten(2))  # (B, Nx, Nz)
        attn = torch.softmax(affinity, dim=-1)
        values = mask.reshape(b, -1, 1).to(xf.dtype)  # (B, Nz, 1)
        m = torch.bmm(attn, values).transpose(1, 2).reshape(b, 1, h, w)
        return xf + self.alpha * m


class CrossAttention(nn.Module):
    """SCAN template side (paper eq. 6-7): template channels re-mixed by the search's channel
    affinity, A' = softmax(X X^T) (C x C), output f(z) + beta * A' f(z) (design choice 5)."""

    def __init__(self) -> None:
        super().__init__()
        self.beta = nn.Parameter(torch.zeros(1))  # design choice 7

    def forward(self, zf: torch.Tensor, xf: torch.Tensor) -> torch.Tensor:
        x = xf.flatten(2)  # (B, C, Nx)
        attn = torch.softmax(torch.bmm(x, x.transpose(1, 2)), dim=-1)  # (B, C, C)
        return zf + self.beta * torch.bmm(attn, zf.flatten(2)).reshape_as(zf)


class SCAN(nn.Module):
    """Cross-aware module: both attentions from the un-attended pair (design choice 6)."""

    def __init__(self) -> None:
        super().__init__()
        self.lut = LUTAttention()
        self.cross = CrossAttention()

    def forward(
        self, zf: torch.Tensor, xf: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cross(zf, xf), self.lut(xf, zf, mask)


# --------------------------------------------------------------------------------------------
# OAIN
# --------------------------------------------------------------------------------------------
class ChannelAttention(nn.Module):
    """CBAM channel attention (paper eq. 8): sigmoid(MLP(avg) + MLP(max)) * F, shared MLP."""

    def __init__(self, channels: int = HIDDEN, reduction: int = CHANNEL_REDUCTION) -> None:
        super().__init__()
        hidden = max(channels // reduction, 1)
        # 1x1 convs with bias = CBAM's Linear layers on the pooled vectors (design choice 9).
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1), nn.ReLU(inplace=True), nn.Conv2d(hidden, channels, 1)
        )

    def weights(self, f: torch.Tensor) -> torch.Tensor:
        """(B, C, 1, 1) channel weights in (0, 1)."""
        avg = F.adaptive_avg_pool2d(f, 1)
        mx = F.adaptive_max_pool2d(f, 1)
        return torch.sigmoid(self.mlp(avg) + self.mlp(mx))

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return self.weights(f) * f


class ParallelSpatialAttention(nn.Module):
    """PCA spatial part (paper eq. 9): four SLP heads on avg+max channel pooling of F_reg.

    ``slp`` is one Conv2d(1, 4, 7, padding=3): output channel i is SLP_i, with its own 7x7
    kernel and bias — the same maths as four separate convs, in one call (design choice 10).
    """

    def __init__(self, heads: int = len(GAMMA), gamma: Sequence[float] = GAMMA) -> None:
        super().__init__()
        if len(gamma) != heads:
            raise ValueError(f"need one gamma per SLP head: {heads} heads, {len(gamma)} gammas")
        self.slp = nn.Conv2d(1, heads, kernel_size=7, padding=3)
        # Fixed by the paper, not learnt: a non-persistent buffer follows .to() but stays out of
        # checkpoints.
        self.register_buffer("gamma", torch.tensor(list(gamma), dtype=torch.float32), persistent=False)

    def maps(self, f_reg: torch.Tensor) -> torch.Tensor:
        """(B, heads, H, W): sigma_i(SLP_i(avgpool_c(F_reg) + maxpool_c(F_reg)))."""
        desc = f_reg.mean(dim=1, keepdim=True) + f_reg.amax(dim=1, keepdim=True)
        return torch.sigmoid(self.slp(desc))

    def forward(self, f_reg: torch.Tensor, f_cls_c: torch.Tensor) -> torch.Tensor:
        # sum_i gamma_i (S_i * F_cls^C) == (sum_i gamma_i S_i) * F_cls^C: one multiply of the
        # 256-channel map instead of four.
        weight = (self.maps(f_reg) * self.gamma.view(1, -1, 1, 1).to(f_reg.dtype)).sum(1, keepdim=True)
        return weight * f_cls_c


def adca_offsets(ltrb: torch.Tensor, stride: float = STRIDE, kernel_size: int = 3) -> torch.Tensor:
    """Deformable-conv offsets that spread a k x k kernel over the box predicted at each cell.

    ``ltrb`` (B, 4, H, W): distances (l, t, r, b) in input pixels from each cell's point to the
    box edges. Returns (B, 2*k*k, H, W) in the deform_conv2d layout ((dy, dx) per tap, taps
    row-major), for a conv with padding (k-1)//2 and dilation 1 (tracker-specs §13.2):
    tap (ty, tx) in {-1, 0, 1}^2 samples cell + centre offset + (t + t * (size / (k-1) - 1)),
    with size = (extent + 1) / stride in cells, i.e. the box centre plus t * size / 2.
    """
    if kernel_size < 2:
        raise ValueError("kernel_size must be at least 2 to span a box")
    left, top, right, bottom = ltrb.unbind(dim=1)
    # Centre offset, exact (design choice 12): the box centre is at px + (r - l)/2.
    cx = (right - left) / (2 * stride)
    cy = (bottom - top) / (2 * stride)
    # Shape offset: Ocean / Cascade RPN, with Ocean's (x2 - x1 + 1) pixel-inclusive width.
    sx = (left + right + 1) / stride / (kernel_size - 1) - 1
    sy = (top + bottom + 1) / stride / (kernel_size - 1) - 1
    pad = (kernel_size - 1) // 2
    idx = torch.arange(-pad, kernel_size - pad, dtype=ltrb.dtype, device=ltrb.device)
    ty, tx = torch.meshgrid(idx, idx, indexing="ij")
    ty = ty.reshape(1, -1, 1, 1)
    tx = tx.reshape(1, -1, 1, 1)
    off_y = cy.unsqueeze(1) + sy.unsqueeze(1) * ty  # (B, K, H, W)
    off_x = cx.unsqueeze(1) + sx.unsqueeze(1) * tx
    b, k, h, w = off_y.shape
    return torch.stack([off_y, off_x], dim=2).reshape(b, 2 * k, h, w)


class ADCA(nn.Module):
    """Adaptive deformable cross-align: box-shaped deformable 3x3 conv, ReLU, 1x1 -> 1 logit
    (Ocean's AlignHead; design choice 12)."""

    def __init__(self, channels: int = HIDDEN, stride: float = STRIDE) -> None:
        super().__init__()
        self.stride = stride
        self.conv = DeformConv2d(channels, channels, 3, padding=1, bias=False)
        self.cls = nn.Conv2d(channels, 1, kernel_size=1)

    def forward(self, feat: torch.Tensor, ltrb: torch.Tensor) -> torch.Tensor:
        # Detached: the align loss trains this branch only (design choice 12).
        offset = adca_offsets(ltrb.detach(), self.stride, 3)
        return self.cls(F.relu(self.conv(feat, offset)))


class OAIN(nn.Module):
    """Object-attention interaction network: per-branch depthwise correlation, PCA, heads, ADCA."""

    def __init__(self, channels: int = HIDDEN, stride: float = STRIDE) -> None:
        super().__init__()
        self.cls = DepthwiseXCorr(channels, channels, 1)  # design choice 8
        self.reg = DepthwiseXCorr(channels, channels, 4)
        self.channel_attention = ChannelAttention(channels)
        self.spatial_attention = ParallelSpatialAttention()
        # Ocean's positive regression, exp(adjust * x + bias) (design choice 11).
        self.loc_adjust = nn.Parameter(torch.full((1,), 0.1))
        self.loc_bias = nn.Parameter(torch.ones(1, 4, 1, 1))
        self.align = ADCA(channels, stride)

    def forward(self, zf: torch.Tensor, xf: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.outputs(self.cls.correlate(zf, xf), self.reg.correlate(zf, xf))

    def outputs(self, f_cls: torch.Tensor, f_reg: torch.Tensor) -> dict[str, torch.Tensor]:
        """Everything after the two depthwise correlations."""
        f_cls_c = self.channel_attention(f_cls)
        f_reg_s = self.spatial_attention(f_reg, f_cls_c)
        cls = self.cls.head(f_cls_c)
        loc = torch.exp(self.loc_adjust * self.reg.head(f_reg_s) + self.loc_bias)
        align = self.align(f_reg_s, loc)
        return {"cls": cls, "loc": loc, "align": align}


def fuse_scores(cls_prob, align_prob, omega: float):
    """Tracker score from the two sigmoid maps (numpy or torch): the paper's
    (1 - omega) A_cls + A_align, divided by its maximum 2 - omega so it lies in [0, 1]
    (design choice 13)."""
    if not 0.0 <= omega <= 1.0:
        raise ValueError(f"omega must be in [0, 1], got {omega}")
    return ((1.0 - omega) * cls_prob + align_prob) / (2.0 - omega)


# --------------------------------------------------------------------------------------------
# Whole network
# --------------------------------------------------------------------------------------------
class LevelFusion(nn.Module):
    """Softmax-weighted sum of same-shape per-level features (design choice 3)."""

    def __init__(self, levels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(levels))

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        w = torch.softmax(self.weight, 0)
        return sum(f * w[i] for i, f in enumerate(features))


class SiamCross(nn.Module):
    """Inputs: NCHW float crops, BGR 0..255, unnormalised (tracker-specs §1.1), like pysot.

    ``template(z, mask)`` caches the template features and the LUT values (mask from
    ``template_mask``); ``track(x)`` returns ``{"cls": (B,1,25,25) logits, "loc": (B,4,25,25)
    (l, t, r, b) in search-crop pixels, "align": (B,1,25,25) logits}``. B templates pair one to
    one with B search crops.
    """

    def __init__(self, backbone: nn.Module, in_channels: Sequence[int], stride: int = STRIDE) -> None:
        super().__init__()
        in_channels = list(in_channels)
        self.backbone = backbone
        self.stride = stride
        # The paper's 1x1 reduction to 256 (+ BN), and the pysot/Ocean 7x7 centre crop of the
        # template map (design choice 2); a stride-16 template map is 7x7 already (no crop).
        crop = TEMPLATE_GRID if stride == STRIDE else 0
        self.neck = AdjustAllLayer(in_channels, [HIDDEN] * len(in_channels), center_size=crop)
        # Several levels are fused before SCAN (design choice 3); one level needs no weights.
        self.fuse = LevelFusion(len(in_channels)) if len(in_channels) > 1 else None
        self.scan = SCAN()
        self.oain = OAIN(HIDDEN, stride)
        self.zf: torch.Tensor | None = None
        self.mask: torch.Tensor | None = None

    def features(self, img: torch.Tensor) -> torch.Tensor:
        f = self.neck(self.backbone(img))
        if isinstance(f, torch.Tensor):
            return f
        return self.fuse(f) if self.fuse is not None else f[0]

    def template_mask(self, target_wh: torch.Tensor) -> torch.Tensor:
        """LUT values for targets of ``target_wh`` (B, 2) template-crop pixels: (B, 1, 7, 7)."""
        return ellipse_mask(target_wh, TEMPLATE_GRID, self.stride)

    def set_template_mask(self, mask: torch.Tensor) -> None:
        """Set the LUT values (B, 1, 7, 7) of the cached template (e.g. after ``template(z)``)."""
        if self.zf is None:
            raise RuntimeError("set_template_mask() called before template()")
        expected = (self.zf.shape[0], 1, *self.zf.shape[2:])
        if tuple(mask.shape) != expected:
            raise ValueError(f"template mask must be {expected}, got {tuple(mask.shape)}")
        self.mask = mask.to(device=self.zf.device, dtype=self.zf.dtype)

    def template(self, z: torch.Tensor, mask: torch.Tensor | None = None) -> None:
        """Cache the template features; ``mask`` may also be given later with
        ``set_template_mask`` (the shared pysot loop templates before the tracker sets it)."""
        self.zf = self.features(z)
        self.mask = None
        if mask is not None:
            self.set_template_mask(mask)

    def track(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        self._check_template()
        xf = self.features(x)
        zf, xf = self.scan(self.zf, xf, self.mask)
        return self.oain(zf, xf)

    def _check_template(self) -> None:
        if self.zf is None or self.mask is None:
            raise RuntimeError("track() needs template(z, mask) (or template + set_template_mask) first")

    def for_inference(self) -> nn.Module:
        """The network tracking runs: the same function with the neck folded into the search
        convolutions where the layout allows it (``trackers.models.siamcross_folded``)."""
        from trackers.models.siamcross_folded import FoldedSiamCross, foldable

        return FoldedSiamCross(self) if foldable(self) else self


def build_siamcross(backbone: nn.Module, in_channels: Sequence[int]) -> SiamCross:
    """SiamCross on any stride-8 backbone giving 15x15 (127 crop) / 31x31 (255 crop) maps.

    ``in_channels``: channels of each backbone output, in the order the backbone returns them
    (``backbone.out_channels`` for the project's backbones). Returned in eval mode.
    """
    return SiamCross(backbone, in_channels).eval()


def build_siamcross_r50() -> SiamCross:
    # Only layer4 is tapped (design choice 1); layer3 must still be built to feed it.
    backbone = resnet50(used_layers=(4,), layer3_with_layer4=True)
    return build_siamcross(backbone, backbone.out_channels)


def build_siamcross_mobilev2() -> SiamCross:
    # Three levels (32 / 96 / 320 ch), each reduced to 256 and fused (design choice 3).
    backbone = mobilenet_v2_imagenet(used_layers=(3, 5, 7))
    return build_siamcross(backbone, backbone.out_channels)


def build_siamcross_mobilev2_s16() -> SiamCross:
    # One level at stride 16: layer5 (ImageNet features.13, 96 ch), 7x7 / 15x15 maps, 9x9 output.
    backbone = mobilenet_v2_imagenet(used_layers=(5,), output_stride=16)
    return SiamCross(backbone, backbone.out_channels, stride=16).eval()


SIAMCROSS_ARCHITECTURES: dict[str, Callable[[], nn.Module]] = {
    "siamark__siamcross_r50": build_siamcross_r50,
    "siamark__siamcross_mobilev2": build_siamcross_mobilev2,
    "siamark__siamcross_mobilev2_s16": build_siamcross_mobilev2_s16,
}
