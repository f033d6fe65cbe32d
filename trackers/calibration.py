"""Calibrated confidence: a tracker's raw score mapped to P(IoU >= 0.5 with the truth).

A raw score says how much the search crop looks like the template; it is not a probability, and
each network has its own scale (one sits near 0.9 on a lost target, another near 0.5 on a good
one). ``python -m trackers calibrate`` runs each shipped model over the validation set, pairs
every tracked frame's raw score with whether its box overlaps the truth by IoU >= 0.5, and fits
a monotone map from one to the other: logistic (Platt scaling on the logit of the raw score) or
isotonic, whichever does better on sequences it was not fitted on (``best_held_out``). The maps
live in ``resources/weights/calibration.json`` next to the weights, each keyed by its weights
file's SHA-256: a map applies only to the exact file it was fitted for (``for_weights``).

Strictly monotone on purpose: it keeps the raw score's ranking (so the AUROC of telling failures
from good frames is the raw score's), and two parameters cannot invent structure a dozen
sequences do not hold.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trackers.drift import SUCCESS_IOU, DetectionQuality, DriftSettings, detection_quality, monitor_run
from trackers.io import atomic_write_text
from trackers.measured import sha256_of

CALIBRATION_FILE = Path(__file__).resolve().parents[1] / "resources" / "weights" / "calibration.json"


@dataclass(frozen=True)
class Calibration:
    """Piecewise-linear, non-decreasing map from raw score to probability (knots ``x`` -> ``y``)."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    def __post_init__(self) -> None:
        xs, ys = np.asarray(self.x, float), np.asarray(self.y, float)
        if len(xs) < 1 or len(xs) != len(ys):
            raise ValueError("calibration: needs as many probabilities as score knots, at least one")
        if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
            raise ValueError("calibration: knots must be finite numbers")
        if np.any(np.diff(xs) < 0) or np.any(np.diff(ys) < 0):
            raise ValueError("calibration: knots must be non-decreasing")
        if ys.min() < 0 or ys.max() > 1:
            raise ValueError("calibration: probabilities must lie in [0, 1]")

    def __call__(self, raw: float) -> float:
        if not math.isfinite(raw):
            return raw
        return float(np.interp(raw, self.x, self.y))

    def apply(self, raw: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(raw, float), self.x, self.y)

    def to_dict(self) -> dict[str, list[float]]:
        return {"x": [round(v, 6) for v in self.x], "y": [round(v, 6) for v in self.y]}

    @classmethod
    def from_dict(cls, data: Any) -> Calibration:
        if not isinstance(data, dict) or "x" not in data or "y" not in data:
            raise ValueError("calibration: expected an object with knot lists x and y")
        try:
            return cls(tuple(float(v) for v in data["x"]), tuple(float(v) for v in data["y"]))
        except (TypeError, ValueError):
            raise ValueError("calibration: x and y must be lists of numbers") from None


def fit_isotonic(raw: Sequence[float], success: Sequence[bool]) -> Calibration:
    """Isotonic regression of ``success`` on ``raw`` (pool adjacent violators).

    Each pooled block becomes two knots (its lowest and highest raw score) at the block's rate,
    shrunk by one pseudo-success and one pseudo-failure so that no block of a few frames claims
    certainty (0 or 1); between blocks the map is linear.
    """
    raw = np.asarray(raw, float)
    ok = np.asarray(success, bool)
    keep = np.isfinite(raw)
    raw, ok = raw[keep], ok[keep]
    if len(raw) == 0:
        raise ValueError("calibration: no finite scores to fit")
    order = np.argsort(raw, kind="stable")
    raw, ok = raw[order], ok[order].astype(float)
    # Blocks: [sum of successes, count, lowest score, highest score]; equal scores pool first.
    blocks: list[list[float]] = []
    for value in np.unique(raw):
        sel = raw == value
        blocks.append([ok[sel].sum(), float(sel.sum()), value, value])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            s, n, _lo, hi = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += n
            blocks[-1][3] = hi
    xs, ys = [], []
    for s, n, lo, hi in blocks:
        rate = (s + 1.0) / (n + 2.0)
        xs += [lo, hi] if hi > lo else [lo]
        ys += [rate, rate] if hi > lo else [rate]
    # The shrinkage can break monotonicity between a small block and a large one: restore it.
    return Calibration(tuple(xs), tuple(np.maximum.accumulate(ys)))


