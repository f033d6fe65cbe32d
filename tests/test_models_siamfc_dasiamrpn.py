"""SiamFC (siamfc-pytorch) and DaSiamRPN networks against the official key lists and fixtures."""

from __future__ import annotations

from collections import OrderedDict
from functools import cache

import numpy as np
import pytest
import torch

from tests.formula_weights import formula_weights, official_keys
from tests.shared_data import FIDELITY, FIDELITY_DTYPE, fixture_tensor, needs_shared
from trackers.models.dasiamrpn import DASIAMRPN_ARCHITECTURES, DaSiamRPN, build_dasiamrpn
from trackers.models.siamfc_net import SIAMFC_ARCHITECTURES, SiamFCNet, build_siamfc_alexnetv1

ARCHITECTURES = {**SIAMFC_ARCHITECTURES, **DASIAMRPN_ARCHITECTURES}
TOL = {"rtol": 1e-5, "atol": 1e-5}  # fidelity README §5


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # The fixtures were produced with one intra-op thread (README §5).
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@cache
def _weights(stem: str) -> OrderedDict:
    # SiamRPNBIG's 90 M formula values take seconds to draw; share them (read-only) across tests.
    return formula_weights(stem)


def _loaded(stem: str) -> torch.nn.Module:
    model = ARCHITECTURES[stem]().eval()
    model.load_state_dict(_weights(stem), strict=True)
    return model


def _assert_close_scaled(ours: torch.Tensor, ref: torch.Tensor) -> None:
    # Random default-init weights give arbitrary magnitudes: tolerance relative to the array's scale.
    scale = float(ref.abs().max())
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-5, atol=1e-5 * scale)


# --- builders (no shared data needed) ------------------------------------------------------------


def test_builders_return_expected_types():
    assert isinstance(build_siamfc_alexnetv1(), SiamFCNet)
    assert set(DASIAMRPN_ARCHITECTURES) == {
        "dasiamrpn__SiamRPNBIG",
        "dasiamrpn__SiamRPNvot",
        "dasiamrpn__SiamRPNotb",
    }
    for alias in ("SiamRPNvot", "vot", "OTB"):
        net = build_dasiamrpn(alias)
        assert isinstance(net, DaSiamRPN) and net.feature_out == 256
    with pytest.raises(ValueError):
        build_dasiamrpn("resnet")


def test_siamfc_eps_and_groups():
    bb = build_siamfc_alexnetv1().backbone
    assert all(
        m.eps == 1e-6 and m.momentum == 0.05 for m in bb.modules() if isinstance(m, torch.nn.BatchNorm2d)
    )
    assert [bb.conv2[0].groups, bb.conv4[0].groups, bb.conv5[0].groups] == [2, 2, 2]


def test_track_before_template_raises():
    with pytest.raises(RuntimeError):
        build_siamfc_alexnetv1().track(torch.zeros(1, 3, 255, 255))
    with pytest.raises(RuntimeError):
        build_dasiamrpn("vot").track(torch.zeros(1, 3, 271, 271))


# --- keys and strict loading ---------------------------------------------------------------------


@needs_shared
@pytest.mark.parametrize("stem", sorted(ARCHITECTURES))
def test_state_dict_matches_official_keys(stem):
    ours = OrderedDict((k, tuple(v.shape)) for k, v in ARCHITECTURES[stem]().state_dict().items())
    assert ours == official_keys(stem)  # names, shapes and order


@needs_shared
@pytest.mark.parametrize("stem", sorted(ARCHITECTURES))
def test_formula_weights_load_strict(stem):
    model = _loaded(stem)
    ref = _weights(stem)
    for k, v in model.state_dict().items():
        assert torch.equal(v, ref[k]), k


@needs_shared
@pytest.mark.parametrize("stem", sorted(DASIAMRPN_ARCHITECTURES))
def test_dasiamrpn_torch03_checkpoint_without_num_batches_tracked_loads_strict(stem, tmp_path):
    # The released DaSiamRPN files come from torch 0.3: no num_batches_tracked, no _metadata.
    # Simulate one through a real save/load round trip; BatchNorm must fill the counters.
    sd = OrderedDict((k, v) for k, v in _weights(stem).items() if not k.endswith("num_batches_tracked"))
    assert len(sd) == 40
    path = tmp_path / "legacy.model"
    torch.save(sd, path)
    legacy = torch.load(path, map_location="cpu", weights_only=True)
    assert getattr(legacy, "_metadata", None) is None
    model = DASIAMRPN_ARCHITECTURES[stem]()
    model.load_state_dict(legacy, strict=True)
    for k, v in model.state_dict().items():
        if k.endswith("num_batches_tracked"):
            assert int(v) == 0
        else:
            assert torch.equal(v, sd[k]), k
    # Strictness is intact for real parameters.
    del sd["conv_r1.bias"]
    with pytest.raises(RuntimeError, match="conv_r1.bias"):
        DASIAMRPN_ARCHITECTURES[stem]().load_state_dict(sd, strict=True)


