"""Drift flags (trackers/drift.py): each rule on synthetic score / box sequences, settings round
trips, forward/backward consistency with scripted trackers, and real runs on ../shared."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.shared_data import SEQUENCES, needs_shared
from trackers.drift import (
    DriftMonitor,
    DriftSettings,
    consistency_flags,
    converged_with,
    detection_quality,
    failure_starts,
    forward_backward,
    monitor_run,
)
from trackers.metrics import box_iou

BOX = (100.0, 100.0, 40.0, 80.0)


def monitor(**changes) -> DriftMonitor:
    # One rule at a time: the start-level rule is off unless a test turns it on.
    m = DriftMonitor(DriftSettings(**{"start_ratio": 0.0, **changes}))
    m.reset(BOX, 0)
    return m


def feed(m: DriftMonitor, scores, box=BOX, start=1) -> list[str]:
    return [m.update(start + i, box, s) for i, s in enumerate(scores)]


# -- settings ------------------------------------------------------------------------------------


def test_settings_round_trip_through_json():
    s = DriftSettings(min_score=0.2, window=7, pause_on_flag=True)
    assert DriftSettings.from_dict(json.loads(json.dumps(s.to_dict()))) == s


def test_settings_missing_keys_take_defaults():
    assert DriftSettings.from_dict(None) == DriftSettings()
    assert DriftSettings.from_dict({}) == DriftSettings()
    assert DriftSettings.from_dict({"min_score": 0.1}) == DriftSettings(min_score=0.1)
    assert DriftSettings.from_dict({"window": 12.0}).window == 12  # JSON numbers may come as floats


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"min_scor": 0.2}, "drift: unknown setting(s) ['min_scor']"),
        ({"min_score": 1.5}, "drift.min_score"),
        ({"min_score": "low"}, "drift.min_score"),
        ({"drop_ratio": -0.1}, "drift.drop_ratio"),
        ({"consistency_iou": True}, "drift.consistency_iou"),
        ({"window": 0}, "drift.window"),
        ({"window": 2.5}, "drift.window"),
        ({"max_size_change": 1.0}, "drift.max_size_change"),
        ({"max_aspect_change": 0.8}, "drift.max_aspect_change"),
        ({"pause_on_flag": "yes"}, "drift.pause_on_flag"),
        ([0.3], "drift: expected an object"),
    ],
)
def test_settings_bad_values_name_the_key(data, message):
    with pytest.raises(ValueError) as err:
        DriftSettings.from_dict(data)
    assert message in str(err.value)


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        DriftSettings().min_score = 0.1


# -- score rules ---------------------------------------------------------------------------------


def test_low_score_is_flagged_with_the_threshold():
    m = monitor(min_score=0.3, drop_ratio=0.99)
    assert feed(m, [0.9, 0.31, 0.21, 0.3]) == ["", "", "score 0.21 < 0.30", ""]


def test_sharp_drop_against_the_recent_mean():
    m = monitor(min_score=0.0, drop_ratio=0.5, window=4)
    reasons = feed(m, [0.8, 0.8, 0.8, 0.8, 0.3])
    assert reasons[:4] == [""] * 4
    assert reasons[4] == "score fell 62% below its recent mean"


def test_drop_rule_waits_for_half_a_window_of_scores():
    m = monitor(min_score=0.0, drop_ratio=0.5, window=6)
    # Two scores are fewer than half of 6: a low third score is no "drop" yet.
    assert feed(m, [0.9, 0.9, 0.1]) == ["", "", ""]
    m = monitor(min_score=0.0, drop_ratio=0.5, window=6)
    assert feed(m, [0.9, 0.9, 0.9, 0.1])[3].startswith("score fell 89%")


def test_gradual_decline_is_not_a_drop():
    m = monitor(min_score=0.0, drop_ratio=0.5, window=5)
    scores = [0.9 * 0.95**i for i in range(40)]  # 5% a frame: the mean follows
    assert not any(feed(m, scores))


def test_drop_marks_the_onset_and_low_score_keeps_flagging():
    m = monitor(min_score=0.3, drop_ratio=0.5, window=4)
    reasons = feed(m, [0.9] * 6 + [0.1] * 10)
    assert "score fell" in reasons[6] and "score 0.10 < 0.30" in reasons[6]
    assert all(r == "score 0.10 < 0.30" for r in reasons[10:])  # the window is all 0.1 by then


def test_nan_scores_are_skipped_not_flagged():
    m = monitor(min_score=0.3, drop_ratio=0.5, window=2)
    assert feed(m, [math.nan, None, 0.9, math.nan, 0.9, math.nan, 0.2]) == [
        "",
        "",
        "",
        "",
        "",
        "",
        "score 0.20 < 0.30; score fell 78% below its recent mean",
    ]


def test_reset_forgets_the_scores():
    m = monitor(min_score=0.0, drop_ratio=0.5, window=2)
    feed(m, [0.9, 0.9])
    m.reset(BOX, 10)
    assert m.update(11, BOX, 0.1) == ""  # no recent mean after a restart


# -- box rules -----------------------------------------------------------------------------------


def scaled(box, size=1.0, aspect=1.0):
    """``box`` around the same centre with sqrt(w*h) times ``size`` and w/h times ``aspect``."""
    x, y, w, h = box
    w2, h2 = w * size * math.sqrt(aspect), h * size / math.sqrt(aspect)
    return (x + (w - w2) / 2, y + (h - h2) / 2, w2, h2)


def test_size_jump_is_flagged_both_ways():
    m = monitor(max_size_change=1.25, max_aspect_change=1.25)
    assert m.update(1, scaled(BOX, 1.2), 0.9) == ""
    assert m.update(2, scaled(BOX, 1.2 * 1.8), 0.9) == "size ×1.80 in one frame"
    assert m.update(3, scaled(BOX, 1.2 * 1.8 / 1.5), 0.9) == "size ÷1.50 in one frame"


def test_slow_growth_is_not_a_jump():
    m = monitor(max_size_change=1.25)
    assert not any(m.update(i, scaled(BOX, 1.1**i), 0.9) for i in range(1, 20))


def test_aspect_jump_is_flagged_both_ways():
    m = monitor(max_size_change=1.25, max_aspect_change=1.3)
    assert m.update(1, scaled(BOX, aspect=1.6), 0.9) == "aspect ratio changed ×1.60"
    assert m.update(2, scaled(BOX, aspect=1.6 / 1.25), 0.9) == ""
    assert m.update(3, scaled(BOX, aspect=1.6 / 1.25 / 1.4), 0.9) == "aspect ratio changed ×1.40"


def test_reasons_are_joined():
    m = monitor(min_score=0.3, max_size_change=1.25, max_aspect_change=1.25)
    assert m.update(1, scaled(BOX, 2.0, 2.0), 0.1) == (
        "score 0.10 < 0.30; size ×2.00 in one frame; aspect ratio changed ×2.00"
    )


def test_box_rules_compare_with_the_previous_frame_of_the_run_only():
    m = monitor(max_size_change=1.25)
    assert m.update(1, BOX, 0.9) == ""
    assert m.update(5, scaled(BOX, 2.0), 0.9) == ""  # a gap: not "one frame"
    assert m.update(6, scaled(BOX, 4.0), 0.9) == "size ×2.00 in one frame"
    m.update(7, None, math.nan)  # no box (target absent): nothing to compare with next
    assert m.update(8, BOX, 0.9) == ""


def test_backward_runs_are_checked_too():
    m = DriftMonitor(DriftSettings(max_size_change=1.25))
    m.reset(BOX, 50)
    assert m.update(49, BOX, 0.9) == ""
    assert m.update(48, scaled(BOX, 1.5), 0.9) == "size ×1.50 in one frame"


def test_reset_box_is_the_first_reference():
    m = DriftMonitor(DriftSettings(max_size_change=1.25))
    m.reset(BOX, 0)
    assert m.update(1, scaled(BOX, 1.5), 0.9) == "size ×1.50 in one frame"


def test_monitor_run_collects_flags():
    results = [(1, BOX, 0.9), (2, BOX, 0.1), (3, scaled(BOX, 2), 0.9)]
    flags = monitor_run(DriftSettings(min_score=0.3), 0, BOX, results)
    assert set(flags) == {2, 3}
    assert flags[2].startswith("score 0.10")


def test_score_well_below_the_targets_own_start_level_for_some_frames():
    m = monitor(min_score=0.0, drop_ratio=0.99, start_ratio=0.9, start_evidence=0.1, window=4)
    assert feed(m, [0.6, 0.62, 0.58, 0.6]) == [""] * 4  # the start level: median 0.6
    # 0.5 is 0.83 of the level, 0.067 short of 0.9: once is a blip (and 0.6 after it pays it
    # back); twice in a row adds up to 0.133 > 0.1, flagged, and flags while it stays short.
    out = feed(m, [0.5, 0.6, 0.5, 0.5, 0.45, 0.7], start=5)
    assert out[:3] == ["", "", ""]
    assert out[3] == "score 0.50 well below this target's start level 0.60" and out[4] and not out[5]


def test_a_deep_fall_below_the_start_level_is_flagged_at_once():
    m = monitor(min_score=0.0, drop_ratio=0.99, start_ratio=0.9, start_evidence=0.3, window=2)
    feed(m, [0.8, 0.8])
    out = feed(m, [0.7, 0.7, 0.7, 0.7, 0.2], start=3)  # 0.875 of the level: 0.025 short a frame
    assert out[:4] == ["", "", "", ""] and out[4].startswith("score 0.20 well below")


def test_start_level_rule_is_off_at_zero_and_restarts_with_reset():
    m = monitor(min_score=0.0, drop_ratio=0.99, start_ratio=0.0, window=2)
    assert not any(feed(m, [0.9, 0.9, 0.1, 0.1, 0.1]))
    m = monitor(min_score=0.0, drop_ratio=0.99, start_ratio=0.9, start_evidence=0.01, window=2)
    feed(m, [0.9, 0.9])
    m.reset(BOX, 10)  # a manual box: a new start level is learnt from the next frames
    assert not any(feed(m, [0.3, 0.3, 0.3], start=11))


def test_a_jump_of_the_centre_is_measured_in_target_sizes():
    m = monitor(max_jump=1.0)
    side = math.sqrt(BOX[2] * BOX[3])
    assert m.update(1, shifted(BOX, 0.8 * side), 0.9) == ""
    assert m.update(2, shifted(BOX, 0.8 * side + 1.5 * side), 0.9) == "jumped 1.5 target sizes in one frame"


def test_a_collapsed_box_and_a_box_leaving_the_frame_are_flagged():
    m = monitor()
    assert m.update(1, (10.0, 10.0, 1.0, 1.0), 0.9, (640, 480)).startswith("box collapsed to 1.0×1.0 px")
    m = monitor(max_jump=100.0)
    assert m.update(1, (600.0, 100.0, 40.0, 80.0), 0.9, (640, 480)) == ""  # on the edge, inside
    assert m.update(2, (620.0, 100.0, 40.0, 80.0), 0.9, (640, 480)) == ""  # half outside
    assert m.update(3, (630.0, 100.0, 40.0, 80.0), 0.9, (640, 480)) == "box 75% outside the frame"
    assert m.update(4, (630.0, 100.0, 40.0, 80.0), 0.9) == ""  # frame size unknown: not checked


def test_new_settings_are_validated():
    for data, message in (
        ({"start_ratio": 1.5}, "drift.start_ratio"),
        ({"start_evidence": 0}, "drift.start_evidence"),
        ({"max_jump": 0}, "drift.max_jump"),
        ({"converge_iou": -1}, "drift.converge_iou"),
        ({"appearance_ratio": 2}, "drift.appearance_ratio"),
        ({"appearance_evidence": -1}, "drift.appearance_evidence"),
        ({"window": 2.5}, "drift.window"),
    ):
        with pytest.raises(ValueError, match=message):
            DriftSettings.from_dict(data)
    assert DriftSettings.from_dict({"window": 4.0}).window == 4


def test_older_project_files_frame_counts_are_read_and_dropped():
    # Written before the sequential test: "persist" / "appearance_persist" counted frames in a row.
    old = {**DriftSettings(min_score=0.4).to_dict(), "persist": 3, "appearance_persist": 5}
    for key in ("start_evidence", "appearance_evidence"):
        del old[key]
    # the old defaults of the ratios become today's; a ratio the person chose stays
    old.update(start_ratio=0.9, appearance_ratio=0.75)
    assert DriftSettings.from_dict(old) == DriftSettings(min_score=0.4)
    old.update(start_ratio=0.8)
    assert DriftSettings.from_dict(old) == DriftSettings(min_score=0.4, start_ratio=0.8)
    # a file of today with the same values keeps them
    assert DriftSettings.from_dict({"start_ratio": 0.9}).start_ratio == 0.9


def test_appearance_held_well_below_its_start_level_is_flagged():
    m = monitor(min_score=0.0, drop_ratio=0.99, window=3, appearance_ratio=0.5, appearance_evidence=0.2)
    looks = [0.8, 0.7, 0.9, 0.5, 0.3, 0.5, 0.3, 0.3, 0.3, 0.6]  # start level: median 0.8
    out = [m.update(1 + i, BOX, 0.9, None, a) for i, a in enumerate(looks)]
    # 0.3 is 0.375 of the level, 0.125 short of 0.5: once is a blip (0.5 after it pays it back);
    # held, the shortfall adds up past 0.2 and is flagged, and flags while it stays short.
    assert out[:7] == [""] * 7
    assert out[7] == "looks unlike the target: appearance 0.30 against 0.80 at the start"
    assert out[8] and not out[9]


def test_appearance_rule_is_off_at_zero_skips_nan_and_restarts_with_reset():
    m = monitor(appearance_ratio=0.0, appearance_evidence=0.01, window=2)
    assert not m.settings.checks_appearance
    assert not any(m.update(1 + i, BOX, 0.9, None, a) for i, a in enumerate([0.9, 0.9, 0.0, 0.0]))
    m = monitor(appearance_ratio=0.5, appearance_evidence=0.01, window=2)
    assert m.settings.checks_appearance
    assert not any(m.update(1 + i, BOX, 0.9, None, a) for i, a in enumerate([0.9, math.nan, 0.9, math.nan]))
    assert m.update(5, BOX, 0.9, None, 0.1).startswith("looks unlike the target")
    m.reset(BOX, 10)  # a manual box: its own start level
    assert not any(m.update(11 + i, BOX, 0.9, None, a) for i, a in enumerate([0.2, 0.2, 0.15]))


def test_monitor_run_takes_appearance_as_a_fourth_value():
    s = DriftSettings(start_ratio=0.0, min_score=0.0, window=2, appearance_evidence=0.01)
    results = [(1, BOX, 0.9, 0.8), (2, BOX, 0.9, 0.8), (3, BOX, 0.9, 0.2), (4, BOX, 0.9)]
    assert set(monitor_run(s, 0, BOX, results)) == {3}


def test_two_tracks_converging_on_one_object():
    a, b = (0.0, 0.0, 40.0, 40.0), (200.0, 0.0, 40.0, 40.0)
    on_a = (2.0, 1.0, 40.0, 40.0)
    assert converged_with(on_a, b, {1: a}, {1: a}, 0.6) == "on the same object as track #1"
    assert converged_with(b, b, {1: a}, {1: a}, 0.6) == ""
    # A rider and the bike: overlapping from the start, not an identity switch.
    assert converged_with(on_a, on_a, {1: a}, {1: a}, 0.6) == ""
    assert converged_with(None, b, {1: a}, {1: a}, 0.6) == ""


def test_failure_starts_and_detection_quality():
    iou = [1.0, 0.8, 0.4, 0.3, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, math.nan, 0.9]
    assert failure_starts(iou) == [2, 12]  # an absent target with a box counts as a failure
    flagged = [False] * len(iou)
    flagged[4] = True  # 2 frames after the first start: caught
    q = detection_quality(flagged, iou, tolerance=5)
    assert (q.failures, q.caught, q.false_flags, q.frames) == (2, 1, 0, 13)
    flagged = [False] * len(iou)
    flagged[9] = flagged[10] = True  # 2-3 frames before the start at 12: caught, not false
    q = detection_quality(flagged, iou, tolerance=5)
    assert (q.caught, q.false_flags) == (1, 0)
    q = detection_quality(flagged, iou, tolerance=1)
    assert (q.caught, q.false_flags) == (0, 1)  # one run of flagged good frames = one false flag
    assert q.recall == 0 and q.false_per_100 == pytest.approx(100 / 13)


# -- forward / backward consistency --------------------------------------------------------------


def shifted(box, dx):
    return (box[0] + dx, box[1], box[2], box[3])


def test_box_iou():
    assert box_iou(BOX, BOX) == pytest.approx(1.0)
    assert box_iou(BOX, shifted(BOX, 20)) == pytest.approx(20 / 60)
    assert box_iou(BOX, shifted(BOX, 100)) == 0.0


def test_consistency_flags_disagreeing_frames():
    forward = {1: BOX, 2: shifted(BOX, 10), 3: shifted(BOX, 20), 4: None, 5: None, 9: BOX}
    backward = {1: BOX, 2: BOX, 3: BOX, 4: BOX, 5: None, 6: BOX}
    assert consistency_flags(forward, backward, 0.5) == {
        3: "forward/backward IoU 0.33",
        4: "no box in the forward run",
    }
    assert set(consistency_flags(forward, backward, 0.7)) == {2, 3, 4}  # 2: IoU 0.6


class ScriptedTracker:
    """Returns the boxes of ``path`` (frame -> box) whatever the frame shows; counts calls."""

    def __init__(self, path, log):
        self.path, self.log = path, log

    def init(self, frame, box):
        self.log.append(("init", frame, tuple(box)))

    def track(self, frame):
        self.log.append(("track", frame))
        return type("Result", (), {"box": self.path(frame), "score": frame / 100})()


def test_forward_backward_flags_where_the_runs_part():
    # Forward drifts away from frame 6 on; backward (from the manual box at 10) stays on target.
    def path(frame):
        return shifted(BOX, 0 if frame < 6 else 30)

    log = []
    calls = iter([path, lambda f: BOX])
    run = forward_backward(lambda: ScriptedTracker(next(calls), log), lambda i: i, 0, BOX, 10, BOX, 0.5)
    assert run.complete
    assert sorted(run.flags) == [6, 7, 8, 9]  # 10 holds the manual box: not compared
    assert run.flags[6] == "forward/backward IoU 0.14"
    assert list(run.forward) == list(range(11)) and list(run.backward) == list(range(10, -1, -1))
    assert (
        math.isnan(run.forward_scores[0]) and run.forward_scores[7] == 0.07 and run.backward_scores[3] == 0.03
    )
    assert log[0] == ("init", 0, BOX) and ("init", 10, BOX) in log
    assert [e[1] for e in log if e[0] == "track"] == [*range(1, 11), *range(9, -1, -1)]


def test_forward_backward_starts_back_from_the_forward_box_without_a_keyframe():
    log = []
    end_box = shifted(BOX, 30)
    trackers = iter([ScriptedTracker(lambda f: end_box, log), ScriptedTracker(lambda f: end_box, log)])
    run = forward_backward(lambda: next(trackers), lambda i: i, 0, BOX, 5)
    assert ("init", 5, end_box) in log
    assert run.flags == {}


def test_forward_backward_can_be_stopped():
    seen = []

    def progress(done, total):
        seen.append((done, total))
        return done < 4

    run = forward_backward(
        lambda: ScriptedTracker(lambda f: BOX, []), lambda i: i, 0, BOX, 10, progress=progress
    )
    assert not run.complete and run.flags == {} and run.backward == {}
    assert seen[-1] == (4, 20) and list(run.forward) == [0, 1, 2, 3]


def test_forward_backward_needs_a_forward_range():
    with pytest.raises(ValueError, match="frame 5 to frame 5"):
        forward_backward(lambda: None, lambda i: i, 5, BOX, 5)


# -- real runs on ../shared -----------------------------------------------------------------------
# Real failures. The monitor tests read recorded runs (tests/data/drift_runs.json) of a tracker
# whose score collapses when it fails: the stride-8 siamban-mobilev2 Siamark shipped until
# 2026-12-04, preset vot2018. It loses the jogger behind the pole at frame 87 of otb_jogging
# (IoU 0 from there, yet scores stay ~0.95) and drifts off the rider in otb_motorrolling (IoU < 0.1
# from frame 142, scores collapse below 0.3). The trackers shipped now do not make those
# failures show in their scores (issue 14), so the live runs below use the shipped siamfc
# (preset mobilev2): it loses the jogger at frame 69, and vot_car1 it tracks well.

LOST_IOU = 0.1  # below this the box is on something else


def shipped_tracker():
    import trackers

    return trackers.create("siamfc", device="cpu", preset="mobilev2")


class Sequence:
    """Frames [0, count) of a ../shared OTB-layout sequence, read on demand, with ground truth."""

    def __init__(self, name: str, count: int):
        from trackers.io import open_source

        source = open_source(SEQUENCES / name)
        self.files = source.files[:count]
        self.gt = source.groundtruth[: len(self.files)]

    def box(self, frame: int):
        return tuple(float(v) for v in self.gt[frame])

    def frame(self, index: int):
        import cv2

        return cv2.imread(str(self.files[index]))

    def iou(self, frame: int, box) -> float:
        return box_iou(self.box(frame), tuple(box))


@pytest.fixture(scope="module")
def jogging(one_thread):
    """otb_jogging 0 -> 100 and back, from the ground truth at both ends (200 tracked frames)."""
    seq = Sequence("otb_jogging", 101)
    run = forward_backward(shipped_tracker, seq.frame, 0, seq.box(0), 100, seq.box(100), threshold=0.5)
    lost = [f for f in range(1, 100) if seq.iou(f, run.forward[f]) < LOST_IOU]
    return seq, run, lost


def recorded_run(name: str, count: int):
    """A recorded failing run (see above): its sequence, ((frame, box, score), ...) and lost frames."""
    runs = json.loads((Path(__file__).parent / "data" / "drift_runs.json").read_text())[name]
    seq = Sequence(name, count)
    results = [(f, tuple(runs["boxes"][f - 1]), runs["scores"][f - 1]) for f in range(1, count)]
    lost = [f for f, box, _ in results if seq.iou(f, box) < LOST_IOU]
    return seq, results, lost


@needs_shared
def test_monitor_flags_the_onset_of_a_real_failure():
    seq, results, lost = recorded_run("otb_jogging", 101)
    assert len(lost) >= 5 and lost[0] == 87, "the recorded run loses the jogger from frame 87"
    flags = monitor_run(DriftSettings(), 0, seq.box(0), results)
    # Scores stay high on the wrong target; the collapse just before the jump is what shows.
    onset = [f for f in flags if lost[0] - 5 <= f <= lost[0]]
    assert onset, f"no flag near the failure at frame {lost[0]}; flags: {flags}"
    assert "below its recent mean" in flags[onset[0]]


@needs_shared
@pytest.mark.slow
def test_forward_backward_flags_every_lost_frame(jogging):
    seq, run, lost = jogging
    assert run.complete and len(lost) >= 5
    missed = [f for f in lost if f not in run.flags]
    assert not missed, f"lost frames without a forward/backward flag: {missed}"
    assert all(reason.startswith("forward/backward IoU") for reason in run.flags.values())
    # The backward run (from the ground truth at 100) stays on the jogger where forward failed.
    assert all(seq.iou(f, run.backward[f]) > 0.3 for f in lost)


@needs_shared
def test_monitor_flags_a_score_collapse():
    seq, results, lost = recorded_run("otb_motorrolling", 164)
    ious = {f: seq.iou(f, box) for f, box, _ in results}
    flags = monitor_run(DriftSettings(), 0, seq.box(0), results)
    assert len(lost) >= 10, "the recorded run drifts off the rider (from frame 142)"
    # Measured: every lost frame flagged, and all flags on frames with IoU < 0.5.
    assert sum(f in flags for f in lost) >= 0.9 * len(lost)
    assert sum(ious[f] < 0.5 for f in flags) >= 0.9 * len(flags)
    assert any(r.startswith("score ") and "<" in r for r in flags.values())


@needs_shared
@pytest.mark.slow
def test_few_flags_when_the_tracker_does_well(one_thread):
    import trackers

    seq = Sequence("vot_car1", 100)
    # The app's default tracker, with the appearance check on as in the app: the defaults of
    # DriftSettings were measured with it.
    tracker = trackers.create("siamcross-mobilev2", device="cpu")
    tracker.set_appearance(True)
    tracker.init(seq.frame(0), seq.box(0))
    results = [(f, tracker.track(seq.frame(f))) for f in range(1, 100)]
    mean_iou = sum(seq.iou(f, r.box) for f, r in results) / len(results)
    assert mean_iou > 0.6, f"vot_car1 was expected to be tracked well (mean IoU > 0.6), got {mean_iou:.2f}"
    flags = monitor_run(
        DriftSettings(), 0, seq.box(0), ((f, r.box, r.score, r.extras["appearance"]) for f, r in results)
    )
    # False flags: flagged frames whose box is right (IoU >= 0.5) with no failure start within 5
    # frames. Measured 0.95 per 100 frames for siamcross-mobilev2 on the validation set
    # (resources/weights/README.md); 2 in 99 frames leaves room and still fails a bad rule.
    iou = [1.0] + [seq.iou(f, r.box) for f, r in results]
    quality = detection_quality([f in flags for f in range(100)], iou)
    assert quality.false_flags <= 2, (flags, quality)
