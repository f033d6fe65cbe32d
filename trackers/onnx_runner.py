"""The fast CPU path: each tracker's search branch exported as an ONNX graph and run by OpenVINO.

Measured side by side on this project's 2-core CPU (``scripts/bench_backends.py``: the search
forward of every shipped network through tuned PyTorch, ONNX Runtime and OpenVINO, same run,
2026-12-05): OpenVINO in f32 was the fastest everywhere (siamcross 20.1 ms against ONNX Runtime
21.2 and PyTorch 25.6; siamrpnpp / siamban 10.9 against 11.6 and 12.9-14.1; NanoTrack 2.6
against 3.5 and 6.9), and in bf16, on a CPU that computes it natively (AVX512-BF16 / AMX),
twice as fast again (siamcross 12.4 ms, siamrpnpp 5.4). So OpenVINO is the one kept; ONNX
Runtime is no longer a dependency.

- ``openvino`` computes in f32, the same function as PyTorch to float rounding; it is what
  ``auto`` picks. ``openvino-bf16`` (bfloat16 weights and activations, 8 bits of mantissa; only
  on a CPU with native bf16) is 1.6-1.7x faster again but costs accuracy: on the validation set
  (same run, 2026-12-05) mean AUC siamcross 0.597 -> 0.554, siamban 0.566 -> 0.523, siamrpnpp
  0.567 -> 0.559, siamfc 0.471 -> 0.445 (a fast target lost: drift-chicane 0.545 -> 0.042).
  So it is a choice for demos and previews, never the default.
- The template branch stays in PyTorch for initialisation: it runs once per run, and what it
  leaves on the model (``NetworkRunner.template_state``) is fed to the search graph as inputs.
  The appearance check runs it on every tracked frame, so its embedding (``NetworkRunner.embed``:
  template branch + pooling) is a second graph, kind "embed" (siamcross-mobilev2 on vot_bag: one
  embedding 4.3 ms in PyTorch, 1.25 ms here; the check adds ~1.3 ms a frame, measured on / off).
- The search graph takes the uint8 HWC crops as they come from the cropper: the layout change
  and the cast happen inside the graph, no copy in Python.
- The graph is exported from the PyTorch model itself (batch norms already folded), so the two
  paths compute the same function; PyTorch stays the reference (the fidelity tests run it, and
  ``tests/test_onnx_runner.py`` checks this path against it on real frames).
- An exported graph is kept on disk per (weights file, architecture, input shapes) and its
  compiled model per process, so re-tracking does not export again. In the app, exports run in
  a child process (``export_in_subprocess``): an export holds the GIL for ~0.6 s.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from trackers.io import atomic_write_bytes
from trackers.network import NetworkRunner, TemplateState, pooled_centre, stored_since, template_values
from trackers.ops.int8 import with_int8
from trackers.ops.winograd import with_winograd

if TYPE_CHECKING:
    from trackers.quantization import Int8Params

#: the backends ``resolve_backend`` knows
BACKENDS = ("auto", "torch", "openvino", "openvino-bf16", "openvino-int8")
#: OpenVINO's inference precision per backend
_PRECISION = {"openvino": "f32", "openvino-bf16": "bf16", "openvino-int8": "int8"}
_OPSET = 17
_CACHE_SIZE = 8  # search graphs kept per process (one per tracker / input shape in use)
_sessions: OrderedDict[str, Any] = OrderedDict()
_sessions_lock = threading.Lock()


def warm_up() -> None:
    """Import what the fast path needs now: a first import of these C extensions holds the GIL
    for hundreds of milliseconds, which must not happen in a worker thread beside a GUI."""
    if openvino_available():
        import onnx  # noqa: F401
        import torch.onnx  # noqa: F401


def _openvino():
    """The openvino module, imported without its usage telemetry: by default its import sends
    an event to Google Analytics from a thread of its own (no consent asked). Siamark never
    phones home; with the telemetry package unimportable, OpenVINO uses its own no-op stub."""
    sys.modules.setdefault("openvino_telemetry", None)
    import openvino

    return openvino


def openvino_available() -> bool:
    try:
        _openvino()
    except ImportError:
        return False
    return True


#: the INT8 probe's input channels and its pixel and weight values: every product is
#: 255 * 127, so one pair of them (64,770) overflows a 16-bit sum (32,767)
_PROBE_CHANNELS, _PROBE_PIXEL, _PROBE_WEIGHT = 32, 255, 127


def int8_probe_graph() -> tuple[bytes, dict[str, float]]:
    """A tiny ONNX graph of two INT8 convolutions (1x1 and 3x3, quantized as ``export_graph``
    writes them: QuantizeLinear / DequantizeLinear around the input, per-channel weights) and
    the exact value of each output's centre."""
    from onnx import TensorProto, helper, numpy_helper

    c = _PROBE_CHANNELS
    inits = [
        numpy_helper.from_array(np.array(1.0, np.float32), "scale"),
        numpy_helper.from_array(np.array(0, np.uint8), "zero"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "scale", "zero"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "scale", "zero"], ["xd"]),
    ]
    outputs, exact = [], {}
    for k in (1, 3):
        inits += [
            numpy_helper.from_array(np.full((8, c, k, k), _PROBE_WEIGHT, np.int8), f"w{k}"),
            numpy_helper.from_array(np.ones(8, np.float32), f"w{k}_scale"),
            numpy_helper.from_array(np.zeros(8, np.int8), f"w{k}_zero"),
        ]
        nodes += [
            helper.make_node("DequantizeLinear", [f"w{k}", f"w{k}_scale", f"w{k}_zero"], [f"wd{k}"], axis=0),
            helper.make_node("Conv", ["xd", f"wd{k}"], [f"conv{k}"], pads=[k // 2] * 4),
        ]
        outputs.append(helper.make_tensor_value_info(f"conv{k}", TensorProto.FLOAT, None))
        exact[f"conv{k}"] = float(_PROBE_PIXEL * _PROBE_WEIGHT * c * k * k)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, 8, 8])
    graph = helper.make_graph(nodes, "int8_probe", [x], outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    return model.SerializeToString(), exact


def int8_probe() -> dict[str, tuple[float, float]]:
    """The probe graph (``int8_probe_graph``) run by OpenVINO in INT8 on this CPU: per output,
    (what it computed, the exact value)."""
    graph, exact = int8_probe_graph()
    # compiled as the search graphs are, so it runs the kernels they run
    results = _Compiled(graph, "int8").run(
        {"x": np.full((1, _PROBE_CHANNELS, 8, 8), _PROBE_PIXEL, np.float32)}
    )
    return {name: (float(results[name][0, 0, 4, 4]), value) for name, value in exact.items()}


@functools.cache
def exact_int8() -> bool:
    """Whether OpenVINO's INT8 convolutions compute exactly on this CPU. Without an 8-bit
    dot-product instruction (VNNI, AMX) it multiplies and adds pairs of 8-bit values into
    16 bits (AVX2's vpmaddubsw), which saturates: on an AVX2-only AMD EPYC the shipped
    siamcross-mobilev2 fell from 0.592 to 0.346 validation AUC in INT8, no faster than f32 (model
    card). Measured with a graph made to overflow, not read from CPU flags: what matters is what
    this OpenVINO does on this CPU."""
    try:
        probe = int8_probe()
    except Exception:  # noqa: BLE001 - no verdict: f32 is the safe answer
        return False
    return all(math.isclose(got, want, rel_tol=1e-4) for got, want in probe.values())


@functools.cache
def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (OpenVINO lists "BF16" then); elsewhere bf16
    would be emulated, slower than f32."""
    return "BF16" in _openvino().Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def requested_backend(backend: str) -> str:
    """``backend`` as asked for: SIAMARK_BACKEND stands in for ``auto`` (e.g. to compare in the app)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if backend == "auto":
        backend = os.environ.get("SIAMARK_BACKEND", "auto")
        if backend not in BACKENDS:
            raise ValueError(f"SIAMARK_BACKEND={backend!r}; choose from {', '.join(BACKENDS)}")
    return backend


def float32_backend(device: torch.device) -> str:
    """The backend that tracks in float32 on ``device``: OpenVINO in f32 on the CPU (the
    shipped models' ``auto`` is INT8 there where the CPU computes it exactly), else ``auto``
    (PyTorch, f32, on a GPU)."""
    return "openvino" if device.type == "cpu" and openvino_available() else "auto"


def resolve_backend(backend: str, device: torch.device) -> str:
    """ "torch", "openvino", "openvino-bf16" or "openvino-int8". ``auto``: OpenVINO on the CPU
    when it is installed (in INT8 for weights with shipped INT8 parameters on a CPU that computes
    INT8 exactly: ``registry.create`` decides that), PyTorch on a GPU (CUDA graphs and fp16 live there) or without OpenVINO."""
    backend = requested_backend(backend)
    if backend == "auto":
        return "openvino" if device.type == "cpu" and openvino_available() else "torch"
    if backend in _PRECISION:
        if device.type != "cpu":
            raise ValueError(f"the {backend} backend runs on the CPU, not {device.type}")
        if not openvino_available():
            raise ValueError(f"the {backend} backend needs the openvino package (pip install openvino)")
        if backend == "openvino-bf16" and not native_bf16():
            raise ValueError("openvino-bf16 needs a CPU with native bfloat16 (AVX512-BF16 or AMX)")
    return backend


class _SearchGraph(nn.Module):
    """The search branch as one function: uint8 (N, H, W, 3) crops + template state -> outputs."""

    def __init__(self, model: nn.Module, layout: list[tuple[str, int | None]], outputs: list[str] | None):
        super().__init__()
        self.model, self.layout, self.outputs = model, layout, outputs

    def forward(self, patches: torch.Tensor, *state: torch.Tensor):
        i = 0
        for name, levels in self.layout:
            if levels is None:
                setattr(self.model, name, state[i])
                i += 1
            else:
                setattr(self.model, name, list(state[i : i + levels]))
                i += levels
        out = self.model.track(patches.permute(0, 3, 1, 2).float())
        return out if self.outputs is None else tuple(out[n] for n in self.outputs)


class _EmbedGraph(nn.Module):
    """The appearance embedding as one function: a uint8 (1, H, W, 3) template crop -> the
    pooled template features (``NetworkRunner.embed``)."""

    def __init__(self, model: nn.Module, names: list[str]):
        super().__init__()
        self.model, self.names = model, names

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        self.model.template(patches.permute(0, 3, 1, 2).float())
        return pooled_centre({name: getattr(self.model, name) for name in self.names})


def _reason(exc: Exception) -> str:
    """An export failure in one line, for a fallback's warning."""
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _flatten(state: TemplateState) -> tuple[list[tuple[str, int | None]], list[torch.Tensor]]:
    layout, flat = [], []
    for name, value in state.items():
        if isinstance(value, list):
            layout.append((name, len(value)))
            flat.extend(value)
        else:
            layout.append((name, None))
            flat.append(value)
    return layout, flat


@dataclass(frozen=True)
class Rebuild:
    """How to build this runner's model again in another process (``registry.create`` args)."""

    tracker: str
    weights: str
    preset: str | None = None
    overrides: tuple[tuple[str, Any], ...] = ()


class OnnxRunner(NetworkRunner):
    """A ``NetworkRunner`` whose search forward runs as an ONNX graph in OpenVINO (template:
    PyTorch). ``precision``: "f32", "bf16" or "int8" (the convolutions; needs ``int8``, the
    weights' measured parameters, ``trackers.quantization``)."""

    def __init__(
        self,
        runner: NetworkRunner,
        weights_key: str = "",
        rebuild: Rebuild | None = None,
        precision: str = "f32",
        int8: Int8Params | None = None,
    ):
        if runner.device.type != "cpu":
            raise ValueError("OnnxRunner runs on the CPU")
        if precision not in ("f32", "bf16", "int8"):
            raise ValueError(f"precision {precision!r}: f32, bf16 or int8")
        if (precision == "int8") != (int8 is not None):
            raise ValueError("INT8 parameters go with precision int8, and only with it")
        self.__dict__.update(runner.__dict__)  # the same model, device and dtype
        self.precision = precision
        #: the convolutions' input ranges and bias shifts for precision "int8"
        self.int8 = int8
        #: wide 3x3 / 5x5 convolutions as Winograd ones (faster; False only to measure them)
        self.winograd = True
        #: identifies the weights (file and its stamp) for the graph caches; "" for a model not
        #: loaded from a file: its graph is exported for this runner only, never cached
        self.weights_key = weights_key
        #: set for models loaded from a file: the graph can then be exported by another process
        self.rebuild = rebuild
        #: why this runner tracks with PyTorch after all ("" while OpenVINO runs it)
        self.fallback = ""
        #: why the appearance embedding runs in PyTorch ("" while OpenVINO runs it)
        self.embed_fallback = ""
        self._own: dict[str, Any] = {}

    @property
    def backend(self) -> str:
        if self.fallback:
            return "torch"
        return next(name for name, precision in _PRECISION.items() if precision == self.precision)

    def track(self, patches) -> dict[str, np.ndarray]:
        # Per-level outputs (the inside view of a multi-level network) come from PyTorch: the
        # graph returns only the fused ones, and a second graph per model is not worth its
        # export for a view that is open now and then (the shipped networks have one level).
        if self.fallback or getattr(self.model, "keep_levels", False):
            return super().track(patches)
        arr = np.asarray(patches)
        if arr.ndim == 3:
            arr = arr[None]
        arr = np.ascontiguousarray(arr, dtype=np.uint8)
        layout, flat = _flatten(self.template_state())
        session = self._search_session(arr.shape, layout, flat)
        if session is None:
            return super().track(patches)
        feeds = {"patches": arr} | {
            f"state{i}": np.ascontiguousarray(t.detach().numpy()) for i, t in enumerate(flat)
        }
        return session.run(feeds)

    def prepare(self, patch_shape: tuple[int, ...]) -> None:
        if not self.fallback:
            self._search_session((1, *patch_shape), *_flatten(self.template_state()))

    def _search_session(self, batch_shape: tuple[int, ...], layout, flat: list[torch.Tensor]):
        """The compiled search graph for crops of ``batch_shape`` (N, H, W, 3) against a template
        state of this ``layout``; None (and ``fallback`` says why) where no graph can be made."""
        spec = GraphSpec(
            tuple(batch_shape),
            tuple(layout),
            tuple(_tensor_spec(t) for t in flat),
            winograd=self.winograd,
            int8=self.int8.digest if self.int8 else "",
        )
        try:
            return self._session(spec)
        except Exception as exc:  # noqa: BLE001 - a network the exporter cannot write still tracks
            self.fallback = _reason(exc)
            warnings.warn(
                f"{type(self.model).__name__}: no ONNX graph ({self.fallback}); tracking with PyTorch",
                RuntimeWarning,
                stacklevel=3,
            )
            return None

    def embed(self, patch: np.ndarray) -> np.ndarray:
        if self.fallback or self.embed_fallback:
            return super().embed(patch)
        arr = np.ascontiguousarray(np.asarray(patch)[None], dtype=np.uint8)
        try:
            session = self._session(GraphSpec(arr.shape, (), (), kind="embed"))
        except Exception as exc:  # noqa: BLE001 - the check still works, at PyTorch's speed
            self.embed_fallback = _reason(exc)
            warnings.warn(
                f"{type(self.model).__name__}: no embedding graph ({self.embed_fallback}); "
                "the appearance check runs in PyTorch",
                RuntimeWarning,
                stacklevel=2,
            )
            return super().embed(patch)
        return session.run({"patches": arr})["embedding"]

    def track_many(self, patches: Sequence[np.ndarray], states: Sequence[TemplateState], forward=None):
        if forward is not None:  # a model's own batched forward is PyTorch code
            return super().track_many(patches, states, forward)
        saved = self.template_state()
        try:
            out = []
            for patch, state in zip(patches, states, strict=True):
                self.load_template_state(state)
                out.append(self.track(patch))
            return out
        finally:
            self.load_template_state(saved)

    # -- the search graph ------------------------------------------------------------------------

    def _session(self, spec: GraphSpec):
        key = hashlib.sha256(f"{self.weights_key}|{type(self.model).__name__}|{spec}".encode()).hexdigest()
        session_key = f"{key}|{torch.get_num_threads()}|{self.precision}"
        if not self.weights_key:
            if session_key not in self._own:
                graph = export_graph(self.model, spec, self.int8)
                self._own[session_key] = _session_from(graph, self.precision)
            return self._own[session_key]
        with _sessions_lock:
            if session_key in _sessions:
                _sessions.move_to_end(session_key)
                return _sessions[session_key]
        session = _session_from(self._graph(key, spec), self.precision)
        with _sessions_lock:
            _sessions[session_key] = session
            while len(_sessions) > _CACHE_SIZE:
                _sessions.popitem(last=False)
        return session

    def _graph(self, key: str, spec: GraphSpec) -> bytes:
        """The ONNX graph: from the disk cache, else exported (and cached)."""
        path = cache_dir() / f"{key}.onnx"
        try:
            return path.read_bytes()
        except OSError:
            pass
        if _export_elsewhere and self.rebuild is not None:
            graph = _export_in_subprocess(self.rebuild, spec)
        else:
            graph = export_graph(self.model, spec, self.int8)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, graph)
        except OSError:
            pass  # a read-only or full cache folder: the graph is exported again next time
        return graph


