"""Fidelity of the pysot / siamban networks (SiamRPN alex, SiamRPN++ r50 / mobilev2, SiamBAN).

Layout: our state_dict equals the official key -> shape list and loads the formula weights
strictly. Numerics: with those weights, template features and head outputs equal the official
forward fixtures (shared/fixtures/fidelity/README.md §3, §5 tolerances). Batching: B templates
against B search crops give the same result as B single runs.
"""

from __future__ import annotations

import copy
import hashlib
import json

import numpy as np
import pytest
import torch

from tests.formula_weights import formula_weights, official_keys
from tests.shared_data import FIDELITY, FIDELITY_DTYPE, fixture_tensor, needs_shared
from trackers.models.builders import ARCHITECTURES
from trackers.models.mobilenet_v2 import MobileNetV2
from trackers.models.neck import AdjustAllLayer
from trackers.models.resnet_atrous import resnet50

RTOL = ATOL = 1e-5

# Released configs: built, compared with the official key list and loaded strictly.
LAYOUT_STEMS = [
    "pysot__siamrpn_alex_dwxcorr",
    "pysot__siamrpn_alex_dwxcorr_otb",
    "pysot__siamrpn_r50_l234_dwxcorr",
    "pysot__siamrpn_r50_l234_dwxcorr_otb",
    "pysot__siamrpn_mobilev2_l234_dwxcorr",
    "siamban__siamban_r50_l234",
    "siamban__siamban_r50_l234_otb",
]
# pysot's training configs build the same networks as a released sibling; their key lists are
# checked against it (same key names, so the formula weights would be identical too).
TRAINING_VARIANTS = {
    "pysot__siamrpn_r50_l234_dwxcorr_8gpu": "pysot__siamrpn_r50_l234_dwxcorr",
    "pysot__siamrpn_r50_l234_dwxcorr_16gpu": "pysot__siamrpn_r50_l234_dwxcorr",
    "pysot__siamrpn_r50_l234_dwxcorr_otb_8gpu": "pysot__siamrpn_r50_l234_dwxcorr_otb",
}
# Not built here: pysot__siamrpn_alex_dwxcorr_16gpu (training-only grouped `alexnet` backbone,
# keys backbone.layer1..layer5) and pysot__siammask_r50_l3 (out of scope).

FORWARD_STEMS = [
    "pysot__siamrpn_alex_dwxcorr",
    "pysot__siamrpn_r50_l234_dwxcorr",
    "pysot__siamrpn_r50_l234_dwxcorr_otb",
    "pysot__siamrpn_mobilev2_l234_dwxcorr",
    "siamban__siamban_r50_l234",
]
CHECKSUM_STEMS = [
    "pysot__siamrpn_alex_dwxcorr",
    "pysot__siamrpn_mobilev2_l234_dwxcorr",
    "siamban__siamban_r50_l234",
]


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    # The fixtures were produced with one intra-op thread; more threads reorder float sums.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _build_loaded(stem: str) -> torch.nn.Module:
    model = ARCHITECTURES[stem]()
    model.load_state_dict(formula_weights(stem), strict=True)
    return model.eval()


@pytest.fixture(scope="module")
def loaded_model():
    """Formula-weighted models, built once per module for the stems used by several tests."""
    cache: dict[str, torch.nn.Module] = {}

    def get(stem: str) -> torch.nn.Module:
        if stem not in FORWARD_STEMS:
            return _build_loaded(stem)  # used once; caching R50s would only cost memory
        if stem not in cache:
            cache[stem] = _build_loaded(stem)
        return cache[stem]

    yield get
    cache.clear()


def _tensor(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a.astype(np.float32))


# --- structure (no shared data needed) ---------------------------------------------------------


def test_single_level_neck_key_and_crop():
    neck = AdjustAllLayer([1024], [256])
    assert "downsample.downsample.0.weight" in neck.state_dict()
    neck.eval()
    with torch.no_grad():
        assert neck(torch.zeros(1, 1024, 15, 15)).shape == (1, 256, 7, 7)  # template: cropped
        assert neck(torch.zeros(1, 1024, 31, 31)).shape == (1, 256, 31, 31)  # search: not


def test_resnet_builds_only_used_stages():
    keys = resnet50(used_layers=(0, 1, 2, 3)).state_dict()  # SiamMask: no layer4 keys
    assert any(k.startswith("layer3.") for k in keys)
    assert not any(k.startswith("layer4.") for k in keys)
    pysot = resnet50(used_layers=(2, 4)).state_dict()
    siamban = resnet50(used_layers=(2, 4), layer3_with_layer4=True).state_dict()
    assert not any(k.startswith("layer3.") for k in pysot)
    assert any(k.startswith("layer3.") for k in siamban)


