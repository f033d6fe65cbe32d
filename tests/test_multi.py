"""MultiTracker (trackers/multi.py): several objects, one shared network, batched or looped.

Three objects of otb_crossing's first frame (the ground-truth walker, a pedestrian far left, a
parked bicycle) are tracked. The loop path must give exactly what one tracker per object gives;
the batched path (one forward over all objects' crops) the same boxes within 1e-4 px.
Networks run with weights that are the same on every build: real ones where they exist
(NanoTrack, the shipped SiamBAN-MobileNetV2), the fidelity formula weights otherwise.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import trackers
from tests.shared_data import HAVE_SHARED, SEQUENCES, WEIGHTS, needs_shared
from trackers.architectures import ARCHITECTURES, build
from trackers.base import TrackResult
from trackers.models.siamfc_net import SiamFCNet
from trackers.multi import MultiTracker
from trackers.network import NetworkRunner
from trackers.reference import CSRTReference

CROSSING = SEQUENCES / "otb_crossing"
# (x, y, w, h) on frame 1: the annotated walker, a pedestrian far left, a parked bicycle
# (small: DaSiamRPN gives it the larger 287 search region, so it goes in a batch of its own).
BOXES = {
    "walker": (205.0, 151.0, 17.0, 50.0),
    "pedestrian": (42.0, 65.0, 13.0, 34.0),
    7: (290.0, 37.0, 20.0, 16.0),
}
TOL_PX = 1e-4
# SiamFC's box moves in steps of one pixel of its 16x upsampled response (0.26 image px for the
# walker). With the formula weights that map is nearly flat (~0.19 everywhere), and where two
# upsampled pixels tie to ~1e-7 the batched kernels' rounding may pick the neighbour (seen on an
# Intel Xeon, not on an AMD EPYC): the boxes then differ by one step while the maps agree.
SIAMFC_STEP_PX = 0.3


@pytest.fixture(scope="module")
def frames():
    if not HAVE_SHARED:
        pytest.skip("shared test data not found (set SIAMARK_SHARED)")
    from trackers.io import open_source

    return open_source(CROSSING).read_all(13)


def formula_model(arch: str) -> torch.nn.Module:
    """Layout ``arch`` with the fidelity formula weights (a pure function of key name and shape)."""
    from tests.formula_weights import formula_state_dict

    model = build(arch)
    model.load_state_dict(formula_state_dict({k: v.shape for k, v in model.state_dict().items()}))
    return model


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    """source -> weights argument: a layout name (formula weights, saved once), a file under the
    shared WEIGHTS folder, or None (the shipped weights)."""
    folder, saved = tmp_path_factory.mktemp("weights"), {}

    def get(source: str | None):
        if source is None or source.endswith(".pth"):
            return source and WEIGHTS / source
        if source not in saved:
            saved[source] = folder / f"{source}.pth"
            torch.save(formula_model(source).state_dict(), saved[source])
        return saved[source]

    return get


def track_all(multi: MultiTracker, frames, boxes=BOXES) -> list[dict]:
    for object_id, box in boxes.items():
        multi.add(object_id, frames[0], box)
    return [multi.track(f) for f in frames[1:]]


def track_separately(make, frames, boxes=BOXES) -> list[dict]:
    singles = {}
    for object_id, box in boxes.items():
        singles[object_id] = make()
        singles[object_id].init(frames[0], box)
    return [{k: t.track(f) for k, t in singles.items()} for f in frames[1:]]


def assert_same(got: list[dict], want: list[dict], tol: float, box_tol: float | None = None) -> None:
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        assert list(g) == list(w), f"frame {k + 1}: objects differ"
        for object_id in w:
            a, b = g[object_id], w[object_id]
            where = f"frame {k + 1}, object {object_id!r}"
            assert isinstance(a, TrackResult), where
            assert a.ok == b.ok, where
            if tol == 0:
                assert a.box == b.box and a.score == b.score, where
                np.testing.assert_array_equal(a.response, b.response, err_msg=where)
            else:
                box_atol = tol if box_tol is None else box_tol
                np.testing.assert_allclose(a.box, b.box, atol=box_atol, rtol=0, err_msg=where)
                assert abs(a.score - b.score) <= tol, where


# --- every architecture: batched equals looped -------------------------------------------------------

# (tracker, weights: a layout name (formula weights), a file under shared WEIGHTS, or None = shipped)
CASES = [
    ("siamfc", "siamfc_pytorch__alexnetv1"),
    ("siamfc", "siamark__siamfc_mobilev2"),
    ("siamrpn", "pysot__siamrpn_alex_dwxcorr"),
    ("siamrpnpp-mobilev2", "pysot__siamrpn_mobilev2_l234_dwxcorr"),
    ("siamrpnpp-mobilev2", "siamark__siamrpn_mobilev2"),
    ("siamrpnpp-mobilev2", None),  # shipped: the stride-16 layout
    ("siamban-efflite0", "siamark__siamban_efflite0_s16"),
    pytest.param("dasiamrpn", "dasiamrpn__SiamRPNBIG", marks=pytest.mark.slow),
    ("nanotrack", "nanotrack_v2/nanotrackv2.pth"),
    ("nanotrack", "nanotrack_v3/nanotrackv3.pth"),
    ("siamban-mobilev2", None),
    ("siamcross-mobilev2", "siamark__siamcross_mobilev2"),
    pytest.param("siamrpnpp-r50", "pysot__siamrpn_r50_l234_dwxcorr", marks=pytest.mark.slow),
    pytest.param("siamban-r50", "siamban__siamban_r50_l234", marks=pytest.mark.slow),
]


@needs_shared
@pytest.mark.parametrize("name,source", CASES)
def test_batched_equals_looped(weights_file, frames, name, source):
    torch.set_num_threads(1)
    weights = weights_file(source)
    looped = MultiTracker(name, weights, device="cpu", batched=False)
    batched = MultiTracker(name, weights, device="cpu", batched=True)
    for multi in (looped, batched):
        for object_id, box in BOXES.items():
            multi.add(object_id, frames[0], box)
    for frame in frames[1:7]:
        # Every frame from the same target states: this compares the batch alone, not how a
        # tracking loop on untrained weights amplifies float32 rounding over the frames (the
        # runs with real weights below are compared over whole runs).
        for object_id in BOXES:
            batched.tracker(object_id)._state = copy.deepcopy(looped.tracker(object_id)._state)
        want = looped.track(frame)
        got = batched.track(frame)
        assert_same([got], [want], TOL_PX, SIAMFC_STEP_PX if name == "siamfc" else None)
        for object_id, result in want.items():  # the maps themselves agree to float32 rounding
            np.testing.assert_allclose(got[object_id].response, result.response, rtol=0, atol=1e-5)
    # The objects must really have kept apart: the comparison is about three different targets.
    assert len({tuple(round(v) for v in r.box) for r in want.values()}) == 3


@needs_shared
@pytest.mark.parametrize(
    "name,source",
    [
        ("siamfc", "siamfc_pytorch__alexnetv1"),
        ("siamban-mobilev2", None),
        ("nanotrack", "nanotrack_v2/nanotrackv2.pth"),
    ],
)
def test_looped_is_exactly_one_tracker_per_object(weights_file, frames, name, source):
    torch.set_num_threads(1)
    weights = weights_file(source)
    looped = track_all(MultiTracker(name, weights, device="cpu", batched=False), frames[:6])
    alone = track_separately(lambda: trackers.create(name, weights, device="cpu"), frames[:6])
    assert_same(looped, alone, tol=0)


@needs_shared
@pytest.mark.slow
def test_dasiamrpn_batches_by_search_size(weights_file, frames):
    multi = MultiTracker("dasiamrpn", weights_file("dasiamrpn__SiamRPNBIG"), device="cpu")
    for object_id, box in BOXES.items():
        multi.add(object_id, frames[0], box)
    sizes = {oid: multi.tracker(oid).search_patch(frames[1]).shape for oid in BOXES}
    assert sizes == {"walker": (271, 271, 3), "pedestrian": (271, 271, 3), 7: (287, 287, 3)}


# --- network level: every layout's template state stacks ---------------------------------------------


@pytest.mark.parametrize(
    "arch",
    [
        a if "r50" not in a else pytest.param(a, marks=pytest.mark.slow)
        for a in sorted(ARCHITECTURES)
        if a
        not in ("pysot__siamrpn_alex_dwxcorr_otb", "siamban__siamban_r50_l234_otb")  # same builders as VOT
    ],
)
def test_track_many_equals_track_per_object(arch):
    """Two objects, each against its own template; SiamFC's second object has two crops (scales).

    Both objects search the same crop, so only their templates tell their outputs apart. NanoTrack
    runs its real weights: on formula weights its outputs hardly depend on the template.
    """
    if arch.startswith("nanotrack_v"):
        if not HAVE_SHARED:
            pytest.skip("NanoTrack's real weights are in the shared data (set SIAMARK_SHARED)")
        from trackers.checkpoints import load_strict, read_state_dict

        model = build(arch)
        version = arch.removeprefix("nanotrack_v")
        load_strict(model, read_state_dict(WEIGHTS / f"nanotrack_v{version}" / f"nanotrackv{version}.pth"))
    else:
        model = formula_model(arch)
    runner = NetworkRunner(model, device="cpu")
    counts = (1, 2) if isinstance(runner.model, SiamFCNet) else (1, 1)
    rng = np.random.default_rng(0)
    size = 255 if "dasiamrpn" not in arch else 271
    ramp = np.linspace(0, 255, 127, dtype=np.float32)
    templates = [
        rng.integers(0, 256, (127, 127, 3), dtype=np.uint8),
        np.stack(
            [ramp[None, :].repeat(127, 0), ramp[:, None].repeat(127, 1), 255 - ramp[None, :].repeat(127, 0)],
            2,
        ).astype(np.uint8),
    ]
    search = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    states, crops = [], []
    for template, count in zip(templates, counts, strict=True):
        runner.template(template)
        if hasattr(runner.model, "set_template_mask"):  # SiamCross: LUT values after the template
            runner.model.set_template_mask(runner.model.template_mask(torch.tensor([[40.0, 60.0 + count]])))
        states.append(runner.template_state())
        crops.append(np.repeat(search[None], count, axis=0))
    alone = []
    for state, crop in zip(states, crops, strict=True):
        runner.load_template_state(state)
        alone.append(runner.track(crop))
    together = runner.track_many(crops, states)
    assert runner.template_state().keys() == states[1].keys()
    # A batch's float32 rounding differs from a single forward's by up to ~5e-5 of the outputs'
    # range (SiamCross-R50's deformable sampling; ~1e-6 for most layouts).
    tolerance = {name: 1e-4 * max(1.0, float(np.abs(value).max())) for name, value in alone[0].items()}
    for a, t in zip(alone, together, strict=True):
        assert a.keys() == t.keys()
        for name in a:
            assert t[name].shape == a[name].shape
            np.testing.assert_allclose(
                t[name], a[name], atol=tolerance[name], rtol=0, err_msg=f"{arch}: {name}"
            )
    # A mix-up of the two templates would show: their outputs differ far beyond the tolerance.
    assert any(np.abs(alone[0][n][0] - alone[1][n][0]).max() > 5 * tolerance[n] for n in tolerance)


# --- objects coming and going, re-initialised, backward ----------------------------------------------


@needs_shared
@pytest.mark.parametrize("batched", [False, True])
def test_objects_added_and_removed_mid_run(frames, batched):
    torch.set_num_threads(1)
    multi = MultiTracker("siamban-mobilev2", device="cpu", batched=batched)
    multi.add("walker", frames[0], BOXES["walker"])
    multi.add("pedestrian", frames[0], BOXES["pedestrian"])
    got = {"walker": [], "pedestrian": [], 7: []}
    for k in range(1, 13):
        results = multi.track(frames[k])
        assert list(results) == [oid for oid in ("walker", "pedestrian", 7) if oid in multi]
        for oid, result in results.items():
            got[oid].append(result)
        if k == 4:
            multi.add(7, frames[k], BOXES[7])  # drawn on frame 5, tracked from frame 6
        if k == 7:
            multi.remove("pedestrian")  # last tracked on frame 8
    assert len(multi) == 2 and "pedestrian" not in multi and multi.object_ids == ["walker", 7]

    def alone(oid, first, last):
        t = trackers.create("siamban-mobilev2", device="cpu")
        t.init(frames[first], BOXES[oid])
        return [{oid: t.track(f)} for f in frames[first + 1 : last + 1]]

    tol = TOL_PX if batched else 0
    assert_same([{"walker": r} for r in got["walker"]], alone("walker", 0, 12), tol)
    assert_same([{"pedestrian": r} for r in got["pedestrian"]], alone("pedestrian", 0, 7), tol)
    assert_same([{7: r} for r in got[7]], alone(7, 4, 12), tol)


@needs_shared
def test_adding_an_existing_id_reinitialises_it(frames):
    multi = MultiTracker("siamban-mobilev2", device="cpu", batched=True)
    track_all(multi, frames[:4])
    corrected = (200.0, 150.0, 18.0, 50.0)
    multi.add("walker", frames[3], corrected)
    assert multi.object_ids == ["walker", "pedestrian", 7]
    result = multi.track(frames[4])["walker"]
    t = trackers.create("siamban-mobilev2", device="cpu")
    t.init(frames[3], corrected)
    np.testing.assert_allclose(result.box, t.track(frames[4]).box, atol=TOL_PX, rtol=0)


@needs_shared
def test_backward_tracking_follows_the_target(frames):
    """Frames fed last to first: same as separate trackers fed them so, and on the target."""
    from trackers.io import read_groundtruth
    from trackers.metrics import iou

    torch.set_num_threads(1)
    gt = read_groundtruth(CROSSING / "groundtruth_rect.txt")
    backward = frames[::-1]
    start = {"walker": tuple(gt[len(frames) - 1]), "pedestrian": (43.0, 64.0, 13.0, 34.0)}
    batched = track_all(MultiTracker("siamban-mobilev2", device="cpu", batched=True), backward, start)
    looped = track_all(MultiTracker("siamban-mobilev2", device="cpu", batched=False), backward, start)
    alone = track_separately(lambda: trackers.create("siamban-mobilev2", device="cpu"), backward, start)
    assert_same(looped, alone, tol=0)
    assert_same(batched, looped, TOL_PX)
    # Results come in frame order 11, 10, ..., 0: compare with the ground truth of those frames.
    overlaps = [iou(r["walker"].box, gt[len(frames) - 2 - k]) for k, r in enumerate(looped)]
    assert min(overlaps) > 0.3, overlaps


# --- fallback and bad input ------------------------------------------------------------------------


@needs_shared
def test_reference_trackers_get_one_instance_per_object(frames):
    multi = MultiTracker("csrt", batched=True)
    assert not multi.shares_network
    assert_same(track_all(multi, frames[:5]), track_separately(CSRTReference, frames[:5]), tol=0)


@needs_shared
def test_bad_box_changes_nothing(frames):
    multi = MultiTracker("siamban-mobilev2", device="cpu", batched=True)
    boxes = {"walker": BOXES["walker"], "pedestrian": BOXES["pedestrian"]}
    for oid, box in boxes.items():
        multi.add(oid, frames[0], box)
    with pytest.raises(ValueError, match="outside"):
        multi.add("walker", frames[1], (1000.0, 1000.0, 10.0, 10.0))
    with pytest.raises(ValueError, match="positive width"):
        multi.add("new", frames[1], (10.0, 10.0, 0.0, 10.0))
    assert multi.object_ids == ["walker", "pedestrian"]
    got = [multi.track(f) for f in frames[1:4]]
    assert_same(
        got,
        track_separately(lambda: trackers.create("siamban-mobilev2", device="cpu"), frames[:4], boxes),
        TOL_PX,
    )
    with pytest.raises(KeyError, match="no tracked object 'dog'"):
        multi.remove("dog")


def test_no_objects_no_results():
    multi = MultiTracker("siamban-mobilev2", device="cpu")
    assert multi.track(np.zeros((40, 60, 3), np.uint8)) == {}
    assert len(multi) == 0


def test_cpu_batches_where_it_was_measured_to_pay():
    assert MultiTracker("siamban-mobilev2", device="cpu").batched
    assert not MultiTracker("siamfc", trackers.RANDOM, device="cpu").batched  # 3 scale crops per object
    assert not MultiTracker("kcf").batched  # nothing to batch


def test_from_tracker_needs_a_shared_network():
    with pytest.raises(TypeError, match="cannot share its network"):
        MultiTracker.from_tracker(CSRTReference())
    tracker = trackers.create("siamban-mobilev2", device="cpu")
    multi = MultiTracker.from_tracker(tracker, batched=True)
    assert multi.shares_network and multi.batched and multi.name == "siamban-mobilev2"


# --- GPU -------------------------------------------------------------------------------------------


@needs_shared
@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
def test_cuda_batches_by_default_and_matches_the_loop(frames):
    multi = MultiTracker("siamban-mobilev2", device="cuda")
    assert multi.batched
    looped = track_all(MultiTracker("siamban-mobilev2", device="cuda", batched=False), frames)
    assert_same(track_all(multi, frames), looped, 1e-3)
