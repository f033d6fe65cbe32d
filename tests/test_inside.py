"""The inside record (trackers/inside.py): its pieces agree with what the tracker decided, and
inspecting changes no result. Shipped trackers on synthetic frames; the R50 layouts (three
weighted levels) with formula weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import trackers
import trackers.multi
from trackers.inside import Inside
from trackers.ops.geometry import box_to_center

SHIPPED = ["siamfc", "siamrpnpp-mobilev2", "siamban-mobilev2", "siamcross-mobilev2"]
START = (60.0, 50.0, 40.0, 32.0)


def moving_target(count: int = 4) -> list[np.ndarray]:
    """A textured patch moving right and down over a noisy background."""
    rng = np.random.default_rng(7)
    background = rng.integers(0, 80, (180, 240, 3), dtype=np.uint8)
    patch = rng.integers(120, 255, (32, 40, 3), dtype=np.uint8)
    frames = []
    for k in range(count):
        frame = background.copy()
        x, y = 60 + 4 * k, 50 + 2 * k
        frame[y : y + 32, x : x + 40] = patch
        frames.append(frame)
    return frames


def track(tracker, frames, inspect: bool) -> list:
    tracker.set_inspect(inspect)
    tracker.init(frames[0], START)
    return [tracker.track(f) for f in frames[1:]]


def is_cosine_window(window: np.ndarray) -> bool:
    """A Hann window of the map's size, up to a constant factor (SiamFC's is normalised), or the
    centre of a wider one (a near search crop keeps the full crop's window values)."""
    size = window.shape[0]
    for margin in range(0, 8, 2):
        h = np.hanning(size + margin)[margin // 2 : margin // 2 + size]
        expected = np.outer(h, h)
        if np.allclose(window, expected * (window.sum() / expected.sum()), rtol=1e-6, atol=1e-12):
            return True
    return False


def check_record(tracker, result, inside: Inside) -> None:
    # the chosen candidate is the argmax of the map the tracker decided on
    assert inside.best == np.unravel_index(inside.final.argmax(), inside.final.shape)
    if "best_index" in result.extras:
        assert inside.best_index == result.extras["best_index"]
    # the window: a cosine window of the map's size, blended with the influence given
    for window in inside.window:
        assert is_cosine_window(window)
    w = inside.window_influence
    np.testing.assert_allclose(inside.final, (1 - w) * inside.penalised + w * inside.window, rtol=1e-6)
    if inside.penalty is not None:
        np.testing.assert_allclose(inside.penalised, inside.score * inside.penalty, rtol=1e-6)
        assert ((inside.penalty > 0) & (inside.penalty <= 1 + 1e-6)).all()
    assert inside.template.dtype == np.uint8 and inside.template.shape[2] == 3
    assert inside.search_region == result.search_region
    assert inside.geometry == result.geometry
    assert inside.cell_map(inside.final).max() == inside.final.max()
    levels = inside.levels
    if levels is not None and levels.raw is not None:
        # the entries weighted by their weights sum to what the tracker decoded
        np.testing.assert_allclose(
            np.tensordot(levels.weights, levels.raw, 1), levels.fused, rtol=1e-4, atol=1e-5
        )
        np.testing.assert_allclose(levels.weights.sum(), 1.0, rtol=1e-6)


def check_decoded_box(tracker, inside: Inside, outputs: dict, scale_z: float, prev_centre) -> None:
    """The box before smoothing decodes from the chosen candidate of the network's outputs."""
    _score, pred, _response = tracker._decode(outputs)
    cx, cy, w, h = pred[:, inside.best_index] / scale_z
    centre, size = box_to_center(inside.box, False)
    np.testing.assert_allclose(size, (w, h), rtol=1e-5)
    np.testing.assert_allclose(centre - prev_centre, (cx, cy), atol=1e-3)


@pytest.mark.parametrize("name", SHIPPED)
def test_the_inside_record_of_each_shipped_tracker_agrees_with_its_decision(name):
    frames = moving_target()
    tracker = trackers.create(name, device="cpu")
    plain = track(tracker, frames, inspect=False)
    assert all("inside" not in r.extras for r in plain)  # off: nothing is recorded
    inspected = track(tracker, frames, inspect=True)
    # inspecting changes no result
    assert [r.box for r in inspected] == [r.box for r in plain]
    assert [r.score for r in inspected] == [r.score for r in plain]
    for result in inspected:
        check_record(tracker, result, result.extras["inside"])
    inside = inspected[-1].extras["inside"]
    if name == "siamfc":
        assert inside.decode == "scales" and inside.levels.chosen == inspected[-1].extras["scale_id"]
        assert inside.levels.weights[inside.levels.chosen] in (1.0, tracker.config.scale_penalty)
    elif name == "siamrpnpp-mobilev2":
        assert inside.decode == "anchors" and inside.anchors.shape == (inside.final.shape[0], 2)
        assert inside.levels is None and inside.level_note.startswith("1 level")
        assert len(inside.anchor_boxes()) == inside.final.shape[0]
    elif name == "siamcross-mobilev2":
        assert inside.decode == "points" and inside.levels.kind == "branches"
        np.testing.assert_allclose(inside.levels.fused, inside.score.reshape(-1), rtol=1e-6)
    else:
        assert inside.decode == "points" and inside.anchors is None


@pytest.mark.parametrize("name", ["siamrpnpp-mobilev2", "siamban-mobilev2"])
def test_the_box_before_smoothing_decodes_from_the_chosen_candidate(name):
    frames = moving_target(3)
    tracker = trackers.create(name, device="cpu")
    tracker.set_inspect(True)
    tracker.init(frames[0], START)
    seen = {}
    forward = tracker.net.track

    def keep(patches):
        seen["outputs"] = forward(patches)
        return seen["outputs"]

    tracker.net.track = keep
    for frame in frames[1:]:
        scale_z = tracker._search_scales()[0]
        prev_centre = tracker._state.center.copy()
        result = tracker.track(frame)
        check_decoded_box(tracker, result.extras["inside"], seen["outputs"], scale_z, prev_centre)


def test_the_multi_tracker_records_every_object_while_inspecting():
    frames = moving_target(3)
    multi = trackers.multi.MultiTracker("siamban-mobilev2", device="cpu")
    multi.add("a", frames[0], START)
    multi.add("b", frames[0], (150.0, 120.0, 30.0, 30.0))
    assert all("inside" not in r.extras for r in multi.track(frames[1]).values())
    multi.set_inspect(True)
    results = multi.track(frames[2])
    assert set(results) == {"a", "b"}
    for result in results.values():
        assert result.extras["inside"].best_index == result.extras["best_index"]


R50 = [("pysot__siamrpn_r50_l234_dwxcorr", "siamrpnpp-r50"), ("siamban__siamban_r50_l234", "siamban-r50")]


@pytest.mark.parametrize("stem,name", R50)
def test_r50_level_maps_weighted_by_the_level_weights_sum_to_the_fused_map(stem, name):
    from tests.formula_weights import formula_weights
    from tests.shared_data import HAVE_SHARED

    if not HAVE_SHARED:
        pytest.skip("the official key lists are in ../shared")
    from trackers.architectures import build
    from trackers.checkpoints import load_strict

    torch.manual_seed(0)
    net = build(stem)
    load_strict(net, formula_weights(stem))
    # distinct level weights, so that a wrong weighting cannot pass
    head = net.head_module
    with torch.no_grad():
        head.cls_weight.copy_(torch.tensor([0.3, -0.5, 1.2]))
    info = trackers.get(name)
    # a smaller search crop than the official 255: the levels' sum does not depend on it
    tracker = info.tracker_cls(info.config_cls.create(instance_size=175), net, device="cpu")
    frames = moving_target(2)
    plain = track(tracker, frames, inspect=False)
    assert net.keep_levels is False
    inspected = track(tracker, frames, inspect=True)
    assert [r.box for r in inspected] == [r.box for r in plain]
    inside = inspected[0].extras["inside"]
    levels = inside.levels
    assert levels.kind == "levels" and len(levels.maps) == 3
    np.testing.assert_allclose(
        levels.weights, torch.softmax(torch.tensor([0.3, -0.5, 1.2]), 0).numpy(), rtol=1e-6
    )
    check_record(tracker, inspected[0], inside)
    assert all(m.shape == inside.final.shape[1:] for m in levels.maps)
    tracker.set_inspect(False)
    assert net.keep_levels is False


# -- the app: records while the dock is open, bounded, and the dock -----------------------------


def test_a_run_records_only_while_asked_and_follows_a_change_mid_run():
    from app.engine.jobs import TrackerSpec, TrackJob, track_frames
    from app.model.run_rules import Target

    frames = moving_target(5)
    job = TrackJob(
        lambda i: frames[i],
        0,
        (Target(1, START, None),),
        TrackerSpec("siamban-mobilev2", device="cpu"),
        frame_count=len(frames),
    )
    asked = []

    def inspect():
        asked.append(True)
        return len(asked) > 2  # off for the first two frames, then on

    steps = list(track_frames(job, inspect=inspect))
    assert [("inside" in s.results[1].extras) for s in steps] == [False, False, True, True]


def test_records_are_kept_within_their_budget():
    from app.model.inside import InsideRecords

    frames = moving_target(4)
    # one search size, so that every record has the same size
    tracker = trackers.create("siamrpnpp-mobilev2", device="cpu", near_instance_size=0)
    records = [r.extras["inside"] for r in track(tracker, frames, inspect=True)]
    store = InsideRecords(budget=int(records[0].nbytes * 2.5))
    for frame, record in enumerate(records, start=1):
        store.put(1, frame, record)
    assert store.get(1, 1) is None and store.get(1, 3) is records[2] and len(store) == 2
    assert store.bytes <= store.budget


def shipped_folder(tmp_path):
    import cv2

    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate(moving_target(6)):
        cv2.imwrite(str(folder / f"{i + 1:04d}.png"), frame)
    return folder


def test_the_inside_dock_shows_what_the_tracker_weighed(qtbot, tmp_path, monkeypatch):
    from app.engine.jobs import TrackerSpec
    from app.ui.main_window import MainWindow

    monkeypatch.setenv("SIAMARK_CONFIG_DIR", str(tmp_path / "config"))
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    spec = TrackerSpec("siamrpnpp-mobilev2", device="cpu")
    assert win.files.open_path(shipped_folder(tmp_path))
    # closed: runs record nothing
    assert not win.inside_dock.isVisible() and not win.runs.tracking.inspecting.is_set()
    with qtbot.waitSignal(win.runs.tracking.finished, timeout=120_000):
        assert win.start_tracking(box=START, spec=spec, end=3)
    assert len(win.runs.inside) == 0
    # open (View menu's action): recording on, the dock explains how to get a record
    win.inside_dock.toggleViewAction().trigger()
    qtbot.waitUntil(win.runs.tracking.inspecting.is_set)
    assert win.inside_dock.isVisible()
    win.go_to(2, now=True)
    win.inside.refresh()
    assert "Run with the Inside view open" in win.inside_panel.note.text()
    win.go_to(0, now=True)
    with qtbot.waitSignal(win.runs.tracking.finished, timeout=120_000):
        assert win.start_tracking(spec=spec, end=5)
    assert len(win.runs.inside) == 4
    win.go_to(3, now=True)
    win.inside.refresh()
    record = win.runs.inside.get(1, 3)
    assert win.inside_panel.record is record
    titles = win.inside_panel.shown_titles()
    assert titles[:5] == ["Template", "Raw score", "Penalty", "Cosine window", "Final"]
    final = win.inside_panel.views[4]
    np.testing.assert_array_equal(final.image.image, record.cell_map(record.final).astype(np.float32))
    x, y = final.marker.getData()
    assert (y[0] - 0.5, x[0] - 0.5) == record.best[1:]
    assert "k = 0.15" in win.inside_panel.views[2].caption.text()
    assert "1 level" in win.inside_panel.heading.text()
    np.testing.assert_array_equal(win.inside_panel.views[0].image.image, record.template[..., ::-1])
    # on the frame: the search region and the winner cell's anchors, the chosen one highlighted
    overlay = win.inside.overlay
    assert not overlay.region.isVisible()
    win.inside_overlay_action.trigger()
    assert overlay.region.isVisible() and overlay.region.rect().getRect() == pytest.approx(
        record.search_region
    )
    anchors = [a for a in overlay.anchors if a.isVisible()]
    assert len(anchors) == record.final.shape[0]
    assert anchors[record.best[0]].rect().getRect() == pytest.approx(record.anchor_boxes()[record.best[0]])
    # the manual keyframe has no record: the dock says why
    win.go_to(0, now=True)
    win.inside.refresh()
    assert "Your box" in win.inside_panel.note.text() and not overlay.region.isVisible()
    win.inside_dock.close()
    qtbot.waitUntil(lambda: not win.runs.tracking.inspecting.is_set())
    win.undo_stack.setClean()
    win.close()
