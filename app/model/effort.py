"""Annotation-effort benchmark: how many manual actions a simulated annotator needs, Qt-free.

The annotator works on the app's own model (``app.model.annotations``) with the app's edits, on one
track, and is held to one quality bar: every frame where the object is visible ends with a box
of IoU >= ``min_iou`` against the ground truth, and no frame where it is absent keeps a box.

Every manual action counts one *correction*: drawing a box (a manual keyframe at the ground
truth) or marking a frame absent. The box drawn on frame 0 counts too, for every method, so a
tracker that never drifts scores 1 and the methods compare on the same footing.

* **Tracker workflow** (``simulate_tracker``): frame 0 is a manual keyframe; the tracker runs
  forward over ``tracking_span`` and its boxes are stored with ``tracked_changes``. The
  annotator watches and stops the run at the first frame that fails the bar, draws the ground
  truth there (``manual_box_edit``), re-inits the tracker on it and re-tracks from there.
* **Keyframe interpolation every N frames** (``simulate_interpolation``, CVAT-style): manual
  keyframes on frames 0, N, 2N, … and the last frame, ``interpolate_edit`` between them; then
  in each gap between keyframes that still has failing frames the annotator keys the worst one
  (lowest IoU, then farthest centre), re-interpolates, and repeats until no frame fails. Keying
  the worst frame rather than the first is the kinder annotator: it favours this baseline.

Absent object (ground truth NaN or zero-size): the bar is "no box there", the IoU is not
checked. A tracker run that reaches such a frame has put a box on it: the annotator marks it
absent (``toggle_edit``, +1), skips to the frame where the object is back and draws it there
(+1), and tracking resumes from that box. Between keyframes, interpolation follows CVAT's
``outside`` rule: after a visible keyframe the box is held until an absent keyframe, after an
absent keyframe the frames stay empty until the next keyframe.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from app.model.annotations import Annotations, BoxChange, BoxSource, Edit, FrameBox, tracked_box
from trackers.base import Box, Tracker, TrackResult
from trackers.drift import SUCCESS_IOU
from trackers.metrics import as_boxes, centre_errors, iou, valid_mask

MIN_IOU = SUCCESS_IOU  # one bar for "the box is right", as in drift detection
DEFAULT_INTERPOLATION = (10, 25)

#: progress(frames_done, frames_total): called by the tracker workflow after each tracked frame
Progress = Callable[[int, int], None]


class _Annotator:
    """The simulated person: one track on an ``Annotations`` model, changed only by the app's
    edits; ``actions`` counts what the person did by hand."""

    def __init__(self, groundtruth, min_iou: float = MIN_IOU):
        self.gt = as_boxes(groundtruth)
        if len(self.gt) == 0:
            raise ValueError("the ground truth has no frames")
        self.visible = valid_mask(self.gt)
        if not self.visible[0]:
            raise ValueError(f"the first ground-truth box {self.gt[0].tolist()} does not show the object")
        self.min_iou = float(min_iou)
        self.annotations = Annotations(len(self.gt))
        self.annotations.apply(self.annotations.add_track_edit("target"))
        self.track_id = max(self.annotations.tracks)
        self.actions = 0

    @property
    def track(self):
        return self.annotations.track(self.track_id)

    def gt_box(self, frame: int) -> Box:
        x, y, w, h = (float(v) for v in self.gt[frame])
        return (x, y, w, h)

    def acceptable(self, frame: int, box: Box | None) -> bool:
        if not self.visible[frame]:
            return box is None
        return box is not None and float(iou(box, self.gt[frame])[0]) >= self.min_iou

    def fix(self, frame: int) -> None:
        """Draw the ground truth on ``frame``, or mark it absent when the object is not there."""
        if self.visible[frame]:
            edit = self.annotations.manual_box_edit(self.track_id, frame, self.gt_box(frame))
        else:
            entry = self.track.get(frame)
            if entry is not None and entry.absent:
                raise RuntimeError(f"frame {frame} is already marked absent; nothing to fix")
            edit = self.annotations.toggle_edit(self.track_id, frame, "absent")
        self.annotations.apply(edit)
        self.actions += 1

    def stored_boxes(self) -> np.ndarray:
        """(frames, 4): the track's box per frame, NaN where it has none (no entry, or absent)."""
        boxes = np.full((len(self.gt), 4), np.nan)
        for frame, entry in self.track.boxes.items():
            if entry.box is not None:
                boxes[frame] = entry.box
        return boxes

    def failing_frames(self) -> np.ndarray:
        """Bool per frame: the frame does not meet the bar."""
        boxes = self.stored_boxes()
        has_box = np.isfinite(boxes).all(axis=1)
        good = iou(boxes, np.nan_to_num(self.gt)) >= self.min_iou
        return np.where(self.visible, ~(has_box & good), has_box)

    def check_done(self) -> None:
        """The simulation promises the bar on every frame; a miss here is a bug in it."""
        failing = np.flatnonzero(self.failing_frames())
        if failing.size:
            raise RuntimeError(
                f"simulation left {failing.size} frames below the bar: {failing[:10].tolist()}"
            )


