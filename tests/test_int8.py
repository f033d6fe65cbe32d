"""INT8 convolutions on the CPU fast path: the quantization maths, the stored parameters, the
backend, and the shipped models' int8 graphs against PyTorch on real frames."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from tests.shared_data import SEQUENCES, needs_shared, vot_bag
from trackers import cli, onnx_runner, registry
from trackers.io import read_groundtruth
from trackers.measured import sha256_of
from trackers.metrics import iou
from trackers.onnx_runner import GraphSpec, OnnxRunner, exact_int8, export_graph, openvino_available
from trackers.ops.int8 import Int8Conv2d, collect_ranges, collect_shifts, with_int8
from trackers.quantization import QUANTIZATION_FILE, Int8Params, for_weights

needs_openvino = pytest.mark.skipif(not openvino_available(), reason="openvino is not installed")


def _conv_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 1))


def test_ranges_are_the_mean_of_each_calls_extremes():
    net = _conv_net()
    a, b = torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4)
    a[0, 0, 0, 0], a[0, 1, 0, 0] = -1.0, 3.0
    b[0, 0, 0, 0], b[0, 1, 0, 0] = -3.0, 5.0
    ranges = collect_ranges(net, lambda: [net(a), net(b)])
    assert ranges["0"] == pytest.approx((-2.0, 4.0))
    assert ranges["2"][0] >= 0.0  # after the ReLU: an unsigned range
    assert set(ranges) == {"0", "2"}


def test_an_int8_convolution_stays_close_and_picks_unsigned_after_relu():
    net = _conv_net()
    x = torch.randn(4, 3, 16, 16)
    ranges = collect_ranges(net, lambda: net(x))
    first, second = Int8Conv2d(net[0], *ranges["0"]), Int8Conv2d(net[2], *ranges["2"])
    assert not first.unsigned and second.unsigned
    with torch.no_grad():
        want = net[0](x)
        got = first(x)
    # 8 bits on both sides: within a few quantization steps of the output's spread
    assert (got - want).abs().max() <= 0.05 * want.abs().max()
    assert not torch.equal(got, want)  # it is quantized


def test_bias_correction_removes_the_mean_shift_of_rounded_weights():
    torch.manual_seed(1)
    conv = nn.Conv2d(16, 8, 3, padding=1)
    with torch.no_grad():
        conv.weight.add_(0.3)  # channels whose rounding errors do not cancel
    x = torch.rand(8, 16, 12, 12) * 4 + 1  # positive inputs with a large mean
    ranges = collect_ranges(conv, lambda: conv(x))
    shifts = collect_shifts(conv, ranges, lambda: conv(x))
    with torch.no_grad():
        want = conv(x).mean(dim=(0, 2, 3))
        plain = Int8Conv2d(conv, *ranges[""])(x).mean(dim=(0, 2, 3))
        corrected = Int8Conv2d(conv, *ranges[""], shifts[""])(x).mean(dim=(0, 2, 3))
    assert (corrected - want).abs().max() < 1e-4 < (plain - want).abs().max()


def test_with_int8_replaces_only_measured_layers_in_a_copy():
    net = _conv_net()
    copy, count = with_int8(net, {"2": (0.0, 1.0)})
    assert count == 1 and isinstance(copy[2], Int8Conv2d) and isinstance(copy[0], nn.Conv2d)
    assert isinstance(net[2], nn.Conv2d)  # the original is untouched
    assert with_int8(net, {}) == (net, 0)


def test_parameters_round_trip_and_belong_to_one_weights_file(tmp_path):
    params = Int8Params({"a": (-1.0, 2.0)}, {"a": [0.5, -0.25]})
    assert Int8Params.from_dict(json.loads(json.dumps(params.to_dict()))) == params
    for bad in ({}, {"ranges": {"a": [3, 1]}, "shifts": {}}, {"ranges": {"a": "x"}, "shifts": {}}):
        with pytest.raises(ValueError, match="malformed INT8"):
            Int8Params.from_dict(bad)
    weights = tmp_path / "w.pth"
    weights.write_bytes(b"one")
    store = tmp_path / "int8.json"
    entry = params.to_dict() | {"weights_sha256": sha256_of(weights)}
    store.write_text(json.dumps({"meta": {}, "trackers": {"t": entry}}))
    assert for_weights("t", weights, store) == params
    assert for_weights("other", weights, store) is None
    weights.write_bytes(b"two")  # replaced weights: no parameters until measured again
    assert for_weights("t", weights, store) is None
    store.write_text("{not json")
    assert for_weights("t", weights, store) is None


def test_shipped_parameters_match_their_weights_and_the_default_model_has_them():
    doc = json.loads(QUANTIZATION_FILE.read_text())
    for name, entry in doc["trackers"].items():
        assert entry["weights_sha256"] == sha256_of(registry.get(name).default_weights()), (
            f"{name}: int8.json was measured for other weights; rerun python -m trackers quantize"
        )
    default = registry.recommended()
    if default is not None:
        assert for_weights(default, registry.get(default).default_weights()) is not None


@needs_openvino
def test_the_int8_backend_refuses_weights_without_parameters(tmp_path):
    name = registry.recommended()
    if name is None:
        pytest.skip("no shipped weights")
    with pytest.raises(ValueError, match="no INT8 parameters"):
        registry.create(name, weights=registry.RANDOM, device="cpu", backend="openvino-int8")
    other = tmp_path / "mine.pth"  # the same layout, other values: a user's own checkpoint
    state = torch.load(registry.get(name).default_weights(), weights_only=True)
    key = next(k for k, v in state.items() if v.is_floating_point())
    state[key] = state[key] + 1e-3
    torch.save(state, other)
    with pytest.raises(ValueError, match="no INT8 parameters were measured"):
        registry.create(name, weights=other, device="cpu", backend="openvino-int8")
    model = registry.create(name, device="cpu", backend="torch").net.model
    with pytest.raises(ValueError, match="INT8 parameters that were not given"):
        export_graph(model, GraphSpec((1, 8, 8, 3), (), (), int8="abc"))


@needs_shared
@needs_openvino
@pytest.mark.parametrize("name", ["siamcross-mobilev2", "siamrpnpp-mobilev2", "siamban-mobilev2", "siamfc"])
def test_shipped_int8_graphs_run_int8_and_track_like_pytorch(name):
    """On vot_bag, each output of the int8 search graph follows PyTorch's on the same crops
    (correlation over the map; 8-bit rounding moves single values by ~10-20 % of the map's
    peak), the int8 run follows the bag as well as PyTorch's, and OpenVINO runs the
    convolutions in 8 bits."""
    if for_weights(name, registry.get(name).default_weights()) is None:
        pytest.skip(f"{name} has no shipped INT8 parameters")
    fast = registry.create(name, device="cpu")  # auto: INT8 where the parameters ship
    assert isinstance(fast.net, OnnxRunner)
    if not exact_int8():
        assert fast.net.precision == "f32"
        pytest.skip("this CPU's INT8 convolutions saturate (no VNNI / AMX): auto tracks in f32")
    assert fast.net.precision == "int8"
    frames, box = vot_bag(16)
    truth = read_groundtruth(SEQUENCES / "vot_bag" / "groundtruth_rect.txt")[1:16]
    reference = registry.create(name, device="cpu", backend="torch")
    reference.init(frames[0], box)
    fast.init(frames[0], box)
    boxes = {"reference": [], "int8": []}
    for frame in frames[1:]:
        patch = reference.search_patch(frame)
        want, got = reference.net.track(patch), fast.net.track(patch)
        for key, value in want.items():
            assert np.corrcoef(np.ravel(value), np.ravel(got[key]))[0, 1] > 0.95, key
        boxes["reference"].append(reference.track(frame).box)
        boxes["int8"].append(fast.track(frame).box)
    # Two runs part a little where the bag folds (measured: IoU between them 0.7-0.99): what
    # must hold is that the int8 run follows the target as well as the reference does.
    overlap = {k: iou(np.array(v), truth).mean() for k, v in boxes.items()}
    assert overlap["int8"] > max(0.5, overlap["reference"] - 0.1), overlap
    # the session this runner used last (the cache is most-recently-used last)
    compiled = [s.compiled for key, s in _sessions_of(fast.net) if key.endswith("|int8")][-1]
    precisions = {
        op.get_rt_info()["runtimePrecision"].astype(str)
        for op in compiled.get_runtime_model().get_ordered_ops()
        if op.get_rt_info()["layerType"].astype(str) == "Convolution"
    }
    import openvino

    if "INT8" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        assert {"u8", "i8"} & precisions, precisions


@needs_openvino
def test_the_int8_probe_sees_exact_or_16_bit_saturated_sums():
    """Each probe output is the exact sum (an 8-bit dot-product instruction) or every pair of
    its products clipped to 32,767 (AVX2's vpmaddubsw): anything else means the probe did not
    run in INT8, and its verdict would be worthless."""
    probe = onnx_runner.int8_probe()
    assert set(probe) == {"conv1", "conv3"}
    for name, (got, exact) in probe.items():
        pairs = exact / (onnx_runner._PROBE_PIXEL * onnx_runner._PROBE_WEIGHT) / 2
        assert got in (exact, pairs * 32767), (name, got, exact)
    assert exact_int8() == all(got == exact for got, exact in probe.values())


def test_a_probe_that_cannot_run_gives_no_int8(monkeypatch):
    """No verdict (OpenVINO missing or failing to compile the probe) is not a licence for INT8."""

    def broken():
        raise RuntimeError("no CPU plugin")

    monkeypatch.setattr(onnx_runner, "int8_probe", broken)
    assert onnx_runner.exact_int8.__wrapped__() is False


@needs_openvino
def test_auto_runs_f32_where_int8_saturates_and_asking_for_int8_there_warns(monkeypatch):
    name = registry.recommended()
    if name is None or for_weights(name, registry.get(name).default_weights()) is None:
        pytest.skip("no shipped weights with INT8 parameters")
    cpu = torch.device("cpu")
    monkeypatch.setattr(onnx_runner, "exact_int8", lambda: True)
    assert registry.chosen_backend(name, cpu) == "openvino-int8"
    monkeypatch.setattr(onnx_runner, "exact_int8", lambda: False)
    assert registry.chosen_backend(name, cpu) == "openvino"
    assert registry.create(name, device="cpu").net.precision == "f32"
    with pytest.warns(RuntimeWarning, match="saturate"):
        assert registry.chosen_backend(name, cpu, "openvino-int8") == "openvino-int8"


def _sessions_of(runner: OnnxRunner):
    from trackers import onnx_runner

    return list(onnx_runner._sessions.items()) + list(runner._own.items())


@needs_shared
def test_quantize_command_writes_parameters_the_backend_finds(tmp_path, capsys):
    from tests.shared_data import SEQUENCES

    out = tmp_path / "int8.json"
    code = cli.main(
        [
            "quantize",
            "--tracker",
            "siamfc",
            "--sequences",
            str(SEQUENCES / "vot_bag"),
            "--max-frames",
            "3",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    assert "convolutions measured on 3 frames" in capsys.readouterr().out
    params = for_weights("siamfc", registry.get("siamfc").default_weights(), out)
    assert params is not None and params.ranges and set(params.shifts) == set(params.ranges)


@needs_shared
@needs_openvino
def test_a_users_checkpoint_measured_once_then_runs_int8(tmp_path, monkeypatch, capsys):
    """quantize without --json keeps a user's parameters in their configuration folder, one
    entry per checkpoint; openvino-int8 then runs that checkpoint in INT8, auto stays f32 (its
    INT8 accuracy is unchecked). The shipped file is untouched."""
    monkeypatch.setenv("SIAMARK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("SIAMARK_BACKEND", raising=False)
    shipped = QUANTIZATION_FILE.read_bytes()
    state = torch.load(registry.get("siamfc").default_weights(), weights_only=True)
    mine = []
    for i in range(2):  # two checkpoints of one tracker: both stay measured
        key = next(k for k, v in state.items() if v.is_floating_point())
        state[key] = state[key] + 1e-3
        mine.append(tmp_path / f"mine{i}.pth")
        torch.save(state, mine[-1])
    cpu = torch.device("cpu")
    assert registry.chosen_backend("siamfc", cpu, weights=mine[0]) == "openvino"
    with pytest.raises(ValueError, match="kept in your configuration folder"):
        registry.create("siamfc", weights=mine[0], device="cpu", backend="openvino-int8")
    with pytest.raises(ValueError, match="no INT8 parameters"):  # what About reports
        registry.chosen_backend("siamfc", cpu, "openvino-int8", weights=mine[0])
    for path in mine:
        args = ["quantize", "--tracker", "siamfc", "--weights", str(path), "--max-frames", "3"]
        assert cli.main([*args, "--sequences", str(SEQUENCES / "vot_bag")]) == 0
    assert "openvino-int8 now runs these weights in INT8" in capsys.readouterr().err
    stored = json.loads((tmp_path / "config" / "int8.json").read_text())["trackers"]
    assert sorted(stored) == sorted(f"siamfc@{sha256_of(p)}" for p in mine)
    for path in mine:
        assert for_weights("siamfc", path) is not None
        assert registry.chosen_backend("siamfc", cpu, "openvino-int8", weights=path) == "openvino-int8"
        assert registry.chosen_backend("siamfc", cpu, weights=path) == "openvino"
    tracker = registry.create("siamfc", weights=mine[0], device="cpu", backend="openvino-int8")
    assert tracker.net.backend == "openvino-int8"
    assert QUANTIZATION_FILE.read_bytes() == shipped


def test_an_int8_deformable_convolution_stays_close():
    from trackers.models.deform_conv import DeformConv2d

    torch.manual_seed(2)
    deform = DeformConv2d(16, 8, 3, padding=1)
    x, offset = torch.randn(2, 16, 10, 10), torch.randn(2, 18, 10, 10)
    ranges = collect_ranges(deform, lambda: deform(x, offset))
    shifts = collect_shifts(deform, ranges, lambda: deform(x, offset))
    layer, count = with_int8(deform, ranges, shifts)
    assert count == 1
    with torch.no_grad():
        want, got = deform(x, offset), layer(x, offset)
    assert (got - want).abs().max() <= 0.05 * want.abs().max() and not torch.equal(got, want)


@needs_openvino
def test_auto_runs_int8_only_where_parameters_ship(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.delenv("SIAMARK_BACKEND", raising=False)
    monkeypatch.setattr(onnx_runner, "exact_int8", lambda: True)  # the CPU's part: tested apart
    for name in registry.shipped():
        has = for_weights(name, registry.get(name).default_weights()) is not None
        assert registry.chosen_backend(name, cpu) == ("openvino-int8" if has else "openvino")
        assert registry.chosen_backend(name, cpu, "openvino") == "openvino"  # asked for f32: f32
    assert registry.chosen_backend("csrt", cpu) == "openvino"  # no network, no parameters
    monkeypatch.setenv("SIAMARK_BACKEND", "openvino")
    default = registry.recommended()
    if default is not None:
        assert registry.chosen_backend(default, cpu) == "openvino"


def test_a_layer_fed_pixels_gets_the_whole_8_bit_range():
    net = _conv_net()
    frames = [torch.randint(10, 240, (1, 3, 8, 8)).float(), torch.randint(0, 256, (1, 3, 8, 8)).float()]
    ranges = collect_ranges(net, lambda: [net(f) for f in frames])
    assert ranges["0"] == (0.0, 255.0)  # exact: 8-bit pixels quantize without loss
    assert ranges["2"] != (0.0, 255.0)
    first = Int8Conv2d(net[0], *ranges["0"])
    with torch.no_grad():
        assert torch.allclose(first.quantized_input(frames[1]), frames[1])


def test_a_run_asks_for_float32_or_lets_auto_choose():
    from app.engine.jobs import TrackerSpec

    assert TrackerSpec("siamfc").backend() == "auto"
    expected = "openvino" if openvino_available() else "auto"
    assert TrackerSpec("siamfc", device="cpu", precision="float32").backend() == expected
    assert TrackerSpec("siamfc", device="cpu", precision="int8").backend() == "openvino-int8"
    with pytest.raises(ValueError, match="auto, float32 or int8"):
        TrackerSpec("siamfc", precision="fp8").backend()