#: raw scores are kept this far from 0 and 1 before the logit (a saturated network gives 1.0)
EPSILON = 1e-4
#: knots of the stored map: the fitted curve sampled on this many raw scores from 0 to 1
KNOTS = 201


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, float), EPSILON, 1 - EPSILON)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # 1 / (1 + exp(-z)) without overflow


def fit_logistic(raw: Sequence[float], success: Sequence[bool]) -> Calibration:
    """Platt scaling: P(success) = sigmoid(a * logit(raw) + b), fitted by Newton's method on the
    log-likelihood, with Platt's targets (n+ + 1) / (n+ + 2) and 1 / (n- + 2) so that no fit
    claims certainty. Stored as ``KNOTS`` knots of the curve, so a map file is knots whatever
    fitted it.

    Where the raw score spreads over (0, 1) (siamcross-mobilev2's sigmoid scores) this beats
    the isotonic fit held out: the isotonic map's flat steps tie frames the raw score tells apart
    (held-out AUROC 0.844 against 0.878) and its sparse middle bins are off by more (held-out
    ECE 0.086 against 0.048). Where softmax scores pile up within 1e-4 of 1, the fitted slope
    maps them all to 1.0 and the isotonic fit is the better one: ``best_held_out``.
    """
    x = np.asarray(raw, float)
    ok = np.asarray(success, bool)
    keep = np.isfinite(x)
    x, ok = _logit(x[keep]), ok[keep]
    if len(x) == 0:
        raise ValueError("calibration: no finite scores to fit")
    positives = ok.sum()
    target = np.where(ok, (positives + 1.0) / (positives + 2.0), 1.0 / (len(ok) - positives + 2.0))
    a, b = 1.0, 0.0
    for _ in range(100):
        p = _sigmoid(a * x + b)
        w = p * (1.0 - p)
        gradient = np.array([((p - target) * x).sum(), (p - target).sum()])
        hessian = np.array([[(w * x * x).sum(), (w * x).sum()], [(w * x).sum(), w.sum()]])
        step = np.linalg.solve(hessian + 1e-9 * np.eye(2), gradient)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-10:
            break
    # a <= 0 would rank failures above successes: the score says nothing then, so the map is flat
    a = max(a, 0.0)
    knots = np.linspace(0.0, 1.0, KNOTS)
    ys = _sigmoid(a * _logit(knots) + b)
    return Calibration(tuple(knots), tuple(np.maximum.accumulate(ys)))


def roc_auc(scores: Sequence[float], positive: Sequence[bool]) -> float:
    """P(a positive frame scores higher than a negative one), ties counting half (Mann-Whitney U).
    NaN when either class is empty."""
    s = np.asarray(scores, float)
    pos = np.asarray(positive, bool)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan
    order = np.argsort(s, kind="stable")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    # Average ranks over ties.
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


@dataclass(frozen=True)
class ReliabilityBin:
    low: float
    high: float
    frames: int
    predicted: float  # mean predicted probability in the bin
    observed: float  # fraction of those frames with IoU >= 0.5


def reliability(predicted: Sequence[float], success: Sequence[bool], bins: int = 10) -> list[ReliabilityBin]:
    """The reliability diagram's table: equal-width probability bins, empty bins left out."""
    p = np.asarray(predicted, float)
    ok = np.asarray(success, bool)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    out = []
    for b in range(bins):
        sel = index == b
        if sel.any():
            out.append(
                ReliabilityBin(
                    float(edges[b]),
                    float(edges[b + 1]),
                    int(sel.sum()),
                    float(p[sel].mean()),
                    float(ok[sel].mean()),
                )
            )
    return out


def expected_calibration_error(predicted: Sequence[float], success: Sequence[bool], bins: int = 10) -> float:
    """Frame-weighted mean |predicted - observed| over the reliability bins."""
    table = reliability(predicted, success, bins)
    total = sum(b.frames for b in table)
    return float(sum(b.frames * abs(b.predicted - b.observed) for b in table) / total) if total else math.nan


# -- the stored maps ------------------------------------------------------------------------------