# --- forward fixtures ----------------------------------------------------------------------------


@needs_shared
def test_siamfc_forward_fixture():
    fx = np.load(FIDELITY / "siamfc_pytorch__alexnetv1.npz")
    net = _loaded("siamfc_pytorch__alexnetv1").to(FIDELITY_DTYPE)
    with torch.no_grad():
        net.template(fixture_tensor(fx["z"]))
        np.testing.assert_allclose(net.kernel.numpy(), fx["zf_0"], **TOL)
        response = net.track(fixture_tensor(fx["x"]))
        pair = net(fixture_tensor(fx["z"]), fixture_tensor(fx["x"]))
    assert response.shape == (1, 1, 17, 17)
    np.testing.assert_allclose(response.numpy(), fx["response"], **TOL)
    assert torch.equal(pair, response)


@needs_shared
def test_dasiamrpn_big_forward_fixture():
    fx = np.load(FIDELITY / "dasiamrpn__SiamRPNBIG.npz")
    net = _loaded("dasiamrpn__SiamRPNBIG").to(FIDELITY_DTYPE)
    with torch.no_grad():
        net.template(fixture_tensor(fx["z"]))
        out = net.track(fixture_tensor(fx["x"]))
        out_track = net.track(fixture_tensor(fx["x_track"]))
    assert out["cls"].shape == (1, 10, 17, 17) and out["loc"].shape == (1, 20, 17, 17)
    assert out_track["cls"].shape == (1, 10, 19, 19) and out_track["loc"].shape == (1, 20, 19, 19)
    for name in ("cls", "loc"):
        np.testing.assert_allclose(out[name].numpy(), fx[name], **TOL)
        np.testing.assert_allclose(out_track[name].numpy(), fx[f"{name}_track"], **TOL)


# --- batching (no shared data needed: default init, tolerance scaled to the outputs) -------------


def _images(n: int, size: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, size, size), generator=g).float()


@torch.no_grad()
def test_siamfc_scale_batch_equals_single():
    torch.manual_seed(0)
    net = build_siamfc_alexnetv1().eval()
    z, xs = _images(1, 127, 1), _images(3, 255, 2)
    net.template(z)
    batch = net.track(xs)
    assert batch.shape == (3, 1, 17, 17)
    for i in range(3):
        _assert_close_scaled(batch[i : i + 1], net.track(xs[i : i + 1]))


@torch.no_grad()
def test_siamfc_object_pairs_equal_single():
    torch.manual_seed(0)
    net = build_siamfc_alexnetv1().eval()
    zs, xs = _images(2, 127, 3), _images(2, 255, 4)
    net.template(zs)
    batch = net.track(xs)
    assert batch.shape == (2, 1, 17, 17)
    for i in range(2):
        _assert_close_scaled(batch[i : i + 1], net(zs[i : i + 1], xs[i : i + 1]))
    with pytest.raises(ValueError):
        net.track(_images(3, 255, 5))


@torch.no_grad()
def test_dasiamrpn_batches_equal_single():
    torch.manual_seed(0)
    net = build_dasiamrpn("vot").eval()
    zs, xs = _images(2, 127, 6), _images(2, 271, 7)
    singles = [net(zs[i : i + 1], xs[i : i + 1]) for i in range(2)]

    net.template(zs)  # one template per search
    pairs = net.track(xs)
    net.template(zs[:1])  # one template shared by every search
    shared = net.track(xs)
    assert pairs["cls"].shape == (2, 10, 19, 19) and pairs["loc"].shape == (2, 20, 19, 19)
    for name in ("cls", "loc"):
        for i in range(2):
            _assert_close_scaled(pairs[name][i : i + 1], singles[i][name])
        _assert_close_scaled(shared[name][1:], net(zs[:1], xs[1:])[name])
