"""Winograd convolutions of the exported search graphs (trackers/ops/winograd.py): the same
function as the direct convolution, to float32 rounding, in PyTorch and through OpenVINO."""

from __future__ import annotations

import io
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn

import trackers
from tests.fast_path import assert_same_outputs_on_crops
from tests.shared_data import needs_shared, vot_bag
from trackers import onnx_runner
from trackers.architectures import build
from trackers.onnx_runner import GraphSpec
from trackers.ops.winograd import MIN_OUTPUT, WinogradConv2d, eligible, transforms, with_winograd


@pytest.mark.parametrize(("m", "r"), [(2, 3), (4, 3), (4, 5)])
def test_the_transforms_compute_a_correlation(m, r):
    at, g, bt = transforms(m, r)
    rng = np.random.default_rng(0)
    d, k = rng.normal(size=m + r - 1), rng.normal(size=r)
    got = at.numpy() @ ((g.numpy() @ k) * (bt.numpy() @ d))
    np.testing.assert_allclose(got, np.correlate(d, k, mode="valid"), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    ("cin", "cout", "k", "size", "batch", "padding", "groups"),
    [
        (16, 24, 3, 22, 1, 0, 1),  # output 20: whole 4x4 blocks
        (16, 24, 3, 13, 3, 1, 1),  # output 13: a cropped last block, three images
        (32, 16, 3, 9, 2, 0, 2),  # groups
        (8, 32, 5, 17, 1, 2, 1),
        (24, 32, 5, 15, 3, 0, 2),
    ],
)
def test_a_winograd_convolution_equals_the_direct_one(cin, cout, k, size, batch, padding, groups):
    torch.manual_seed(0)
    conv = nn.Conv2d(cin, cout, k, padding=padding, groups=groups).eval()
    x = torch.randn(batch, cin, size, size)
    with torch.no_grad():
        want, got = conv(x), WinogradConv2d(conv)(x)
    assert got.shape == want.shape
    assert (got - want).abs().max() <= 1e-5 * want.abs().max()


def test_only_wide_stride_one_layers_are_eligible():
    assert eligible(nn.Conv2d(256, 256, 3))
    assert eligible(nn.Conv2d(96, 256, 5, groups=2))  # 48 in / 128 out per group
    assert eligible(nn.Conv2d(384, 384, 3, groups=2))
    assert not eligible(nn.Conv2d(384, 256, 3, groups=2))  # 128 out per group: measured slower
    assert not eligible(nn.Conv2d(64, 64, 3))  # narrow: the transforms cost more than they save
    assert not eligible(nn.Conv2d(256, 256, 3, stride=2))
    assert not eligible(nn.Conv2d(256, 256, 3, dilation=2, padding=2))
    assert not eligible(nn.Conv2d(256, 256, 3, groups=256))  # depth-wise
    assert not eligible(nn.Conv2d(256, 256, 1))
    assert not eligible(nn.Conv2d(256, 256, 3, padding="same"))


def test_the_copy_has_winograd_layers_where_the_maps_are_large_and_the_model_keeps_its_own():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 128, 3), nn.ReLU(), nn.Conv2d(128, 128, 3, padding=1)).eval()
    x = torch.rand(1, 3, 31, 31)  # the wide layer's output: 29 x 29
    copy, replaced = with_winograd(model, lambda m: m(x))
    assert replaced == 1 and isinstance(copy[2], WinogradConv2d)
    assert type(model[2]) is nn.Conv2d and type(copy[0]) is nn.Conv2d
    assert not model[2]._forward_hooks  # the size probe leaves nothing behind
    with torch.no_grad():
        want, got = model(x), copy(x)
    assert (got - want).abs().max() <= 1e-5 * want.abs().max()
    small = torch.rand(1, 3, MIN_OUTPUT + 1, MIN_OUTPUT + 1)  # output MIN_OUTPUT - 1: stays direct
    assert with_winograd(model, lambda m: m(small)) == (model, 0)


def test_the_graph_spec_carries_the_choice():
    spec = GraphSpec((1, 255, 255, 3), (("zf", None),), (((1, 256, 7, 7), "float32"),), winograd=False)
    assert GraphSpec.from_json(spec.to_json()) == spec
    assert GraphSpec.from_json(GraphSpec((1, 8, 8, 3), (), ()).to_json()).winograd


def test_openvino_runs_the_exported_winograd_layer_as_pytorch_does():
    pytest.importorskip("openvino")
    import onnx

    torch.manual_seed(0)
    layer = WinogradConv2d(nn.Conv2d(128, 128, 3, padding=1).eval()).eval()
    x = torch.randn(2, 128, 19, 19)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(layer, (x,), buffer, dynamo=False, opset_version=17, input_names=["x"])
    graph = onnx.load_from_string(buffer.getvalue()).graph
    d2s = [n for n in graph.node if n.op_type == "DepthToSpace"]
    assert d2s and all(a.s == b"DCR" for n in d2s for a in n.attribute if a.name == "mode")
    got = next(iter(onnx_runner._session_from(buffer.getvalue()).run({"x": x.numpy()}).values()))
    with torch.no_grad():
        want = layer(x).numpy()
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()


@needs_shared
@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "layout"), [("siamrpn", "pysot__siamrpn_alex_dwxcorr"), ("siamfc", "siamfc_pytorch__alexnetv1")]
)
def test_a_seed_tracker_with_winograd_layers_computes_as_pytorch_on_real_frames(
    name, layout, tmp_path, monkeypatch
):
    pytest.importorskip("openvino")
    replaced = []

    def counting(model, run):
        out = with_winograd(model, run)
        replaced.append(out[1])
        return out

    monkeypatch.setattr(onnx_runner, "with_winograd", counting)
    # exported here, not found in a cache an earlier test filled (same formula weights, same key)
    monkeypatch.setenv("SIAMARK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(onnx_runner, "_sessions", OrderedDict())
    monkeypatch.setattr(onnx_runner, "_export_elsewhere", False)  # the app's tests turn it on
    torch.manual_seed(0)
    weights = tmp_path / f"{layout}.pth"
    torch.save(build(layout).state_dict(), weights)
    frames, box = vot_bag(8)
    reference, fast = (
        trackers.create(name, weights=str(weights), device="cpu", backend=b) for b in ("torch", "openvino")
    )
    reference.init(frames[0], box)
    fast.init(frames[0], box)
    # measured up to 6e-6 of the output's scale (the direct graph: ~1e-6)
    assert_same_outputs_on_crops(reference, fast, frames[1:], rel=5e-5)
    assert replaced and replaced[0] >= 3  # the graph that ran had Winograd layers