@dataclass(frozen=True)
class GraphSpec:
    """What a graph is exported for: its kind ("search": crops + template state -> outputs;
    "embed": a template crop -> its appearance embedding), the crops' shape, the template
    state's layout and its tensors' (shape, dtype) (none for "embed"), whether wide 3x3 /
    5x5 convolutions are Winograd ones (``trackers.ops.winograd``; off only to measure them),
    and the digest of the INT8 parameters its convolutions are quantized with ("": float)."""

    patch_shape: tuple[int, ...]
    layout: tuple[tuple[str, int | None], ...]
    state: tuple[tuple[tuple[int, ...], str], ...]
    kind: str = "search"
    winograd: bool = True
    int8: str = ""

    def to_json(self) -> str:
        return json.dumps(
            {
                "patch_shape": self.patch_shape,
                "layout": self.layout,
                "state": self.state,
                "kind": self.kind,
                "winograd": self.winograd,
                "int8": self.int8,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> GraphSpec:
        data = json.loads(text)
        return cls(
            tuple(data["patch_shape"]),
            tuple((name, levels) for name, levels in data["layout"]),
            tuple((tuple(shape), dtype) for shape, dtype in data["state"]),
            data.get("kind", "search"),
            data.get("winograd", True),
            data.get("int8", ""),
        )


def _tensor_spec(t: torch.Tensor) -> tuple[tuple[int, ...], str]:
    return tuple(t.shape), str(t.dtype).removeprefix("torch.")


def export_graph(model: nn.Module, spec: GraphSpec, int8: Int8Params | None = None) -> bytes:
    """The graph of ``spec.kind`` for ``model`` as ONNX, for inputs of ``spec``'s shapes, its
    convolutions quantized with ``int8`` where ``spec.int8`` names them. It is traced with zero
    inputs: the networks have no value-dependent control flow, so it is the same function for
    any crop and template."""
    if spec.kind == "embed":
        return _export_embed(model, spec)
    if spec.kind != "search":
        raise ValueError(f"unknown graph kind {spec.kind!r}")
    if spec.int8 and (int8 is None or int8.digest != spec.int8):
        raise ValueError("the graph is for INT8 parameters that were not given")
    names = [name for name, _levels in spec.layout]
    saved = {name: getattr(model, name) for name in names}
    example = (
        torch.zeros(spec.patch_shape, dtype=torch.uint8),
        *[torch.zeros(shape, dtype=getattr(torch, dtype)) for shape, dtype in spec.state],
    )
    try:
        with torch.no_grad():

            def search(net: nn.Module):
                return _SearchGraph(net, list(spec.layout), None)(*example)

            probe = search(model)
            outputs = list(probe) if isinstance(probe, dict) else None
            net = model
            if spec.winograd:  # a copy, where the forward has wide 3x3 / 5x5 layers on large maps
                net, _ = with_winograd(model, search)
            if spec.int8:  # the convolutions left direct (a Winograd layer stays float)
                net, _ = with_int8(net, int8.ranges, int8.shifts)
            graph = _SearchGraph(net, list(spec.layout), outputs).eval()
            buffer = io.BytesIO()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tracer notes on shape-dependent Python code
                torch.onnx.export(
                    graph,
                    example,
                    buffer,
                    dynamo=False,
                    opset_version=_OPSET,
                    input_names=["patches", *[f"state{i}" for i in range(len(spec.state))]],
                    output_names=outputs or ["response"],
                )
    finally:
        for name, value in saved.items():
            setattr(model, name, value)
    return buffer.getvalue()


def _export_embed(model: nn.Module, spec: GraphSpec) -> bytes:
    saved = template_values(model)
    example = torch.zeros(spec.patch_shape, dtype=torch.uint8)
    try:
        with torch.no_grad():
            model.template(example.permute(0, 3, 1, 2).float())
            names = list(stored_since(model, saved))  # the features, as in template_features
            buffer = io.BytesIO()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    _EmbedGraph(model, names).eval(),
                    (example,),
                    buffer,
                    dynamo=False,
                    opset_version=_OPSET,
                    input_names=["patches"],
                    output_names=["embedding"],
                )
    finally:
        for name, value in saved.items():
            setattr(model, name, value)
    return buffer.getvalue()


class _Compiled:
    """One compiled search graph: feeds in, outputs by name out. An infer request serves one
    call at a time, hence the lock (tracking runs one frame at a time; batch work uses
    processes)."""

    def __init__(self, graph: bytes, precision: str):
        import onnx

        core = _openvino().Core()
        self.compiled = core.compile_model(
            core.read_model(graph),
            "CPU",
            {
                "INFERENCE_NUM_THREADS": torch.get_num_threads(),
                # int8: the graph's quantized convolutions run int8, the rest f32
                "INFERENCE_PRECISION_HINT": "f32" if precision == "int8" else precision,
                "PERFORMANCE_HINT": "LATENCY",
                # flush denormals: the attention softmaxes underflow into them on some videos,
                # which made the whole graph up to 1.5x slower there (davis_parkour)
                "CPU_DENORMALS_OPTIMIZATION": True,
            },
        )
        # the graph's declared output names, in its order: an OpenVINO port may carry several
        # tensor names (an output that is also a node's), so get_any_name() is not always it
        self.names = [o.name for o in onnx.load_from_string(graph).graph.output]
        self.request = self.compiled.create_infer_request()
        self.lock = threading.Lock()

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        with self.lock:
            # share_inputs: the call is synchronous, so the feeds outlive it; no copy of the crop
            out = self.request.infer(feeds, share_inputs=True)
            # copies: the request's output buffers are overwritten by its next call
            return {
                name: np.array(out[port])
                for name, port in zip(self.names, self.compiled.outputs, strict=True)
            }


def _session_from(graph: bytes, precision: str = "f32") -> _Compiled:
    return _Compiled(graph, precision)


# -- exporting in another process ---------------------------------------------------------------

_export_elsewhere = False


def export_in_subprocess(enabled: bool = True) -> None:
    """Export new graphs in a child process (the app sets this). An export holds the GIL for
    ~0.6 s in C++ code; in a GUI process that would freeze the window. Once exported, a graph
    is in the disk cache and never exported again."""
    global _export_elsewhere
    _export_elsewhere = enabled


def _export_in_subprocess(rebuild: Rebuild, spec: GraphSpec) -> bytes:
    with tempfile.TemporaryDirectory(prefix="siamark-onnx-") as folder:
        out = Path(folder) / "graph.onnx"
        command = [
            sys.executable,
            "-m",
            "trackers.onnx_runner",
            "--tracker",
            rebuild.tracker,
            "--weights",
            rebuild.weights,
            "--spec",
            spec.to_json(),
            "--overrides",
            json.dumps(dict(rebuild.overrides)),
            "--out",
            str(out),
        ]
        if rebuild.preset is not None:
            command += ["--preset", rebuild.preset]
        root = Path(__file__).resolve().parents[1]
        env = dict(
            os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
        )
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0 or not out.is_file():
            raise RuntimeError(f"exporting the search graph failed:\n{done.stderr.strip()[-2000:]}")
        return out.read_bytes()


def _main(argv: Sequence[str] | None = None) -> int:
    import argparse

    from trackers import registry

    ap = argparse.ArgumentParser(description="Export a tracker's search graph (used by OnnxRunner).")
    ap.add_argument("--tracker", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--preset")
    ap.add_argument("--spec", required=True)
    ap.add_argument("--overrides", default="{}")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    tracker = registry.create(
        args.tracker,
        weights=args.weights,
        device="cpu",
        preset=args.preset,
        backend="torch",
        **json.loads(args.overrides),
    )
    spec = GraphSpec.from_json(args.spec)
    int8 = None
    if spec.int8:
        from trackers.quantization import for_weights

        int8 = for_weights(args.tracker, args.weights)
    Path(args.out).write_bytes(export_graph(tracker.net.model, spec, int8))
    return 0


def weights_key(path: str | os.PathLike | None) -> str:
    """A weights file's identity for the graph cache: its path, size and modification time."""
    if not path:
        return ""
    try:
        stat = os.stat(path)
    except OSError:
        return ""
    return f"{os.path.abspath(path)}:{stat.st_size}:{stat.st_mtime_ns}"


def cache_dir() -> Path:
    """Exported search graphs (a few MB each), per user; SIAMARK_CACHE_DIR overrides."""
    override = os.environ.get("SIAMARK_CACHE_DIR")
    if override:
        return Path(override) / "onnx"
    import platformdirs

    return Path(platformdirs.user_cache_dir("siamark", appauthor=False)) / "onnx"


if __name__ == "__main__":
    sys.exit(_main())
