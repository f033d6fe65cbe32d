"""Static INT8 convolutions for the exported CPU search graphs (``trackers.onnx_runner``).

Each convolution of the search branch gets its input and its weights fake-quantized: the input
per tensor with a range measured beforehand on real tracking crops (``collect_ranges``; stored
per weights file by ``python -m trackers quantize``), the weights per output channel,
symmetric. ``torch.onnx.export`` writes these as QuantizeLinear / DequantizeLinear pairs, and
OpenVINO's low-precision transformations turn each such convolution into an int8 one (VNNI on
this CPU); everything else (additions, attention, correlations written as matrix products)
stays float32.

Why: the stride-16 models' search graphs compute at this CPU's f32 peak already; INT8 halves
their convolution time (siamcross-mobilev2's search graph 14.2 -> 7.5 ms, same run). Whether a
model's tracking survives the rounding is measured on the validation set before its ranges are
shipped (model card).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from trackers.models.deform_conv import DeformConv2d, deform_rows

#: a measured input range per convolution, by module name: (low, high)
Ranges = dict[str, tuple[float, float]]
#: per convolution, the mean change of each output channel that quantizing it causes
Shifts = dict[str, list[float]]


def quantizable(module: nn.Module) -> bool:
    """Whether ``module`` is a layer this module quantizes (a convolution)."""
    return isinstance(module, (nn.Conv2d, DeformConv2d))


def _hooked_run(model: nn.Module, run: Callable[[], object], register: Callable) -> None:
    """``run()`` without gradients, with the hooks ``register(name, module)`` puts on each
    convolution (it returns the handle, or None to skip the layer); removed afterwards."""
    hooks = [h for name, m in model.named_modules() if quantizable(m) and (h := register(name, m))]
    try:
        with torch.no_grad():
            run()
    finally:
        for hook in hooks:
            hook.remove()


def collect_ranges(model: nn.Module, run: Callable[[], object]) -> Ranges:
    """The input range of every convolution (``nn.Conv2d``, ``DeformConv2d``) of ``model`` over
    the calls ``run`` makes: per convolution, the mean over its calls of each call's minimum
    and maximum (robust to the odd outlier frame, as post-training quantizers do by default).
    A deformable convolution's sampled values interpolate its input, so they lie in its range.
    A layer fed 8-bit pixels (whole numbers in 0-255 on every call: the first layer, where the
    networks fold their normalisation into it) gets exactly 0-255: lossless, where a mean
    maximum would clip the brightest pixels (it cost siamfc 0.045 validation AUC)."""
    seen: dict[str, list[tuple[float, float]]] = {}
    pixels: dict[str, bool] = {}

    def register(name: str, module: nn.Module):
        def record(_module, args):
            x = args[0].detach()
            low, high = float(x.min()), float(x.max())
            seen.setdefault(name, []).append((low, high))
            whole = low >= 0 and high <= 255 and bool(torch.equal(x, x.round()))
            pixels[name] = pixels.get(name, True) and whole

        return module.register_forward_pre_hook(record)

    _hooked_run(model, run, register)
    ranges = {}
    for name, calls in seen.items():
        lows, highs = zip(*calls, strict=True)
        ranges[name] = (0.0, 255.0) if pixels[name] else (sum(lows) / len(lows), sum(highs) / len(highs))
    return ranges


def collect_shifts(model: nn.Module, ranges: Ranges, run: Callable[[], object]) -> Shifts:
    """Bias correction: per convolution in ``ranges``, the mean over ``run``'s calls of each
    output channel's change when the layer alone is quantized (its float input both ways).
    Rounding the weights moves each channel's mean output; subtracting the measured shift from
    the bias puts it back (post-training quantizers' bias correction)."""
    sums: dict[str, torch.Tensor] = {}
    counts: dict[str, int] = {}

    def register(name: str, module: nn.Module):
        if name not in ranges:
            return None
        quantized = int8_layer(module, *ranges[name])

        def record(_module, args, output):
            diff = quantized(*[a.detach() for a in args]) - output.detach()
            sums[name] = sums.get(name, 0) + diff.mean(dim=(0, 2, 3)).double()
            counts[name] = counts.get(name, 0) + 1

        return module.register_forward_hook(record)

    _hooked_run(model, run, register)
    return {name: (sums[name] / counts[name]).tolist() for name in sums}


class _Int8(nn.Module):
    """What both INT8 layers share: ``layer``'s input quantized to 8 bits on a fixed range
    (unsigned when the range has no negatives, as after a ReLU), its weights to 8 bits per
    output channel, and ``shift`` (``collect_shifts``) taken off its bias."""

    def __init__(self, layer: nn.Module, low: float, high: float, shift: list[float] | None = None):
        super().__init__()
        self.layer = layer
        self.unsigned = low >= 0.0
        span = max(high, 1e-8) if self.unsigned else max(-low, high, 1e-8)
        self.scale = span / (255.0 if self.unsigned else 127.0)
        w = layer.weight.detach()
        peak = w.abs().amax(dim=tuple(range(1, w.dim()))).clamp_min(1e-12)
        self.register_buffer("w_scale", (peak / 127.0).float())
        self.register_buffer("w_zero", torch.zeros(w.shape[0], dtype=torch.int32))
        bias = layer.bias.detach() if layer.bias is not None else None
        if shift is not None:
            bias = (0 if bias is None else bias) - torch.tensor(shift, dtype=w.dtype)
        self.register_buffer("bias", bias)

    def quantized_input(self, x: torch.Tensor) -> torch.Tensor:
        if self.unsigned:
            return torch.fake_quantize_per_tensor_affine(x, self.scale, 0, 0, 255)
        return torch.fake_quantize_per_tensor_affine(x, self.scale, 0, -128, 127)

    def quantized_weight(self) -> torch.Tensor:
        return torch.fake_quantize_per_channel_affine(
            self.layer.weight, self.w_scale, self.w_zero, 0, -128, 127
        )


class Int8Conv2d(_Int8):
    """An ``nn.Conv2d`` with 8-bit input and weights."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv = self.layer
        if conv.padding_mode != "zeros":  # the shipped and seed networks pad with zeros
            raise ValueError(f"padding mode {conv.padding_mode!r} is not supported")
        return F.conv2d(
            self.quantized_input(x),
            self.quantized_weight(),
            self.bias,
            conv.stride,
            conv.padding,
            conv.dilation,
            conv.groups,
        )


class Int8DeformConv2d(_Int8):
    """A ``DeformConv2d`` whose sampled columns and weights are 8-bit: its matrix product
    (SiamCross's ADCA, a quarter of the search graph's time in f32) runs in INT8. The offsets
    and the bilinear sampling stay float32. The product is written samples x weights, the
    samples gathered position-major (``deform_rows``), the weights (K * C, out) quantized per
    column right at the product: the form OpenVINO's low-precision matrix product takes
    (weights x columns stayed f32)."""

    def __init__(self, layer: DeformConv2d, low: float, high: float, shift: list[float] | None = None):
        super().__init__(layer, low, high, shift)
        # (out, C, kh, kw) -> (K * C, out), tap-major like the rows of deform_rows
        weight = layer.weight.detach().permute(0, 2, 3, 1).reshape(layer.out_channels, -1)
        self.register_buffer("w_columns", weight.t().contiguous())

    def quantized_weight(self) -> torch.Tensor:
        return torch.fake_quantize_per_channel_affine(self.w_columns, self.w_scale, self.w_zero, 1, -128, 127)

    def forward(self, x: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
        d = self.layer
        samples = deform_rows(x, offset, d.kernel_size, d.stride, d.padding, d.dilation)
        out = torch.matmul(self.quantized_input(samples), self.quantized_weight())
        if self.bias is not None:
            out = out + self.bias
        h_out, w_out = offset.shape[2:]
        return out.transpose(1, 2).reshape(x.shape[0], d.out_channels, h_out, w_out)


def int8_layer(layer: nn.Module, low: float, high: float, shift: list[float] | None = None) -> _Int8:
    """``layer`` (a convolution) as its INT8 counterpart."""
    kind = Int8DeformConv2d if isinstance(layer, DeformConv2d) else Int8Conv2d
    return kind(layer, low, high, shift)


def with_int8(model: nn.Module, ranges: Ranges, shifts: Shifts | None = None) -> tuple[nn.Module, int]:
    """A copy of ``model`` whose convolutions named in ``ranges`` are INT8 ones (layers
    without a measured range, or already replaced, stay as they are), and how many were
    replaced."""
    names = [name for name, module in model.named_modules() if quantizable(module) and name in ranges]
    if not names:
        return model, 0
    net = copy.deepcopy(model)
    if names == [""]:  # the model is one convolution
        return int8_layer(net, *ranges[""], (shifts or {}).get("")), 1
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = net.get_submodule(parent_name) if parent_name else net
        low, high = ranges[name]
        shift = (shifts or {}).get(name)
        setattr(parent, child, int8_layer(getattr(parent, child), low, high, shift))
    return net, len(names)
