"""Live comparison of trackers: the engine (stand-in and real trackers), the Qt-free model, and
the window's flow (start, live results, swap, stop, side by side, IoU curves, keep as track)."""

from __future__ import annotations

import time
from typing import ClassVar

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

import trackers
from app.engine.compare import CompareJob, compare_frames
from app.engine.jobs import TrackerSpec, TrackJob, track_frames
from app.model.annotations import FrameBox
from app.model.comparison import SLOT_COLOURS, Comparison
from app.model.groundtruth import GROUND_TRUTH_LABEL
from app.model.run_rules import Target
from tests.shared_data import SEQUENCES, WEIGHTS, needs_shared
from tests.stand_ins import StandIn

#: per tracker name: how far the stand-in's box moves right per frame, and how long a frame takes
STEP = {"siamfc": 1.0, "siamban-mobilev2": 2.0, "siamrpnpp-mobilev2": 3.0, "nanotrack": 4.0}
DELAY = {}


class Moving(StandIn):
    """Stands in for trackers.multi.MultiTracker: the box moves STEP[name] px right per frame,
    the score is 0.5 + step / 10, after sleeping DELAY[name] seconds."""

    device = "cpu"
    made: ClassVar[list[str]] = []

    def __init__(self, name, **_kwargs):
        self.name, self.objects = name, {}
        Moving.made.append(name)

    def add(self, object_id, frame, box):
        self.objects[object_id] = list(box)

    def track(self, frame):
        time.sleep(DELAY.get(self.name, 0.0))
        out = {}
        for object_id, box in self.objects.items():
            box[0] += STEP[self.name]
            out[object_id] = trackers.TrackResult(
                tuple(box),
                0.5 + STEP[self.name] / 10,
                np.full((5, 5), 0.25 * STEP[self.name], np.float32),
                trackers.MapGeometry(box[0], box[1], 4.0),
                (0, 0, 20, 20),
            )
        return out


@pytest.fixture
def stand_in(monkeypatch):
    monkeypatch.setattr(trackers.multi, "MultiTracker", Moving)
    Moving.made = []
    DELAY.clear()
    return Moving


def frames_of(count: int, asked: list[int]):
    def frame(index: int) -> np.ndarray:
        asked.append(index)
        return np.full((40, 60, 3), index, np.uint8)

    return frame


# -- the engine ----------------------------------------------------------------------------------


def test_every_tracker_gets_each_frame_decoded_once(stand_in):
    asked: list[int] = []
    job = CompareJob(
        frames_of(8, asked),
        2,
        (5.0, 5.0, 10.0, 10.0),
        ((0, TrackerSpec("siamfc")), (1, TrackerSpec("siamban-mobilev2"))),
        frame_count=8,
    )
    steps = list(compare_frames(job))
    assert [s.index for s in steps] == [3, 4, 5, 6, 7]
    assert sorted(asked) == [2, 3, 4, 5, 6, 7]  # the start frame and every tracked frame once
    assert stand_in.made == ["siamfc", "siamban-mobilev2"]
    last = steps[-1]
    assert last.results[0].result.box[0] == 5.0 + 5 * 1.0
    assert last.results[1].result.box[0] == 5.0 + 5 * 2.0
    assert (last.done, last.total) == (5, 5)
    assert not last.frame.flags.writeable  # shared with the GUI thread


def test_each_trackers_fps_is_its_own_compute_time(stand_in):
    DELAY["siamfc"] = 0.03  # a slow tracker beside a fast one
    job = CompareJob(
        frames_of(6, []),
        0,
        (5.0, 5.0, 10.0, 10.0),
        ((0, TrackerSpec("siamfc")), (1, TrackerSpec("siamban-mobilev2"))),
        end=5,
        frame_count=6,
    )
    steps = list(compare_frames(job))
    assert [s.index for s in steps] == [1, 2, 3, 4]  # stops before ``end``
    slow, fast = steps[-1].results[0].fps, steps[-1].results[1].fps
    assert 20 < slow < 34  # 4 frames of >= 30 ms each
    assert fast > 5 * slow  # counted over the whole loop, it would be about as slow