@dataclass
class EffortResult:
    method: str
    sequence: str
    frames: int
    corrections: int
    seconds: float = 0.0
    tracked_frames: int = 0  # tracker calls made (tracker workflow only)
    annotations: Annotations | None = field(default=None, repr=False, compare=False)

    @property
    def per_100(self) -> float:
        return 100.0 * self.corrections / self.frames if self.frames else math.nan

    def row(self) -> dict:
        """The JSON row: the four required keys first, then the extras."""
        return {
            "method": self.method,
            "sequence": self.sequence,
            "frames": self.frames,
            "corrections": self.corrections,
            "per_100": round(self.per_100, 3),
            "seconds": round(self.seconds, 3),
            "tracked_frames": self.tracked_frames,
        }


# -- the tracker workflow ------------------------------------------------------------------------


def _stored_entry(result: TrackResult) -> FrameBox | None:
    """The tracker's result as the app stores it; None when its box cannot be a box (w or h <= 0)."""
    try:
        return tracked_box(result.box, result.score)
    except ValueError:
        return None


def simulate_tracker(
    tracker: Tracker,
    frames: Sequence[np.ndarray],
    groundtruth,
    min_iou: float = MIN_IOU,
    progress: Progress | None = None,
) -> tuple[Annotations, int, int]:
    """Track, stop at the first frame below the bar, correct it, re-track from there.

    Returns the final annotations, the number of corrections and the number of tracked frames.
    """
    annotator = _Annotator(groundtruth, min_iou)
    if len(frames) != len(annotator.gt):
        raise ValueError(f"{len(frames)} frames but {len(annotator.gt)} ground-truth boxes")
    model, track_id = annotator.annotations, annotator.track_id
    annotator.fix(0)
    start: int | None = 0
    tracked = 0
    while start is not None:
        tracker.init(frames[start], annotator.gt_box(start))
        results: list[tuple[int, FrameBox]] = []
        failed = None
        for frame in model.tracking_span(track_id, start, 1):
            entry = _stored_entry(tracker.track(frames[frame]))
            tracked += 1
            if progress:
                progress(frame + 1, len(frames))
            if entry is not None:
                results.append((frame, entry))
            if not annotator.acceptable(frame, entry.box if entry else None):
                failed = frame
                break
        # The run is one edit, as in the app; the correction then overwrites the failed frame.
        model.apply(
            Edit(f"Track {track_id} from frame {start}", (), tuple(model.tracked_changes(track_id, results)))
        )
        if failed is None:
            break
        annotator.fix(failed)
        if annotator.visible[failed]:
            start = failed
        else:  # the object left: nothing to track until it is back, where the annotator draws it
            back = np.flatnonzero(annotator.visible[failed + 1 :])
            start = failed + 1 + int(back[0]) if back.size else None
            if start is not None:
                annotator.fix(start)
    annotator.check_done()
    return model, annotator.actions, tracked


