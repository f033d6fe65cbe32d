"""The tracker contract (trackers/base.py), configs (config.py) and device choice (devices.py).

The non-finite rollback is tested twice: on a tiny fake ``Tracker`` (the base logic alone) and on
a real ``AnchorTracker`` driven by a stub network whose outputs are hand-made.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from torch import nn

import trackers
from trackers import devices
from trackers.base import MapGeometry, Tracker, TrackResult, as_bgr_frame, validate_box
from trackers.pysot_tracker import AnchorTracker, PysotConfig, TargetState

# --- frames -----------------------------------------------------------------------------------------


def test_as_bgr_frame_passes_colour_frames():
    f = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    out = as_bgr_frame(f)
    assert out.shape == (2, 3, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, f)


def test_as_bgr_frame_expands_grayscale():
    g = np.array([[0, 10, 20], [30, 40, 255]], np.uint8)
    out = as_bgr_frame(g)
    assert out.shape == (2, 3, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], g)
    assert out.flags["C_CONTIGUOUS"]


def test_as_bgr_frame_makes_contiguous():
    f = np.zeros((4, 6, 3), np.uint8)[:, ::2]
    assert not f.flags["C_CONTIGUOUS"]
    assert as_bgr_frame(f).flags["C_CONTIGUOUS"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint16, np.int32])
def test_as_bgr_frame_rejects_other_dtypes(dtype):
    with pytest.raises(ValueError, match="uint8"):
        as_bgr_frame(np.zeros((2, 2, 3), dtype))


def test_as_bgr_frame_rejects_non_arrays_and_bad_shapes():
    with pytest.raises(TypeError, match="numpy array"):
        as_bgr_frame([[0, 0, 0]])
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        as_bgr_frame(np.zeros((2, 2, 4), np.uint8))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        as_bgr_frame(np.zeros((2, 2, 3, 1), np.uint8))
    with pytest.raises(ValueError, match="empty"):
        as_bgr_frame(np.zeros((0, 5, 3), np.uint8))


# --- boxes ------------------------------------------------------------------------------------------

SHAPE = (100, 200, 3)  # 200 wide, 100 high


def test_validate_box_returns_floats():
    out = validate_box(np.array([1, 2, 3, 4]), SHAPE)
    assert out == (1.0, 2.0, 3.0, 4.0)
    assert all(type(v) is float for v in out)
    assert validate_box([10.5, 20, 30, 40], SHAPE) == (10.5, 20.0, 30.0, 40.0)


@pytest.mark.parametrize(
    "box, reason",
    [
        ((0, 0, 0, 5), "positive width and height"),
        ((0, 0, 5, 0), "positive width and height"),
        ((0, 0, -3, 5), "positive width and height"),
        ((0, 0, 5, -1e-9), "positive width and height"),
        ((float("nan"), 0, 5, 5), "non-finite"),
        ((0, 0, float("nan"), 5), "non-finite"),
        ((0, float("inf"), 5, 5), "non-finite"),
        ((0, 0, 5, -float("inf")), "non-finite"),
        ((200, 0, 5, 5), "entirely outside the 200x100 frame"),
        ((0, 100, 5, 5), "entirely outside"),
        ((-10, 0, 10, 5), "entirely outside"),
        ((0, -5, 5, 5), "entirely outside"),
        ((1, 2, 3), "four numbers.*3 values"),
        ((1, 2, 3, 4, 5), "four numbers.*5 values"),
        ((1, 2, "w", 4), "four numbers"),
        (None, "four numbers"),
        (7, "four numbers"),
    ],
)
def test_validate_box_errors_name_the_reason(box, reason):
    with pytest.raises(ValueError, match=reason):
        validate_box(box, SHAPE)


@pytest.mark.parametrize(
    ("box", "clipped"),
    [
        ((0, 0, 8000, 8000), (0.0, 0.0, 200.0, 100.0)),
        ((-1e9, 10, 1e12, 20), (0.0, 10.0, 200.0, 20.0)),
        ((150, -50, 20, 400), (150.0, 0.0, 20.0, 100.0)),
    ],
)
def test_validate_box_clips_a_box_larger_than_the_frame(box, clipped):
    assert validate_box(box, SHAPE) == clipped


def test_an_absurd_init_box_tracks_with_bounded_memory():
    import resource

    import trackers

    frame = np.random.default_rng(0).integers(0, 255, (240, 360, 3), dtype=np.uint8)
    tracker = trackers.create("siamfc", device="cpu")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    tracker.init(frame, (0, 0, 1e9, 1e9))
    result = tracker.track(frame)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 500, f"peak memory grew by {grown_mb:.0f} MB"
    _x, _y, w, h = result.box
    assert w <= 360 and h <= 240


def test_validate_box_touching_the_image_is_accepted():
    assert validate_box((-9, -4, 10, 5), SHAPE) == (-9.0, -4.0, 10.0, 5.0)  # one pixel in
    assert validate_box((199.5, 99.5, 50, 50), SHAPE) == (199.5, 99.5, 50.0, 50.0)


# --- result geometry --------------------------------------------------------------------------------


def test_map_geometry_cell_centre_and_extent():
    g = MapGeometry(x0=10.0, y0=20.0, step=4.0)
    assert g.cell_centre(0, 0) == (10.0, 20.0)
    assert g.cell_centre(2, 3) == (22.0, 28.0)  # (x0 + col*step, y0 + row*step)
    assert g.cell_centre(0.5, 1.5) == (16.0, 22.0)
    # cell edges: half a step beyond the outer centres; (rows, cols) = (5, 7)
    assert g.extent((5, 7)) == (8.0, 18.0, 28.0, 20.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.step = 1.0  # type: ignore[misc]


def test_track_result_defaults():
    g = MapGeometry(0.0, 0.0, 1.0)
    a = TrackResult((0, 0, 1, 1), 0.5, np.zeros((2, 2), np.float32), g, (0, 0, 4, 4))
    b = TrackResult((0, 0, 1, 1), 0.5, np.zeros((2, 2), np.float32), g, (0, 0, 4, 4))
    assert a.ok is True and a.message == "" and a.extras == {}
    a.extras["k"] = 1
    assert b.extras == {}  # not a shared mutable default


# --- configs ----------------------------------------------------------------------------------------


def r50_config_cls():
    return trackers.get("siamrpnpp-r50").config_cls


def test_config_default_preset():
    c = r50_config_cls().create()
    assert c.architecture == "pysot__siamrpn_r50_l234_dwxcorr"
    assert (c.penalty_k, c.window_influence, c.lr) == (0.05, 0.42, 0.38)
    assert (c.exemplar_size, c.instance_size, c.stride, c.base_size) == (127, 255, 8, 8)
    assert c.score_size() == 25
    assert r50_config_cls().create("default") == c == r50_config_cls().create(None)


def test_config_otb_preset_applied():
    c = r50_config_cls().create("otb")
    assert c.architecture == "pysot__siamrpn_r50_l234_dwxcorr_otb"
    assert (c.penalty_k, c.window_influence, c.lr) == (0.24, 0.50, 0.25)
    assert c.instance_size == 255  # fields the preset does not name keep the defaults


def test_config_overrides_win_over_preset():
    c = r50_config_cls().create("otb", lr=0.1, instance_size=271)
    assert (c.lr, c.instance_size, c.penalty_k) == (0.1, 271, 0.24)


def test_config_dasiamrpn_presets():
    cls = trackers.get("dasiamrpn").config_cls
    big, vot = cls.create(), cls.create("vot")
    assert (big.architecture, big.instance_size, big.adaptive) == ("dasiamrpn__SiamRPNBIG", 271, True)
    assert big.score_size() == 19 and big.score_size(287) == 21
    assert (vot.architecture, vot.penalty_k, vot.window_influence, vot.lr, vot.adaptive) == (
        "dasiamrpn__SiamRPNvot",
        0.04,
        0.44,
        0.45,
        False,
    )


def test_config_rejects_unknown_preset():
    with pytest.raises(ValueError, match=r"unknown preset 'vot2019'.*\['default', 'otb', 'vot'\]"):
        r50_config_cls().create("vot2019")


def test_config_create_rejects_unknown_keys():
    with pytest.raises(ValueError, match=r"unknown config key\(s\) \['penalty', 'zz'\]"):
        r50_config_cls().create(penalty=0.1, zz=1)
    with pytest.raises(ValueError, match="unknown config key"):
        r50_config_cls().create("otb", PRESETS={})  # class attributes are not fields


def test_config_replace():
    c = r50_config_cls().create()
    d = c.replace(lr=0.3)
    assert d.lr == 0.3 and c.lr == 0.38  # a new config; the original is untouched
    assert d.penalty_k == c.penalty_k
    with pytest.raises(ValueError, match=r"unknown config key\(s\) \['learning_rate'\]"):
        c.replace(learning_rate=0.3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.lr = 0.9  # type: ignore[misc]


def test_config_to_dict_lists_fields_only():
    d = r50_config_cls().create("otb").to_dict()
    assert d["penalty_k"] == 0.24 and d["architecture"].endswith("_otb")
    assert "PRESETS" not in d
    assert set(d) == set(r50_config_cls().field_names())


# --- devices ----------------------------------------------------------------------------------------


def no_accelerators(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(devices, "mps_available", lambda: False)


def test_resolve_device_auto_here():
    expected = "cuda" if torch.cuda.is_available() else ("mps" if devices.mps_available() else "cpu")
    assert devices.resolve_device("auto") == torch.device(expected)
    assert devices.resolve_device() == torch.device(expected)


def test_resolve_device_auto_without_accelerators_is_cpu(monkeypatch):
    no_accelerators(monkeypatch)
    assert devices.resolve_device("auto") == torch.device("cpu")
    assert devices.resolve_device(None) == torch.device("cpu")
    assert devices.resolve_device("") == torch.device("cpu")


def test_resolve_device_auto_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(devices, "mps_available", lambda: True)
    assert devices.resolve_device("auto") == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert devices.resolve_device("auto") == torch.device("mps")


def test_resolve_device_explicit_cpu():
    assert devices.resolve_device("cpu") == torch.device("cpu")
    assert devices.resolve_device("CPU") == torch.device("cpu")
    assert devices.resolve_device(torch.device("cpu")) == torch.device("cpu")


def test_resolve_device_unavailable_accelerator_is_a_clear_error(monkeypatch):
    no_accelerators(monkeypatch)
    with pytest.raises(ValueError, match="'cuda' was asked for but no CUDA GPU is available"):
        devices.resolve_device("cuda")
    with pytest.raises(ValueError, match="no CUDA GPU"):
        devices.resolve_device("cuda:1")
    with pytest.raises(ValueError, match="Apple MPS is not available"):
        devices.resolve_device("mps")


@pytest.mark.parametrize("name", ["tpu", "gpu", "cpux", "xla:0"])
def test_resolve_device_unknown_name(name):
    with pytest.raises(ValueError, match=rf"unknown device '{name}'; choose from auto, cpu, cuda, mps"):
        devices.resolve_device(name)


# --- rollback on a fake tracker (base logic alone) ----------------------------------------------------


class FakeTracker(Tracker):
    """State: a box moved +1 px in x per frame (mutated in place). A frame whose first pixel is
    99 yields a NaN box, 98 an infinite score; 7 returns score 1.7 and 3 returns -0.4."""

    name = "fake"

    def _init(self, frame, box):
        self._state = {"box": list(box), "frames": 0}

    def _state_box(self):
        return tuple(self._state["box"])

    def _track(self, frame):
        code = int(frame[0, 0, 0])
        self._state["box"][0] += 1.0  # in place: only a deep copy can undo it
        self._state["frames"] += 1
        box = tuple(self._state["box"])
        score = {7: 1.7, 3: -0.4}.get(code, 0.5)
        if code == 99:
            box = (float("nan"),) + box[1:]
        if code == 98:
            score = float("inf")
        response = np.array([[0.1, float("nan")], [float("inf"), -float("inf")]], np.float32)
        return TrackResult(box, score, response, MapGeometry(1.0, 2.0, 3.0), (0.0, 0.0, 9.0, 9.0))


def frame(code: int) -> np.ndarray:
    return np.full((20, 30, 3), code, np.uint8)


def test_fake_track_before_init_raises():
    with pytest.raises(RuntimeError, match=r"fake: call init\(\) before track\(\)"):
        FakeTracker().track(frame(0))


def test_fake_init_validates():
    t = FakeTracker()
    with pytest.raises(ValueError, match="positive width"):
        t.init(frame(0), (1, 1, 0, 4))
    with pytest.raises(ValueError, match="uint8"):
        t.init(frame(0).astype(np.float32), (1, 1, 4, 4))
    assert not t.initialised
    t.init(frame(0)[..., 0], (1, 1, 4, 4))  # grayscale accepted
    assert t.initialised


def test_fake_scores_are_clamped_to_unit_range():
    t = FakeTracker()
    t.init(frame(0), (1, 2, 4, 5))
    assert t.track(frame(7)).score == 1.0
    assert t.track(frame(3)).score == 0.0
    assert t.track(frame(0)).score == 0.5


@pytest.mark.parametrize("bad", [99, 98])
def test_fake_non_finite_frame_rolls_back(bad):
    t = FakeTracker()
    t.init(frame(0), (1, 2, 4, 5))
    assert t.track(frame(0)).box == (2.0, 2.0, 4.0, 5.0)
    assert t.track(frame(0)).box == (3.0, 2.0, 4.0, 5.0)
    r = t.track(frame(bad))
    assert r.ok is False
    assert r.box == (3.0, 2.0, 4.0, 5.0)  # the last good box
    assert r.score == 0.0
    assert "not finite" in r.message
    assert r.response.tolist() == [[pytest.approx(0.1), 0.0], [0.0, 0.0]]  # NaN / inf zeroed
    assert r.geometry == MapGeometry(1.0, 2.0, 3.0) and r.search_region == (0.0, 0.0, 9.0, 9.0)
    assert t._state == {"box": [3.0, 2.0, 4.0, 5.0], "frames": 2}  # restored, not advanced
    r = t.track(frame(0))
    assert r.ok is True and r.box == (4.0, 2.0, 4.0, 5.0)  # continues from the restored state


def test_fake_non_finite_first_frame_returns_the_state_box():
    t = FakeTracker()
    t.init(frame(0), (1, 2, 4, 5))
    r = t.track(frame(99))
    assert r.ok is False and r.box == (1.0, 2.0, 4.0, 5.0)
    assert t.track(frame(0)).box == (2.0, 2.0, 4.0, 5.0)


def test_fake_reinit_forgets_the_last_good_box():
    t = FakeTracker()
    t.init(frame(0), (1, 2, 4, 5))
    t.track(frame(0))
    t.init(frame(0), (10, 2, 4, 5))
    assert t.track(frame(99)).box == (10.0, 2.0, 4.0, 5.0)


# --- rollback on a real pysot loop with a stub network ---------------------------------------------------

S, A = 25, 5
CENTRE, SQUARE = 12, 2  # centre cell of the 25x25 map, the 64x64 anchor
DX = 0.25  # dx of the chosen candidate: 0.25 * 64 = 16 search-patch pixels to the right


class StubRPN(nn.Module):
    """template() remembers the patch shape; track() returns fixed hand-made RPN outputs.

    cls: background logits 0, foreground -20 except +20 for the 64x64 anchor at the centre cell;
    loc: zero except dx = 0.25 for that candidate. ``poison`` maps a track-call number
    (1-based) to (output, channel, value) written at the chosen candidate on that call.
    """

    def __init__(self, poison=None):
        super().__init__()
        self.poison = poison or {}
        self.calls = 0
        self.shapes = []

    def template(self, z):
        self.shapes.append(tuple(z.shape))

    def track(self, x):
        self.calls += 1
        self.shapes.append(tuple(x.shape))
        cls = torch.zeros(x.shape[0], 2 * A, S, S)
        cls[:, A:] = -20.0
        cls[:, A + SQUARE, CENTRE, CENTRE] = 20.0
        loc = torch.zeros(x.shape[0], 4 * A, S, S)
        loc[:, 0 * A + SQUARE, CENTRE, CENTRE] = DX
        if self.calls in self.poison:
            name, channel, value = self.poison[self.calls]
            out = cls if name == "cls" else loc
            out[:, channel, CENTRE, CENTRE] = value
        return {"cls": cls, "loc": loc}


BOX = (84.5, 84.5, 32.0, 32.0)  # pysot centre (100, 100), size 32: s_z = 64


def make_tracker(poison=None) -> AnchorTracker:
    t = AnchorTracker(PysotConfig(), StubRPN(poison), device="cpu")
    t.init(np.full((200, 200, 3), 90, np.uint8), BOX)
    return t


def gray():
    return np.full((200, 200, 3), 90, np.uint8)


def test_anchor_tracker_first_frame_hand_computed():
    t = make_tracker()
    assert t._state.center.tolist() == [100.0, 100.0] and t._state.size.tolist() == [32.0, 32.0]
    r = t.track(gray())
    scale_z = 127 / 64
    dx = 16 / scale_z  # patch pixels -> image pixels
    w_pred = 64 / scale_z
    penalty = math.exp(-(64 / 63.5 - 1) * 0.04)  # target in patch units: 32 * 127/64 = 63.5
    lr = penalty * 1.0 * 0.4  # foreground score sigmoid(40) == 1 in float32
    w = 32 * (1 - lr) + w_pred * lr
    cx = 100 + dx
    assert r.ok is True
    assert r.box == pytest.approx((cx - w / 2, 100 - w / 2, w, w), rel=1e-6)
    assert r.score == pytest.approx(1.0, abs=1e-6)
    assert r.extras["best_index"] == SQUARE * S * S + CENTRE * S + CENTRE
    s_x = 64 * 255 / 127
    assert r.search_region == pytest.approx((100 - s_x / 2, 100 - s_x / 2, s_x, s_x))
    # the map's centre cell lies on the previous centre; cells are 8 patch px apart
    assert r.geometry.cell_centre(12, 12) == pytest.approx((100.0, 100.0))
    assert r.geometry.step == pytest.approx(8 / scale_z)
    assert r.geometry.cell_centre(0, 0) == pytest.approx((100 - 96 / scale_z, 100 - 96 / scale_z))
    assert r.response.shape == (S, S)
    assert r.response[CENTRE, CENTRE] == pytest.approx(1.0) and r.response[0, 0] < 1e-6
    # crops: template 127, search 255, NCHW
    assert t.net.model.shapes == [(1, 3, 127, 127), (1, 3, 255, 255)]


@pytest.mark.parametrize(
    "poison",
    [
        ("cls", A + SQUARE, float("nan")),  # foreground logit NaN -> score NaN
        ("cls", SQUARE, float("inf")),  # softmax of inf -> NaN
        ("loc", 0 * A + SQUARE, float("nan")),  # dx NaN: the score stays finite, the box does not
        ("loc", 0 * A + SQUARE, float("inf")),  # dx inf: clipping must not hide it
        ("loc", 2 * A + SQUARE, float("nan")),  # dw NaN
    ],
    ids=["cls-nan", "cls-inf", "dx-nan", "dx-inf", "dw-nan"],
)
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_anchor_tracker_non_finite_output_rolls_back(poison):
    bad = make_tracker({3: poison})
    twin = make_tracker()  # sees the same frames minus the bad one
    r1, r2 = bad.track(gray()), bad.track(gray())
    t1, t2 = twin.track(gray()), twin.track(gray())
    assert r1.box == t1.box and r2.box == t2.box
    assert r2.box[0] > r1.box[0] > BOX[0]  # the stub moves the target right every frame

    r3 = bad.track(gray())
    assert r3.ok is False
    assert r3.box == r2.box  # the last good box
    assert r3.score == 0.0
    assert np.isfinite(r3.response).all()
    assert bad._state.center.tolist() == twin._state.center.tolist()
    assert bad._state.size.tolist() == twin._state.size.tolist()

    # the next frame continues from the restored state exactly as if the bad frame never came
    r4, t3 = bad.track(gray()), twin.track(gray())
    assert r4.ok is True
    assert r4.box == t3.box
    assert r4.score == t3.score
    assert r4.box[0] > r2.box[0]


def test_anchor_tracker_state_is_a_target_state():
    t = make_tracker()
    assert isinstance(t._state, TargetState)
    assert t._state_box() == (84.0, 84.0, 32.0, 32.0)  # pysot output convention: cx - w/2
