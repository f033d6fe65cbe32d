"""Ground-truth tracks and how well a tracked track follows them, Qt-free.

A track is ground truth when its label is ``GROUND_TRUTH_LABEL``: explicit, visible in the
tracks list, and kept by every format that keeps labels (opening a benchmark folder loads its
ground truth so). A track is compared with the ground-truth track it overlaps most.
"""

from __future__ import annotations

import numpy as np

from app.model.annotations import Annotations, Track
from trackers.metrics import iou

GROUND_TRUTH_LABEL = "ground truth"


def is_ground_truth(track: Track) -> bool:
    return track.label == GROUND_TRUTH_LABEL


def ground_truth_iou(annotations: Annotations, track_id: int | None, frame_count: int) -> np.ndarray | None:
    """IoU of the track's box with the ground truth's on every frame (NaN where either has
    no box), against the ground-truth track it overlaps most; None when the track is ground
    truth itself, or overlaps none."""
    track = annotations.tracks.get(track_id)
    if track is None or is_ground_truth(track):
        return None
    best, best_mean = None, 0.0
    for truth in annotations:
        if not is_ground_truth(truth):
            continue
        frames = [
            f
            for f, entry in track.boxes.items()
            if 0 <= f < frame_count
            and entry.box is not None
            and (other := truth.get(f)) is not None
            and other.box is not None
        ]
        if not frames:
            continue
        values = iou([track.boxes[f].box for f in frames], [truth.boxes[f].box for f in frames])
        if values.mean() > best_mean:
            best_mean = float(values.mean())
            best = np.full(frame_count, np.nan, dtype=np.float32)
            best[frames] = values
    return best