def test_a_cancelled_comparison_stops(stand_in):
    job = CompareJob(frames_of(20, []), 0, (5, 5, 10, 10), ((0, TrackerSpec("siamfc")),), frame_count=20)
    seen = []
    for step in compare_frames(job, lambda: len(seen) >= 3):
        seen.append(step.index)
    assert seen == [1, 2, 3]
    with pytest.raises(ValueError, match="no tracker"):
        list(compare_frames(CompareJob(frames_of(5, []), 0, (1, 1, 4, 4), (), frame_count=5)))


@needs_shared
def test_real_trackers_compared_give_the_boxes_they_give_alone():
    folder = SEQUENCES / "vot_bag"
    box = (292.23, 128.36, 145.96, 132.47)
    specs = (TrackerSpec("siamrpnpp-mobilev2", device="cpu"), TrackerSpec("siamban-mobilev2", device="cpu"))
    together = list(compare_frames(CompareJob(folder, 0, box, tuple(enumerate(specs)), end=6)))
    assert [s.index for s in together] == [1, 2, 3, 4, 5]
    for slot, spec in enumerate(specs):
        alone = list(track_frames(TrackJob(folder, 0, (Target(7, box, 6),), spec)))
        assert [s.index for s in alone] == [1, 2, 3, 4, 5]
        for a, t in zip(alone, together, strict=True):
            assert a.results[7].box == t.results[slot].result.box
            assert a.results[7].score == t.results[slot].result.score
    assert together[-1].results[0].result.box != together[-1].results[1].result.box


# -- the model -----------------------------------------------------------------------------------


def test_comparison_model_keeps_results_and_measures_against_the_ground_truth():
    comparison = Comparison()
    events = []
    comparison.changed.connect(lambda: events.append("changed"))
    comparison.advanced.connect(lambda frame: events.append(frame))
    comparison.begin(1, (10, 10, 10, 10), [("a", "A"), ("b", "B")], 5)
    assert [s.colour for s in comparison.slots] == list(SLOT_COLOURS[:2])
    assert comparison.slots[0].box_at(1) == (10, 10, 10, 10)  # every slot starts on the box
    comparison.put(2, {0: ((10, 10, 10, 10), 0.9, 50.0, np.ones((3, 3)), trackers.MapGeometry(0, 0, 1))})
    comparison.put(2, {1: ((15, 10, 10, 10), 0.4, 25.0, None, None)})
    assert events == ["changed", 2, 2]
    assert comparison.reached() == 2 and comparison.slots[1].fps == 25.0
    assert comparison.map_at(0, 2) is not None and comparison.map_at(1, 2) is None

    from app.model.annotations import Annotations

    annotations = Annotations(5)
    boxes = {f: FrameBox((10, 10, 10, 10)) for f in range(5)}
    annotations.apply(annotations.add_track_edit("person", boxes=boxes))
    assert comparison.ground_truth(annotations) is None  # not labelled ground truth
    annotations.apply(annotations.add_track_edit(GROUND_TRUTH_LABEL, boxes=boxes))
    truth = comparison.ground_truth(annotations)
    ious = [comparison.iou(slot, truth) for slot in (0, 1)]
    assert ious[0][2] == pytest.approx(1.0) and ious[1][2] == pytest.approx(50 / 150)
    assert np.isnan(ious[0][[0, 1, 3, 4]]).all()  # the start frame and untracked frames: not compared

    comparison.replace(1, "c", "C")
    assert comparison.slots[1].title == "C" and comparison.slots[1].box_at(2) is None
    assert comparison.slots[0].box_at(2) == (10, 10, 10, 10)  # the other slot keeps its results
    comparison.clear()
    assert not comparison.active


# -- the window ----------------------------------------------------------------------------------


def start_comparison(window, qtbot, names=("siamfc", "siamban-mobilev2")):
    panel = window.compare_actions.panel
    panel.count_box.setValue(len(names))
    for card, name in zip(panel.cards, names, strict=False):
        card.set_tracker(name)
    window.compare_actions.start_action.trigger()
    assert window.comparisons.running
    qtbot.waitUntil(lambda: not window.comparisons.running, timeout=20_000)


