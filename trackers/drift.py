"""Drift flags, Qt-free: which tracked frames a person should look at.

Two checks (GitHub issue 6, item 4):

* ``DriftMonitor`` watches a tracking run one frame at a time and flags a frame when the
  tracker's score is low, collapses against its recent mean or stays below the target's start
  level, when the box stops looking like the manual boxes (the tracker's ``extras["appearance"]``,
  trackers/appearance.py), or when the box jumps in size, aspect ratio or position, collapses or
  leaves the frame. ``pause_on_flag`` tells the caller to stop the run there.
* ``consistency_flags`` / ``forward_backward`` compare a forward run with a backward run over
  the same frames and flag the frames where the two disagree (IoU below a threshold).

Flags are short human-readable reasons ("" = fine), stored in ``FrameBox.flag``. Tracking
itself stays out of this module: the helpers take a tracker factory and a frame reader.
The default thresholds were chosen by measuring on real sequences (see ``DriftSettings``).
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

from trackers.base import Box
from trackers.keys import check_keys
from trackers.metrics import box_iou

# -- settings ------------------------------------------------------------------------------------


def _require(condition: bool, message: str) -> None:
    """Settings come from project files: every bad value is a ValueError naming the key."""
    if not condition:
        raise ValueError(message)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


#: keys of older project files, read and dropped (``DriftSettings.from_dict``)
LEGACY_KEYS = frozenset({"persist", "appearance_persist"})
#: the defaults of those older files' ratios: a file holding them kept the defaults, so it gets
#: today's (measured with the sequential test), not values tuned for the old rules
LEGACY_DEFAULTS = {"start_ratio": 0.9, "appearance_ratio": 0.75}


@dataclass(frozen=True)
class DriftSettings:
    """Thresholds of the drift checks; stored under ``settings["drift"]`` in the project file.

    Defaults measured with the shipped siamban-mobilev2 and NanoTrack v2 on the 20 sequences in
    ../shared (first 300 frames, 4,001 tracked frames each), against frames whose box overlaps
    the ground truth by IoU < 0.5:

    * scores near 1 on the target for both; below 0.5, 96% (siamban) / 86% (NanoTrack) of
      frames are failures, so ``min_score`` 0.5 flags rarely and rightly;
    * a 30% fall against the 10-frame mean marks the start of 5 of siamban's 8 "lost" episodes
      (IoU < 0.2), frame precision 0.87; 40% and 50% catch fewer (3, 1) for no precision gain;
    * both trackers smooth the box: per-frame size change never exceeded x1.10, aspect
      x1.50 (99.9th percentile x1.22), so 1.2 flags a jump without flagging ordinary motion;
    * all rules together: frame precision 0.91 / 0.74 (0.93 / 0.87 within 5 frames), but frame
      recall only 0.08 / 0.07 — trackers often stay confident on a loose box or a distractor.
      The forward/backward check (IoU 0.5) finds those: 98% / 87% of frames with IoU < 0.2.

    Since 2026-12-04 the shipped models' scores are calibrated (P(IoU >= 0.5)) and each
    target's own start level is a rule; since 2026-12-05 the calibration is logistic and the
    appearance check (trackers/appearance.py) is a rule too. Both "below the start level" rules
    are sequential tests (CUSUM: the shortfall summed over the frames, a frame above the ratio
    paying back its margin), not "n frames in a row": a deep fall is flagged at once, a shallow
    one once it lasts, and one good frame in a bad stretch no longer restarts the count.
    Measured on the 14 validation sequences (first 300 frames, scores through maps fitted
    without the sequence, ``scripts/measure_drift.py`` over a grid of ``start_ratio`` /
    ``start_evidence`` / ``appearance_ratio`` / ``appearance_evidence``): the defaults below find
    31 of siamcross-mobilev2's 36 failure starts within 5 frames (86%) at 0.85 false flags / 100
    frames (frames in a row, the best: 30 at 0.95). Chosen without the sequence they are tried
    on (each sequence's thresholds picked on the other 13 as the fewest false flags at recall >=
    0.85): 30 / 36 (83%) at 0.85 false flags / 100 frames (frames in a row: 30 at 1.50; picked
    as the most recall within 1 false flag / 100: 31 at 1.10, frames in a row 30 at 1.15).
    ``max_jump`` 1 vs 2 target sizes changed nothing but +0.05 false flags.
    Re-measured 2026-12-06 after the near search crop (trackers/pysot_tracker.py) changed the
    runs (45 failure starts): the old values found 40 at 1.15 false flags / 100 frames, over the
    budget; the same procedure (fewest false flags at recall >= 0.85, over a wider grid: start
    ratio 0.75-0.9, evidence 0.1-0.5, appearance ratio 0-0.85, evidence 1-3) now picks start
    0.8 / 0.5, appearance 0.85 / 2: 39 / 45 (87%) at 0.90 false flags / 100 frames. Chosen
    without the sequence they are tried on: 37 / 45 (82%) at 1.10.
    """

    min_score: float = 0.5  # flag a score below this (scores are in [0, 1])
    drop_ratio: float = 0.3  # flag a score this fraction below the mean of the recent window
    window: int = 10  # frames in that recent window
    #: flag a score that falls short of this fraction of the run's own start level (the median
    #: of its first ``window`` scores) by ``start_evidence`` in all, summed over the frames (a
    #: sequential test, CUSUM: a frame above the fraction pays back its margin, so a deep fall is
    #: flagged at once, a shallow one once it lasts): each target has its own score level
    start_ratio: float = 0.8
    start_evidence: float = 0.5
    max_size_change: float = 1.2  # flag when sqrt(w*h) changes by more than this factor in a frame
    max_aspect_change: float = 1.2  # flag when w/h changes by more than this factor in a frame
    #: flag a box whose appearance (``extras["appearance"]``, trackers/appearance.py) falls
    #: short of this fraction of its start level (the median over the first ``window`` frames)
    #: by ``appearance_evidence`` in all (the same sequential test); 0 turns the check off (and
    #: its cost: one template-branch forward per frame)
    appearance_ratio: float = 0.85
    appearance_evidence: float = 2.0
    #: flag a centre that moves more than this many target sizes (sqrt(w*h)) in one frame
    max_jump: float = 1.0
    #: flag two tracks whose boxes overlap by this IoU when they did not where the run started
    converge_iou: float = 0.6
    pause_on_flag: bool = False  # stop a tracking run at its first flagged frame
    #: after a run that ends at a manual keyframe, track back from it and fuse the two runs
    fuse_with_keyframes: bool = True
    consistency_iou: float = 0.5  # forward/backward runs disagree below this IoU

    def __post_init__(self) -> None:
        for name in (
            "min_score",
            "drop_ratio",
            "consistency_iou",
            "start_ratio",
            "converge_iou",
            "appearance_ratio",
        ):
            value = getattr(self, name)
            _require(
                _is_number(value) and 0 <= value <= 1,
                f"drift.{name}: expected a number from 0 to 1, got {value!r}",
            )
        for name in ("max_size_change", "max_aspect_change"):
            value = getattr(self, name)
            _require(
                _is_number(value) and value > 1, f"drift.{name}: expected a factor above 1, got {value!r}"
            )
        _require(
            isinstance(self.window, int) and not isinstance(self.window, bool) and self.window >= 1,
            f"drift.window: expected a whole number of frames >= 1, got {self.window!r}",
        )
        for name in ("start_evidence", "appearance_evidence"):
            value = getattr(self, name)
            _require(
                _is_number(value) and value > 0,
                f"drift.{name}: expected a positive number (a summed shortfall), got {value!r}",
            )
        _require(
            _is_number(self.max_jump) and self.max_jump > 0,
            f"drift.max_jump: expected a positive number of target sizes, got {self.max_jump!r}",
        )
        for name in ("pause_on_flag", "fuse_with_keyframes"):
            value = getattr(self, name)
            _require(isinstance(value, bool), f"drift.{name}: expected true or false, got {value!r}")

    @property
    def checks_appearance(self) -> bool:
        """Whether the appearance rule is on: runs then need the trackers' appearance check."""
        return self.appearance_ratio > 0

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> DriftSettings:
        """Missing keys take their defaults; unknown keys and bad values raise ValueError
        naming the key (a hand-edited typo must not be silently ignored)."""
        if data is None:
            return cls()
        _require(
            isinstance(data, Mapping), f"drift: expected an object of thresholds, got {type(data).__name__}"
        )
        # Project files written before the sequential test hold frame counts in a row instead of
        # the evidence thresholds: those counts mean nothing now, the defaults apply.
        values = {k: v for k, v in data.items() if k not in LEGACY_KEYS}
        if len(values) < len(data):
            values = {k: v for k, v in values.items() if LEGACY_DEFAULTS.get(k, math.nan) != v}
        check_keys(values, [f.name for f in fields(cls)], "drift: setting(s)")
        # JSON has one number type: 10.0 for a frame count is fine, 10.5 is not.
        window = values.get("window")
        if isinstance(window, float) and window.is_integer():
            values["window"] = int(window)
        return cls(**values)


