"""Winograd convolutions for the exported CPU search graphs (``trackers.onnx_runner``).

A stride-1 r x r convolution computed as F(m x m, r x r) (Lavin & Gray, "Fast Algorithms for
Convolutional Neural Networks", 2016): each (m + r - 1)^2 input tile is transformed, multiplied
element-wise with the transformed filters (one batched matrix product per tile position, over
the input channels) and transformed back into an m x m output block. F(4x4, 3x3) does 36
multiplications where the direct convolution does 144, F(4x4, 5x5) 64 where it does 400.

Why: the exported graphs already compute at this CPU's f32 matrix-product peak
(``scripts/bench_official.py``), so only less arithmetic makes them faster. The transforms are
ordinary graph ops (a convolution with fixed transform weights, matrix products, a
depth-to-space), so OpenVINO runs them like the rest of the graph. The result differs from the
direct convolution by float32 rounding only (~1e-5 relative; tests).

Which layers: measured layer by layer through OpenVINO on this 2-core AVX-512 CPU
(``scripts/bench_winograd.py``), the transforms' memory traffic is paid back only by wide
layers: 3x3 with at least 128 input and output channels (192 out per group when grouped), 1.2-1.6x
faster; 5x5 with at least 48 input and 128 output channels per group, 1.1-1.8x; and only on
maps of at least 24 x 24 outputs (the shipped models' heads, 18-20 px, tracked ~10 % slower with
them). Narrower, strided and dilated convolutions and smaller maps stay direct.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

#: output block size m for each kernel size r: F(4x4, 3x3) and F(4x4, 5x5)
BLOCK = {3: 4, 5: 4}
#: the smallest output (pixels, each way) a layer is replaced at; see ``with_winograd``
MIN_OUTPUT = 24
#: interpolation points of the Toom-Cook construction (the usual small ones, best conditioned)
_POINTS = (0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5)


def transforms(m: int, r: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A^T (m x a), G (a x r) and B^T (a x a) of F(m, r), a = m + r - 1, in float64.

    A^T and G follow the Toom-Cook construction on ``_POINTS`` and the point at infinity; B^T
    is the one matrix that makes A^T [(G g) * (B^T d)] the correlation of d with g, solved
    exactly from that identity (checked)."""
    a = m + r - 1
    if a - 1 > len(_POINTS):
        raise ValueError(f"F({m}, {r}) needs {a - 1} points; {len(_POINTS)} are defined")
    p = np.array(_POINTS[: a - 1])
    at = np.zeros((m, a))
    at[:, : a - 1] = p[None, :] ** np.arange(m)[:, None]
    at[m - 1, a - 1] = 1.0
    f = np.array([np.prod([pj - pl for pl in p if pl != pj]) for pj in p])
    g = np.zeros((a, r))
    g[: a - 1] = p[:, None] ** np.arange(r)[None, :] / f[:, None]
    g[a - 1, r - 1] = 1.0
    # sum_j AT[i, j] G[j, k] BT[j, l] == [l == i + k] for every output i and filter tap k
    lhs = np.einsum("ij,jk->ikj", at, g).reshape(m * r, a)
    rhs = np.zeros((m * r, a))
    for i in range(m):
        for k in range(r):
            rhs[i * r + k, i + k] = 1.0
    bt = np.linalg.lstsq(lhs, rhs, rcond=None)[0]
    if not np.allclose(lhs @ bt, rhs, atol=1e-9):
        raise ArithmeticError(f"no Winograd input transform for F({m}, {r})")
    return torch.from_numpy(at), torch.from_numpy(g), torch.from_numpy(bt)


