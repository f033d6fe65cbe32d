"""Backbones built as stages ``layer0`` .. ``layer<depth>`` that hand back some of them."""

from __future__ import annotations

import torch
from torch import nn


class StagedBackbone(nn.Module):
    """``forward`` runs ``layer0`` .. ``layer<depth>`` and returns the ``used_layers`` outputs (a
    tensor for one index, a list otherwise); subclasses set ``used_layers``, ``depth`` and
    ``_channels`` (the output channels of every stage)."""

    used_layers: list[int]
    depth: int
    _channels: list[int]

    @property
    def out_channels(self) -> list[int]:
        return [self._channels[i] for i in self.used_layers]

    def forward(self, x: torch.Tensor) -> torch.Tensor | list[torch.Tensor]:
        outs = []
        for idx in range(self.depth + 1):
            x = getattr(self, f"layer{idx}")(x)
            outs.append(x)
        picked = [outs[i] for i in self.used_layers]
        return picked[0] if len(picked) == 1 else picked
