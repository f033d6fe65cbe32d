"""The annotation-effort benchmark: simulated annotator (tracker workflow and keyframe
interpolation) on synthetic paths with known answers, the command and its JSON, one real run."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest
import torch

import trackers
from app.main import main
from app.model.annotations import BoxSource
from app.model.effort import (
    EffortResult,
    InterpolationMethod,
    TrackerMethod,
    format_table,
    load_effort_sequence,
    run_effort,
    simulate_interpolation,
    simulate_tracker,
    summarize,
)
from tests.shared_data import SEQUENCES, needs_shared
from trackers.base import MapGeometry, Tracker, TrackResult
from trackers.metrics import iou, valid_mask

SIZE = 20.0  # side of the synthetic square target


def frame_with_index(index: int, shape=(240, 320)) -> np.ndarray:
    """A blank frame that carries its own index in pixel (0, 0), so a fake tracker knows where it is."""
    frame = np.zeros((*shape, 3), dtype=np.uint8)
    frame[0, 0, 0], frame[0, 0, 1] = index % 256, index // 256
    return frame


def frame_index(frame: np.ndarray) -> int:
    return int(frame[0, 0, 0]) + 256 * int(frame[0, 0, 1])


class DriftingTracker(Tracker):
    """Follows the ground truth but slides ``drift`` px right per frame since its last init."""

    name = "drifting"

    def __init__(self, groundtruth: np.ndarray, drift: float):
        super().__init__()
        self.gt, self.drift = groundtruth, drift
        self.inits: list[int] = []

    def _init(self, frame, box):
        self.inits.append(frame_index(frame))
        self._state = (frame_index(frame), tuple(box))

    def _track(self, frame):
        start, last = self._state
        index = frame_index(frame)
        gt = self.gt[index]
        if valid_mask(gt)[0]:
            box = (gt[0] + self.drift * (index - start), gt[1], gt[2], gt[3])
        else:  # nothing to follow: stays where it was (a real tracker also returns some box)
            box = last
        self._state = (start, box)
        return TrackResult(box, 0.9, np.zeros((1, 1), np.float32), MapGeometry(0, 0, 1), box)

    def _state_box(self):
        return self._state[1]


def path(xs, y: float = 50.0) -> np.ndarray:
    return np.array([[x, y, SIZE, SIZE] for x in xs], dtype=np.float64)


# -- tracker workflow ----------------------------------------------------------------------------


def test_drifting_tracker_is_corrected_every_fourth_frame():
    # 2 px/frame drift on a 20 px box: IoU (20 - 2k) / (20 + 2k) is 0.54 after 3 frames, 0.43 after 4.
    gt = path([3.0 * f for f in range(41)])
    tracker = DriftingTracker(gt, drift=2.0)
    frames = [frame_with_index(i) for i in range(41)]
    model, corrections, tracked = simulate_tracker(tracker, frames, gt)
    track = next(iter(model))
    assert track.manual_frames() == list(range(0, 41, 4))
    assert corrections == 1 + 10  # the first box, then one per 4 frames
    assert tracker.inits == list(range(0, 41, 4))  # re-initialised on every corrected frame
    assert tracked == 40  # every frame tracked once: a run stops at its failing frame
    for f in range(41):
        entry = track.get(f)
        assert entry.source is (BoxSource.MANUAL if f % 4 == 0 else BoxSource.TRACKED)
        assert iou(entry.box, gt[f])[0] >= 0.5


def test_a_tracker_that_holds_needs_only_the_first_box():
    gt = path([2.0 * f for f in range(30)])
    model, corrections, tracked = simulate_tracker(
        DriftingTracker(gt, drift=0.0), [frame_with_index(i) for i in range(30)], gt
    )
    assert (corrections, tracked) == (1, 29)
    assert next(iter(model)).manual_frames() == [0]


def test_min_iou_moves_the_correction_points():
    # At 0.6 the bar fails after 3 frames of drift (0.54 < 0.6): corrections on 0, 3, 6, ...
    gt = path([100.0] * 31)
    model, corrections, _ = simulate_tracker(
        DriftingTracker(gt, drift=2.0), [frame_with_index(i) for i in range(31)], gt, min_iou=0.6
    )
    assert next(iter(model)).manual_frames() == list(range(0, 31, 3))
    assert corrections == 11


@pytest.mark.parametrize("absent", [[np.nan] * 4, [50.0, 50.0, 0.0, 20.0]], ids=["nan", "zero-width"])
def test_object_leaving_costs_an_absent_mark_and_a_redraw(absent):
    gt = path([100.0] * 25)
    gt[10:15] = absent
    tracker = DriftingTracker(gt, drift=0.0)
    model, corrections, tracked = simulate_tracker(tracker, [frame_with_index(i) for i in range(25)], gt)
    track = next(iter(model))
    assert corrections == 3  # frame 0, absent on 10, box again on 15
    assert track.manual_frames() == [0, 10, 15]
    assert track.get(10).absent and track.get(10).box is None
    assert all(track.get(f) is None for f in range(11, 15))  # nothing tracked while it is gone
    assert tracker.inits == [0, 15]
    assert tracked == 10 + 9  # 1..10, then 16..24


def test_tracker_simulation_rejects_bad_input():
    gt = path([0.0] * 5)
    with pytest.raises(ValueError, match="5 frames but 4"):
        simulate_tracker(DriftingTracker(gt, 0), [frame_with_index(i) for i in range(5)], gt[:4])
    hidden = gt.copy()
    hidden[0] = np.nan
    with pytest.raises(ValueError, match="first ground-truth box"):
        simulate_tracker(DriftingTracker(gt, 0), [frame_with_index(i) for i in range(5)], hidden)


# -- keyframe interpolation ----------------------------------------------------------------------


@pytest.mark.parametrize(("frames", "every", "expected"), [(31, 10, 4), (35, 10, 5), (60, 25, 4), (7, 1, 7)])
def test_linear_path_needs_only_the_regular_keyframes(frames, every, expected):
    gt = path([1.5 * f + 3 for f in range(frames)])
    model, corrections = simulate_interpolation(gt, every)
    keys = next(iter(model)).manual_frames()
    assert keys == sorted(set(range(0, frames, every)) | {frames - 1})
    assert corrections == expected == len(keys)


def test_kink_is_keyed_at_its_worst_frame():
    # Right 4 px/frame up to frame 15, then back: keys 10 and 20 both sit at x=40, so the straight
    # line between them misses frames 12..18 (IoU < 0.5 from 8 px off) and frame 15 by 20 px.
    xs = [4.0 * f if f <= 15 else 60.0 - 4.0 * (f - 15) for f in range(31)]
    model, corrections = simulate_interpolation(path(xs), 10)
    assert next(iter(model)).manual_frames() == [0, 10, 15, 20, 30]
    assert corrections == 5


def test_jump_needs_two_passes():
    # The object jumps from x=0 to x=100 at frame 15. Pass 1 keys 15 (50 px off, the farthest of
    # the zero-IoU frames); then 10..15 runs 0->100 in 20 px steps and pass 2 keys 14 (80 px off).
    xs = [0.0 if f < 15 else 100.0 for f in range(31)]
    gt = path(xs)
    model, corrections = simulate_interpolation(gt, 10)
    track = next(iter(model))
    assert track.manual_frames() == [0, 10, 14, 15, 20, 30]
    assert corrections == 6
    boxes = np.array([track.get(f).box for f in range(31)])
    assert (iou(boxes, gt) >= 0.5).all()


def test_absence_in_interpolation_costs_an_absent_mark_and_a_redraw():
    gt = path([100.0] * 31)
    gt[12:17] = np.nan
    model, corrections = simulate_interpolation(gt, 10)
    track = next(iter(model))
    assert track.manual_frames() == [0, 10, 12, 17, 20, 30]
    assert corrections == 6
    assert track.get(12).absent
    assert track.get(11).box == tuple(gt[10])  # held after the visible keyframe
    assert all(track.get(f) is None or track.get(f).box is None for f in range(13, 17))


def test_interpolation_rejects_a_zero_interval():
    with pytest.raises(ValueError, match="at least 1"):
        simulate_interpolation(path([0.0] * 5), 0)


def test_random_walk_meets_the_bar_with_extra_keys():
    # Not a hand-made case: a random walk keyed every 10 frames ends with every frame >= 0.5 and
    # costs more than the regular keyframes alone (the walk is not straight between them).
    rng = np.random.default_rng(0)
    gt = path(np.cumsum(rng.normal(0, 6, 200)) + 300)
    model, corrections = simulate_interpolation(gt, 10)
    track = next(iter(model))
    boxes = np.array([track.get(f).box for f in range(200)])
    assert (iou(boxes, gt) >= 0.5).all()
    assert corrections == len(track.manual_frames()) > 21


# -- benchmark, table, JSON, command -------------------------------------------------------------


def write_sequence(folder, gt: np.ndarray, extra_images: int = 0):
    """A tiny OTB-layout sequence: a bright square on dark frames, with its ground truth; PNG
    (lossless) so each frame keeps its index in pixel (0, 0) for ``DriftingTracker``."""
    (folder / "img").mkdir(parents=True)
    for i in range(len(gt) + extra_images):
        frame = frame_with_index(i, (120, 160))
        x, y, w, h = (int(v) for v in gt[min(i, len(gt) - 1)])
        frame[y : y + h, x : x + w] = (40, 200, 240)
        cv2.imwrite(str(folder / "img" / f"{i + 1:04d}.png"), frame)
    (folder / "groundtruth_rect.txt").write_text(
        "".join(",".join(f"{v:g}" for v in row) + "\n" for row in gt)
    )
    return folder


def test_loading_cuts_to_the_ground_truth_and_max_frames(tmp_path):
    gt = np.array([[20 + 2 * i, 40, 24, 24] for i in range(12)], dtype=float)
    seq = write_sequence(tmp_path / "square", gt, extra_images=3)
    assert len(load_effort_sequence(seq)) == 12  # 15 images, 12 boxes
    loaded = load_effort_sequence(seq, max_frames=5)
    assert (len(loaded), len(loaded.frames)) == (5, 5)
    assert load_effort_sequence(seq, with_frames=False).frames is None


def test_run_effort_rows_table_and_summary(tmp_path):
    gt = np.array([[20 + 3 * i, 40, 20, 20] for i in range(23)], dtype=float)
    seqs = [write_sequence(tmp_path / name, gt) for name in ("one", "two")]
    methods = [TrackerMethod("drift", DriftingTracker(gt, 2.0)), InterpolationMethod(10)]
    logged = []
    results = run_effort(seqs, methods, log=logged.append)
    assert [(r.method, r.sequence) for r in results] == [
        ("drift", "one"),
        ("interpolate-10", "one"),
        ("drift", "two"),
        ("interpolate-10", "two"),
    ]
    assert [r.corrections for r in results] == [6, 4, 6, 4]  # frames 0,4,..,20 / keys 0,10,20,22
    assert len(logged) == 4 and "6 corrections over 23 frames" in logged[0]
    table = format_table(results)
    assert table.splitlines()[0].split() == ["method", "one", "two", "mean/100"]
    assert "6 (26.1)" in table and "4 (17.4)" in table
    summary = summarize(results)
    assert summary[0] == {
        "method": "drift",
        "sequences": 2,
        "frames": 46,
        "corrections": 12,
        "mean_per_100": 26.087,
        "pooled_per_100": 26.087,
    }


def test_result_row_keeps_the_four_required_keys():
    row = EffortResult("csrt", "bag", 200, 7, seconds=1.23456).row()
    assert list(row)[:4] == ["method", "sequence", "frames", "corrections"]
    assert row["per_100"] == 3.5 and row["seconds"] == 1.235


def test_command_writes_the_json_schema(tmp_path, capsys):
    gt = np.array([[20 + 2 * i, 40, 24, 24] for i in range(20)], dtype=float)
    seq = write_sequence(tmp_path / "square", gt)
    out = tmp_path / "effort.json"
    code = main(
        [
            "bench-effort",
            "--sequences",
            str(seq),
            "--tracker",
            "csrt",
            "--tracker",
            "siamfc",
            "--interpolate",
            "5",
            "--device",
            "cpu",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    doc = json.loads(out.read_text())
    # the backend that ran each Siamese network is recorded (INT8 or f32, by this CPU)
    assert doc["meta"]["backends"] == {"siamfc": trackers.chosen_backend("siamfc", torch.device("cpu"))}
    rows = [r for r in doc["rows"] if r["method"] != "siamfc"]
    assert [r["method"] for r in rows] == ["csrt", "interpolate-5"]
    for r in rows:
        assert {"method", "sequence", "frames", "corrections"} <= set(r)
        assert r["sequence"] == "square" and r["frames"] == 20
        assert isinstance(r["corrections"], int) and r["corrections"] >= 1
        assert math.isclose(r["per_100"], 100 * r["corrections"] / 20, abs_tol=1e-3)
    assert rows[1]["corrections"] == 5  # straight path: keys 0, 5, 10, 15, 19
    assert [s["method"] for s in doc["summary"]] == ["csrt", "siamfc", "interpolate-5"]
    printed = capsys.readouterr().out
    assert "interpolate-5" in printed and "square" in printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-frames", "1"], "--max-frames"),
        (["--interpolate", "0"], "--interpolate 0"),
        (["--tracker", "nope"], "unknown tracker"),
        (["--weights", "nanotrack"], "NAME=FILE"),
        (["--min-iou", "1.5"], "--min-iou"),
        (["--json", "/no/such/folder/x.json"], "existing folder"),
    ],
)
def test_command_usage_errors(tmp_path, capsys, args, message):
    seq = write_sequence(tmp_path / "square", np.array([[20, 40, 24, 24]] * 3, dtype=float))
    code = main(["bench-effort", "--sequences", str(seq), "--tracker", "csrt", *args])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and message in err


def test_command_names_the_sequence_that_cannot_be_read(tmp_path, capsys):
    folder = tmp_path / "nogt"
    (folder / "img").mkdir(parents=True)
    cv2.imwrite(str(folder / "img" / "0001.jpg"), np.zeros((20, 20, 3), np.uint8))
    assert main(["bench-effort", "--sequences", str(folder), "--tracker", "csrt"]) == 2
    assert "nogt: no groundtruth_rect.txt" in capsys.readouterr().err


@pytest.mark.slow
@needs_shared
def test_real_sequence_csrt_and_interpolation(tmp_path):
    out = tmp_path / "effort.json"
    sequence = SEQUENCES / "otb_crossing"
    args = ["bench-effort", "--sequences", str(sequence), "--tracker", "csrt", "--interpolate", "10"]
    assert main([*args, "--max-frames", "80", "--json", str(out)]) == 0
    rows = {r["method"]: r for r in json.loads(out.read_text())["rows"]}
    assert set(rows) == {"csrt", "interpolate-10"}
    assert all(r["frames"] == 80 and r["sequence"] == "otb_crossing" for r in rows.values())
    # Regular keys alone are 0, 10, ..., 70, 79: nine; extra keys only where the walk bends.
    assert rows["interpolate-10"]["corrections"] >= 9
    assert 1 <= rows["csrt"]["corrections"] <= 80
    assert rows["csrt"]["tracked_frames"] >= 79