def test_compare_two_trackers_live_in_the_window(window, qtbot, image_folder, stand_in):
    assert window.files.open_path(image_folder)
    window.go_to(1, now=True)
    window.set_box((5.0, 8.0, 20.0, 20.0))
    track_count = len(window.session.annotations)
    QTest.keyClick(window, Qt.Key_C, Qt.ControlModifier | Qt.ShiftModifier)
    assert window.compare_dock.isVisible()
    assert not window.compare_actions.stop_action.isEnabled()
    frames_seen = []
    window.session.comparison.advanced.connect(frames_seen.append)
    start_comparison(window, qtbot)
    comparison = window.session.comparison
    assert frames_seen == [2, 3, 4, 5]
    assert [s.title for s in comparison.slots] == ["siamfc", "siamban-mobilev2"]
    assert [s.status for s in comparison.slots] == ["done", "done"]
    assert comparison.slots[0].box_at(5) == (9.0, 8.0, 20.0, 20.0)
    assert comparison.slots[1].box_at(5) == (13.0, 8.0, 20.0, 20.0)
    # not annotations: the user's tracks and the undo stack are untouched
    assert len(window.session.annotations) == track_count and window.undo_stack.count() == 1
    # the view followed the comparison; each tracker's box and chip are on the main view
    qtbot.waitUntil(lambda: window.presenter.displayed_frame == 5)
    window.presenter.schedule(now=True)
    chips = window.view.track_box_texts()
    assert any(c.startswith("siamfc · ") and c.endswith(" · 0.60") for c in chips)
    assert any(c.startswith("siamban-mobilev2 · ") and c.endswith(" · 0.70") for c in chips)
    # one score curve per tracker on the strip, no IoU without a ground truth
    window.compare_actions.presenter.schedule(now=True)
    curves = window.timeline.plot.compare_curves_shown()
    np.testing.assert_allclose(curves[0][0][2:6], [0.6] * 4)
    np.testing.assert_allclose(curves[1][0][2:6], [0.7] * 4)
    assert len(curves[0][1]) == 0
    card = window.compare_actions.panel.cards[1]
    assert "siamban-mobilev2" in card.stats.text() and "score 0.700" in card.stats.text()
    assert card.map_image.image is not None and card.map_image.image.max() == pytest.approx(0.5, abs=1 / 255)

    # swap slot 1 for another tracker: it alone runs again, over the same frames
    card.set_tracker("siamrpnpp-mobilev2")
    card.swap_button.click()
    qtbot.waitUntil(lambda: not window.comparisons.running, timeout=20_000)
    assert stand_in.made[-1] == "siamrpnpp-mobilev2" and stand_in.made.count("siamfc") == 1
    assert comparison.slots[1].title == "siamrpnpp-mobilev2"
    assert comparison.slots[1].box_at(5) == (17.0, 8.0, 20.0, 20.0)
    assert comparison.slots[0].box_at(5) == (9.0, 8.0, 20.0, 20.0)

    # side by side: one view per tracker with its box and map
    window.compare_actions.side_action.trigger()
    assert window.compare_grid.isVisible() and not window.view.isVisible()
    window.go_to(4, now=True)
    window.compare_actions.presenter.schedule(now=True)
    views = window.compare_grid.views
    assert views[0].box_shown == (8.0, 8.0, 20.0, 20.0) and views[1].box_shown == (14.0, 8.0, 20.0, 20.0)
    assert views[1].overlay.isVisible() and not views[2].isVisible()
    window.compare_actions.side_action.trigger()
    assert window.view.isVisible() and not window.compare_grid.isVisible()

    # keep slot 0 as a track: one undoable edit
    card0 = window.compare_actions.panel.cards[0]
    card0.keep_button.click()
    kept = window.session.annotations.track(max(window.session.annotations.tracks))
    assert sorted(kept.boxes) == [1, 2, 3, 4, 5] and kept.get(1).is_manual
    assert kept.get(5).box == (9.0, 8.0, 20.0, 20.0) and kept.get(5).score == pytest.approx(0.6)
    window.undo_stack.undo()
    assert len(window.session.annotations) == track_count

    # clear: the boxes and curves go
    window.compare_actions.clear_action.trigger()
    assert not comparison.active
    window.presenter.schedule(now=True)
    assert not any("fps" in c for c in window.view.track_box_texts())
    assert all(len(s) == 0 for pair in window.timeline.plot.compare_curves_shown() for s in pair)