# -- per-frame monitor ---------------------------------------------------------------------------


def _size(box: Box) -> float:
    return math.sqrt(box[2] * box[3])


def _aspect(box: Box) -> float:
    return box[2] / box[3]


def _factor(a: float, b: float) -> float:
    """How many times larger the larger of two positive numbers is (>= 1)."""
    return max(a, b) / min(a, b)


def _usable(box) -> Box | None:
    """The box as four floats when it has a positive finite size, else None (no box to compare)."""
    if box is None:
        return None
    values = tuple(float(v) for v in box)
    if len(values) != 4 or not all(math.isfinite(v) for v in values) or values[2] <= 0 or values[3] <= 0:
        return None
    return values


class _BelowStartLevel:
    """A run's own start level (the median of its first ``window`` values), then the sequential
    test against it (CUSUM): the shortfall of value / level below a ratio, summed over the
    values, a value above the ratio paying its margin back. A level <= 0 says nothing."""

    def __init__(self, window: int):
        self._window = window
        self._first: list[float] = []
        self.level: float | None = None
        self._shortfall = 0.0

    def update(self, value: float, ratio: float, evidence: float) -> bool:
        """Whether the summed shortfall now passes ``evidence`` (never while the level is learnt)."""
        if self.level is None:
            self._first.append(value)
            if len(self._first) == self._window:
                self.level = statistics.median(self._first)
            return False
        if self.level > 0:
            self._shortfall = max(0.0, self._shortfall + ratio - value / self.level)
        return self._shortfall > evidence