def load_file(path: Path = CALIBRATION_FILE) -> dict[str, dict[str, Any]]:
    """tracker name -> its entry; {} when there is no file or it cannot be read (uncalibrated)."""
    try:
        doc = json.loads(Path(path).read_text())
        return {k: v for k, v in doc["trackers"].items() if isinstance(v, dict)}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def entry_name(tracker: str, sha256: str) -> str:
    """An entry's name in a file that holds several weights files of one tracker (a user's)."""
    return f"{tracker}@{sha256}"


def entry_for_weights(tracker: str, weights: Path | str | None, path: Path) -> dict[str, Any] | None:
    """``tracker``'s entry in the file at ``path`` if it was made for exactly this ``weights``
    file (its SHA-256), under the tracker's name or ``entry_name``; None otherwise, or when
    there is no such file or entry."""
    if weights is None or not Path(weights).is_file():
        return None
    sha = sha256_of(Path(weights))
    entries = load_file(path)
    for entry in (entries.get(tracker), entries.get(entry_name(tracker, sha))):
        if entry and entry.get("weights_sha256") == sha:
            return entry
    return None


def for_weights(tracker: str, weights: Path | None, path: Path = CALIBRATION_FILE) -> Calibration | None:
    """The stored map of ``tracker`` if it was fitted for exactly this ``weights`` file."""
    entry = entry_for_weights(tracker, weights, path)
    if entry is None:
        return None
    try:
        return Calibration.from_dict(entry.get("map"))
    except ValueError:
        return None


def write_file(path: Path, entries: dict[str, dict[str, Any]], indent: int | None = 2, **meta: Any) -> None:
    """Atomically write ``{"meta": ..., "trackers": {name: entry}}``; entries of trackers not
    re-fitted this time are kept from the existing file. ``indent`` None: one line (long lists)."""
    merged = {**load_file(path), **entries}
    atomic_write_text(path, json.dumps({"meta": meta, "trackers": merged}, indent=indent) + "\n")


# -- measuring on sequences -----------------------------------------------------------------------


@dataclass
class SequenceRun:
    """One tracker's run over one sequence: what calibration and the drift checks are measured on."""

    name: str
    frame_size: tuple[int, int]  # (width, height)
    boxes: np.ndarray  # (N, 4); row 0 = the init box
    raw: np.ndarray  # (N,) raw scores; row 0 = 1 (the init frame)
    iou: np.ndarray  # (N,) IoU with the truth; NaN where the target is absent
    #: (N,) the tracker's ``extras["appearance"]``; row 0 = 1; None: not recorded
    appearance: np.ndarray | None = None

    def to_dict(self) -> dict[str, Any]:
        def clean(a):
            return [None if not math.isfinite(v) else round(float(v), 5) for v in np.ravel(a)]

        data = {
            "frame_size": list(self.frame_size),
            "boxes": [clean(b) for b in self.boxes],
            "raw": clean(self.raw),
            "iou": clean(self.iou),
        }
        if self.appearance is not None:
            data["appearance"] = clean(self.appearance)
        return data

    def results(self, scores: np.ndarray) -> list[tuple]:
        """(frame, box, score, appearance) of each tracked frame, for ``monitor_run``."""
        looks = self.appearance if self.appearance is not None else np.full(len(self.boxes), math.nan)
        return [
            (f, tuple(self.boxes[f]), float(scores[f]), float(looks[f])) for f in range(1, len(self.boxes))
        ]

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any]) -> SequenceRun:
        def arr(values):
            return np.array([math.nan if v is None else v for v in values], float)

        return cls(
            name,
            tuple(data["frame_size"]),
            np.array([arr(b) for b in data["boxes"]]),
            arr(data["raw"]),
            arr(data["iou"]),
            arr(data["appearance"]) if "appearance" in data else None,
        )


def run_uncalibrated(tracker, sequence) -> SequenceRun:
    """Track ``sequence`` (a ``trackers.bench.BenchSequence``) with ``tracker``'s raw scores."""
    from trackers.bench import run_sequence
    from trackers.metrics import iou, valid_mask

    saved, tracker.calibration = tracker.calibration, None
    appearance, was_on = [1.0], tracker.appearance
    tracker.set_appearance(True)  # recorded for the drift flags' appearance rule
    try:
        boxes, raw, _seconds = run_sequence(
            tracker,
            sequence.frames,
            sequence.init_box,
            on_result=lambda r: appearance.append(r.extras.get("appearance", math.nan)),
        )
    finally:
        tracker.calibration = saved
        tracker.set_appearance(was_on)
    overlap = iou(boxes, sequence.groundtruth)
    overlap[~valid_mask(sequence.groundtruth)] = math.nan
    h, w = sequence.frames[0].shape[:2]
    return SequenceRun(sequence.name, (w, h), boxes, raw, overlap, np.asarray(appearance, float))


