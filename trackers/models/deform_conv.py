"""Deformable convolution (Dai et al. 2017) in plain torch.

torchvision's ``deform_conv2d`` has no CPU build on the package index this project installs
from (tracker-specs §13.2), so this is a portable re-implementation with the same semantics:

* ``offset`` is (B, 2 * kh * kw, H_out, W_out); for tap t (row-major over the kernel,
  t = ky * kw + kx) channel 2t holds the row offset dy and channel 2t + 1 the column offset dx.
* Tap t of output (i, j) samples the input at
  (i * stride - padding + ky * dilation + dy, j * stride - padding + kx * dilation + dx),
  bilinearly; the input counts as zero outside the map (each of the four neighbours that falls
  outside contributes 0), as in torchvision.
* One offset group and one weight group (all that SiamCross's ADCA needs).

The sampling is one ``grid_sample`` call for all taps, followed by a single matmul with the
weights, so the cost is one gather of C * K * H_out * W_out values plus an ordinary conv's GEMM.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.utils import _pair


def _tap_grid(
    kh: int, kw: int, dilation: tuple[int, int], device, dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """(K,) row and column displacement of each tap from the window's top-left corner."""
    ky = torch.arange(kh, device=device, dtype=dtype) * dilation[0]
    kx = torch.arange(kw, device=device, dtype=dtype) * dilation[1]
    yy, xx = torch.meshgrid(ky, kx, indexing="ij")
    return yy.reshape(-1), xx.reshape(-1)


def sampling_positions(
    offset: torch.Tensor,
    kernel_size: tuple[int, int],
    stride: tuple[int, int] = (1, 1),
    padding: tuple[int, int] = (0, 0),
    dilation: tuple[int, int] = (1, 1),
) -> tuple[torch.Tensor, torch.Tensor]:
    """Input-map (row, col) coordinates sampled by every tap: two (B, K, H_out, W_out) tensors."""
    b, _, h_out, w_out = offset.shape
    kh, kw = kernel_size
    k = kh * kw
    dev, dt = offset.device, offset.dtype
    tap_y, tap_x = _tap_grid(kh, kw, dilation, dev, dt)
    base_y = torch.arange(h_out, device=dev, dtype=dt) * stride[0] - padding[0]
    base_x = torch.arange(w_out, device=dev, dtype=dt) * stride[1] - padding[1]
    off = offset.reshape(b, k, 2, h_out, w_out)
    rows = base_y.view(1, 1, h_out, 1) + tap_y.view(1, k, 1, 1) + off[:, :, 0]
    cols = base_x.view(1, 1, 1, w_out) + tap_x.view(1, k, 1, 1) + off[:, :, 1]
    return rows, cols