class _DepthToSpace(torch.autograd.Function):
    """(N, b*b*C, H, W) -> (N, C, b*H, b*W), channel (i*b + j)*C + c to pixel (b*h + i, b*w + j):
    ONNX's DepthToSpace in DCR mode (``pixel_shuffle`` exports the CRD order)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, block: int) -> torch.Tensor:
        n, c, h, w = x.shape
        c //= block * block
        return (
            x.reshape(n, block, block, c, h, w).permute(0, 3, 4, 1, 5, 2).reshape(n, c, h * block, w * block)
        )

    @staticmethod
    def symbolic(g, x, block: int):
        return g.op("DepthToSpace", x, blocksize_i=block, mode_s="DCR")


def eligible(conv: nn.Module) -> bool:
    """Whether ``conv`` is a layer that measured faster as a Winograd convolution (module doc)."""
    if type(conv) is not nn.Conv2d or conv.padding_mode != "zeros" or isinstance(conv.padding, str):
        return False
    r = conv.kernel_size[0]
    if r not in BLOCK or conv.kernel_size != (r, r) or conv.stride != (1, 1) or conv.dilation != (1, 1):
        return False
    if conv.padding[0] != conv.padding[1]:
        return False
    cin, cout = conv.in_channels // conv.groups, conv.out_channels // conv.groups
    if r == 5:
        return cin >= 48 and cout >= 128
    # a grouped 3x3 layer's products are smaller matrices: 384 -> 256 in two groups measured slower
    return cin >= 128 and cout >= (128 if conv.groups == 1 else 192)


class WinogradConv2d(nn.Module):
    """``conv`` (stride 1, square kernel of a size in ``BLOCK``) as F(m x m, r x r)."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        r = conv.kernel_size[0]
        m = BLOCK[r]
        a = m + r - 1
        at, g, bt = transforms(m, r)
        groups, cout = conv.groups, conv.out_channels
        cin = conv.in_channels // groups
        w = conv.weight.detach().double().view(groups, cout // groups, cin, r, r)
        u = torch.einsum("ak,goikl,bl->abgoi", g, w, g).reshape(a * a, groups, cout // groups, cin)
        dtype = conv.weight.dtype
        self.register_buffer("u", u.to(dtype))  # the filters, transformed once
        bias = conv.bias.detach() if conv.bias is not None else torch.zeros(cout, dtype=dtype)
        self.register_buffer("bias", bias.to(dtype).view(1, cout, 1, 1))
        # input tiles: V = B^T d B for every tile at once, as a convolution of each channel alone
        self.register_buffer("tile", torch.einsum("ai,bj->abij", bt, bt).reshape(a * a, 1, a, a).to(dtype))
        self.register_buffer("untile", torch.kron(at, at).to(dtype))  # (m*m, a*a): A^T Y A
        self.m, self.r, self.a, self.groups, self.cin, self.cout = m, r, a, groups, cin, cout
        self.padding = conv.padding[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m, r, a, groups, cin, cout = self.m, self.r, self.a, self.groups, self.cin, self.cout
        n, c, h, w = (int(v) for v in x.shape)
        ho, wo = h + 2 * self.padding - r + 1, w + 2 * self.padding - r + 1
        th, tw = math.ceil(ho / m), math.ceil(wo / m)
        p = self.padding
        x = F.pad(x, (p, m * tw + r - 1 - w - p, p, m * th + r - 1 - h - p))
        v = F.conv2d(x.reshape(n * c, 1, int(x.shape[2]), int(x.shape[3])), self.tile, stride=m)
        # (tile position, group, channel, image and block): one matrix product per position;
        # the images share the blocks' axis, so the product's output needs no reordering
        v = (
            v.reshape(n, groups, cin, a * a, th * tw)
            .permute(3, 1, 2, 0, 4)
            .reshape(a * a, groups, cin, n * th * tw)
        )
        y = torch.matmul(self.u, v).reshape(a * a, cout * n * th * tw)
        out = torch.matmul(self.untile, y).reshape(m * m, cout, n, th, tw)
        if n > 1:
            out = out.permute(2, 0, 1, 3, 4)
        out = _DepthToSpace.apply(out.reshape(n, m * m * cout, th, tw), m)
        if m * th != ho or m * tw != wo:
            out = out[:, :, :ho, :wo]
        return out + self.bias


def with_winograd(model: nn.Module, run: Callable[[nn.Module], object]) -> tuple[nn.Module, int]:
    """A copy of ``model`` whose eligible convolutions are Winograd ones, and how many there are.

    ``run(model)`` runs the forward the copy is for: a layer is replaced only where its output
    is at least ``MIN_OUTPUT`` pixels each way (smaller maps measured slower, the transforms'
    fixed cost and the part-empty blocks at the edge not paid back). The copy shares nothing
    with ``model``; without a layer to replace, ``model`` itself comes back."""
    sizes: dict[str, tuple[int, int]] = {}
    hooks = [
        mod.register_forward_hook(
            lambda _m, _i, out, name=name: sizes.__setitem__(name, tuple(out.shape[-2:]))
        )
        for name, mod in model.named_modules()
        if eligible(mod)
    ]
    try:
        with torch.no_grad():
            run(model)
    finally:
        for hook in hooks:
            hook.remove()
    chosen = {name for name, (h, w) in sizes.items() if min(h, w) >= MIN_OUTPUT}
    if not chosen:
        return model, 0
    model = copy.deepcopy(model)
    for name in chosen:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, child, WinogradConv2d(getattr(parent, child)))
    return model, len(chosen)
