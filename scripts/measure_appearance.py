"""Would an appearance check catch the failures the score misses? A measurement, not a feature yet.

For every recorded run (``python -m trackers calibrate ... --records runs.json``) each tracked
box is embedded the way the tracker embeds its template (its template branch on the box's
template crop, L2-normalised) and compared with the first frame's (cosine). A drift flag is
added where the similarity stays below RATIO x its median over frames 1-10 for HOLD frames,
on top of the drift monitor's own flags (default ``DriftSettings``, held-out calibrated scores),
and recall of failure starts / false flags per 100 frames are printed for each (RATIO, HOLD).

    python -m trackers calibrate --tracker siamcross-mobilev2 --device cpu --validation DIR \\
        --max-frames 300 --json /tmp/cal.json --records runs.json
    python scripts/measure_appearance.py runs.json --validation DIR --tracker siamcross-mobilev2
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import trackers
from trackers.bench import load_sequence
from trackers.calibration import SequenceRun, held_out_scores
from trackers.drift import DetectionQuality, DriftSettings, detection_quality, monitor_run


def similarities(tracker, run: SequenceRun, folder: Path, max_frames: int) -> np.ndarray:
    seq = load_sequence(folder / run.name, max_frames)

    def embed(frame, box) -> np.ndarray:
        tracker.init(frame, tuple(box))  # the template branch on this box's template crop
        parts = [v.detach().float().flatten() for v in tracker.net.template_state().values() if v.dim() >= 3]
        e = torch.cat(parts)
        return (e / e.norm()).numpy()

    first = embed(seq.frames[0], run.boxes[0])
    out = np.ones(len(run.boxes))
    for f in range(1, len(run.boxes)):
        box = run.boxes[f]
        out[f] = float(first @ embed(seq.frames[f], box)) if np.all(np.isfinite(box)) else 0.0
    return out


def quality(runs, scores, extra=None) -> DetectionQuality:
    total = DetectionQuality(0, 0, 0, 0)
    for run in runs:
        s = scores[run.name]
        results = ((f, tuple(run.boxes[f]), float(s[f])) for f in range(1, len(run.boxes)))
        flags = monitor_run(DriftSettings(), 0, tuple(run.boxes[0]), results, run.frame_size)
        flagged = [f in flags for f in range(len(run.boxes))]
        if extra is not None:
            flagged = [a or b for a, b in zip(flagged, extra[run.name], strict=True)]
        total = total + detection_quality(flagged, np.nan_to_num(run.iou, nan=0.0).tolist())
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("records")
    ap.add_argument("--validation", required=True, type=Path)
    ap.add_argument("--tracker", required=True)
    ap.add_argument("--max-frames", type=int, default=300)
    ap.add_argument("--ratios", type=float, nargs="+", default=[0.4, 0.45, 0.5, 0.55, 0.6])
    ap.add_argument("--holds", type=int, nargs="+", default=[3, 5, 8])
    args = ap.parse_args()
    records = json.loads(Path(args.records).read_text())[args.tracker]
    runs = [SequenceRun.from_dict(name, data) for name, data in records.items()]
    scores = held_out_scores(runs)
    tracker = trackers.create(args.tracker, device="cpu", backend="torch")
    sims = {run.name: similarities(tracker, run, args.validation, args.max_frames) for run in runs}

    def show(label: str, q: DetectionQuality) -> None:
        print(
            f"{label:36s} recall {q.recall:.2f} ({q.caught}/{q.failures})  false flags / 100 {q.false_per_100:.2f}"
        )

    show("drift monitor alone", quality(runs, scores))
    for ratio in args.ratios:
        for hold in args.holds:
            extra = {}
            for name, s in sims.items():
                low = s < ratio * np.median(s[1:11])
                extra[name] = [f >= hold - 1 and bool(low[f - hold + 1 : f + 1].all()) for f in range(len(s))]
            show(f"+ similarity < {ratio} x start, {hold} fr", quality(runs, scores, extra))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