def _checked_positions(
    input: torch.Tensor,
    offset: torch.Tensor,
    kernel_size: tuple[int, int],
    stride: int | tuple[int, int],
    padding: int | tuple[int, int],
    dilation: int | tuple[int, int],
) -> tuple[torch.Tensor, torch.Tensor]:
    """``sampling_positions`` for a deformable convolution of ``input``, once ``offset`` is
    checked to have the shape that convolution's output needs."""
    stride, padding, dilation = _pair(stride), _pair(padding), _pair(dilation)
    b, _, h, w = input.shape
    kh, kw = kernel_size
    k = kh * kw
    h_out = (h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    w_out = (w + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    if offset.shape != (b, 2 * k, h_out, w_out):
        raise ValueError(f"offset must be {(b, 2 * k, h_out, w_out)}, got {tuple(offset.shape)}")
    return sampling_positions(offset.to(input.dtype), (kh, kw), stride, padding, dilation)


def deform_columns(
    input: torch.Tensor,
    offset: torch.Tensor,
    kernel_size: tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> tuple[torch.Tensor, int, int]:
    """The sampled input, (B, C * K, H_out * W_out) channel-major then tap (the order of
    ``weight.reshape(out, -1)``), and H_out, W_out: what the deformable convolution multiplies
    its weights with (the INT8 graphs quantize it, ``trackers.ops.int8``)."""
    b, c, h, w = input.shape
    rows, cols = _checked_positions(input, offset, kernel_size, stride, padding, dilation)
    k, h_out, w_out = rows.shape[1:]
    # grid_sample with align_corners=False puts pixel p at normalised (2p + 1) / size - 1; this
    # form (unlike align_corners=True) also works for 1-pixel-wide maps. Its zero padding makes
    # each out-of-map neighbour contribute 0, which is torchvision's bilinear rule.
    gx = (2 * cols + 1) / w - 1
    gy = (2 * rows + 1) / h - 1
    grid = torch.stack([gx, gy], dim=-1).reshape(b, k * h_out, w_out, 2)
    sampled = F.grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    # (B, C, K*H_out, W_out) -> (B, C*K, L): channel-major then tap, the order of weight.reshape.
    return sampled.reshape(b, c * k, h_out * w_out), h_out, w_out


def deform_rows(
    input: torch.Tensor,
    offset: torch.Tensor,
    kernel_size: tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> torch.Tensor:
    """The samples of ``deform_columns`` laid out (B, H_out * W_out, K * C), output position
    then tap then channel: the left operand of a matrix product with the weights as
    (K * C, out), no transpose needed. Written as four row gathers from a channels-last table
    (a zero row stands for every neighbour outside the map): OpenVINO runs this ~1.7x faster
    than its GridSample plus the transpose (the INT8 graph's deformable layer)."""
    b, c, h, w = input.shape
    rows, cols = _checked_positions(input, offset, kernel_size, stride, padding, dilation)
    k, h_out, w_out = rows.shape[1:]
    rows = rows.permute(0, 2, 3, 1).reshape(b, -1)  # (B, L * K): position-major, then tap
    cols = cols.permute(0, 2, 3, 1).reshape(b, -1)
    table = torch.cat([input.flatten(2).transpose(1, 2).reshape(b * h * w, c), input.new_zeros(1, c)])
    base = (torch.arange(b, device=input.device) * (h * w)).view(b, 1)
    top, left = torch.floor(rows), torch.floor(cols)
    sampled = 0
    for y in (top, top + 1):
        for x in (left, left + 1):
            weight = (1 - (rows - y).abs()) * (1 - (cols - x).abs())
            inside = (y >= 0) & (y < h) & (x >= 0) & (x < w)
            index = torch.where(inside, (y * w + x).long() + base, torch.full_like(base, b * h * w))
            sampled = sampled + table[index] * weight.unsqueeze(-1)
    return sampled.reshape(b, h_out * w_out, k * c)


def deform_conv2d(
    input: torch.Tensor,
    offset: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> torch.Tensor:
    """Functional deformable convolution (torchvision.ops.deform_conv2d layout, no mask)."""
    _, in_c, kh, kw = weight.shape
    if in_c != input.shape[1]:
        raise ValueError(
            f"weight expects {in_c} input channels, input has {input.shape[1]} (groups are not supported)"
        )
    columns, h_out, w_out = deform_columns(input, offset, (kh, kw), stride, padding, dilation)
    out_c = weight.shape[0]
    out = torch.matmul(weight.reshape(out_c, -1), columns)
    if bias is not None:
        out = out + bias.view(1, out_c, 1)
    return out.reshape(input.shape[0], out_c, h_out, w_out)


class DeformConv2d(nn.Module):
    """``nn.Conv2d``-like module whose ``forward(x, offset)`` takes externally computed offsets.

    Parameters ``weight`` (out, in, kh, kw) and optional ``bias`` (out,), initialised like
    ``nn.Conv2d``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = _pair(padding)
        self.dilation = _pair(dilation)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, *self.kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Same default as nn.Conv2d, so an untrained network has ordinary activation scales.
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
        return deform_conv2d(x, offset, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
            f"bias={self.bias is not None}"
        )
