"""Names every tracker, and builds one from a name, a checkpoint and a device.

A tracker module registers its class with ``@register``; ``create`` turns a name plus a
checkpoint into a ready tracker: the checkpoint's layout is recognised, checked against the
layouts the tracker accepts, and loaded strictly.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trackers.base import Tracker
from trackers.config import TrackerConfig

#: ``weights=RANDOM`` builds an untrained network: for speed measurements only, never for tracking.
RANDOM = "random"

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "resources" / "weights"


class NoWeightsError(ValueError):
    pass


@dataclass(frozen=True)
class TrackerInfo:
    name: str
    tracker_cls: type
    config_cls: type[TrackerConfig]
    description: str
    #: checkpoint layouts (official architecture names) this tracker runs; the first is the default.
    architectures: tuple[str, ...]

    @property
    def presets(self) -> list[str]:
        return list(self.config_cls.PRESETS)

    def default_weights(self) -> Path | None:
        path = WEIGHTS_DIR / f"{self.name}.pth"
        return path if path.is_file() else None


_REGISTRY: dict[str, TrackerInfo] = {}


def register(name: str, description: str, config: type[TrackerConfig], architectures: tuple[str, ...]):
    def wrap(cls):
        cls.name = name
        cls.Config = config
        _REGISTRY[name] = TrackerInfo(name, cls, config, description, tuple(architectures))
        return cls

    return wrap


def names() -> list[str]:
    return list(_REGISTRY)


def shipped() -> list[str]:
    """Trackers with shipped weights, best first: by the success AUC that the recorded benchmark run
    (``resources/weights/benchmark.json``) measured for exactly those files; unmeasured ones last."""
    from trackers.measured import load_run, measured

    run = load_run()
    with_weights = [info for info in _REGISTRY.values() if info.default_weights()]

    def rank(info: TrackerInfo) -> float:
        figures = measured(info.name, info.default_weights(), run)
        return -figures.auc if figures else 1.0

    return [info.name for info in sorted(with_weights, key=rank)]


def recommended() -> str | None:
    """The tracker the app opens with and ``list`` marks: the best shipped one."""
    best = shipped()
    return best[0] if best else None


def get(name: str) -> TrackerInfo:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown tracker {name!r}; available: {', '.join(_REGISTRY)}") from None


def tracker_for_architecture(arch: str) -> str | None:
    for info in _REGISTRY.values():
        if arch in info.architectures:
            return info.name
    return None


def identify_checkpoint(path: str | Path) -> tuple[str, str]:
    """(tracker name, architecture) of a checkpoint file, from its keys and shapes alone."""
    from trackers.checkpoints import detect_architecture, read_state_dict

    sd = read_state_dict(path)
    arch = detect_architecture(sd, source=Path(path).name)
    owner = tracker_for_architecture(arch)
    if owner is None:
        raise ValueError(f"{Path(path).name}: layout {arch} is known but no tracker runs it")
    return owner, arch


def create(
    name: str,
    weights: str | Path | None = None,
    device: str = "auto",
    preset: str | None = None,
    half: bool = False,
    backend: str = "auto",
    **overrides: Any,
) -> Tracker:
    """Build tracker ``name``. ``weights``: a checkpoint file, None for the shipped default, or RANDOM.
    ``backend``: what runs the search branch on the CPU (``trackers.onnx_runner``): "auto"
    (OpenVINO when installed: INT8 for weights with shipped INT8 parameters on a CPU that
    computes INT8 exactly (``onnx_runner.exact_int8``), else f32), "torch"
    (the reference), "openvino" (f32), "openvino-bf16" or "openvino-int8" (faster; see
    ``trackers.onnx_runner`` and ``trackers.quantization``)."""
    from trackers.architectures import build
    from trackers.checkpoints import CheckpointError, detect_architecture, load_strict, read_state_dict

    info = get(name)
    config = info.config_cls.create(preset, **overrides)
    if weights == RANDOM:
        model = build(config.architecture)
        source = "random (untrained: speed measurements only)"
    else:
        path = Path(weights) if weights else info.default_weights()
        if path is None:
            raise NoWeightsError(
                f"tracker {name!r} has no shipped weights; pass a checkpoint file (--weights FILE)"
            )
        sd = read_state_dict(path)
        prefer = (config.architecture, *info.architectures)
        try:  # the tracker's own layouts first: building every known layout costs ~0.5 s
            arch = detect_architecture(sd, candidates=info.architectures, source=path.name, prefer=prefer)
        except CheckpointError:  # then all: another tracker's checkpoint, or the closest for the error
            arch = detect_architecture(sd, source=path.name, prefer=prefer)
        if arch not in info.architectures:
            owner = tracker_for_architecture(arch)
            hint = f"; it belongs to tracker {owner!r}" if owner else ""
            raise CheckpointError(f"{path.name} is a {arch} checkpoint, which {name!r} cannot run{hint}")
        if arch != config.architecture:
            # A checkpoint of another variant brings that variant's hyper-parameters, unless the
            # caller chose a preset explicitly; its layout (e.g. the stride) it always brings.
            matching = info.config_cls.preset_for_architecture(arch) if preset is None else None
            if matching:
                config = info.config_cls.create(matching, **overrides)
            else:
                config = config.replace(**info.config_cls.layout_for_architecture(arch))
        model = build(arch)
        load_strict(model, sd, source=path.name)
        source = str(path)
    # The trained layout loads and saves; tracking may run an equivalent, cheaper form of it.
    for_inference = getattr(model, "for_inference", None)
    if for_inference is not None:
        model = for_inference()
    tracker = info.tracker_cls(config, model, device=device, half=half)
    tracker.weights_source = source
    _accelerate(tracker, backend, None if weights == RANDOM else (name, str(path), preset, overrides))
    if weights != RANDOM:
        from trackers.calibration import for_weights

        # Fitted for this exact file (its SHA-256); a user's own checkpoint stays uncalibrated.
        tracker.calibration = for_weights(name, path)
    return tracker


def chosen_backend(name: str, device, backend: str = "auto", weights: str | Path | None = None) -> str:
    """What ``backend`` runs tracker ``name``'s search branch with on ``device`` (a
    ``torch.device``), for ``weights`` (None: the shipped file): "auto" is OpenVINO in INT8
    where INT8 parameters ship for these weights, only for models whose validation AUC held in
    INT8 (model card) and only on a CPU that computes INT8 exactly; other models, a user's own
    checkpoint, and every model on a CPU where INT8 saturates run in f32 (in INT8 with
    "openvino-int8" once ``python -m trackers quantize`` measured its parameters)."""
    info = _REGISTRY.get(name)  # an OpenCV reference tracker has no entry and no network
    path = weights if weights is not None else info.default_weights() if info else None
    chosen, int8 = _backend_and_int8(name, device, backend, path)
    if chosen == "openvino-int8" and int8 is None and info is not None and path is not None:
        raise _no_int8_parameters(name, path)  # as create() would
    return chosen


def _no_int8_parameters(name: str, path: str | Path) -> ValueError:
    return ValueError(
        f"{Path(path).name}: no INT8 parameters were measured for these weights; measure "
        f"them once (python -m trackers quantize --tracker {name} --weights {path} --sequences "
        "DIR ... --float <the output layers>: they are kept in your configuration folder) or "
        "use --backend openvino"
    )


def _backend_and_int8(name: str, device, backend: str, path: str | Path | None) -> tuple[str, Any]:
    """``chosen_backend`` and the INT8 parameters it found (``trackers.quantization``), looked
    up once; None where there are none (an explicit "openvino-int8" then stays asked for)."""
    from trackers.onnx_runner import exact_int8, requested_backend, resolve_backend

    resolved = resolve_backend(backend, device)
    auto = resolved == "openvino" and requested_backend(backend) == "auto"
    if resolved != "openvino-int8" and not auto:
        return resolved, None
    if not exact_int8():
        if auto:
            return resolved, None  # INT8 would saturate on this CPU: f32, as accurate and about as fast
        warnings.warn(SATURATING_INT8, RuntimeWarning, stacklevel=3)
    from trackers.quantization import QUANTIZATION_FILE, for_weights

    # auto: only parameters that ship, whose validation accuracy held (model card); a user's
    # own (unchecked: NanoTrack v2 lost 0.03 AUC in INT8) only when INT8 is asked for
    int8 = for_weights(name, path, QUANTIZATION_FILE if auto else None)
    return ("openvino-int8" if int8 is not None else resolved), int8


SATURATING_INT8 = (
    "this CPU has no 8-bit dot-product instruction (VNNI / AMX): OpenVINO's INT8 convolutions "
    "saturate here and track less accurately; --backend openvino (f32) does not"
)


def _accelerate(tracker: Tracker, backend: str, loaded: tuple | None) -> None:
    """Hand the tracker's search forward to OpenVINO where ``backend`` resolves to it.
    ``loaded``: (name, weights path, preset, overrides) it was built from, None for random weights."""
    from trackers.network import NetworkRunner
    from trackers.onnx_runner import _PRECISION, OnnxRunner, Rebuild, resolve_backend, weights_key

    runner = getattr(tracker, "net", None)
    if not isinstance(runner, NetworkRunner) or isinstance(runner, OnnxRunner):
        return  # an OpenCV reference or a tracker without a Siamese network
    if loaded is None:
        precision = _PRECISION.get(resolve_backend(backend, runner.device))
        if precision == "int8":
            raise ValueError("random weights have no INT8 parameters; use --backend openvino")
        if precision is not None:
            tracker.net = OnnxRunner(runner, precision=precision)
        return
    name, path, preset, overrides = loaded
    chosen, int8 = _backend_and_int8(name, runner.device, backend, path)
    precision = _PRECISION.get(chosen)
    if precision is None:
        return
    if precision == "int8" and int8 is None:
        raise _no_int8_parameters(name, path)
    rebuild = Rebuild(name, path, preset, tuple(sorted(overrides.items())))
    tracker.net = OnnxRunner(runner, weights_key(path), rebuild, precision, int8)