def _as_number(value) -> float:
    """A tracker's value as a float; NaN (skipped by the rules) when it is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


class DriftMonitor:
    """Flags frames of one tracking run. Feed frames in tracking order (forward or backward).

    The score rules use only finite scores (NaN = the tracker gives none); the box rules compare
    with the previous frame of the run, so they are skipped after a gap in the frame numbers.
    A flagged frame's score still enters the recent window: after a collapse the mean follows
    the new level, so the drop rule marks where the collapse starts, and ``min_score`` keeps
    flagging frames that stay low. The start level is the median of the first ``window``
    scores after a ``reset`` (a manual box): what this target scores while the box is right.
    """

    def __init__(self, settings: DriftSettings | None = None):
        self.settings = settings or DriftSettings()
        self._scores: deque[float] = deque(maxlen=self.settings.window)
        self.reset()

    def reset(self, box: Box | None = None, frame: int | None = None) -> None:
        """Start of a run (or a restart) from a manual box: forget the scores seen so far."""
        self._scores.clear()
        self._score_level = _BelowStartLevel(self.settings.window)
        self._look_level = _BelowStartLevel(self.settings.window)
        self._box: Box | None = _usable(box)
        self._frame: int | None = frame

    def update(
        self,
        frame: int,
        box: Box | None,
        score: float,
        frame_size: tuple[int, int] | None = None,
        appearance: float = math.nan,
    ) -> str:
        """The reason(s) to look at ``frame``, joined by "; ", or "" when nothing looks wrong.
        ``frame_size`` (width, height) enables the "leaves the frame" rule; ``appearance`` (the
        tracker's ``extras["appearance"]``, NaN: none) the appearance rule."""
        reasons = self._score_reasons(score) + self._appearance_reasons(appearance)
        box = _usable(box)
        adjacent = self._frame is None or abs(frame - self._frame) == 1
        if box is not None:
            reasons += _placement_reasons(box, frame_size)
            if self._box is not None and adjacent:
                reasons += self._box_reasons(self._box, box)
        self._box, self._frame = box, frame
        return "; ".join(reasons)

    def _score_reasons(self, score: float) -> list[str]:
        s = self.settings
        score = _as_number(score)
        if not math.isfinite(score):
            return []
        reasons = []
        if score < s.min_score:
            reasons.append(f"score {score:.2f} < {s.min_score:.2f}")
        # The drop rule needs a mean worth comparing with: half a window of scores at least.
        if len(self._scores) >= max(1, (s.window + 1) // 2):
            mean = sum(self._scores) / len(self._scores)
            if mean > 0 and score < mean * (1 - s.drop_ratio):
                reasons.append(f"score fell {100 * (1 - score / mean):.0f}% below its recent mean")
        if self._score_level.update(score, s.start_ratio, s.start_evidence):
            level = self._score_level.level
            reasons.append(f"score {score:.2f} well below this target's start level {level:.2f}")
        self._scores.append(score)
        return reasons

    def _appearance_reasons(self, appearance: float) -> list[str]:
        s = self.settings
        appearance = _as_number(appearance)
        if not s.checks_appearance or not math.isfinite(appearance):
            return []
        if self._look_level.update(appearance, s.appearance_ratio, s.appearance_evidence):
            level = self._look_level.level
            return [f"looks unlike the target: appearance {appearance:.2f} against {level:.2f} at the start"]
        return []

    def _box_reasons(self, previous: Box, box: Box) -> list[str]:
        s = self.settings
        reasons = []
        size = _size(box) / _size(previous)
        if _factor(size, 1.0) > s.max_size_change:
            reasons.append(
                f"size ×{size:.2f} in one frame" if size > 1 else f"size ÷{1 / size:.2f} in one frame"
            )
        aspect = _aspect(box) / _aspect(previous)
        if _factor(aspect, 1.0) > s.max_aspect_change:
            reasons.append(f"aspect ratio changed ×{_factor(aspect, 1.0):.2f}")
        moved = math.dist(_centre(box), _centre(previous)) / _size(previous)
        if moved > s.max_jump:
            reasons.append(f"jumped {moved:.1f} target sizes in one frame")
        return reasons


#: a box narrower or lower than this many pixels has collapsed: no annotator drew it
MIN_SIDE = 2.0


def _placement_reasons(box: Box, frame_size: tuple[int, int] | None) -> list[str]:
    reasons = []
    if min(box[2], box[3]) < MIN_SIDE:
        reasons.append(f"box collapsed to {box[2]:.1f}×{box[3]:.1f} px")
    if frame_size is not None:
        w, h = frame_size
        iw = min(box[0] + box[2], w) - max(box[0], 0.0)
        ih = min(box[1] + box[3], h) - max(box[1], 0.0)
        inside = max(iw, 0.0) * max(ih, 0.0) / (box[2] * box[3])
        if inside < 0.5:
            reasons.append(f"box {100 * (1 - inside):.0f}% outside the frame")
    return reasons


def _centre(box: Box) -> tuple[float, float]:
    return box[0] + box[2] / 2, box[1] + box[3] / 2


def monitor_run(
    settings: DriftSettings,
    start_frame: int,
    start_box: Box,
    results: Iterable[tuple],
    frame_size: tuple[int, int] | None = None,
) -> dict[int, str]:
    """Flags of a finished run: (frame, box, score) or (frame, box, score, appearance) in
    tracking order after the start frame; ``frame_size`` (width, height) as in
    ``DriftMonitor.update``."""
    monitor = DriftMonitor(settings)
    monitor.reset(start_box, start_frame)
    flags = {}
    for frame, box, score, *appearance in results:
        reason = monitor.update(frame, box, score, frame_size, *appearance)
        if reason:
            flags[frame] = reason
    return flags


def converged_with(
    box: Box | None,
    start_box: Box | None,
    others: Mapping[int, Box | None],
    others_at_start: Mapping[int, Box | None],
    threshold: float,
) -> str:
    """The reason when ``box`` now sits on another track's box (IoU >= ``threshold``) although
    the two did not overlap like that where the run started: two tracks on one object, the
    mark of an identity switch. Objects that overlap from the start (a rider and the bike) are
    left alone."""
    box, start_box = _usable(box), _usable(start_box)
    if box is None:
        return ""
    for track_id, other in sorted(others.items()):
        other = _usable(other)
        if other is None or box_iou(box, other) < threshold:
            continue
        before = _usable(others_at_start.get(track_id))
        if start_box is not None and before is not None and box_iou(start_box, before) >= threshold:
            continue
        return f"on the same object as track #{track_id}"
    return ""


# -- forward / backward consistency --------------------------------------------------------------


def consistency_flags(
    forward: Mapping[int, Box | None], backward: Mapping[int, Box | None], threshold: float = 0.5
) -> dict[int, str]:
    """Frames both runs cover where they disagree: IoU below ``threshold``, or a box in one run
    and none (target absent) in the other."""
    flags = {}
    for frame in sorted(set(forward) & set(backward)):
        f, b = _usable(forward[frame]), _usable(backward[frame])
        if f is None and b is None:
            continue
        if f is None or b is None:
            flags[frame] = f"no box in the {'forward' if f is None else 'backward'} run"
            continue
        overlap = box_iou(f, b)
        if overlap < threshold:
            flags[frame] = f"forward/backward IoU {overlap:.2f}"
    return flags


@dataclass(frozen=True)
class FusedFrame:
    box: Box
    score: float
    flag: str  # "" where the two runs agree


def fuse_runs(
    forward: Mapping[int, tuple[Box, float]],
    backward: Mapping[int, tuple[Box, float]],
    threshold: float = 0.5,
) -> dict[int, FusedFrame]:
    """Frame by frame, one box from two runs over the same frames, each started from a manual
    box at its end (a correction and the next keyframe): where they agree (IoU >= ``threshold``)
    their boxes averaged by confidence; where they part, the more confident run's box, flagged.
    A frame only one run reached keeps that run's box. Scores are the trackers' (calibrated)
    confidences in [0, 1]; a NaN one counts as 0."""

    def weight(score: float) -> float:
        return score if math.isfinite(score) and score > 0 else 1e-6

    fused = {}
    for frame in sorted(set(forward) | set(backward)):
        f, b = forward.get(frame), backward.get(frame)
        if f is None or b is None or _usable(f[0]) is None or _usable(b[0]) is None:
            box, score = f or b
            fused[frame] = FusedFrame(tuple(float(v) for v in box), score, "")
            continue
        overlap = box_iou(_usable(f[0]), _usable(b[0]))
        wf, wb = weight(f[1]), weight(b[1])
        if overlap >= threshold:
            box = tuple((wf * x + wb * y) / (wf + wb) for x, y in zip(f[0], b[0]))
            fused[frame] = FusedFrame(box, max(f[1], b[1]), "")
        else:
            best, which = (f, "forward") if wf >= wb else (b, "backward")
            reason = f"forward/backward IoU {overlap:.2f} (kept the {which} box)"
            fused[frame] = FusedFrame(tuple(float(v) for v in best[0]), best[1], reason)
    return fused


class _Tracker(Protocol):
    def init(self, frame: Any, box: Box) -> None: ...

    def track(self, frame: Any) -> Any: ...  # a result with ``.box``


@dataclass(frozen=True)
class ConsistencyRun:
    forward: dict[int, Box]  # frame -> box, a..b (a: the start box)
    backward: dict[int, Box]  # frame -> box, b..a (b: the start box)
    flags: dict[int, str]  # frames strictly between a and b where the runs disagree
    complete: bool  # False when ``progress`` asked to stop; flags then cover what both runs reached
    # The trackers' scores (NaN on the start frames, or when a result has no ``score``), so the
    # caller can keep the forward run as tracked boxes and run ``monitor_run`` over it.
    forward_scores: dict[int, float] = field(default_factory=dict)
    backward_scores: dict[int, float] = field(default_factory=dict)


def _run(
    tracker: _Tracker,
    read_frame: Callable[[int], Any],
    frames: range,
    box: Box,
    progress: Callable[[], bool],
) -> tuple[dict[int, Box], dict[int, float], bool]:
    tracker.init(read_frame(frames[0]), box)
    boxes = {frames[0]: tuple(float(v) for v in box)}
    scores = {frames[0]: math.nan}
    for frame in frames[1:]:
        if not progress():
            return boxes, scores, False
        result = tracker.track(read_frame(frame))
        boxes[frame] = tuple(float(v) for v in result.box)
        scores[frame] = float(getattr(result, "score", math.nan))
    return boxes, scores, True


def forward_backward(
    make_tracker: Callable[[], _Tracker],
    read_frame: Callable[[int], Any],
    a: int,
    box_a: Box,
    b: int,
    box_b: Box | None = None,
    threshold: float = 0.5,
    progress: Callable[[int, int], bool] | None = None,
) -> ConsistencyRun:
    """Track ``a`` -> ``b`` from ``box_a`` and ``b`` -> ``a`` from ``box_b`` (the forward run's box
    at ``b`` when there is no manual box there), then flag the frames where they disagree.

    ``make_tracker()`` gives a fresh tracker (init / track -> result with ``.box``);
    ``read_frame(i)`` gives frame i. ``progress(done, total)`` is called before each tracked
    frame; returning False stops both runs (the result says ``complete=False``).
    """
    if b <= a:
        raise ValueError(f"the range must run forward: frame {a} to frame {b}")
    total = 2 * (b - a)
    done = 0

    def step() -> bool:
        nonlocal done
        done += 1
        return progress is None or progress(done, total) is not False

    forward, forward_scores, complete = _run(make_tracker(), read_frame, range(a, b + 1), box_a, step)
    if not complete:
        return ConsistencyRun(forward, {}, {}, False, forward_scores)
    start_b = box_b if box_b is not None else forward[b]
    backward, backward_scores, complete = _run(make_tracker(), read_frame, range(b, a - 1, -1), start_b, step)
    # The start frames hold the boxes each run began from, not tracked ones: not compared.
    inner = {f: bx for f, bx in forward.items() if a < f < b}
    flags = consistency_flags(inner, {f: bx for f, bx in backward.items() if a < f < b}, threshold)
    return ConsistencyRun(forward, backward, flags, complete, forward_scores, backward_scores)


# -- measuring the flags against the truth -------------------------------------------------------


@dataclass(frozen=True)
class DetectionQuality:
    """How well flags find failures: a failure starts where the IoU with the truth falls below
    ``SUCCESS_IOU`` (absent-target frames count as failed: the box should not be there)."""

    failures: int  # failure starts
    caught: int  # of them, with a flag within ``tolerance`` frames
    false_flags: int  # runs of flagged frames with a good box and no failure start nearby
    frames: int  # tracked frames

    @property
    def recall(self) -> float:
        return self.caught / self.failures if self.failures else math.nan

    @property
    def false_per_100(self) -> float:
        return 100.0 * self.false_flags / self.frames if self.frames else math.nan

    def __add__(self, other: DetectionQuality) -> DetectionQuality:
        return DetectionQuality(
            self.failures + other.failures,
            self.caught + other.caught,
            self.false_flags + other.false_flags,
            self.frames + other.frames,
        )


SUCCESS_IOU = 0.5


def failure_starts(iou: Sequence[float], threshold: float = SUCCESS_IOU) -> list[int]:
    """Frames where the IoU falls below ``threshold`` after a frame at or above it."""
    bad = [not (math.isfinite(v) and v >= threshold) for v in iou]
    return [t for t in range(1, len(bad)) if bad[t] and not bad[t - 1]]


def detection_quality(flagged: Sequence[bool], iou: Sequence[float], tolerance: int = 5) -> DetectionQuality:
    """Score one run's flags (frame 0 = the start box, never flagged) against its IoU track."""
    n = len(iou)
    starts = failure_starts(iou)
    flagged = [bool(f) for f in flagged]
    caught = sum(any(flagged[max(1, t - tolerance) : t + tolerance + 1]) for t in starts)
    near = [False] * n
    for t in starts:
        for f in range(max(0, t - tolerance), min(n, t + tolerance + 1)):
            near[f] = True
    false_flags, in_run = 0, False
    for f in range(1, n):
        good = math.isfinite(iou[f]) and iou[f] >= SUCCESS_IOU
        unjustified = flagged[f] and good and not near[f]
        false_flags += unjustified and not in_run
        in_run = unjustified
    return DetectionQuality(len(starts), caught, false_flags, n - 1)
