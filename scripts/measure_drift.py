"""Measure drift-flag settings on recorded runs: recall of failure starts and false flags.

    python -m trackers calibrate --tracker shipped --validation DIR --max-frames 300 --records runs.json
    python scripts/measure_drift.py runs.json --tracker siamcross-mobilev2 \
        --param start_ratio=0.85,0.9,0.95 --param start_evidence=0.1,0.2,0.3 \
        --param appearance_ratio=0,0.75,0.8,0.85 --param appearance_evidence=0.6,1,1.5 --min-recall 0.85

Every combination of the given values (the others at their defaults) is measured on every run
with held-out calibrated scores (each sequence's scores through a map fitted on the other
sequences), so the figures are what the thresholds do on a sequence the map has not seen.
Settings that meet the false-flag budget are listed by recall; with ``--min-recall R``, settings
that reach recall R are listed by false flags instead (the fewest first): the issue's targets are
a recall floor and a false-flag ceiling, and a setting chosen with room under the ceiling keeps
more of it on a sequence it was not chosen on.

The last line is the held-out figure for choosing the thresholds this way: for each sequence,
the setting with the best recall within the budget on the *other* sequences, applied to it; the
sums over the sequences are what such a choice does on video it was not chosen on.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trackers.calibration import SequenceRun, best_held_out, drift_quality
from trackers.drift import DetectionQuality, DriftSettings
from trackers.tune import parse_grid

INTS = {"window"}


def best(qualities: dict[str, DetectionQuality], budget: float, min_recall: float | None = None) -> tuple:
    """Sort key of a setting: within the budget first, then recall, then fewer false flags; with
    ``min_recall``: reaching that recall first, then fewer false flags, then recall."""
    q = sum(qualities.values(), DetectionQuality(0, 0, 0, 0))
    if min_recall is not None:
        return (q.recall >= min_recall, -q.false_per_100, q.recall)
    return (q.false_per_100 <= budget, q.recall, -q.false_per_100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("records", help="the --records file of python -m trackers calibrate")
    parser.add_argument("--tracker", action="append", required=True, help="tracker(s) in the file (repeat)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=V1,V2,...")
    parser.add_argument("--budget", type=float, default=1.0, help="false flags per 100 frames allowed")
    parser.add_argument(
        "--min-recall",
        type=float,
        metavar="R",
        help="rank settings that reach this recall by their false flags (instead of recall within the budget)",
    )
    args = parser.parse_args(argv)

    records = json.loads(Path(args.records).read_text())
    grid = parse_grid(args.param)
    defaults = DriftSettings()
    for tracker in args.tracker:
        runs = [SequenceRun.from_dict(name, data) for name, data in records[tracker].items()]
        _fit, scores = best_held_out(runs)
        # setting -> sequence -> its quality (measured once, summed per fold below)
        table: dict[str, dict[str, DetectionQuality]] = {}
        labels: dict[str, str] = {}
        for values in itertools.product(*grid.values()):
            changes = {k: (int(v) if k in INTS else v) for k, v in zip(grid, values)}
            settings = DriftSettings(**{**defaults.to_dict(), **changes})
            key = json.dumps(changes, sort_keys=True)
            labels[key] = ", ".join(f"{k}={v:g}" for k, v in changes.items()) or "defaults"
            table[key] = {run.name: drift_quality([run], scores, settings) for run in runs}
        ranked = sorted(table, key=lambda k: best(table[k], args.budget, args.min_recall), reverse=True)
        total = sum(table[ranked[0]].values(), DetectionQuality(0, 0, 0, 0))
        print(f"{tracker}: {len(runs)} sequences, {total.frames} tracked frames, {total.failures} failure starts")
        for key in ranked[:15]:
            q = sum(table[key].values(), DetectionQuality(0, 0, 0, 0))
            mark = "" if q.false_per_100 <= args.budget else "  (over budget)"
            print(
                f"  recall {q.recall:.2f} ({q.caught}/{q.failures}), {q.false_per_100:.2f} false / 100 frames: "
                f"{labels[key]}{mark}"
            )
        held = DetectionQuality(0, 0, 0, 0)
        chosen = []
        for run in runs:
            others = {k: {n: q for n, q in table[k].items() if n != run.name} for k in table}
            pick = max(others, key=lambda k: best(others[k], args.budget, args.min_recall))
            held = held + table[pick][run.name]
            chosen.append(labels[pick])
        print(
            f"  held out (thresholds chosen without the sequence): recall {held.recall:.2f} "
            f"({held.caught}/{held.failures}), {held.false_per_100:.2f} false / 100 frames; "
            f"choices: {', '.join(sorted(set(chosen)))}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
