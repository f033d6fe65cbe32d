"""The appearance check (trackers/appearance.py): a tracked box's template-branch features against
the track's manual boxes (the start box and keyframes added with ``Tracker.add_keyframe``),
computed without disturbing the tracking."""

from __future__ import annotations

import math

import numpy as np
import pytest

import trackers
from tests.shared_data import HAVE_SHARED, SEQUENCES
from trackers.appearance import MAX_REFERENCES, AppearanceMemory
from trackers.multi import MultiTracker

# -- the memory ----------------------------------------------------------------------------------


def test_similarity_is_the_best_cosine_over_the_references():
    memory = AppearanceMemory(np.array([1.0, 0.0, 0.0]))
    assert memory.similarity(np.array([2.0, 0.0, 0.0])) == pytest.approx(1.0)
    assert memory.similarity(np.array([0.0, 3.0, 0.0])) == pytest.approx(0.0)
    memory.add(np.array([0.0, 1.0, 0.0]))
    assert memory.similarity(np.array([0.0, 3.0, 0.0])) == pytest.approx(1.0)
    assert memory.similarity(np.array([1.0, 1.0, 0.0])) == pytest.approx(math.sqrt(0.5))


def test_nothing_to_compare_is_nan_and_a_wrong_length_is_refused():
    assert math.isnan(AppearanceMemory().similarity(np.ones(3)))
    memory = AppearanceMemory(np.ones(3))
    assert math.isnan(memory.similarity(np.zeros(3)))  # no direction
    assert math.isnan(memory.similarity(None))
    assert math.isnan(memory.similarity(np.ones(4)))
    with pytest.raises(ValueError, match="embedding of 4 values"):
        memory.add(np.ones(4))
    memory.add(np.zeros(3))  # ignored: no direction
    assert len(memory) == 1


def test_the_start_box_stays_when_the_memory_is_full():
    start = np.eye(MAX_REFERENCES + 3)[0]
    memory = AppearanceMemory(start)
    for i in range(1, MAX_REFERENCES + 3):
        memory.add(np.eye(MAX_REFERENCES + 3)[i])
    assert len(memory) == MAX_REFERENCES
    assert memory.similarity(start) == pytest.approx(1.0)
    assert memory.similarity(np.eye(MAX_REFERENCES + 3)[1]) == pytest.approx(0.0)  # the oldest went


# -- in the trackers -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bag():
    if not HAVE_SHARED:
        pytest.skip("shared test data not found (set SIAMARK_SHARED)")
    from trackers.io import open_source

    source = open_source(SEQUENCES / "vot_bag")
    return source.read_all(12), [tuple(float(v) for v in b) for b in source.groundtruth[:12]]


def run(tracker, frames, box, keyframe=None):
    tracker.init(frames[0], box)
    if keyframe is not None:
        tracker.add_keyframe(*keyframe)
    return [tracker.track(f) for f in frames[1:]]


@pytest.mark.parametrize("name", ["siamrpnpp-mobilev2", "siamcross-mobilev2", "siamfc"])
def test_the_check_does_not_change_the_tracking(bag, one_thread, name):
    frames, gt = bag
    tracker = trackers.create(name, device="cpu", backend="torch")
    plain = run(tracker, frames, gt[0])
    assert all("appearance" not in r.extras for r in plain)  # off unless asked for
    tracker.set_appearance(True)
    checked = run(tracker, frames, gt[0])
    assert [r.box for r in checked] == [r.box for r in plain]
    looks = [r.extras["appearance"] for r in checked]
    assert all(-1.0 <= a <= 1.0 for a in looks)
    # On the target the box looks like the start box; a box on the background far less.
    tracker.init(frames[0], gt[0])
    away = (10.0, 10.0, gt[0][2], gt[0][3])
    off_target = tracker._memory.similarity(tracker._embedding(frames[1], away))
    assert np.median(looks) > off_target + 0.2, (looks, off_target)


def test_a_keyframe_joins_the_references_and_leaves_the_tracking_alone(bag, one_thread):
    frames, gt = bag
    tracker = trackers.create("siamrpnpp-mobilev2", device="cpu", backend="torch")
    tracker.set_appearance(True)
    plain = run(tracker, frames, gt[0])
    kept = run(tracker, frames, gt[0], (frames[11], gt[11]))
    assert len(tracker._memory) == 2
    assert [r.box for r in kept] == [r.box for r in plain]
    looks = [(k.extras["appearance"], p.extras["appearance"]) for k, p in zip(kept, plain, strict=True)]
    assert all(k >= p - 1e-6 for k, p in looks) and looks[-1][0] > looks[-1][1]  # the best of the two
    with pytest.raises(RuntimeError, match="after init"):
        trackers.create("siamrpnpp-mobilev2", device="cpu", backend="torch").add_keyframe(frames[0], gt[0])


def test_keyframes_of_one_object_leave_the_others_alone(bag, one_thread):
    frames, gt = bag
    other = (300.0, 40.0, 60.0, 60.0)
    results = {}
    for keyframe in (False, True):
        multi = MultiTracker("siamrpnpp-mobilev2", device="cpu", backend="torch", batched=False)
        multi.set_appearance(True)
        multi.add("bag", frames[0], gt[0])
        multi.add("other", frames[0], other)
        if keyframe:
            multi.add_keyframe("bag", frames[11], gt[11])
        results[keyframe] = [multi.track(f) for f in frames[1:]]
    for name in ("bag", "other"):
        assert [r[name].box for r in results[True]] == [r[name].box for r in results[False]]
    assert [r["other"].extras for r in results[True]] == [r["other"].extras for r in results[False]]
    assert results[True][-1]["bag"].extras["appearance"] > results[False][-1]["bag"].extras["appearance"]


# -- in a run of the app's engine ------------------------------------------------------------------


def test_a_run_checks_appearance_against_its_keyframes(bag, one_thread):
    from app.engine.jobs import TrackerSpec, TrackJob, track_frames
    from app.model.run_rules import Target

    frames, gt = bag
    spec = TrackerSpec("siamrpnpp-mobilev2", device="cpu")

    def looks(references, appearance=True):
        job = TrackJob(
            frames.__getitem__, 0, (Target(1, gt[0], None, references),), spec, frame_count=12, appearance=appearance
        )
        return [step.results[1].extras.get("appearance") for step in track_frames(job)]

    alone = looks(())
    assert len(alone) == 11 and all(a is not None for a in alone)
    # The keyframe at 11 looks more like the last frames than the start box does.
    with_key = looks(((11, gt[11]),))
    assert all(k >= a - 1e-6 for k, a in zip(with_key, alone, strict=True)) and with_key != alone
    assert looks(((11, gt[11]),), appearance=False) == [None] * 11


def test_run_flags_show_an_appearance_that_stays_low():
    from app.engine.flags import RunFlags
    from app.model.run_rules import Target
    from trackers.base import MapGeometry, TrackResult
    from trackers.drift import DriftSettings

    box = (10.0, 10.0, 20.0, 20.0)
    flags = RunFlags(DriftSettings(window=2, appearance_evidence=1.0), (Target(1, box),), {1: box}, (100, 100))
    assert flags.settings.checks_appearance
    assert not DriftSettings(appearance_ratio=0).checks_appearance

    def result(look):
        return TrackResult(box, 0.9, np.zeros((2, 2), np.float32), MapGeometry(0, 0, 1), box, extras={"appearance": look})

    out = [flags.entries(i, {1: result(a)}, {})[1].flag for i, a in enumerate([0.8, 0.8, 0.2, 0.2], start=1)]
    assert out[:3] == ["", "", ""] and out[3].startswith("looks unlike the target")
