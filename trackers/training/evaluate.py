"""One-pass evaluation of exported weights on the manifest's evaluation sequences."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import trackers
from trackers.metrics import evaluate
from trackers.training.datasets import Track, load_frame


def evaluate_weights(
    tracker: str, weights: str | Path, tracks: list[Track], preset: str | None = None, max_frames: int = 300
) -> dict[str, dict[str, float]]:
    """Per sequence: success AUC, precision @ 20 px and tracking fps (first ``max_frames`` frames,
    initialised on the first visible ground-truth box)."""
    results = {}
    for track in tracks:
        t = trackers.create(tracker, weights=str(weights), preset=preset, device="cpu")
        visible = track.visible
        if not len(visible):
            continue
        first = int(visible[0])
        indices = range(first, min(len(track.frames), first + max_frames))
        gt = track.boxes[list(indices)]
        pred = [tuple(gt[0])]
        t.init(load_frame(track.frames[first]), tuple(gt[0]))
        elapsed = 0.0
        for i in list(indices)[1:]:
            frame = load_frame(track.frames[i])
            start = time.perf_counter()
            pred.append(t.track(frame).box)
            elapsed += time.perf_counter() - start
        # The first frame is the given box: it is left out of the scores.
        s = evaluate(np.asarray(pred[1:]), gt[1:])
        results[track.name] = {
            "auc": round(s.auc, 4),
            "precision": round(s.precision, 4),
            "frames": len(pred),
            "fps": round((len(pred) - 1) / max(elapsed, 1e-9), 1),
        }
    return results
