"""Calibrated confidence (trackers/calibration.py): the logistic fit, AUROC, reliability, the
stored maps keyed by the weights' SHA-256, the tracker applying its map, and ``calibrate`` /
``track --scores`` from the command line on real frames."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.shared_data import SEQUENCES, needs_shared
from trackers import registry
from trackers.base import MapGeometry, Tracker, TrackResult
from trackers.calibration import (
    Calibration,
    SequenceRun,
    best_held_out,
    calibrate_runs,
    expected_calibration_error,
    fit_logistic,
    for_weights,
    held_out_scores,
    reliability,
    roc_auc,
    write_file,
)
from trackers.measured import sha256_of

# -- the fit ---------------------------------------------------------------------------------------


def test_logistic_fit_recovers_a_known_probability():
    rng = np.random.default_rng(0)
    raw = rng.random(20000)
    # P(success | raw) = sigmoid(2 logit(raw) - 1): the family the fit assumes
    truth = 1 / (1 + np.exp(-(2 * np.log(raw / (1 - raw)) - 1)))
    cal = fit_logistic(raw, rng.random(20000) < truth)
    for x in (0.2, 0.5, 0.8, 0.95):
        expected = 1 / (1 + np.exp(-(2 * np.log(x / (1 - x)) - 1)))
        assert cal(x) == pytest.approx(expected, abs=0.02)
    assert all(np.diff(cal.y) >= 0) and all(np.diff(cal.x) > 0)


def test_logistic_fit_keeps_the_ranking_and_never_claims_certainty():
    rng = np.random.default_rng(1)
    raw = rng.random(500)
    cal = fit_logistic(raw, rng.random(500) < raw)
    mapped = cal.apply(raw)
    assert np.array_equal(np.argsort(mapped, kind="stable"), np.argsort(raw, kind="stable"))
    assert 0 < cal(0.0) and cal(1.0) < 1
    # Perfectly separated data: steep, but still short of 0 and 1.
    steep = fit_logistic([0.1, 0.2, 0.8, 0.9], [False, False, True, True])
    assert 0 < steep(0.1) < 0.5 < steep(0.9) < 1


def test_a_score_that_ranks_failures_first_gives_a_flat_map():
    rng = np.random.default_rng(2)
    raw = rng.random(2000)
    cal = fit_logistic(raw, rng.random(2000) < 1 - raw)
    assert max(cal.y) - min(cal.y) < 1e-9


def test_logistic_fit_needs_finite_scores():
    with pytest.raises(ValueError, match="no finite scores"):
        fit_logistic([math.nan], [True])


@pytest.mark.parametrize(
    "data",
    [
        {"x": [0.2, 0.1], "y": [0.1, 0.2]},
        {"x": [0.1, 0.2], "y": [0.3, 0.2]},
        {"x": [0.1], "y": [1.5]},
        {"x": [0.1, 0.2], "y": [0.1]},
        {"x": ["a"], "y": [0.1]},
        {"x": [math.nan], "y": [0.1]},
        {"y": [0.1]},
        [0.1, 0.2],
    ],
)
def test_bad_maps_are_rejected(data):
    with pytest.raises(ValueError, match="calibration"):
        Calibration.from_dict(data)


def test_map_round_trips():
    cal = Calibration((0.1, 0.5, 0.9), (0.05, 0.4, 0.97))
    assert Calibration.from_dict(json.loads(json.dumps(cal.to_dict()))) == cal
    assert cal(0.3) == pytest.approx(0.225)
    assert cal(-1) == 0.05 and cal(2) == 0.97  # flat outside the fitted range


def test_roc_auc_counts_pairs_with_ties_as_half():
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 5, 60).astype(float)  # many ties
    positive = rng.random(60) < 0.4
    pairs = [
        1.0 if p > n else 0.5 if p == n else 0.0
        for p, n in itertools.product(scores[positive], scores[~positive])
    ]
    assert roc_auc(scores, positive) == pytest.approx(np.mean(pairs))
    assert math.isnan(roc_auc([0.1, 0.2], [True, True]))


def test_reliability_of_a_calibrated_score_is_on_the_diagonal():
    rng = np.random.default_rng(2)
    p = rng.random(50000)
    ok = rng.random(50000) < p
    table = reliability(p, ok)
    assert len(table) == 10 and sum(b.frames for b in table) == 50000
    assert all(abs(b.predicted - b.observed) < 0.02 for b in table)
    assert expected_calibration_error(p, ok) < 0.01
    assert expected_calibration_error(np.full(50000, 0.95), ok) > 0.4  # a saturated score is not


# -- runs ------------------------------------------------------------------------------------------


def _run(name: str, raw, iou) -> SequenceRun:
    n = len(raw)
    boxes = np.tile([10.0, 10.0, 20.0, 20.0], (n, 1))
    return SequenceRun(name, (100, 100), boxes, np.asarray(raw, float), np.asarray(iou, float))


def test_calibrate_runs_reports_held_out_figures():
    rng = np.random.default_rng(3)
    runs = []
    for k in range(4):
        raw = np.r_[1.0, rng.random(200)]
        iou = np.where(rng.random(201) < raw, 0.8, 0.2)
        iou[5] = math.nan  # an absent target: not a calibration frame
        runs.append(_run(f"s{k}", raw, iou))
    entry = calibrate_runs(runs)
    assert entry["frames"] == 4 * 199
    assert entry["auroc"] > 0.7 and entry["auroc_held_out"] > 0.7
    assert entry["ece_held_out"] < entry["ece_raw"] + 0.05
    method, held = best_held_out(runs)
    assert method == entry["fit"] == "logistic"  # raw scores spread over (0, 1)
    assert all(np.array_equal(held[n], v) for n, v in held_out_scores(runs, "logistic").items())
    # Held out: s0's scores come from a map fitted on s1..s3 only.
    others = [r for r in runs if r.name != "s0"]
    raw = np.concatenate([r.raw[1:][np.isfinite(r.iou[1:])] for r in others])
    ok = np.concatenate([r.iou[1:][np.isfinite(r.iou[1:])] >= 0.5 for r in others])
    assert np.allclose(held["s0"], fit_logistic(raw, ok).apply(runs[0].raw))


def test_sequence_run_round_trips_through_json():
    run = _run("a", [1.0, 0.5, math.nan], [1.0, 0.7, math.nan])
    back = SequenceRun.from_dict("a", json.loads(json.dumps(run.to_dict())))
    assert np.allclose(back.raw, run.raw, equal_nan=True) and np.allclose(back.iou, run.iou, equal_nan=True)
    assert back.frame_size == (100, 100) and back.appearance is None
    run.appearance = np.array([1.0, 0.4, math.nan])
    back = SequenceRun.from_dict("a", json.loads(json.dumps(run.to_dict())))
    assert np.allclose(back.appearance, run.appearance, equal_nan=True)
    assert [r[3] for r in back.results(back.raw)] == [0.4, pytest.approx(math.nan, nan_ok=True)]


# -- stored maps -----------------------------------------------------------------------------------


def test_a_map_applies_only_to_the_weights_it_was_fitted_for(tmp_path):
    weights = tmp_path / "w.pth"
    weights.write_bytes(b"weights one")
    store = tmp_path / "calibration.json"
    cal = Calibration((0.2, 0.9), (0.1, 0.9))
    write_file(store, {"t": {"weights_sha256": sha256_of(weights), "map": cal.to_dict()}}, date="x")
    assert for_weights("t", weights, store) == cal
    assert for_weights("other", weights, store) is None
    weights.write_bytes(b"weights two, retrained")
    assert for_weights("t", weights, store) is None  # replaced weights: uncalibrated until refitted
    store.write_text("{not json")
    assert for_weights("t", weights, store) is None


def test_write_file_keeps_other_trackers_entries(tmp_path):
    store = tmp_path / "c.json"
    write_file(store, {"a": {"weights_sha256": "1", "map": {"x": [0], "y": [0]}}})
    write_file(store, {"b": {"weights_sha256": "2", "map": {"x": [0], "y": [0]}}})
    assert set(json.loads(store.read_text())["trackers"]) == {"a", "b"}


class _Fixed(Tracker):
    def _init(self, frame, box):
        self._state = box

    def _state_box(self):
        return self._state

    def _track(self, frame):
        return TrackResult(self._state, 0.8, np.zeros((2, 2), np.float32), MapGeometry(0, 0, 1), self._state)


def test_the_tracker_reports_the_calibrated_score_and_keeps_the_raw_one():
    frame = np.zeros((50, 50, 3), np.uint8)
    tracker = _Fixed()
    tracker.init(frame, (10, 10, 10, 10))
    assert tracker.track(frame).score == pytest.approx(0.8)
    tracker.calibration = Calibration((0.0, 1.0), (0.0, 0.5))
    result = tracker.track(frame)
    assert result.score == pytest.approx(0.4) and result.extras["raw_score"] == pytest.approx(0.8)


def test_shipped_trackers_are_calibrated_and_random_ones_are_not():
    name = registry.recommended()
    if name is None:
        pytest.skip("no shipped weights")
    tracker = registry.create(name, device="cpu")
    assert tracker.calibration is not None, f"{name}'s shipped weights have no entry in calibration.json"
    assert registry.create(name, weights=registry.RANDOM, device="cpu").calibration is None


def test_every_shipped_map_matches_its_weights_and_records_its_quality():
    doc = json.loads((Path(registry.WEIGHTS_DIR) / "calibration.json").read_text())
    for name in registry.shipped():
        entry = doc["trackers"].get(name)
        assert entry, f"{name} has no calibration entry"
        assert entry["weights_sha256"] == sha256_of(registry.get(name).default_weights()), (
            f"{name}: calibration.json was fitted for other weights; rerun python -m trackers calibrate"
        )
        assert 0.5 <= entry["auroc"] <= 1 and entry["frames"] > 1000


# -- command line ----------------------------------------------------------------------------------


@needs_shared
def test_track_writes_scores_and_flags(tmp_path):
    from trackers.cli import main
    from trackers.io import read_groundtruth

    gt = read_groundtruth(SEQUENCES / "vot_bag" / "groundtruth_rect.txt")
    init = ",".join(f"{v:g}" for v in gt[0])
    out, scores = tmp_path / "boxes.txt", tmp_path / "scores.csv"
    code = main(
        ["track", "--tracker", "siamrpnpp-mobilev2", "--device", "cpu", "--sequence", str(SEQUENCES / "vot_bag"),
         f"--init={init}", "--out", str(out), "--scores", str(scores), "--max-frames", "12"]
    )
    assert code == 0
    lines = scores.read_text().splitlines()
    assert len(lines) == len(out.read_text().splitlines()) == 12
    rows = [line.split(",") for line in lines]
    assert [int(r[0]) for r in rows] == list(range(1, 13))
    assert all(len(r) == 3 and 0.0 <= float(r[1]) <= 1.0 for r in rows)
    assert rows[0][1:] == ["1.0000", ""]


def test_scores_flags_include_the_appearance_rule(tmp_path):
    from trackers.cli import write_scores
    from trackers.drift import DriftSettings

    box = (10.0, 10.0, 20.0, 20.0)
    s = DriftSettings()
    # 0.1 against a start level of 0.9: short of the ratio by this much a frame, flagged once the
    # shortfall adds up past the evidence threshold
    per_frame = s.appearance_ratio - 0.1 / 0.9
    hold = math.floor(s.appearance_evidence / per_frame) + 1
    n = s.window + hold + 2
    looks = [1.0] + [0.9] * (n - 1 - hold) + [0.1] * hold
    path = tmp_path / "scores.csv"
    write_scores(path, [box] * n, [1.0] * n, (640, 480), looks)
    rows = [line.split(",", 2) for line in path.read_text().splitlines()]
    flagged = [int(r[0]) for r in rows if r[2]]
    assert flagged == [n], rows[-4:]  # held low for `hold` frames: the last one flagged
    assert rows[-1][2].startswith("looks unlike the target")
    write_scores(path, [box] * n, [1.0] * n, (640, 480))  # no appearance recorded: no such flag
    assert not any(line.split(",", 2)[2] for line in path.read_text().splitlines())


def test_scores_file_must_go_to_an_existing_folder(tmp_path, capsys):
    from trackers.cli import main

    code = main(
        ["track", "--tracker", "siamfc", "--video", str(tmp_path / "v.mp4"), "--init", "1,1,5,5",
         "--out", str(tmp_path / "o.txt"), "--scores", str(tmp_path / "missing" / "s.csv")]
    )
    assert code == 2 and "--scores" in capsys.readouterr().err


@needs_shared
def test_calibrate_command_fits_and_writes_a_map(tmp_path):
    from trackers.cli import main

    store, records = tmp_path / "cal.json", tmp_path / "runs.json"
    seqs = [str(SEQUENCES / n) for n in ("otb_jogging", "vot_car1")]
    code = main(
        ["calibrate", "--tracker", "siamrpnpp-mobilev2", "--device", "cpu", "--sequences", *seqs,
         "--max-frames", "40", "--json", str(store), "--records", str(records)]
    )
    assert code == 0
    entry = json.loads(store.read_text())["trackers"]["siamrpnpp-mobilev2"]
    assert entry["frames"] == 78 and entry["weights_sha256"]
    assert Calibration.from_dict(entry["map"])
    assert set(json.loads(records.read_text())["siamrpnpp-mobilev2"]) == {"otb_jogging", "vot_car1"}