def test_stop_and_restart_a_comparison(window, qtbot, image_folder, stand_in):
    assert window.files.open_path(image_folder)
    window.set_box((5.0, 8.0, 20.0, 20.0))
    DELAY["siamfc"] = 0.3
    panel = window.compare_actions.panel
    panel.count_box.setValue(2)
    panel.cards[0].set_tracker("siamfc")
    window.compare_actions.start_action.trigger()
    comparison = window.session.comparison
    qtbot.waitUntil(lambda: comparison.reached() is not None and comparison.reached() >= 1, timeout=10_000)
    assert window.compare_actions.stop_action.isEnabled()
    assert not window.run_actions[0].isEnabled()  # no tracking run meanwhile
    window.compare_actions.stop_action.trigger()
    qtbot.waitUntil(lambda: not window.comparisons.running, timeout=10_000)
    assert comparison.slots[0].status == "stopped" and comparison.reached() < 5
    assert window.run_actions[0].isEnabled()
    DELAY.clear()
    window.compare_actions.restart_action.trigger()
    qtbot.waitUntil(lambda: not window.comparisons.running, timeout=10_000)
    assert [s.status for s in comparison.slots] == ["done", "done"] and comparison.reached() == 5


def test_comparison_needs_a_start_box(window, image_folder, stand_in):
    assert window.files.open_path(image_folder)
    window.compare_actions.start_action.trigger()
    assert not window.comparisons.running and "box" in window.last_error


def test_iou_curves_per_tracker_with_ground_truth(window, qtbot, image_folder, stand_in):
    assert window.files.open_path(image_folder)
    annotations = window.session.annotations
    truth = {f: FrameBox((5.0 + 2 * f, 8.0, 20.0, 20.0)) for f in range(6)}  # moves 2 px a frame
    window.editing.push(annotations.add_track_edit(GROUND_TRUTH_LABEL, boxes=truth))
    window.session.select(None)  # the comparison starts from the ground truth's box
    start_comparison(window, qtbot)
    window.compare_actions.presenter.schedule(now=True)
    curves = window.timeline.plot.compare_curves_shown()
    # siamfc moves 1 px a frame: it falls behind; siamban-mobilev2 moves with the truth
    behind = [(20 - f) * 20 / (800 - (20 - f) * 20) for f in range(1, 6)]
    np.testing.assert_allclose(curves[0][1][1:6], behind, rtol=1e-5)
    np.testing.assert_allclose(curves[1][1][1:6], [1.0] * 5)
    assert np.isnan(curves[0][1][0])  # the start frame: not compared
    assert "IoU 1.00 (mean 1.000)" in window.compare_actions.panel.cards[1].stats.text()


@needs_shared
def test_swap_in_a_weights_file(window, qtbot, image_folder, stand_in):
    assert window.files.open_path(image_folder)
    window.set_box((5.0, 8.0, 20.0, 20.0))
    start_comparison(window, qtbot)
    card = window.compare_actions.panel.cards[0]
    checkpoint = WEIGHTS / "nanotrack_v2" / "nanotrackv2.pth"
    assert card.import_weights(checkpoint)  # recognised: the slot's tracker becomes nanotrack
    assert card.spec("cpu") == TrackerSpec("nanotrack", str(checkpoint), "cpu")
    card.swap_button.click()
    qtbot.waitUntil(lambda: not window.comparisons.running, timeout=20_000)
    tracked = window.session.comparison.slots[0]
    assert tracked.title == "nanotrack · nanotrackv2.pth" and tracked.box_at(5) == (25.0, 8.0, 20.0, 20.0)
    assert not card.import_weights(image_folder / "0001.png")  # not a checkpoint: said, nothing changes
    assert "Cannot use this checkpoint" in window.statusBar().currentMessage()
    assert card.spec("cpu").weights == str(checkpoint)
