"""What a run stores for each tracked frame, and how a run is fused with the run back from the
keyframe it reached: the same rules for the GUI's runs and for ``siamark batch``."""

from __future__ import annotations

import math
from collections.abc import Mapping

from app.model.annotations import Annotations, BoxChange, FrameBox, tracked_box
from app.model.run_rules import Target, fuse_span
from trackers.base import Box
from trackers.drift import DriftMonitor, DriftSettings, converged_with, fuse_runs


class RunFlags:
    """Drift flags of one run: a monitor per object (score, jumps, size, leaving the frame) and
    convergence onto another track's box (only overlaps that were not there at the start)."""

    def __init__(
        self,
        settings: DriftSettings,
        targets: tuple[Target, ...],
        start_boxes: Mapping[int, Box],
        frame_size: tuple[int, int] | None,
    ):
        self.settings = settings
        self.frame_size = frame_size
        self.start_boxes = dict(start_boxes)  # every track's box where the run started
        self.monitors = {t.track_id: DriftMonitor(settings) for t in targets}
        for target in targets:
            self.monitors[target.track_id].reset(target.box)

    def entries(
        self, index: int, results: Mapping[int, object], stored: Mapping[int, Box]
    ) -> dict[int, FrameBox]:
        """The entries to store for one frame's ``results`` ({track id: trackers.TrackResult});
        ``stored``: every track's box already on that frame (``Annotations.boxes_at``)."""
        entries = {}
        for track_id, result in results.items():
            others = {k: b for k, b in stored.items() if k != track_id}
            others.update({k: r.box for k, r in results.items() if k != track_id})
            flag = self.monitors[track_id].update(
                index, result.box, result.score, self.frame_size, result.extras.get("appearance", math.nan)
            )
            same = converged_with(
                result.box,
                self.start_boxes.get(track_id),
                others,
                self.start_boxes,
                self.settings.converge_iou,
            )
            flag = "; ".join(r for r in (flag, same) if r)
            if not result.ok:
                flag = result.message or "tracker lost the target (non-finite output)"
            entries[track_id] = tracked_box(result.box, result.score, flag)
        return entries


def fused_changes(
    annotations: Annotations,
    track_id: int,
    start: int,
    keyframe: int,
    backward: Mapping[int, tuple[Box, float]],
    iou_threshold: float,
) -> list[BoxChange] | None:
    """Changes that replace a run's stored boxes between ``start`` and ``keyframe`` by the
    frame-by-frame fusion with the run back from the keyframe (``backward``: frame -> (box,
    score)); frames where the two part are flagged. None when the run back did not cover the
    span (stopped): the first run's boxes stay."""
    span = fuse_span(start, keyframe)
    if set(backward) != set(span):
        return None
    track = annotations.track(track_id)
    forward = {f: (e.box, e.score) for f in span if (e := track.get(f)) is not None and e.box is not None}
    fused = fuse_runs(forward, dict(backward), iou_threshold)
    return annotations.tracked_changes(
        track_id, [(f, tracked_box(v.box, v.score, v.flag)) for f, v in fused.items()]
    )
