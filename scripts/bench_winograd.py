"""Which convolutions run faster as Winograd ones through OpenVINO on this CPU? Same-run figures.

For each layer shape (the wide 3x3 / 5x5 layers of the seed trackers' and the shipped models'
search branches, and narrower ones near the threshold of ``trackers.ops.winograd.eligible``),
the direct convolution and its ``WinogradConv2d`` are exported alone, compiled by OpenVINO (f32,
the product's settings) and timed alternately; the best of 30 calls each is printed with the
ratio, the largest difference between the two outputs and whether the product uses it. Alone,
a 20 x 20 head layer is faster as a Winograd one; in the whole shipped trackers it was slower
(``MIN_OUTPUT``), so the whole tracker's figures (``bench_official.py``) decide.

    python scripts/bench_winograd.py
"""

from __future__ import annotations

import io
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trackers.ops.winograd import MIN_OUTPUT, WinogradConv2d, eligible

#: (in, out, kernel, input size, images, padding, groups, where it occurs)
LAYERS = (
    (64, 64, 3, 31, 1, 1, 1, "narrow (left direct)"),
    (128, 128, 3, 31, 1, 1, 1, "ResNet-50 layer2, 255 px crop"),
    (256, 256, 3, 22, 1, 0, 1, "siamcross-mobilev2 head, 351 px crop"),
    (256, 256, 3, 26, 1, 0, 1, "SiamRPN (AlexNet) head"),
    (256, 384, 3, 32, 1, 0, 1, "SiamRPN (AlexNet) conv3"),
    (384, 384, 3, 30, 1, 0, 1, "SiamRPN (AlexNet) conv4"),
    (96, 256, 5, 69, 1, 0, 1, "SiamRPN (AlexNet) conv2"),
    (256, 384, 3, 28, 3, 0, 1, "SiamFC (AlexNetV1) conv3, 3 scales"),
    (384, 384, 3, 26, 3, 0, 2, "SiamFC (AlexNetV1) conv4, 3 scales"),
    (384, 256, 3, 24, 3, 0, 2, "SiamFC (AlexNetV1) conv5, 3 scales"),
    (96, 256, 5, 61, 3, 0, 2, "SiamFC (AlexNetV1) conv2, 3 scales"),
)


def compiled(module: nn.Module, x: torch.Tensor):
    """``module`` exported alone and compiled as the product compiles its search graphs."""
    from trackers.onnx_runner import _session_from

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (x,), buffer, dynamo=False, opset_version=17, input_names=["x"])
    session = _session_from(buffer.getvalue())
    feeds = {"x": x.numpy()}
    return lambda: next(iter(session.run(feeds).values()))


def main() -> int:
    torch.manual_seed(0)
    print(f"OpenVINO f32, {torch.get_num_threads()} threads; best of 30 calls, alternating")
    for cin, cout, k, size, images, padding, groups, where in LAYERS:
        conv = nn.Conv2d(cin, cout, k, padding=padding, groups=groups).eval()
        x = torch.randn(images, cin, size, size)
        runs = {"direct": compiled(conv, x), "winograd": compiled(WinogradConv2d(conv).eval(), x)}
        outputs = {name: fn() for name, fn in runs.items()}
        best = dict.fromkeys(runs, float("inf"))
        for _ in range(30):
            for name, fn in runs.items():
                start = time.perf_counter()
                fn()
                best[name] = min(best[name], time.perf_counter() - start)
        used = eligible(conv) and size + 2 * padding - k + 1 >= MIN_OUTPUT
        err = np.abs(outputs["winograd"] - outputs["direct"]).max() / np.abs(outputs["direct"]).max()
        print(
            f"{cin:4d}->{cout:<4d} {k}x{k} {size:3d}px x{images} g{groups}  direct {best['direct'] * 1e3:6.2f} ms"
            f"  winograd {best['winograd'] * 1e3:6.2f} ms  x{best['direct'] / best['winograd']:.2f}"
            f"  rel. diff {err:.0e}  {'used' if used else 'left direct'}  ({where})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
