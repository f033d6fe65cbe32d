"""Search a tracker's inference hyper-parameters on sequences (the validation set), one at a time.

Coordinate search: starting from the tracker's current values, each parameter in turn is tried at
each of its candidate values with the others held at the best found so far, and the mean success
AUC over all sequences decides. Few evaluations (sum of the candidates, not their product), so it
fits a CPU, and coarse on purpose: a fine grid on a dozen sequences would fit noise.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from trackers import registry
from trackers.bench import BenchSequence, run_sequence
from trackers.keys import check_keys
from trackers.metrics import evaluate


@dataclass
class Trial:
    values: dict[str, float]
    mean_auc: float
    per_sequence: dict[str, float]


@dataclass
class SearchResult:
    tracker: str
    start: dict[str, float]
    best: Trial
    trials: list[Trial] = field(default_factory=list)


def parse_grid(specs: Sequence[str]) -> dict[str, list[float]]:
    """``["window_influence=0.2,0.3", ...]`` -> {name: [values]}."""
    grid = {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        if not sep or not values:
            raise ValueError(f"--param {spec!r}: expected NAME=V1,V2,...")
        try:
            grid[name.strip()] = [float(v) for v in values.split(",")]
        except ValueError:
            raise ValueError(f"--param {spec!r}: values must be numbers") from None
    return grid


def mean_auc(
    tracker_name: str, values: dict[str, float], sequences: Sequence[BenchSequence], **create_kwargs
) -> tuple[float, dict[str, float]]:
    per_sequence = {}
    for seq in sequences:
        tracker = registry.create(tracker_name, **create_kwargs, **values)
        boxes, _scores, _seconds = run_sequence(tracker, seq.frames, seq.init_box)
        per_sequence[seq.name] = float(evaluate(boxes, seq.groundtruth).auc)
    return float(np.mean(list(per_sequence.values()))), per_sequence


def coordinate_search(
    tracker_name: str,
    grid: dict[str, list[float]],
    sequences: Sequence[BenchSequence],
    log: Callable[[str], None] | None = None,
    **create_kwargs,
) -> SearchResult:
    config = registry.create(tracker_name, **create_kwargs).config
    check_keys(grid, [f.name for f in dataclasses.fields(config)], f"{tracker_name}: hyper-parameter(s)")
    start = {name: getattr(config, name) for name in grid}
    # Integer settings (crop sizes) stay integers: the grid is parsed as floats.
    grid = {
        name: [
            int(v) if isinstance(start[name], int) and not isinstance(start[name], bool) else v
            for v in values
        ]
        for name, values in grid.items()
    }
    seen: dict[tuple, Trial] = {}

    def trial(values: dict[str, float]) -> Trial:
        key = tuple(sorted(values.items()))
        if key not in seen:
            t0 = time.monotonic()
            auc, per_sequence = mean_auc(tracker_name, values, sequences, **create_kwargs)
            seen[key] = Trial(dict(values), auc, per_sequence)
            if log:
                shown = ", ".join(f"{k}={v:g}" for k, v in values.items())
                log(f"{tracker_name}: {shown}: mean AUC {auc:.4f} ({time.monotonic() - t0:.0f} s)")
        return seen[key]

    best = trial(start)
    for name, candidates in grid.items():
        for value in candidates:
            candidate = trial({**best.values, name: value})
            if candidate.mean_auc > best.mean_auc:
                best = candidate
    return SearchResult(tracker_name, start, best, list(seen.values()))
