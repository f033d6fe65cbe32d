"""NanoTrack v1/v2/v3: strict loading of the official checkpoints and equality with the official ONNX.

The ONNX files are run through cv2.dnn (the runtime the project ships); all three versions,
v3 included, import and run there. Inputs are random uint8 pixels cast to float32, as the
trackers feed raw 0..255 crops.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.shared_data import WEIGHTS, needs_shared
from trackers.checkpoints import load_strict, read_state_dict
from trackers.models.nanotrack import (
    NANOTRACK_ARCHITECTURES,
    NANOTRACK_VARIANTS,
    NanoTrackNet,
    build_nanotrack,
    xcorr_pixelwise,
)

NAMES = sorted(NANOTRACK_ARCHITECTURES)

# The official files in ../shared/data/weights (HonglinChu/SiamTrackers, Apache-2.0).
FILES = {
    "nanotrack_v1": (
        "nanotrack_v1/nanotrackv1.pth",
        "nanotrack_v1/nanotrack_backbone_sim.onnx",
        "nanotrack_v1/nanotrack_head_sim.onnx",
    ),
    "nanotrack_v2": (
        "nanotrack_v2/nanotrackv2.pth",
        "nanotrack_v2/nanotrack_backbone_sim.onnx",
        "nanotrack_v2/nanotrack_head_sim.onnx",
    ),
    "nanotrack_v3": (
        "nanotrack_v3/nanotrackv3.pth",
        "nanotrack_v3/nanotrack_backbone.onnx",
        "nanotrack_v3/nanotrack_head.onnx",
    ),
}


def _score_size(name: str) -> int:
    return NANOTRACK_VARIANTS[int(name[-1])]["score_size"]


# Tensor count and total values of each official state_dict (SOURCES.md), BN buffers included.
EXPECTED_STATE = {
    "nanotrack_v1": (231, 298_510),
    "nanotrack_v2": (298, 345_783),
    "nanotrack_v3": (438, 563_734),
}


def _close(actual: np.ndarray, expected: np.ndarray, rel: float = 1e-4) -> None:
    assert actual.shape == expected.shape
    scale = float(np.abs(expected).max())
    err = float(np.abs(actual - expected).max())
    assert err <= rel * scale + 1e-6, f"max abs err {err:.3g} vs scale {scale:.3g}"


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_layout_without_weights(name: str) -> None:
    sd = NanoTrackNet(name).state_dict()
    assert (len(sd), sum(t.numel() for t in sd.values())) == EXPECTED_STATE[name]


@pytest.mark.parametrize("name", NAMES)
def test_shapes_batch_and_template_broadcast(name: str) -> None:
    torch.manual_seed(0)
    net = build_nanotrack(name)
    s = _score_size(name)
    z = torch.rand(3, 3, 127, 127) * 255
    x = torch.rand(3, 3, 255, 255) * 255
    with torch.no_grad():
        net.template(z)
        out = net.track(x)
        assert out["cls"].shape == (3, 2, s, s) and out["loc"].shape == (3, 4, s, s)
        assert bool((out["loc"] > 0).all())  # exp() is part of the head
        # Pairs are independent: item 1 of the batch equals a batch of one.
        net.template(z[1:2])
        single = net.track(x[1:2])
        torch.testing.assert_close(single["cls"], out["cls"][1:2], rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(single["loc"], out["loc"][1:2], rtol=1e-4, atol=1e-4)
        # One cached template is broadcast over several searches.
        bcast = net.track(x)
        torch.testing.assert_close(bcast["cls"][1:2], single["cls"], rtol=1e-4, atol=1e-4)


def test_pixelwise_xcorr_channel_order() -> None:
    search = torch.randn(2, 5, 6, 7)
    kernel = torch.randn(2, 5, 3, 4)
    out = xcorr_pixelwise(search, kernel)
    assert out.shape == (2, 12, 6, 7)
    # Channel i*w+j is the dot product of template pixel (i, j) with every search pixel.
    ref = torch.einsum("bc,bchw->bhw", kernel[:, :, 2, 1], search)
    torch.testing.assert_close(out[:, 2 * 4 + 1], ref)


@needs_shared
@pytest.mark.parametrize("name", NAMES)
def test_official_checkpoint_loads_strict(name: str) -> None:
    # The .pth files are {'epoch', 'state_dict', 'optimizer'} snapshots read with weights_only=True.
    sd = read_state_dict(WEIGHTS / FILES[name][0])
    net = NanoTrackNet(name)
    load_strict(net, sd)
    assert not any(k.startswith("module.") for k in sd)


@needs_shared
@pytest.mark.parametrize("name", NAMES)
def test_matches_official_onnx_in_cv2_dnn(name: str) -> None:
    import cv2
    ckpt, backbone_onnx, head_onnx = FILES[name]
    net = build_nanotrack(name)
    load_strict(net, read_state_dict(WEIGHTS / ckpt))
    backbone = cv2.dnn.readNetFromONNX(str(WEIGHTS / backbone_onnx))
    head = cv2.dnn.readNetFromONNX(str(WEIGHTS / head_onnx))
    rng = np.random.default_rng(7)
    z = rng.integers(0, 256, (1, 3, 127, 127)).astype(np.float32)
    x = rng.integers(0, 256, (1, 3, 255, 255)).astype(np.float32)

    with torch.no_grad():
        zf = net.template(torch.from_numpy(z))
        out = net.track(torch.from_numpy(x))
        xf = net.backbone(torch.from_numpy(x))

    # The exported backbone is fully convolutional: OpenCV's TrackerNano feeds it the 127 crop too.
    for inp, feat in ((z, zf), (x, xf)):
        backbone.setInput(inp)
        _close(feat.numpy(), backbone.forward())

    # Head fed with *our* features so the comparison isolates the head.
    head.setInput(zf.numpy(), "input1")
    head.setInput(xf.numpy(), "input2")
    cls, loc = head.forward(["output1", "output2"])
    s = _score_size(name)
    assert cls.shape == (1, 2, s, s) and loc.shape == (1, 4, s, s)
    _close(out["cls"].numpy(), cls)
    _close(out["loc"].numpy(), loc)
