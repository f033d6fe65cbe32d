"""Measure drift-flag settings on recorded runs: recall of failure starts and false flags.

    python -m trackers calibrate --tracker shipped --validation DIR --max-frames 300 --records runs.json
    python scripts/measure_drift.py runs.json --tracker siamcross-mobilev2 \
        --param start_ratio=0,0.8,0.9 --param drop_ratio=0.2,0.3 --param max_jump=0.5,1,2

Every combination of the given values (the others at their defaults) is measured on every run
with held-out calibrated scores (each sequence's scores through a map fitted on the other
sequences), so the figures are what the thresholds do on a sequence the map has not seen.
Settings that meet the false-flag budget are listed by recall.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trackers.calibration import SequenceRun, drift_quality, held_out_scores
from trackers.drift import DriftSettings
from trackers.tune import parse_grid


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("records", help="the --records file of python -m trackers calibrate")
    parser.add_argument("--tracker", action="append", required=True, help="tracker(s) in the file (repeat)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=V1,V2,...")
    parser.add_argument("--budget", type=float, default=1.0, help="false flags per 100 frames allowed")
    args = parser.parse_args(argv)

    records = json.loads(Path(args.records).read_text())
    grid = parse_grid(args.param)
    defaults = DriftSettings()
    ints = {"window", "persist"}
    for tracker in args.tracker:
        runs = [SequenceRun.from_dict(name, data) for name, data in records[tracker].items()]
        scores = held_out_scores(runs)
        rows = []
        for values in itertools.product(*grid.values()):
            changes = {k: (int(v) if k in ints else v) for k, v in zip(grid, values)}
            settings = DriftSettings(**{**defaults.to_dict(), **changes})
            q = drift_quality(runs, scores, settings)
            rows.append((q.recall, -q.false_per_100, changes, q))
        rows.sort(key=lambda r: (r[1] >= -args.budget, r[0], r[1]), reverse=True)
        print(
            f"{tracker}: {len(runs)} sequences, {rows[0][3].frames} tracked frames, "
            f"{rows[0][3].failures} failure starts"
        )
        for recall, neg_false, changes, q in rows[:15]:
            shown = ", ".join(f"{k}={v:g}" for k, v in changes.items()) or "defaults"
            mark = "" if -neg_false <= args.budget else "  (over budget)"
            print(
                f"  recall {recall:.2f} ({q.caught}/{q.failures}), {-neg_false:.2f} false / 100 frames: {shown}{mark}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