# -- keyframe interpolation ----------------------------------------------------------------------


def _fill_gap(annotator: _Annotator, a: int, b: int) -> None:
    """Fill the frames strictly between keyframes a and b (CVAT's rules, see the module doc)."""
    model, track_id = annotator.annotations, annotator.track_id
    if b - a < 2:
        return
    box_a, box_b = annotator.track.get(a).box, annotator.track.get(b).box
    if box_a is not None and box_b is not None:
        model.apply(model.interpolate_edit(track_id, a, b))
    elif box_a is not None:  # visible -> absent: the box stays until the object is marked gone
        held = FrameBox(box_a, BoxSource.INTERPOLATED)
        changes = tuple(
            BoxChange(track_id, f, annotator.track.get(f), held)
            for f in range(a + 1, b)
            if annotator.track.get(f) != held
        )
        model.apply(Edit(f"Hold box of frame {a}", (), changes))
    else:  # after an absent keyframe the object stays out until the next keyframe
        changes = tuple(model.clear_span_changes(track_id, range(a + 1, b)))
        model.apply(Edit(f"Clear after absent frame {a}", (), changes))


def simulate_interpolation(groundtruth, every: int, min_iou: float = MIN_IOU) -> tuple[Annotations, int]:
    """Keyframes every ``every`` frames plus the last, interpolated, then the worst failing frame
    of each gap keyed until none fails. Returns the final annotations and the corrections."""
    if every < 1:
        raise ValueError(f"keyframe interval must be at least 1, got {every}")
    annotator = _Annotator(groundtruth, min_iou)
    frame_count = len(annotator.gt)
    for frame in sorted(set(range(0, frame_count, every)) | {frame_count - 1}):
        annotator.fix(frame)
    gaps = None  # None: every gap needs filling
    while True:
        keys = annotator.track.manual_frames()
        for a, b in itertools.pairwise(keys):
            if gaps is None or a in gaps or b in gaps:
                _fill_gap(annotator, a, b)
        failing = annotator.failing_frames()
        if not failing.any():
            break
        boxes = annotator.stored_boxes()
        overlap = iou(boxes, np.nan_to_num(annotator.gt))
        distance = np.nan_to_num(centre_errors(boxes, annotator.gt), nan=np.inf)
        new_keys = []
        for a, b in itertools.pairwise(keys):
            bad = [f for f in range(a + 1, b) if failing[f]]
            if bad:
                new_keys.append(min(bad, key=lambda f: (overlap[f], -distance[f], f)))
        for frame in new_keys:
            annotator.fix(frame)
        gaps = set(new_keys)
    annotator.check_done()
    return annotator.annotations, annotator.actions


# -- methods and the benchmark -------------------------------------------------------------------


@dataclass
class EffortSequence:
    name: str
    groundtruth: np.ndarray  # (frames, 4)
    frames: list[np.ndarray] | None  # None when no method needs the images

    def __len__(self) -> int:
        return len(self.groundtruth)


def load_effort_sequence(
    path: str | Path, max_frames: int | None = None, with_frames: bool = True
) -> EffortSequence:
    """An OTB-layout sequence (img/ + groundtruth_rect.txt), cut to the frames that have a
    ground-truth line (and to ``max_frames``). Raises ``trackers.io.SourceError`` naming the path."""
    from trackers.io import SourceError, open_source

    source = open_source(path)
    if source.groundtruth is None:
        raise SourceError(f"{path}: no groundtruth_rect.txt (OTB layout needed: img/ + groundtruth_rect.txt)")
    count = min(len(source), len(source.groundtruth))
    if max_frames is not None:
        count = min(count, max_frames)
    gt = np.asarray(source.groundtruth[:count], dtype=np.float64)
    if not valid_mask(gt[:1])[0]:
        raise SourceError(f"{path}: the first ground-truth box {gt[0].tolist()} does not show the object")
    frames = source.read_all(count) if with_frames else None
    return EffortSequence(source.name, gt, frames)


