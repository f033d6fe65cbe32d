"""The fast CPU path (trackers/onnx_runner.py) against the PyTorch reference, its graph cache,
its export in a child process, and frames decoded ahead (trackers.io.read_ahead)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import trackers
from tests.fast_path import assert_same_outputs_on_crops
from tests.shared_data import WEIGHTS, needs_shared, vot_bag
from trackers import onnx_runner
from trackers.io import SourceError, read_ahead
from trackers.metrics import box_iou
from trackers.onnx_runner import OnnxRunner, exact_int8, resolve_backend

pytest.importorskip("openvino")
NANOTRACK_V2 = WEIGHTS / "nanotrack_v2" / "nanotrackv2.pth"


def weights_of(name: str) -> dict:
    return {"weights": str(NANOTRACK_V2)} if name == "nanotrack" else {}


@needs_shared
@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["siamcross-mobilev2", "siamrpnpp-mobilev2", "siamban-mobilev2", "siamfc", "nanotrack"]
)
def test_the_fast_path_tracks_as_pytorch_does_on_real_frames(name):
    frames, box = vot_bag(40)
    backends = ["torch", "openvino"] + (["openvino-bf16"] if onnx_runner.native_bf16() else [])
    made = {b: trackers.create(name, device="cpu", backend=b, **weights_of(name)) for b in backends}
    for backend, tracker in made.items():
        assert isinstance(tracker.net, OnnxRunner) == (backend != "torch")
        tracker.init(frames[0], box)
    # f32, frame by frame on the reference's crops: the same function to float rounding (which
    # depends on the CPU's vector width: siamfc's response parts by up to 1.1e-5 of its scale
    # on an AVX2-only CPU, by less with AVX-512)
    assert_same_outputs_on_crops(made["torch"], made["openvino"], frames[1:], rel=5e-5)
    # whole runs: the same track (a near-tie between two candidates can flip on rounding and
    # then the runs part by a pixel or two; bf16 parts more)
    runs = {}
    for backend, tracker in made.items():
        tracker.init(frames[0], box)
        runs[backend] = np.array([tracker.track(f).box for f in frames[1:]])
    for backend, mean_floor, min_floor in (("openvino", 0.95, 0.7), ("openvino-bf16", 0.8, 0.5)):
        if backend in runs:
            ious = [box_iou(a, b) for a, b in zip(runs["torch"], runs[backend], strict=True)]
            assert np.mean(ious) > mean_floor and min(ious) > min_floor, (backend, min(ious), np.mean(ious))


@needs_shared
def test_both_search_crops_are_compiled_at_init_not_mid_run(monkeypatch, tmp_path):
    monkeypatch.setenv("SIAMARK_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(onnx_runner, "_sessions", type(onnx_runner._sessions)())
    compiled = []
    compile_graph = onnx_runner._session_from
    monkeypatch.setattr(onnx_runner, "_session_from", lambda *a: compiled.append(a) or compile_graph(*a))
    frames, box = vot_bag(6)
    tracker = trackers.create("siamcross-mobilev2", device="cpu")
    tracker.init(frames[0], box)
    assert len(compiled) == 2  # the near (255 px) and the full (351 px) crop's graphs
    searches = {tracker.track(f).extras["searches"] for f in frames[1:]}
    assert searches == {(351,), (255,)} and len(compiled) == 2


@needs_shared
@pytest.mark.parametrize("name", ["siamcross-mobilev2", "siamrpnpp-mobilev2", "siamban-mobilev2", "siamfc"])
def test_the_appearance_embedding_runs_in_openvino_as_in_pytorch(name, monkeypatch, tmp_path):
    monkeypatch.setenv("SIAMARK_CACHE_DIR", str(tmp_path))
    # graphs an earlier test compiled in this process would bypass the (empty) cache folder
    monkeypatch.setattr(onnx_runner, "_sessions", type(onnx_runner._sessions)())
    frames, box = vot_bag(12)
    reference = trackers.create(name, device="cpu", backend="torch")
    fast = trackers.create(name, device="cpu", backend="openvino")
    for tracker in (reference, fast):
        tracker.init(frames[0], box)
    before = {k: v.clone() if hasattr(v, "clone") else v for k, v in fast.net.template_state().items()}
    x, y, w, h = box
    for i, frame in enumerate(frames[1:]):
        patch = reference._template_patch(frame, (x + 3 * i, y - 2 * i, w, h))
        want, got = reference.net.embed(patch), fast.net.embed(patch)
        assert got.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())
    assert not fast.net.embed_fallback
    assert any(p.name.endswith(".onnx") for p in (tmp_path / "onnx").iterdir())
    # the template tracked against is the one init set, untouched by the embeddings
    for key, value in fast.net.template_state().items():
        if hasattr(value, "shape"):
            assert (value == before[key]).all(), key


def exports_fail(monkeypatch, tmp_path) -> None:
    """No graph can be had: exporting raises (here, not in a child process: the app's tests turn
    that on), nothing is compiled yet, and the cache folder can be neither read nor created (its
    parent is a file)."""

    def cannot(*_args, **_kwargs):
        raise RuntimeError("Unsupported: ONNX export of some operator")

    monkeypatch.setattr(onnx_runner, "export_graph", cannot)
    monkeypatch.setattr(onnx_runner, "_export_elsewhere", False)
    onnx_runner._sessions.clear()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("SIAMARK_CACHE_DIR", str(blocker / "cache"))


def test_an_embedding_the_exporter_cannot_write_runs_in_pytorch(monkeypatch, tmp_path):
    frame = np.random.default_rng(0).integers(0, 255, (240, 320, 3), np.uint8)
    reference = trackers.create("siamcross-mobilev2", device="cpu", backend="torch")
    tracker = trackers.create("siamcross-mobilev2", device="cpu", backend="openvino")

    exports_fail(monkeypatch, tmp_path)
    patch = reference._template_patch(frame, (100.0, 80.0, 40.0, 40.0))
    with pytest.warns(RuntimeWarning, match="appearance check runs in PyTorch"):
        got = tracker.net.embed(patch)
    assert "Unsupported" in tracker.net.embed_fallback and not tracker.net.fallback
    np.testing.assert_allclose(got, reference.net.embed(patch), rtol=1e-5, atol=1e-6)


def test_a_runner_says_what_runs_its_search_branch(monkeypatch, tmp_path):
    cpu = {
        b: trackers.create("siamcross-mobilev2", device="cpu", backend=b)
        for b in ("torch", "openvino", "auto")
    }
    assert {b: t.net.backend for b, t in cpu.items()} == {
        "torch": "torch",
        "openvino": "openvino",
        # the shipped weights have INT8 parameters, used where this CPU computes INT8 exactly
        "auto": "openvino-int8" if exact_int8() else "openvino",
    }
    exports_fail(monkeypatch, tmp_path)
    frame = np.random.default_rng(1).integers(0, 255, (240, 320, 3), np.uint8)
    tracker = trackers.create("siamcross-mobilev2", device="cpu", backend="openvino")
    with pytest.warns(RuntimeWarning, match="tracking with PyTorch"):  # its graphs compile at init
        tracker.init(frame, (100.0, 80.0, 40.0, 40.0))
    assert tracker.net.backend == "torch"


def test_compiled_graphs_flush_denormals():
    """Softmaxes of large logits underflow into denormals, which the CPU computes slowly."""
    from torch import nn

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def track(self, x):
            return {"out": self.conv(x)}

    graph = onnx_runner.export_graph(Tiny().eval(), onnx_runner.GraphSpec((1, 8, 8, 3), (), ()))
    compiled = onnx_runner._session_from(graph)
    assert compiled.compiled.get_property("CPU_DENORMALS_OPTIMIZATION") is True
    assert compiled.run({"patches": np.zeros((1, 8, 8, 3), np.uint8)})["out"].shape == (1, 4, 6, 6)


def test_backend_choice(monkeypatch):
    import torch

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    monkeypatch.delenv("SIAMARK_BACKEND", raising=False)
    assert resolve_backend("auto", cpu) == "openvino"  # f32: bf16 costs accuracy (model card)
    assert resolve_backend("auto", cuda) == "torch"
    assert resolve_backend("torch", cpu) == "torch"
    assert resolve_backend("openvino", cpu) == "openvino"
    monkeypatch.setenv("SIAMARK_BACKEND", "torch")
    assert resolve_backend("auto", cpu) == "torch"
    monkeypatch.setenv("SIAMARK_BACKEND", "openvino")
    assert resolve_backend("auto", cpu) == "openvino"
    with pytest.raises(ValueError, match="runs on the CPU"):
        resolve_backend("openvino-bf16", cuda)
    with pytest.raises(ValueError, match="unknown backend"):
        resolve_backend("tensorrt", cpu)


@needs_shared
def test_a_graph_is_exported_once_then_read_from_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SIAMARK_CACHE_DIR", str(tmp_path))
    onnx_runner._sessions.clear()  # nothing from earlier tests of this process
    frames, box = vot_bag(3)
    first = trackers.create("nanotrack", device="cpu", weights=str(NANOTRACK_V2))
    first.init(frames[0], box)
    expected = first.track(frames[1]).box
    assert len(list((tmp_path / "onnx").glob("*.onnx"))) == 1
    onnx_runner._sessions.clear()  # as in a new process

    def no_export(*_args, **_kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_runner, "export_graph", no_export)
    again = trackers.create("nanotrack", device="cpu", weights=str(NANOTRACK_V2))
    again.init(frames[0], box)
    assert again.track(frames[1]).box == pytest.approx(expected, abs=1e-6)


@needs_shared
@pytest.mark.slow
def test_the_graph_exported_by_a_child_process_computes_the_same(monkeypatch, tmp_path):
    """The app exports in a child process: an export holds the GIL for ~0.6 s."""
    frames, box = vot_bag(3)
    outputs = {}
    for where in ("here", "child"):
        monkeypatch.setenv("SIAMARK_CACHE_DIR", str(tmp_path / where))
        onnx_runner._sessions.clear()
        onnx_runner.export_in_subprocess(where == "child")
        try:
            tracker = trackers.create("nanotrack", device="cpu", weights=str(NANOTRACK_V2))
            tracker.init(frames[0], box)
            outputs[where] = tracker.net.track(tracker.search_patch(frames[1]))
        finally:
            onnx_runner.export_in_subprocess(False)
    for key, value in outputs["here"].items():
        np.testing.assert_allclose(outputs["child"][key], value, rtol=1e-5, atol=1e-5)


# -- decoding ahead ------------------------------------------------------------------------------


@pytest.fixture
def spare_cores(monkeypatch):
    """As on a machine with cores to spare: read_ahead then decodes in a thread."""
    import trackers.io

    monkeypatch.setattr(trackers.io, "available_cores", lambda: 64)


def test_read_ahead_keeps_order_and_raises_where_the_source_fails(spare_cores):
    def frames():
        for i in range(5):
            yield np.full((2, 2, 3), i, np.uint8)
        raise SourceError("frame index 5 is corrupt")

    got = []
    with pytest.raises(SourceError, match="index 5"):
        for frame in read_ahead(frames(), depth=2):
            got.append(int(frame[0, 0, 0]))
    assert got == [0, 1, 2, 3, 4]


def test_closing_read_ahead_early_stops_its_thread(spare_cores):
    before = threading.active_count()
    produced = []

    def frames():
        for i in range(1000):
            produced.append(i)
            yield np.zeros((2, 2, 3), np.uint8)

    ahead = read_ahead(frames(), depth=4)
    next(ahead)
    assert threading.active_count() == before + 1  # the decoding thread
    ahead.close()
    assert threading.active_count() == before
    assert len(produced) < 20  # bounded: it stopped, not ran through all 1000 frames


def test_a_network_the_exporter_cannot_write_tracks_with_pytorch(monkeypatch, tmp_path):
    frames, box = (
        [np.random.default_rng(i).integers(0, 255, (240, 320, 3), np.uint8) for i in range(3)],
        (
            100.0,
            80.0,
            40.0,
            40.0,
        ),
    )
    reference = trackers.create("siamban-mobilev2", device="cpu", backend="torch")
    tracker = trackers.create("siamban-mobilev2", device="cpu", backend="openvino")

    exports_fail(monkeypatch, tmp_path)
    reference.init(frames[0], box)
    with pytest.warns(RuntimeWarning, match="tracking with PyTorch"):  # its graphs compile at init
        tracker.init(frames[0], box)
    got = tracker.track(frames[1])
    assert "Unsupported" in tracker.net.fallback
    assert got.box == pytest.approx(reference.track(frames[1]).box, abs=1e-4)


def test_without_a_free_core_frames_are_read_in_turn(monkeypatch):
    import torch

    import trackers.io

    monkeypatch.setattr(trackers.io, "available_cores", lambda: torch.get_num_threads())
    before = threading.active_count()
    ahead = read_ahead(iter([np.zeros((2, 2, 3), np.uint8)] * 3))
    next(ahead)
    assert threading.active_count() == before  # no thread: it would take time from the network
    assert len(list(ahead)) == 2
