"""The near search crop (PysotConfig.near_instance_size): a smaller crop first while the target is
held, the full one where it does not hold (trackers/pysot_tracker.py)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import trackers
from tests.shared_data import SEQUENCES, needs_shared
from trackers.metrics import box_iou
from trackers.multi import MultiTracker
from trackers.ops.windows import hanning_window


def test_near_size_must_be_a_centred_smaller_crop():
    for bad in (351, 400, 271, 100):  # not smaller; not smaller; 10 points in 15 (off centre); < 127
        with pytest.raises(ValueError, match="near_instance_size"):
            trackers.create("siamcross-mobilev2", device="cpu", backend="torch", near_instance_size=bad)
    tracker = trackers.create("siamcross-mobilev2", device="cpu", backend="torch", near_instance_size=287)
    assert tracker.config.score_size(287) == 11


def test_shipped_stride16_models_search_near_first():
    for name in ("siamcross-mobilev2", "siamban-mobilev2", "siamrpnpp-mobilev2"):
        config = trackers.create(name, device="cpu", backend="torch").config
        assert (config.near_instance_size, config.near_min_score) == (255, 0.5), name


def test_near_window_is_the_full_windows_centre():
    tracker = trackers.create("siamcross-mobilev2", device="cpu", backend="torch")
    frame = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    tracker.init(frame, (100, 80, 40, 30))
    assert tracker._score_size == 15 and tracker.search_patch(frame).shape == (351, 351, 3)
    tracker._use_instance_size(255)
    assert tracker.search_patch(frame).shape == (255, 255, 3)
    full = hanning_window(15).reshape(15, 15)
    np.testing.assert_array_equal(tracker._window.reshape(9, 9), full[3:12, 3:12])
    np.testing.assert_array_equal(tracker._points, trackers.ops.grids.point_grid(9, 16))


@pytest.fixture(scope="module")
def dragonbaby():
    from trackers.bench import load_sequence

    path = SEQUENCES / "otb_dragonbaby"
    if not path.is_dir():
        pytest.skip(f"{path} not found (the shared data is not beside the checkout)")
    return load_sequence(path, 50)


@needs_shared
def test_near_crop_agrees_with_the_full_one_and_yields_to_it(dragonbaby):
    """From the same state each frame: where the near crop held, the box is close to the full
    crop's; where it did not, the frame was searched again and the box is the full crop's."""
    seq = dragonbaby
    near = trackers.create("siamcross-mobilev2", device="cpu", backend="torch")
    full = trackers.create("siamcross-mobilev2", device="cpu", backend="torch", near_instance_size=0)
    near.set_inspect(True)  # the Inside record says which crops ran
    near.init(seq.frames[0], seq.init_box)
    full.init(seq.frames[0], seq.init_box)
    searches, overlaps = [], []
    for frame in seq.frames[1:]:
        full._state = copy.deepcopy(near._state)
        a, b = near.track(frame), full.track(frame)
        searches.append(a.extras["searches"])
        note = a.extras["inside"].search_note
        assert {(351,): "351 px full crop", (255,): "255 px near crop: it held"}.get(
            searches[-1], "did not hold"
        ) in note
        assert a.extras["search_patch_size"] == a.extras["searches"][-1]
        if a.extras["searches"] == (255,):
            overlaps.append(box_iou(a.box, b.box))
        else:
            np.testing.assert_allclose(a.box, b.box, atol=1e-3)
            assert a.score == pytest.approx(b.score, abs=1e-5)
    assert searches[0] == (351,)  # nothing held yet: the first frame searches the full crop
    assert (255, 351) in searches  # a near crop that did not hold (frame 45, the dragon kicks)
    assert searches.count((255,)) >= 0.8 * len(searches)
    assert np.mean(overlaps) >= 0.9 and np.mean(np.array(overlaps) >= 0.75) >= 0.95


@needs_shared
def test_batched_objects_search_again_with_their_own_template(dragonbaby, monkeypatch):
    """Every near crop refused, so every object searches twice: the second search must run
    against that object's template in a batch too, exactly as in the loop."""
    seq = dragonbaby
    monkeypatch.setattr(trackers.pysot_tracker.PysotStyleTracker, "_near_holds", lambda *a: False)
    x, y, w, h = seq.init_box
    boxes = {"target": seq.init_box, "beside": (x + 2 * w, y, w, h)}
    runs = []
    for batched in (False, True):
        multi = MultiTracker("siamcross-mobilev2", device="cpu", batched=batched, near_min_score=0.0)
        for object_id, box in boxes.items():
            multi.add(object_id, seq.frames[0], box)
        runs.append([multi.track(f) for f in seq.frames[1:5]])
    for looped, batch in zip(*runs, strict=True):
        for object_id in boxes:
            assert batch[object_id].extras["searches"][-1] == 351
            np.testing.assert_allclose(batch[object_id].box, looped[object_id].box, atol=1e-3)
    assert runs[1][-1]["target"].extras["searches"] == (255, 351)
