"""The tracking loop (shared by ``track`` and ``bench``) and the OPE benchmark around it."""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trackers.base import Box, Tracker, TrackResult
from trackers.io import SourceError, atomic_write_text, open_source
from trackers.metrics import evaluate, valid_mask
from trackers.stats import PairedDifference, paired_by_name

#: progress(frames_done, frames_total or None, tracking_seconds_so_far)
Progress = Callable[[int, "int | None", float], None]


def run_sequence(
    tracker: Tracker,
    frames: Iterable[np.ndarray],
    init_box: Box,
    progress: Progress | None = None,
    max_frames: int | None = None,
    on_result: Callable[[TrackResult], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Init on the first frame, track the rest (up to ``max_frames`` frames in all).

    Returns ``boxes`` (N, 4) with row 0 = the init box, ``scores`` (N,) with score 1 for the
    init frame, and the seconds spent inside ``tracker.track`` only: init and reading or
    decoding frames are not timed, so a lazily read source gives the same fps as a preloaded one.
    ``on_result`` sees each tracked frame's whole result (its extras).
    """
    total = len(frames) if hasattr(frames, "__len__") else None
    it = iter(frames)
    if max_frames is not None:
        total = max_frames if total is None else min(total, max_frames)
        it = itertools.islice(it, max_frames)
    try:
        first = next(it)
    except StopIteration:
        raise ValueError("no frames to track") from None
    tracker.init(first, init_box)
    boxes = [tuple(float(v) for v in init_box)]
    scores = [1.0]
    seconds = 0.0
    if progress:
        progress(1, total, seconds)
    for frame in it:
        t0 = time.perf_counter()
        result = tracker.track(frame)
        seconds += time.perf_counter() - t0
        boxes.append(tuple(float(v) for v in result.box))
        scores.append(float(result.score))
        if on_result is not None:
            on_result(result)
        if progress:
            progress(len(boxes), total, seconds)
    return np.asarray(boxes, dtype=np.float64), np.asarray(scores, dtype=np.float64), seconds


@dataclass
class BenchSequence:
    name: str
    frames: list[np.ndarray]
    groundtruth: np.ndarray  # (len(frames), 4); NaN rows where the file has no line
    #: seconds spent decoding the frames (into memory, before any tracking): the decode limit
    decode_seconds: float = math.nan

    @property
    def init_box(self) -> Box:
        x, y, w, h = (float(v) for v in self.groundtruth[0])
        return (x, y, w, h)


def load_sequence(path: str | Path, max_frames: int | None = None) -> BenchSequence:
    """Read an OTB-layout sequence into memory (so frame IO is never inside the timed loop)."""
    source = open_source(path)
    if source.groundtruth is None:
        raise SourceError(
            f"{path}: no groundtruth_rect.txt; bench needs OTB layout (img/ + groundtruth_rect.txt)"
        )
    t0 = time.perf_counter()
    frames = source.read_all(max_frames)
    decode_seconds = time.perf_counter() - t0
    gt = source.groundtruth[: len(frames)]
    if len(gt) < len(frames):
        gt = np.vstack([gt, np.full((len(frames) - len(gt), 4), np.nan)])
    if not valid_mask(gt[:1])[0]:
        raise SourceError(f"{path}: the first ground-truth box {gt[0].tolist()} is not a valid init box")
    return BenchSequence(source.name, frames, gt, decode_seconds)


def bench_one(tracker: Tracker, method: str, seq: BenchSequence, warmup: bool = True) -> dict:
    """One table row: AUC, precision at 20 px and tracking fps of ``tracker`` on ``seq``.

    ``warmup`` runs init + one track call untimed first (then re-inits), so one-time costs
    (CUDA context, cuDNN autotuning, lazy allocations) do not land on a short sequence's fps.
    """
    if warmup and len(seq.frames) > 1:
        tracker.init(seq.frames[0], seq.init_box)
        tracker.track(seq.frames[1])
    boxes, _scores, seconds = run_sequence(tracker, seq.frames, seq.init_box)
    scores = evaluate(boxes, seq.groundtruth)
    tracked = len(seq.frames) - 1
    return {
        "method": method,
        "sequence": seq.name,
        "frames": len(seq.frames),
        "auc": scores.auc,
        "precision": scores.precision,
        "fps": tracked / seconds if seconds > 0 else math.nan,
        "decode_fps": len(seq.frames) / seq.decode_seconds if seq.decode_seconds > 0 else math.nan,
    }


def run_bench(
    sequence_dirs: Sequence[str | Path],
    methods: Sequence[tuple[str, Tracker]],
    max_frames: int | None = None,
    log: Callable[[str], None] | None = None,
) -> list[dict]:
    """Every method on every sequence; each sequence is read once and shared by all methods."""
    rows = []
    for path in sequence_dirs:
        seq = load_sequence(path, max_frames)
        for method, tracker in methods:
            row = bench_one(tracker, method, seq)
            rows.append(row)
            if log:
                log(
                    f"{seq.name}: {method} {row['frames']} frames, AUC {row['auc']:.3f}, {row['fps']:.1f} fps"
                )
    return rows


def summarize(rows: Sequence[dict]) -> list[dict]:
    """Per method: AUC / precision averaged over sequences (as pysot), fps = all frames / all time."""
    out = []
    for method in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == method]
        tracked = sum(r["frames"] - 1 for r in mine)
        seconds = sum((r["frames"] - 1) / r["fps"] for r in mine if r["fps"] and math.isfinite(r["fps"]))
        out.append(
            {
                "method": method,
                "sequence": "ALL",
                "frames": sum(r["frames"] for r in mine),
                "auc": float(np.nanmean([r["auc"] for r in mine])),
                "precision": float(np.nanmean([r["precision"] for r in mine])),
                "fps": tracked / seconds if seconds > 0 else math.nan,
                "decode_fps": _total_rate(mine, "decode_fps"),
            }
        )
    return out


def compare(rows: Sequence[dict], method: str, reference: str) -> PairedDifference | None:
    """``method``'s AUC against ``reference``'s on the sequences both ran (paired bootstrap,
    trackers/stats.py); None with fewer than two such sequences."""
    auc = {m: {r["sequence"]: r["auc"] for r in rows if r["method"] == m} for m in (method, reference)}
    return paired_by_name(auc[method], auc[reference])


def format_comparison(method: str, reference: str, d: PairedDifference) -> str:
    verdict = "" if d.resolved else "; these sequences do not tell them apart"
    return (
        f"{method} vs {reference}: mean AUC {d.mean:+.3f} (95% interval {d.low:+.3f} to {d.high:+.3f}, "
        f"sequences resampled), better on {d.wins} of {d.count}{verdict}"
    )


def _total_rate(rows: Sequence[dict], key: str) -> float:
    """Frames per second over all rows: all frames / all time (rows without the rate left out)."""
    timed = [r for r in rows if r.get(key) and math.isfinite(r[key])]
    seconds = sum(r["frames"] / r[key] for r in timed)
    return sum(r["frames"] for r in timed) / seconds if seconds > 0 else math.nan


def fps_ratio(summary: Sequence[dict], method: str, reference: str = "opencv-nano") -> float | None:
    fps = {r["method"]: r["fps"] for r in summary}
    if method in fps and reference in fps and fps[reference] and math.isfinite(fps[reference]):
        return fps[method] / fps[reference]
    return None


def format_table(rows: Sequence[dict]) -> str:
    header = ("method", "sequence", "frames", "AUC", "Prec@20", "fps", "decode fps")
    body = [
        (
            r["method"],
            r["sequence"],
            str(r["frames"]),
            f"{r['auc']:.3f}",
            f"{r['precision']:.3f}",
            f"{r['fps']:.1f}",
            f"{r.get('decode_fps', math.nan):.1f}",
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = []
    for row in [header, *body]:
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _json_safe(value):
    # NaN is not JSON; null says "not measurable" (e.g. a one-frame sequence has no fps).
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def write_json(path: str | Path, rows: Sequence[dict], **extra) -> None:
    """``{"rows": [...], **extra}``, written atomically."""
    doc = _json_safe({"rows": list(rows), **extra})
    atomic_write_text(path, json.dumps(doc, indent=2) + "\n")
