"""DaSiamRPN network of foolwood/DaSiamRPN ``code/net.py`` (SiamRPNBIG / SiamRPNvot / SiamRPNotb).

Attribute names are the official flat ones (``featureExtract``, ``conv_r1``, ``conv_r2``,
``conv_cls1``, ``conv_cls2``, ``regress_adjust``), so the released ``SiamRPN*.model`` files load
with ``strict=True`` and no key remapping (tracker-specs §5.1).

Those files were saved by torch 0.3 and hold no ``num_batches_tracked``. They still load
strictly: a state dict without version metadata (``_metadata``, which torch 0.3 never wrote
and which any dict rebuilt by a loader lacks) makes BatchNorm fill the missing counter with 0.
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from trackers.models.alexnet import AlexNetLegacy
from trackers.ops.xcorr import xcorr_upchannel

ANCHOR_NUM = 5

# Official variant -> (size = AlexNet width multiplier, feature_out = up-channel kernel depth).
# vot and otb share one architecture; they differ only in tracker hyperparameters and weights.
DASIAMRPN_VARIANTS: dict[str, tuple[int, int]] = {
    "SiamRPNBIG": (2, 512),
    "SiamRPNvot": (1, 256),
    "SiamRPNotb": (1, 256),
}


class DaSiamRPN(nn.Module):
    """Up-channel SiamRPN: AlexNet trunk + template kernels correlated over the full search map.

    Input: BGR float 0..255, NCHW, no normalisation. ``template(z)`` stores the kernels;
    ``track(x)`` returns ``{"cls": (B, 2A, H, W), "loc": (B, 4A, H, W)}`` (19x19 for 271,
    17x17 for 255) — the official ``forward`` returns the same tensors as (loc, cls).
    Search i uses template i; a single stored template serves every search in the batch.
    """

    def __init__(self, size: int = 2, feature_out: int = 512, anchor: int = ANCHOR_NUM) -> None:
        super().__init__()
        trunk = AlexNetLegacy(width_mult=size)
        # Same layers as the official featureExtract (indices 0/1, 4/5, ...); registering the
        # Sequential itself, not the wrapper, is what makes the keys featureExtract.N.*.
        self.featureExtract = trunk.features
        feat_in = trunk.feature_size
        self.anchor = anchor
        self.feature_out = feature_out
        self.conv_r1 = nn.Conv2d(feat_in, feature_out * 4 * anchor, 3)
        self.conv_r2 = nn.Conv2d(feat_in, feature_out, 3)
        self.conv_cls1 = nn.Conv2d(feat_in, feature_out * 2 * anchor, 3)
        self.conv_cls2 = nn.Conv2d(feat_in, feature_out, 3)
        self.regress_adjust = nn.Conv2d(4 * anchor, 4 * anchor, 1)
        # Raw template-branch outputs (B, 4A*feature_out, 4, 4) / (B, 2A*feature_out, 4, 4);
        # xcorr_upchannel splits them into kernels exactly like the official view().
        self.loc_kernel: torch.Tensor | None = None
        self.cls_kernel: torch.Tensor | None = None

    def _kernels(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        zf = self.featureExtract(z)
        return self.conv_r1(zf), self.conv_cls1(zf)

    def _head(self, x: torch.Tensor, loc_kernel: torch.Tensor, cls_kernel: torch.Tensor) -> dict:
        xf = self.featureExtract(x)
        b = xf.shape[0]
        if loc_kernel.shape[0] != b:
            if loc_kernel.shape[0] != 1:
                raise ValueError(
                    f"{loc_kernel.shape[0]} templates for {b} search images: need 1 or one per search"
                )
            loc_kernel = loc_kernel.expand(b, -1, -1, -1)
            cls_kernel = cls_kernel.expand(b, -1, -1, -1)
        loc = self.regress_adjust(xcorr_upchannel(self.conv_r2(xf), loc_kernel, 4 * self.anchor))
        cls = xcorr_upchannel(self.conv_cls2(xf), cls_kernel, 2 * self.anchor)
        return {"cls": cls, "loc": loc}

    def template(self, z: torch.Tensor) -> None:
        self.loc_kernel, self.cls_kernel = self._kernels(z)

    def track(self, x: torch.Tensor) -> dict:
        if self.loc_kernel is None or self.cls_kernel is None:
            raise RuntimeError("template() must be called before track()")
        return self._head(x, self.loc_kernel, self.cls_kernel)

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> dict:
        """Stateless pair forward (template + track without touching the stored kernels)."""
        return self._head(x, *self._kernels(z))


def _variant_name(variant: str) -> str:
    # Accept the official class name or its suffix, any case: "SiamRPNBIG", "big", "VOT", ...
    wanted = variant.lower().removeprefix("siamrpn")
    for name in DASIAMRPN_VARIANTS:
        if name.lower().removeprefix("siamrpn") == wanted:
            return name
    raise ValueError(f"unknown DaSiamRPN variant {variant!r}; known: {', '.join(DASIAMRPN_VARIANTS)}")


def build_dasiamrpn(variant: str) -> DaSiamRPN:
    size, feature_out = DASIAMRPN_VARIANTS[_variant_name(variant)]
    return DaSiamRPN(size=size, feature_out=feature_out)


# Fixture stem -> zero-argument factory.
DASIAMRPN_ARCHITECTURES = {
    f"dasiamrpn__{name}": partial(build_dasiamrpn, name) for name in DASIAMRPN_VARIANTS
}