def tracked_frames(runs: Sequence[SequenceRun]) -> tuple[np.ndarray, np.ndarray]:
    """(raw scores, success) of every tracked frame with a visible target."""
    raw, ok = [], []
    for run in runs:
        visible = np.isfinite(run.iou[1:])
        raw.append(run.raw[1:][visible])
        ok.append(run.iou[1:][visible] >= SUCCESS_IOU)
    return np.concatenate(raw), np.concatenate(ok)


#: the two ways to fit a map; ``best_held_out`` picks one per model by its held-out figures
FITS = {"isotonic": fit_isotonic, "logistic": fit_logistic}

#: a fit's name and each run's held-out scores through it (``best_held_out``)
HeldOut = tuple[str, dict[str, np.ndarray]]


def calibrate_runs(runs: Sequence[SequenceRun], held: HeldOut | None = None) -> dict[str, Any]:
    """Fit the map on every run with the fit ``best_held_out`` picks; measure it on each sequence
    with a map fitted without it (``held``: ``best_held_out(runs)`` when the caller has it)."""
    raw, ok = tracked_frames(runs)
    method, scores = held or best_held_out(runs)
    fitted = FITS[method](raw, ok)
    # What the map does on a sequence it has not seen: the honest figures for the model card.
    held_out = _held_out_frames(runs, scores)
    return {
        "map": fitted.to_dict(),
        "fit": method,
        "frames": len(raw),
        "sequences": [r.name for r in runs],
        "success_rate": round(float(ok.mean()), 4),
        # The failure detector's figure: how well the score tells IoU < 0.5 frames from the rest.
        "auroc": round(roc_auc(raw, ok), 4),
        "auroc_held_out": round(roc_auc(held_out, ok), 4),
        "ece_raw": round(expected_calibration_error(raw, ok), 4),
        "ece_held_out": round(expected_calibration_error(held_out, ok), 4),
        "reliability_held_out": [vars(b) for b in reliability(held_out, ok)],
    }


def _held_out_frames(runs: Sequence[SequenceRun], scores: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([scores[r.name][1:][np.isfinite(r.iou[1:])] for r in runs])


def best_held_out(runs: Sequence[SequenceRun]) -> HeldOut:
    """The fit whose held-out scores tell failures from good frames best (AUROC), the better
    calibrated one (ECE) on a tie, and those scores: measured per model, as their raw scores
    differ in kind."""
    _raw, ok = tracked_frames(runs)
    scores = {method: held_out_scores(runs, method) for method in FITS}

    def figures(method: str) -> tuple[float, float]:
        held = _held_out_frames(runs, scores[method])
        return round(roc_auc(held, ok), 3), -expected_calibration_error(held, ok)

    method = max(FITS, key=figures)
    return method, scores[method]


def held_out_scores(runs: Sequence[SequenceRun], method: str) -> dict[str, np.ndarray]:
    """Each run's scores through a map fitted on the other runs only (``method``: a key of ``FITS``)."""
    fit = FITS[method]
    out = {}
    for run in runs:
        others = [r for r in runs if r is not run]
        raw, ok = tracked_frames(others) if others else tracked_frames([run])
        out[run.name] = fit(raw, ok).apply(run.raw)
    return out


def drift_quality(
    runs: Sequence[SequenceRun], scores: dict[str, np.ndarray], settings=None
) -> DetectionQuality:
    """The drift monitor's flags on each run (with ``scores[run.name]`` as its scores), measured
    against the run's IoU track (``trackers.drift.detection_quality``), summed over the runs."""
    total = DetectionQuality(0, 0, 0, 0)
    for run in runs:
        results = run.results(scores[run.name])
        flags = monitor_run(settings or DriftSettings(), 0, tuple(run.boxes[0]), results, run.frame_size)
        flagged = [f in flags for f in range(len(run.boxes))]
        total = total + detection_quality(flagged, np.nan_to_num(run.iou, nan=0.0).tolist())
    return total
