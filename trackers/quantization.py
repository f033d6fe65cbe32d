"""INT8 parameters of a weights file for the CPU fast path: measured on real crops, stored next
to the shipped weights, looked up by the file's SHA-256.

``python -m trackers quantize`` tracks a few frames of each given sequence in PyTorch and
records, for every convolution, its input range and the bias shift that quantizing it causes
(``trackers.ops.int8``); ``resources/weights/int8.json`` holds them for the shipped files, so
the ``openvino-int8`` backend needs no calibration data at run time (and ships none: only
these statistics). Parameters a user measures for their own checkpoint (``quantize`` without
``--json``) go to ``int8.json`` in the user's configuration folder, looked up the same way. A
file the parameters were not measured for has none: the backend then refuses it rather than
guess ranges.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trackers.calibration import entry_for_weights
from trackers.ops.int8 import Ranges, Shifts, collect_ranges, collect_shifts
from trackers.user_dirs import config_dir

QUANTIZATION_FILE = Path(__file__).resolve().parents[1] / "resources" / "weights" / "int8.json"


@dataclass(frozen=True)
class Int8Params:
    """Per convolution (module name): its input range and its output channels' bias shift."""

    ranges: Ranges
    shifts: Shifts

    def to_dict(self) -> dict[str, Any]:
        return {
            "ranges": {k: [round(lo, 6), round(hi, 6)] for k, (lo, hi) in sorted(self.ranges.items())},
            # 4 digits: a shift is a small fraction of its channel's spread
            "shifts": {k: [float(f"{v:.4g}") for v in s] for k, s in sorted(self.shifts.items())},
        }

    @classmethod
    def from_dict(cls, data: Any) -> Int8Params:
        try:
            ranges = {str(k): (float(lo), float(hi)) for k, (lo, hi) in data["ranges"].items()}
            shifts = {str(k): [float(v) for v in s] for k, s in data["shifts"].items()}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"malformed INT8 parameters: {exc}") from None
        if any(not lo <= hi for lo, hi in ranges.values()):
            raise ValueError("malformed INT8 parameters: a range with low > high")
        return cls(ranges, shifts)

    @functools.cached_property
    def digest(self) -> str:
        """Identifies these parameters in the graph cache (a re-measured file exports anew);
        computed once: the search graph is looked up on every frame."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]


def measure(tracker, sequences: Sequence, keep_float: Sequence[str] = ()) -> Int8Params:
    """Track each of ``sequences`` (``trackers.bench.BenchSequence``, a few frames each) with
    ``tracker``, twice: once for the ranges, once for the bias shifts. The tracker must run
    its network in PyTorch (``backend="torch"``): the statistics are read from its layers.
    Layers named in ``keep_float`` get no parameters, so they stay float32 (the output layers:
    8-bit logits cost siamfc 0.024 validation AUC)."""
    from trackers.network import NetworkRunner
    from trackers.onnx_runner import OnnxRunner

    runner = getattr(tracker, "net", None)
    if not isinstance(runner, NetworkRunner) or isinstance(runner, OnnxRunner):
        # ValueError: the command line reports it as a usage error, like every other bad choice
        raise ValueError(  # noqa: TRY004
            "INT8 parameters are measured on a Siamese network run in PyTorch (--backend torch)"
        )

    def run() -> None:
        for seq in sequences:
            tracker.init(seq.frames[0], seq.init_box)
            for frame in seq.frames[1:]:
                tracker.track(frame)

    ranges = {k: v for k, v in collect_ranges(runner.model, run).items() if k not in keep_float}
    return Int8Params(ranges, collect_shifts(runner.model, ranges, run))


def user_file() -> Path:
    """Where ``quantize`` keeps the parameters a user measured for their own checkpoints."""
    return config_dir() / "int8.json"


def for_weights(tracker: str, weights: Path | str | None, path: Path | None = None) -> Int8Params | None:
    """The stored parameters of ``tracker`` if they were measured for exactly this file: in
    ``path``, else in the shipped file, then in the user's."""
    for store in (path,) if path is not None else (QUANTIZATION_FILE, user_file()):
        entry = entry_for_weights(tracker, weights, store)
        if entry is None:
            continue
        try:
            return Int8Params.from_dict(entry)
        except ValueError:
            continue
    return None