def test_mobilenet_v2_general_width():
    net = MobileNetV2(width_mult=1.0, used_layers=(3, 5, 7)).eval()
    assert net.out_channels == [32, 96, 320]
    with torch.no_grad():
        outs = net(torch.zeros(1, 3, 127, 127))
    assert [tuple(o.shape) for o in outs] == [(1, c, 15, 15) for c in (32, 96, 320)]


# --- layout against the official key lists -----------------------------------------------------


def _layout(model: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


@needs_shared
@pytest.mark.parametrize("stem", LAYOUT_STEMS)
def test_state_dict_layout_matches_official(stem, loaded_model):
    model = loaded_model(stem)  # strict loading of the formula weights happens here
    assert _layout(model) == dict(official_keys(stem))


@needs_shared
@pytest.mark.parametrize("stem", sorted(TRAINING_VARIANTS))
def test_training_config_layouts_match_released_sibling(stem):
    assert _layout(ARCHITECTURES[TRAINING_VARIANTS[stem]]()) == dict(official_keys(stem))


@needs_shared
@pytest.mark.parametrize("stem", CHECKSUM_STEMS)
def test_loaded_weights_match_formula_checksums(stem, loaded_model):
    expected = json.loads((FIDELITY / "formula_checksums.json").read_text())[stem]
    state = loaded_model(stem).state_dict()
    assert len(state) == expected["num_tensors"]
    for key, (_, sha16) in expected["keys"].items():
        t = state[key]
        arr = np.ascontiguousarray(t.numpy(), dtype="<i8" if t.dtype == torch.int64 else "<f4")
        assert hashlib.sha256(arr.tobytes()).hexdigest()[:16] == sha16, key


# --- numerics against the official forward fixtures --------------------------------------------


@needs_shared
@pytest.mark.parametrize("stem", FORWARD_STEMS)
def test_forward_matches_official(stem, loaded_model):
    model = copy.deepcopy(loaded_model(stem)).to(FIDELITY_DTYPE)  # the cached model stays float32
    fx = np.load(FIDELITY / f"{stem}.npz")
    with torch.no_grad():
        model.template(fixture_tensor(fx["z"]))
        out = model.track(fixture_tensor(fx["x"]))
    # zf first: a mismatch there points at backbone/neck, otherwise at the head.
    zf_names = sorted(n for n in fx.files if n.startswith("zf_"))
    assert len(model.zf) == len(zf_names)
    for i, zf in enumerate(model.zf):
        np.testing.assert_allclose(zf.numpy(), fx[f"zf_{i}"], rtol=RTOL, atol=ATOL, err_msg=f"zf_{i}")
    for name in ("cls", "loc"):
        np.testing.assert_allclose(out[name].numpy(), fx[name], rtol=RTOL, atol=ATOL, err_msg=name)
    if "x_track" in fx.files:  # alex: the tracker's own 287 search size, same template
        with torch.no_grad():
            out = model.track(fixture_tensor(fx["x_track"]))
        for name in ("cls", "loc"):
            np.testing.assert_allclose(
                out[name].numpy(), fx[f"{name}_track"], rtol=RTOL, atol=ATOL, err_msg=f"{name}_track"
            )


@needs_shared
# alex: single level; mobilev2: multi-level neck + fused head (the siamban head batches alike).
@pytest.mark.parametrize("stem", ["pysot__siamrpn_alex_dwxcorr", "pysot__siamrpn_mobilev2_l234_dwxcorr"])
def test_batch_equals_single_runs(stem, loaded_model):
    model = loaded_model(stem)
    fx = np.load(FIDELITY / f"{stem}.npz")
    z, x = _tensor(fx["z"]), _tensor(fx["x"])
    # Two different objects: the second template / search are flipped / shifted copies.
    zs = [z, torch.flip(z, dims=[3])]
    xs = [x, torch.roll(x, shifts=(17, -9), dims=(2, 3))]
    with torch.no_grad():
        singles = []
        for zi, xi in zip(zs, xs, strict=True):
            model.template(zi)
            singles.append(model.track(xi))
        model.template(torch.cat(zs))
        batched = model.track(torch.cat(xs))
    for name in ("cls", "loc"):
        assert batched[name].shape[0] == 2
        assert not torch.allclose(singles[0][name], singles[1][name])  # the pair really differs
        for i, single in enumerate(singles):
            np.testing.assert_allclose(
                batched[name][i : i + 1].numpy(),
                single[name].numpy(),
                rtol=RTOL,
                atol=ATOL,
                err_msg=f"{name}[{i}]",
            )
