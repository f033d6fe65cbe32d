"""Reading checkpoints safely, recognising their layout and loading them strictly (trackers/checkpoints.py)."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from torch import nn

from tests.formula_weights import official_keys
from tests.shared_data import OFFICIAL_KEYS, needs_shared
from trackers.architectures import ARCHITECTURES
from trackers.checkpoints import (
    CheckpointError,
    detect_architecture,
    expected_layout,
    load_strict,
    read_state_dict,
    unwrap_state_dict,
)

# --- reading --------------------------------------------------------------------------------------

EXECUTED: list[str] = []


def _record(tag):
    EXECUTED.append(tag)
    return tag


class Payload:
    """Pickles as a call to ``_record``: loading it unsafely would run code."""

    def __reduce__(self):
        return (_record, ("payload ran",))


class Plain:
    pass


def save(tmp_path, obj, name="ckpt.pth"):
    path = tmp_path / name
    torch.save(obj, path)
    return path


def test_read_plain_state_dict(tmp_path):
    sd = OrderedDict(a=torch.arange(3.0), b=torch.ones(2, 2))
    out = read_state_dict(save(tmp_path, sd))
    assert list(out) == ["a", "b"]
    assert torch.equal(out["a"], sd["a"]) and torch.equal(out["b"], sd["b"])
    assert out["a"].device.type == "cpu"


def test_read_unwraps_state_dict_and_strips_module(tmp_path):
    snapshot = {
        "epoch": 19,
        "state_dict": {"module.backbone.w": torch.ones(2), "module.head.b": torch.zeros(1)},
        "optimizer": {"param_groups": [{"lr": 0.001}], "state": {}},
    }
    out = read_state_dict(save(tmp_path, snapshot))
    assert list(out) == ["backbone.w", "head.b"]
    assert torch.equal(out["backbone.w"], torch.ones(2))


@pytest.mark.parametrize("wrapper", ["state_dict", "model", "net"])
def test_unwrap_wrappers(wrapper):
    out = unwrap_state_dict({wrapper: {"x.weight": torch.ones(1)}, "epoch": 3})
    assert list(out) == ["x.weight"]


def test_unwrap_strips_only_a_leading_module_prefix():
    out = unwrap_state_dict(
        {"module.a": torch.ones(1), "b.module.c": torch.ones(1), "modulex": torch.ones(1)}
    )
    assert list(out) == ["a", "b.module.c", "modulex"]


def test_unwrap_rejects_non_tensor_entries():
    with pytest.raises(CheckpointError, match=r"ck\.pth: entry 'b' is a int, not a tensor"):
        unwrap_state_dict({"state_dict": {"a": torch.ones(1), "b": 3}}, source="ck.pth")


@pytest.mark.parametrize("obj", [{}, [torch.ones(1)], torch.ones(2), {"state_dict": {}}])
def test_unwrap_rejects_containers_without_a_state_dict(obj):
    with pytest.raises(CheckpointError, match="no state_dict found"):
        unwrap_state_dict(obj, source="ck.pth")


def test_read_refuses_a_pickled_object_without_running_it(tmp_path):
    path = save(tmp_path, {"w": torch.ones(1), "evil": Payload()}, "evil.pth")
    EXECUTED.clear()
    with pytest.raises(CheckpointError) as info:
        read_state_dict(path)
    assert EXECUTED == []  # refused, never executed
    msg = str(info.value)
    assert msg.startswith("evil.pth: refused")
    assert "weights_only=True" in msg
    # the user is told which object was refused
    assert "_record" in msg


class SystemCall:
    """Pickles as a call of os.system: torch blocks the whole module (a differently worded error)."""

    def __reduce__(self):
        import os

        return (os.system, ("echo never",))


def test_read_refuses_a_blocked_module_call_with_our_message(tmp_path):
    path = save(tmp_path, {"w": torch.ones(1), "x": SystemCall()}, "system.pth")
    with pytest.raises(CheckpointError) as info:
        read_state_dict(path)
    msg = str(info.value)
    assert msg.startswith("system.pth: refused") and "system" in msg
    assert "weights_only` set to `False`" not in msg  # never torch's advice to load it unsafely


def test_read_refuses_a_custom_class_instance(tmp_path):
    path = save(tmp_path, {"state_dict": {"w": torch.ones(1)}, "meta": Plain()}, "custom.pth")
    with pytest.raises(CheckpointError) as info:
        read_state_dict(path)
    msg = str(info.value)
    assert msg.startswith("custom.pth: refused") and "Plain" in msg


def test_read_rejects_a_set_entry(tmp_path):
    # weights_only unpickling allows sets; the state_dict check then names the bad entry.
    path = save(tmp_path, {"w": torch.ones(1), "names": {"a", "b"}}, "set.pth")
    with pytest.raises(CheckpointError, match=r"set\.pth: entry 'names' is a set, not a tensor"):
        read_state_dict(path)


def test_read_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="checkpoint not found: .*nothere.pth"):
        read_state_dict(tmp_path / "nothere.pth")
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        read_state_dict(tmp_path)  # a directory is not a checkpoint file


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage bytes, not a checkpoint", b"PK\x03\x04 a broken zip", bytes(range(256)) * 4],
    ids=["empty", "text", "broken-zip", "binary"],
)
def test_read_garbage_is_reported_as_unreadable(tmp_path, data):
    path = tmp_path / "garbage.pth"
    path.write_bytes(data)
    with pytest.raises(CheckpointError) as info:
        read_state_dict(path)
    msg = str(info.value)
    assert msg.startswith("garbage.pth: not a readable PyTorch checkpoint")
    # a corrupt file must not be described as one holding unsafe Python objects
    assert "refused" not in msg


# --- strict loading ---------------------------------------------------------------------------------


def tiny_model() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))


def tiny_state_dict() -> OrderedDict:
    g = torch.Generator().manual_seed(0)
    return OrderedDict(
        [
            ("0.weight", torch.randn(2, 1, 3, 3, generator=g)),
            ("0.bias", torch.randn(2, generator=g)),
            ("1.weight", torch.randn(2, generator=g)),
            ("1.bias", torch.randn(2, generator=g)),
            ("1.running_mean", torch.randn(2, generator=g)),
            ("1.running_var", torch.rand(2, generator=g) + 0.5),
            ("1.num_batches_tracked", torch.tensor(7)),
        ]
    )


def test_load_strict_loads_values():
    m, sd = tiny_model(), tiny_state_dict()
    load_strict(m, sd)
    for k, v in sd.items():
        assert torch.equal(m.state_dict()[k], v)


def test_load_strict_without_num_batches_tracked():
    m, sd = tiny_model(), tiny_state_dict()
    del sd["1.num_batches_tracked"]
    load_strict(m, sd)
    assert torch.equal(m[0].weight.data, sd["0.weight"])
    assert torch.equal(m[1].running_var, sd["1.running_var"])


def test_load_strict_lists_missing_unexpected_and_wrong_shape():
    m, sd = tiny_model(), tiny_state_dict()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    del sd["0.bias"]
    sd["2.weight"] = torch.ones(1)
    sd["1.weight"] = torch.ones(3)
    with pytest.raises(CheckpointError) as info:
        load_strict(m, sd, source="tiny.pth")
    e = info.value
    assert e.missing == ["0.bias"]
    assert e.unexpected == ["2.weight"]
    assert e.wrong_shape == ["1.weight: checkpoint (3,) vs expected (2,)"]
    assert str(e) == (
        "tiny.pth does not fit Sequential: missing 0.bias; unexpected 2.weight; "
        "wrong shape 1.weight: checkpoint (3,) vs expected (2,)"
    )
    for k, v in m.state_dict().items():  # nothing was half-loaded
        assert torch.equal(v, before[k])


def test_load_strict_summarises_long_lists():
    m = nn.Sequential(*[nn.Linear(1, 1) for _ in range(6)])  # 12 keys
    with pytest.raises(CheckpointError) as info:
        load_strict(m, {"x": torch.ones(1)})
    e = info.value
    assert len(e.missing) == 12 and e.unexpected == ["x"]
    assert "… (12 in all)" in str(e)
    assert "missing 0.bias, 0.weight, 1.bias" in str(e)  # sorted


# --- architecture detection (needs the official key lists) -------------------------------------------

# Official layouts that two of our architecture names share (same network, other hyper-parameters):
# a checkpoint can only be recognised up to this equivalence.
SAME_LAYOUT = [
    {"pysot__siamrpn_alex_dwxcorr", "pysot__siamrpn_alex_dwxcorr_otb"},
    {"dasiamrpn__SiamRPNotb", "dasiamrpn__SiamRPNvot"},
    {"siamban__siamban_r50_l234", "siamban__siamban_r50_l234_otb"},
]
UNIQUE = [
    "siamfc_pytorch__alexnetv1",
    "dasiamrpn__SiamRPNBIG",
    "pysot__siamrpn_r50_l234_dwxcorr",
    "pysot__siamrpn_r50_l234_dwxcorr_otb",
    "pysot__siamrpn_mobilev2_l234_dwxcorr",
]
# pysot training configs build the networks of their released siblings.
TRAINING = {
    "pysot__siamrpn_r50_l234_dwxcorr_8gpu": "pysot__siamrpn_r50_l234_dwxcorr",
    "pysot__siamrpn_r50_l234_dwxcorr_16gpu": "pysot__siamrpn_r50_l234_dwxcorr",
    "pysot__siamrpn_r50_l234_dwxcorr_otb_8gpu": "pysot__siamrpn_r50_l234_dwxcorr_otb",
}


def random_state_dict(stem: str, drop_counters: bool = False) -> OrderedDict:
    g = torch.Generator().manual_seed(0)
    out = OrderedDict()
    for key, shape in official_keys(stem).items():
        if key.endswith("num_batches_tracked"):
            if not drop_counters:
                out[key] = torch.zeros(shape, dtype=torch.int64)
        else:
            out[key] = torch.randn(shape, generator=g)
    return out


def equivalents(stem: str) -> set[str]:
    for group in SAME_LAYOUT:
        if stem in group:
            return group
    return {stem}


@needs_shared
@pytest.mark.parametrize("stem", UNIQUE + sorted(set().union(*SAME_LAYOUT)))
def test_detect_official_layouts(stem):
    assert (OFFICIAL_KEYS / f"{stem}.json").is_file()
    found = detect_architecture(random_state_dict(stem))
    assert found in equivalents(stem)
    if stem in UNIQUE:
        assert found == stem
    # what we recognise is exactly the official key -> shape list
    assert expected_layout(found) == dict(official_keys(stem))


@needs_shared
def test_layout_groups_are_what_we_think():
    # the hand-written equivalence groups above are the real ones
    for group in SAME_LAYOUT:
        layouts = [expected_layout(a) for a in sorted(group)]
        assert layouts[0] == layouts[1]
    for a in UNIQUE:
        for b in ARCHITECTURES:
            if a != b:
                assert expected_layout(a) != expected_layout(b), (a, b)


@needs_shared
@pytest.mark.parametrize("stem", sorted(TRAINING))
def test_detect_training_config_layouts(stem):
    assert detect_architecture(random_state_dict(stem)) == TRAINING[stem]


@needs_shared
@pytest.mark.parametrize(
    "stem", ["siamfc_pytorch__alexnetv1", "dasiamrpn__SiamRPNBIG", "pysot__siamrpn_r50_l234_dwxcorr"]
)
def test_detect_without_num_batches_tracked(stem):
    sd = random_state_dict(stem, drop_counters=True)
    assert not any(k.endswith("num_batches_tracked") for k in sd)
    assert detect_architecture(sd) == stem


@needs_shared
def test_detect_renamed_key_names_closest_and_the_keys():
    sd = random_state_dict("siamfc_pytorch__alexnetv1")
    sd["backbone.conv3.0.weights"] = sd.pop("backbone.conv3.0.weight")
    with pytest.raises(CheckpointError) as info:
        detect_architecture(sd, source="renamed.pth")
    e = info.value
    assert e.closest == "siamfc_pytorch__alexnetv1"
    assert e.missing == ["backbone.conv3.0.weight"]
    assert e.unexpected == ["backbone.conv3.0.weights"]
    assert e.wrong_shape == []
    msg = str(e)
    assert msg.startswith("renamed.pth: its keys and shapes match no known architecture.")
    assert "Closest: siamfc_pytorch__alexnetv1 (1 missing, 1 unexpected, 0 wrong-shape keys)" in msg
    assert "missing: backbone.conv3.0.weight" in msg
    assert "unexpected: backbone.conv3.0.weights" in msg


@needs_shared
def test_detect_renamed_key_in_a_deep_model():
    sd = random_state_dict("pysot__siamrpn_r50_l234_dwxcorr")
    sd["rpn_head.rpn2.cls.head.0.weightx"] = sd.pop("rpn_head.rpn2.cls.head.0.weight")
    with pytest.raises(CheckpointError) as info:
        detect_architecture(sd)
    e = info.value
    assert e.closest == "pysot__siamrpn_r50_l234_dwxcorr"  # not its _otb sibling (2 more keys off)
    assert e.missing == ["rpn_head.rpn2.cls.head.0.weight"]
    assert e.unexpected == ["rpn_head.rpn2.cls.head.0.weightx"]


@needs_shared
def test_detect_wrong_shape_is_named():
    sd = random_state_dict("siamfc_pytorch__alexnetv1")
    sd["backbone.conv5.0.weight"] = torch.zeros(256, 384, 3, 3)  # groups=1 instead of 2
    with pytest.raises(CheckpointError) as info:
        detect_architecture(sd)
    e = info.value
    assert e.closest == "siamfc_pytorch__alexnetv1"
    assert e.missing == [] and e.unexpected == []
    assert e.wrong_shape == [
        "backbone.conv5.0.weight: checkpoint (256, 384, 3, 3) vs expected (256, 192, 3, 3)"
    ]
    assert "wrong shape: backbone.conv5.0.weight" in str(e)


@needs_shared
def test_detect_unsupported_official_model_is_an_error():
    # SiamMask is in the official key lists but not among our architectures.
    with pytest.raises(CheckpointError, match="match no known architecture. Closest: "):
        detect_architecture(random_state_dict("pysot__siammask_r50_l3"))


@needs_shared
def test_detect_respects_candidates():
    sd = random_state_dict("siamfc_pytorch__alexnetv1")
    assert detect_architecture(sd, candidates=["siamfc_pytorch__alexnetv1"]) == "siamfc_pytorch__alexnetv1"
    with pytest.raises(CheckpointError) as info:
        detect_architecture(sd, candidates=["dasiamrpn__SiamRPNBIG"])
    assert info.value.closest == "dasiamrpn__SiamRPNBIG"


@needs_shared
def test_file_round_trip_and_identify(tmp_path):
    from trackers.registry import identify_checkpoint

    sd = random_state_dict("siamfc_pytorch__alexnetv1", drop_counters=True)
    path = save(tmp_path, {"epoch": 50, "state_dict": {f"module.{k}": v for k, v in sd.items()}}, "fc.pth")
    loaded = read_state_dict(path)
    assert list(loaded) == list(sd)
    assert detect_architecture(loaded, source=path.name) == "siamfc_pytorch__alexnetv1"
    assert identify_checkpoint(path) == ("siamfc", "siamfc_pytorch__alexnetv1")
    model = ARCHITECTURES["siamfc_pytorch__alexnetv1"]()
    load_strict(model, loaded, source=path.name)
    assert torch.equal(model.state_dict()["backbone.conv1.0.weight"], sd["backbone.conv1.0.weight"])
