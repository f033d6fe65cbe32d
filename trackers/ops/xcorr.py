"""Cross-correlations used by the Siamese heads.

All functions take NCHW tensors. ``kernel`` is the template feature map, ``search`` the
search feature map; batch sizes of the two must match (one template per search image).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _dims(t: torch.Tensor) -> tuple[int, ...]:
    """The shape as plain ints: an exported graph (trackers.onnx_runner, one per input shape)
    then holds constant kernel shapes, which ONNX needs for a convolution's weight."""
    return tuple(int(v) for v in t.shape)


def xcorr_plain(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Full-channel correlation of one template against one search map: (1,C,H,W)*(1,C,h,w) -> (1,1,H',W')."""
    return F.conv2d(search, kernel)


def xcorr_batched(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Full-channel correlation, pairwise over the batch: (B,C,H,W)*(B,C,h,w) -> (B,1,H',W').

    A grouped convolution with one group per pair does all pairs in one call.
    """
    b, c, h, w = _dims(search)
    out = F.conv2d(search.reshape(1, b * c, h, w), kernel, groups=b)
    return out.reshape(b, 1, *_dims(out)[2:])


def xcorr_depthwise(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Channel-by-channel correlation (SiamRPN++): (B,C,H,W)*(B,C,h,w) -> (B,C,H',W')."""
    b, c, h, w = _dims(search)
    k = kernel.reshape(b * c, 1, *_dims(kernel)[2:])
    out = F.conv2d(search.reshape(1, b * c, h, w), k, groups=b * c)
    return out.reshape(b, c, *_dims(out)[2:])


def xcorr_upchannel(search: torch.Tensor, kernel: torch.Tensor, out_channels: int) -> torch.Tensor:
    """Up-channel correlation (SiamRPN / DaSiamRPN).

    ``kernel`` is the template branch output (B, out_channels*C, h, w); it is split into
    ``out_channels`` kernels of shape (C, h, w) and each is correlated with the full search map:
    (B,C,H,W) -> (B,out_channels,H',W').
    """
    b, c, h, w = _dims(search)
    k = kernel.reshape(b * out_channels, c, *_dims(kernel)[2:])
    out = F.conv2d(search.reshape(1, b * c, h, w), k, groups=b)
    return out.reshape(b, out_channels, *_dims(out)[2:])
