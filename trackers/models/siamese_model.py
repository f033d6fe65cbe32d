"""Generic backbone -> (neck) -> head Siamese network, mirroring the pysot/siamban ModelBuilder
at inference time: ``template(z)`` once, then ``track(x)`` per frame.

The head is registered under the official prefix (pysot ``rpn_head``, siamban ``head``) so the
released state dicts load strictly without key renaming.
"""

from __future__ import annotations

import torch
from torch import nn


def _as_list(f: torch.Tensor | list[torch.Tensor]) -> list[torch.Tensor]:
    return [f] if isinstance(f, torch.Tensor) else list(f)


def _as_head_input(fs: list[torch.Tensor], head: nn.Module) -> torch.Tensor | list[torch.Tensor]:
    # Single-level heads take a tensor, multi-level heads a list (the official calling form),
    # also when a multi-level head is built with one level.
    return fs[0] if len(fs) == 1 and not getattr(head, "takes_levels", False) else fs


class SiameseModel(nn.Module):
    """Inputs are NCHW float32 crops, BGR 0..255, unnormalised (tracker-specs §1.1).

    Batched use: ``template`` with B templates and ``track`` with B search images pair them
    one to one (sample i is correlated with template i).

    Attributes: ``backbone``, ``neck`` (None when the architecture has none), the head under
    ``head_name`` (also reachable as ``head_module``), and ``zf``: the per-level template
    features after the neck, as a list, set by ``template``.
    """

    def __init__(
        self,
        backbone: nn.Module,
        head: nn.Module,
        neck: nn.Module | None = None,
        head_name: str = "rpn_head",
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.neck = neck
        self.head_name = head_name
        self.add_module(head_name, head)
        self.zf: list[torch.Tensor] = []
        #: ``track`` also returns each level's cls as ``cls_levels`` (B, L, C, H, W), from the
        #: same forward (the inside view, trackers/inside.py); only multi-level heads have them
        self.keep_levels = False

    @property
    def head_module(self) -> nn.Module:
        return self._modules[self.head_name]

    def features(self, img: torch.Tensor) -> list[torch.Tensor]:
        """Per-level features of a crop after the neck (templates come out centre-cropped)."""
        f = self.backbone(img)
        if self.neck is not None:
            f = self.neck(f)
        return _as_list(f)

    def template(self, z: torch.Tensor) -> None:
        self.zf = self.features(z)

    def track(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Raw head outputs for the search crop(s): ``{"cls": ..., "loc": ...}``."""
        if not self.zf:
            raise RuntimeError("track() called before template()")
        xf = self.features(x)
        head = self.head_module
        z_in, x_in = _as_head_input(self.zf, head), _as_head_input(xf, head)
        if self.keep_levels and hasattr(head, "levels"):
            cls_levels, loc_levels = head.levels(z_in, x_in)
            cls, loc = head.fuse(cls_levels, loc_levels)
            return {"cls": cls, "loc": loc, "cls_levels": torch.stack(cls_levels, 1)}
        cls, loc = head(z_in, x_in)
        return {"cls": cls, "loc": loc}