class TrackerMethod:
    needs_frames = True

    def __init__(self, name: str, tracker: Tracker):
        self.name, self.tracker = name, tracker

    def run(
        self, seq: EffortSequence, min_iou: float = MIN_IOU, progress: Progress | None = None
    ) -> EffortResult:
        t0 = time.perf_counter()
        model, corrections, tracked = simulate_tracker(
            self.tracker, seq.frames, seq.groundtruth, min_iou, progress
        )
        seconds = time.perf_counter() - t0
        return EffortResult(self.name, seq.name, len(seq), corrections, seconds, tracked, model)


class InterpolationMethod:
    needs_frames = False

    def __init__(self, every: int):
        if every < 1:
            raise ValueError(f"interpolation interval must be at least 1 frame, got {every}")
        self.every = int(every)
        self.name = f"interpolate-{self.every}"

    def run(
        self, seq: EffortSequence, min_iou: float = MIN_IOU, progress: Progress | None = None
    ) -> EffortResult:
        t0 = time.perf_counter()
        model, corrections = simulate_interpolation(seq.groundtruth, self.every, min_iou)
        return EffortResult(self.name, seq.name, len(seq), corrections, time.perf_counter() - t0, 0, model)


def run_effort(
    sequence_dirs: Sequence[str | Path],
    methods: Sequence[TrackerMethod | InterpolationMethod],
    max_frames: int | None = None,
    min_iou: float = MIN_IOU,
    log: Callable[[str], None] | None = None,
    progress: Callable[[str, str, int, int], None] | None = None,
) -> list[EffortResult]:
    """Every method on every sequence; each sequence is read once (images only if a tracker runs)."""
    with_frames = any(m.needs_frames for m in methods)
    results = []
    for path in sequence_dirs:
        seq = load_effort_sequence(path, max_frames, with_frames)
        for method in methods:
            report = partial(progress, seq.name, method.name) if progress else None
            result = method.run(seq, min_iou, report)
            result.annotations = None  # the rows are what is kept; a long run should not hold every model
            results.append(result)
            if log:
                log(
                    f"{seq.name}: {method.name} {result.corrections} corrections over {result.frames} frames "
                    f"({result.per_100:.1f} per 100), {result.seconds:.1f} s"
                )
        seq = None  # let the frames go before the next sequence is read
    return results


# -- reporting -----------------------------------------------------------------------------------


def summarize(results: Sequence[EffortResult]) -> list[dict]:
    """Per method: corrections per 100 frames averaged over sequences (each sequence weighs the
    same) and pooled (all corrections / all frames)."""
    out = []
    for method in dict.fromkeys(r.method for r in results):
        mine = [r for r in results if r.method == method]
        frames = sum(r.frames for r in mine)
        corrections = sum(r.corrections for r in mine)
        out.append(
            {
                "method": method,
                "sequences": len(mine),
                "frames": frames,
                "corrections": corrections,
                "mean_per_100": round(float(np.mean([r.per_100 for r in mine])), 3),
                "pooled_per_100": round(100.0 * corrections / frames, 3) if frames else None,
            }
        )
    return out


def format_table(results: Sequence[EffortResult]) -> str:
    """Methods down, sequences across; cells are ``corrections (per 100 frames)``, then the mean
    per 100 frames over the sequences."""
    sequences = list(dict.fromkeys(r.sequence for r in results))
    methods = list(dict.fromkeys(r.method for r in results))
    by_key = {(r.method, r.sequence): r for r in results}
    frames = {r.sequence: r.frames for r in results}
    summary = {s["method"]: s for s in summarize(results)}
    header = ["method", *sequences, "mean/100"]
    body = [["frames", *(str(frames[s]) for s in sequences), ""]]
    for method in methods:
        cells = []
        for s in sequences:
            r = by_key.get((method, s))
            cells.append(f"{r.corrections} ({r.per_100:.1f})" if r else "-")
        body.append([method, *cells, f"{summary[method]['mean_per_100']:.2f}"])
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = []
    for row in [header, *body]:
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
