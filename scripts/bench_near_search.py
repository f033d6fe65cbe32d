"""The near search crop against the full one alone: quality under init jitter, and speed.

One run, the same frames: the tracker as configured (its preset's ``near_instance_size``)
against the same tracker with ``near_instance_size=0``. A single run per sequence cannot tell
them apart: on a sequence with a look-alike distractor a 1 px change of the start box decides
whether either keeps the target (otb_basketball: the full crop alone keeps the player in 5 of
8 jittered starts, the near crop in 4). So every sequence is tracked from several jittered
start boxes and the mean AUC compared, with the paired difference's standard error.

    python scripts/bench_near_search.py --tracker siamcross-mobilev2 --validation ~/siamark-data/val
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: (dx, dy, dw, dh) added to the first ground-truth box
JITTER = ((0, 0, 0, 0), (1, 0, 0, 0), (0, -1, 0, 0), (0, 0, 2, 2))


def main() -> int:
    import trackers
    from trackers.bench import load_sequence, run_sequence
    from trackers.cli import validation_sequences
    from trackers.metrics import success_auc

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracker", required=True)
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--sequences", nargs="+", metavar="DIR")
    where.add_argument("--validation", metavar="DIR")
    ap.add_argument("--max-frames", type=int, default=300)
    args = ap.parse_args()
    dirs = args.sequences or validation_sequences(Path(args.validation))
    runs = {
        "near": trackers.create(args.tracker, device="cpu"),
        "full": trackers.create(args.tracker, device="cpu", near_instance_size=0),
    }
    if not runs["near"].config.near_instance_size:
        ap.error(f"{args.tracker}: its preset searches no near crop")
    means = {k: [] for k in runs}
    seconds = dict.fromkeys(runs, 0.0)
    frames = 0
    for path in dirs:
        seq = load_sequence(path, args.max_frames)
        for label, tracker in runs.items():
            tracker.init(seq.frames[0], seq.init_box)  # untimed: both graphs compiled first
            tracker.track(seq.frames[1])
            aucs = []
            for jitter in JITTER:
                boxes, _, sec = run_sequence(tracker, seq.frames, tuple(np.add(seq.init_box, jitter)))
                aucs.append(success_auc(boxes, seq.groundtruth))
                seconds[label] += sec
            means[label].append(float(np.mean(aucs)))
        frames += len(JITTER) * (len(seq.frames) - 1)
        print(f"{seq.name}: mean AUC full {means['full'][-1]:.3f}, near {means['near'][-1]:.3f}", flush=True)
    diff = np.array(means["near"]) - np.array(means["full"])
    sem = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
    fps = {k: frames / s for k, s in seconds.items()}
    print(
        f"{args.tracker}, {len(dirs)} sequences x {len(JITTER)} start boxes: mean AUC full "
        f"{np.mean(means['full']):.4f}, near {np.mean(means['near']):.4f} (difference "
        f"{diff.mean():+.4f}, standard error {sem:.4f}); fps full {fps['full']:.1f}, near "
        f"{fps['near']:.1f} (ratio {fps['near'] / fps['full']:.2f}, same run)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
