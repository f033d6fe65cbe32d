"""``python -m trackers`` (list / track / bench), the shared tracking loop, and the OpenCV reference rows.

Real-weights ``track`` runs come with the shipped NanoTrack checkpoint; here ``track`` is checked
on its error paths (as a real process: exit code 2, one message, no traceback) and on its success
path with a stand-in tracker, and the loop itself with an untrained (RANDOM) registered network.
"""

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

import trackers
from trackers import registry
from trackers.base import MapGeometry, Tracker, TrackResult
from trackers.bench import run_sequence
from trackers.cli import bench_names, main
from trackers.metrics import iou
from trackers.reference import create_reference, to_cv_rect

from .shared_data import REPO, SEQUENCES, VIDEOS, WEIGHTS, needs_shared

H, W = 120, 160
SQUARE = 30


def moving_frames(n=10, step=3):
    """A random-textured 30x30 square moving right over a smooth gradient; gt boxes alongside."""
    rng = np.random.default_rng(1)
    texture = rng.integers(0, 255, (SQUARE, SQUARE, 3), dtype=np.uint8)
    bg = np.tile(np.linspace(60, 120, W, dtype=np.uint8)[None, :, None], (H, 1, 3))
    frames, gt = [], []
    for i in range(n):
        f = bg.copy()
        x, y = 20 + step * i, 40
        f[y : y + SQUARE, x : x + SQUARE] = texture
        frames.append(f)
        gt.append((x, y, SQUARE, SQUARE))
    return frames, np.array(gt, float)


def make_sequence(root):
    """OTB-layout folder: img/0001.jpg ... + groundtruth_rect.txt."""
    frames, gt = moving_frames()
    (root / "seq" / "img").mkdir(parents=True)
    for i, f in enumerate(frames):
        cv2.imwrite(str(root / "seq" / "img" / f"{i + 1:04d}.jpg"), f, [cv2.IMWRITE_JPEG_QUALITY, 95])
    (root / "seq" / "groundtruth_rect.txt").write_text("".join(",".join(map(str, b)) + "\n" for b in gt))
    return root / "seq"


@pytest.fixture
def sequence(tmp_path):
    return make_sequence(tmp_path)


class ShiftTracker(Tracker):
    """Stand-in: moves the box 1 px right per frame."""

    name = "shift"

    def _init(self, frame, box):
        self._state = box

    def _track(self, frame):
        x, y, w, h = self._state
        self._state = (x + 1, y, w, h)
        return TrackResult(self._state, 0.9, np.zeros((3, 3), np.float32), MapGeometry(0, 0, 8), self._state)

    def _state_box(self):
        return self._state


def cheap_tracker_name():
    """The registered tracker that runs fastest untrained on a CPU, whichever are registered now."""
    available = trackers.names()
    for name in ("nanotrack", "siamfc", "siamrpn"):
        if name in available:
            return name
    if not available:
        pytest.skip("no tracker registered")
    return available[0]


def run_cli(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "trackers", *map(str, args)],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_clean_error(proc, match):
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "error:" in proc.stderr and match in proc.stderr, proc.stderr


# ------------------------------------------------------------------------------------ list


def run_list(*args, columns=100):
    import os

    env = dict(os.environ, COLUMNS=str(columns))
    return subprocess.run(
        [sys.executable, "-m", "trackers", "list", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


@pytest.mark.parametrize("columns, limit", [(300, 100), (100, 100), (80, 80)])
def test_list_fits_the_terminal_and_never_exceeds_100_columns(columns, limit):
    proc = run_list(columns=columns)
    assert proc.returncode == 0, proc.stderr
    too_wide = [line for line in proc.stdout.splitlines() if len(line) > limit]
    assert not too_wide, too_wide


def test_list_shows_every_tracker_marks_the_recommended_one_and_its_measured_quality():
    from trackers.measured import load_run, measured

    proc = run_list()
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    rows = {ln.split()[1] if ln.startswith("*") else ln.split()[0]: ln for ln in lines if ln.strip()}
    for name in trackers.names():
        assert name in rows, name
    best = registry.recommended()
    assert best == registry.shipped()[0]
    assert [ln for ln in lines if ln.startswith("* ")] == [rows[best]]
    run = load_run()
    assert run is not None, "resources/weights/benchmark.json: the recorded run of the shipped weights"
    for name in registry.shipped():
        figures = measured(name, registry.get(name).default_weights(), run)
        assert figures is not None, f"{name}: its shipped weights were not measured by the recorded run"
        assert f" {figures.auc:.3f} " in rows[name]
    for reference in ("OpenCV CSRT", "NanoTrack v2 (OpenCV)"):  # same-run references named
        assert reference in " ".join(lines)
    # the fps are the recorded backend's (INT8), not what a CPU without VNNI runs (f32)
    backends = " / ".join(sorted({run.backends[n] for n in registry.shipped()}))
    assert f"backend {backends})." in " ".join(proc.stdout.split())
    assert "csrt" in proc.stdout and "opencv-nano" in proc.stdout


def test_the_recorded_run_used_each_shipped_models_default_backend(monkeypatch):
    """The model card's speed figures are the defaults' (INT8 where parameters ship) on a CPU
    like the one that measured them, which computes INT8 exactly."""
    from trackers import onnx_runner

    monkeypatch.setattr(onnx_runner, "exact_int8", lambda: True)
    doc = json.loads((REPO / "resources/weights/benchmark.json").read_text())
    recorded = {t["method"]: t.get("backend") for t in doc["meta"]["trackers"]}
    cpu = torch.device("cpu")
    for name in registry.shipped():
        assert recorded[name] == registry.chosen_backend(name, cpu), name


def test_list_one_tracker_shows_presets_layouts_and_weights():
    proc = run_list("siamrpnpp-r50")
    assert proc.returncode == 0, proc.stderr
    info = trackers.get("siamrpnpp-r50")
    flat = " ".join(proc.stdout.split())
    assert all(a in flat for a in info.architectures) and all(p in flat for p in info.presets)
    assert "none: pass --weights" in flat
    assert_clean_error(run_list("no-such-tracker"), "unknown tracker")


def test_measured_figures_belong_to_the_exact_weights_file(tmp_path):
    from trackers.measured import load_run, measured

    weights = tmp_path / "w.pth"
    weights.write_bytes(b"weights one")
    doc_path = tmp_path / "bench.json"
    assert (
        main(
            [
                "bench",
                "--tracker",
                "kcf",
                "--sequences",
                str(make_sequence(tmp_path)),
                "--max-frames",
                "3",
                "--json",
                str(doc_path),
            ]
        )
        == 0
    )
    doc = json.loads(doc_path.read_text())
    assert doc["meta"]["command"].startswith("python -m trackers bench --tracker kcf")
    from trackers.measured import sha256_of

    doc["meta"]["trackers"][0]["weights_sha256"] = sha256_of(weights)
    doc_path.write_text(json.dumps(doc))
    run = load_run(doc_path)
    assert measured("kcf", weights, run).auc == pytest.approx(doc["summary"][0]["auc"])
    weights.write_bytes(b"weights two")  # replaced without a new run: no figure
    assert measured("kcf", weights, run) is None
    assert load_run(tmp_path / "missing.json") is None
    (tmp_path / "bad.json").write_text("{")
    assert load_run(tmp_path / "bad.json") is None


def test_shipped_ranks_by_the_measured_auc(monkeypatch):
    from trackers import measured as measured_mod

    names = [n for n in registry.names() if registry.get(n).default_weights()]
    if len(names) < 2:
        pytest.skip("needs two trackers with shipped weights")
    fake = {name: i / 10 for i, name in enumerate(names)}  # the last registered measured best
    monkeypatch.setattr(
        measured_mod,
        "measured",
        lambda name, weights, run: (
            measured_mod.Measured(name, fake[name], 0.0, 0.0) if name in fake else None
        ),
    )
    assert registry.shipped() == names[::-1]
    assert registry.recommended() == names[-1]


# ----------------------------------------------------------------------- track: error paths


def test_track_bad_init_exits_2_without_traceback(sequence, tmp_path):
    proc = run_cli(
        "track", "--tracker", "x", "--sequence", sequence, "--init=1,2,3", "--out", tmp_path / "o.txt"
    )
    assert_clean_error(proc, "expected 4")
    assert not (tmp_path / "o.txt").exists()


@pytest.mark.parametrize("init, match", [("10,10,0,5", "positive width"), ("a,b,c,d", "not numbers")])
def test_track_bad_init_messages(sequence, tmp_path, capsys, init, match):
    assert main(track_args("--sequence", sequence, tmp_path / "o.txt", init)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and match in err


def test_track_missing_video(tmp_path):
    proc = run_cli(
        "track",
        "--tracker",
        "x",
        "--video",
        tmp_path / "nope.mp4",
        "--init",
        "1,2,3,4",
        "--out",
        tmp_path / "o.txt",
    )
    assert_clean_error(proc, "nope.mp4: not found")


def test_track_unknown_tracker(sequence, tmp_path):
    proc = run_cli(
        "track",
        "--tracker",
        "no-such-tracker",
        "--sequence",
        sequence,
        "--init",
        "20,40,30,30",
        "--out",
        tmp_path / "o.txt",
    )
    assert_clean_error(proc, "unknown tracker 'no-such-tracker'")


def track_args(source_flag, source, out, init="20,40,30,30", tracker="x", *extra):
    return [
        "track",
        "--tracker",
        tracker,
        source_flag,
        str(source),
        "--init",
        init,
        "--out",
        str(out),
        *extra,
    ]


def test_track_refuses_reference_trackers(sequence, tmp_path, capsys):
    assert main(track_args("--sequence", sequence, tmp_path / "o.txt", "20,40,30,30", "csrt")) == 2
    assert "bench only" in capsys.readouterr().err


def test_track_box_outside_the_frame(sequence, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(registry, "create", lambda *a, **k: ShiftTracker())
    assert main(track_args("--sequence", sequence, tmp_path / "o.txt", init="500,500,10,10")) == 2
    assert "outside" in capsys.readouterr().err


def test_track_refuses_random_weights(sequence, tmp_path, capsys):
    assert (
        main(
            track_args("--sequence", sequence, tmp_path / "o.txt", "20,40,30,30", "x", "--weights", "random")
        )
        == 2
    )
    assert "speed measurements" in capsys.readouterr().err


def test_track_output_folder_missing(sequence, tmp_path, capsys):
    assert main(track_args("--sequence", sequence, tmp_path / "no" / "o.txt")) == 2
    assert "existing folder" in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"not a checkpoint", None])
def test_track_wrong_checkpoint(sequence, tmp_path, capsys, content):
    ckpt = tmp_path / "bogus.pth"
    if content is None:
        torch.save({"some.layer.weight": torch.zeros(3, 3)}, ckpt)  # readable, but no known layout
    else:
        ckpt.write_bytes(content)
    name = cheap_tracker_name()
    code = main(
        track_args("--sequence", sequence, tmp_path / "o.txt", "20,40,30,30", name, "--weights", str(ckpt))
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "bogus.pth" in err
    assert not (tmp_path / "o.txt").exists()


def test_track_without_weights(sequence, tmp_path, capsys):
    name = next((n for n in trackers.names() if trackers.get(n).default_weights() is None), None)
    if name is None:
        pytest.skip("every registered tracker ships weights")
    assert main(track_args("--sequence", sequence, tmp_path / "o.txt", "20,40,30,30", name)) == 2
    assert "--weights" in capsys.readouterr().err


def test_track_corrupt_video_writes_nothing(tmp_path, monkeypatch, capsys):
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 4096)
    monkeypatch.setattr(registry, "create", lambda *a, **k: ShiftTracker())
    assert main(track_args("--video", tmp_path / "bad.mp4", tmp_path / "o.txt")) == 2
    assert "bad.mp4" in capsys.readouterr().err
    assert not (tmp_path / "o.txt").exists()


# ---------------------------------------------------------------------- track: success path


def test_track_writes_one_line_per_frame(sequence, tmp_path, monkeypatch, capsys):
    seen = {}

    def fake_create(name, weights=None, device="auto", preset=None, **kw):
        seen.update(name=name, weights=weights, device=device, preset=preset)
        return ShiftTracker()

    monkeypatch.setattr(registry, "create", fake_create)
    out = tmp_path / "boxes.txt"
    code = main(track_args("--sequence", sequence, out, "20,40.5,30,30", "anything", "--device", "cpu"))
    assert code == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 10
    assert lines[0] == "20,40.5,30,30"  # frame 1 = the init box
    assert lines[3] == "23,40.5,30,30"
    assert seen == {"name": "anything", "weights": None, "device": "cpu", "preset": None}
    err = capsys.readouterr().err
    assert "frame 10/10" in err and "fps" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["boxes.txt", "seq"]  # no temp file left


@pytest.mark.parametrize("source", ["sequence", "video"])
def test_track_max_frames_tracks_only_the_first_n(sequence, tmp_path, monkeypatch, capsys, source):
    monkeypatch.setattr(registry, "create", lambda *a, **k: ShiftTracker())
    if source == "video":
        frames, _ = moving_frames(10)
        writer = cv2.VideoWriter(str(tmp_path / "v.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10, (W, H))
        for f in frames:
            writer.write(f)
        writer.release()
        flag, path = "--video", tmp_path / "v.avi"
    else:
        flag, path = "--sequence", sequence
    out = tmp_path / "o.txt"
    assert main(track_args(flag, path, out, "20,40,30,30", "x", "--max-frames", "4")) == 0
    assert out.read_text().splitlines() == [f"{20 + i},40,30,30" for i in range(4)]
    err = capsys.readouterr().err
    assert "frame 4/4" in err and "warning" not in err  # stopping early is not a decode failure
    assert main(track_args(flag, path, out, "20,40,30,30", "x", "--max-frames", "1")) == 2
    assert "at least 2" in capsys.readouterr().err


def test_track_video(tmp_path, monkeypatch):
    frames, _ = moving_frames(6)
    writer = cv2.VideoWriter(str(tmp_path / "v.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10, (W, H))
    for f in frames:
        writer.write(f)
    writer.release()
    monkeypatch.setattr(registry, "create", lambda *a, **k: ShiftTracker())
    assert main(track_args("--video", tmp_path / "v.avi", tmp_path / "o.txt")) == 0
    assert len((tmp_path / "o.txt").read_text().splitlines()) == 6


# -------------------------------------------------------------------------- run_sequence


def test_run_sequence_contract():
    frames, _ = moving_frames(5)
    calls = []
    boxes, scores, seconds = run_sequence(
        ShiftTracker(), frames, (20, 40, 30, 30), progress=lambda *a: calls.append(a)
    )
    assert boxes.shape == (5, 4) and scores.shape == (5,)
    np.testing.assert_array_equal(boxes[:, 0], [20, 21, 22, 23, 24])
    np.testing.assert_array_equal(scores, [1.0, 0.9, 0.9, 0.9, 0.9])
    assert seconds >= 0
    assert [c[:2] for c in calls] == [(i, 5) for i in range(1, 6)]
    # any iterable works (a video is read lazily): the total is then unknown
    calls.clear()
    boxes, _, _ = run_sequence(
        ShiftTracker(), iter(frames), (20, 40, 30, 30), progress=lambda *a: calls.append(a)
    )
    assert len(boxes) == 5 and calls[-1][1] is None
    with pytest.raises(ValueError, match="no frames"):
        run_sequence(ShiftTracker(), [], (20, 40, 30, 30))


def test_run_sequence_with_an_untrained_registered_tracker():
    name = cheap_tracker_name()
    tracker = trackers.create(name, weights=trackers.RANDOM, device="cpu")
    frames, _ = moving_frames(3)
    with np.errstate(all="ignore"):  # untrained outputs may overflow; the tracker falls back itself
        boxes, scores, seconds = run_sequence(tracker, frames, (20, 40, 30, 30))
    assert boxes.shape == (3, 4) and np.isfinite(boxes).all()
    np.testing.assert_array_equal(boxes[0], [20, 40, 30, 30])
    assert ((scores >= 0) & (scores <= 1)).all()
    assert seconds > 0


# ------------------------------------------------------------------------ reference trackers


def test_cv_rect_rounds_edges():
    assert to_cv_rect((10.4, 10.6, 20.2, 5.5)) == (10, 11, 21, 5)
    assert to_cv_rect((0.2, 0.2, 0.4, 0.4)) == (0, 0, 1, 1)  # never narrower than one pixel


@pytest.mark.parametrize("name", ["csrt", "kcf"])
def test_reference_trackers_follow_a_moving_square(name):
    frames, gt = moving_frames(10)
    tracker = create_reference(name)
    boxes, _scores, _ = run_sequence(tracker, frames, tuple(gt[0]))
    assert iou(boxes, gt).mean() > 0.7
    result = tracker.track(frames[-1])
    assert result.response.size == 0 and result.score in (0.0, 1.0)


def test_reference_errors():
    with pytest.raises(ValueError, match="--nano-onnx"):
        create_reference("opencv-nano")
    with pytest.raises(ValueError, match="not found"):
        create_reference("opencv-nano", ("/no/backbone.onnx", "/no/head.onnx"))
    with pytest.raises(ValueError, match="unknown reference"):
        create_reference("mosse")


@needs_shared
def test_opencv_nano_scores(tmp_path):
    d = WEIGHTS / "nanotrack_v2"
    tracker = create_reference(
        "opencv-nano", (d / "nanotrack_backbone_sim.onnx", d / "nanotrack_head_sim.onnx")
    )
    frames, _ = moving_frames(5)
    _, scores, _ = run_sequence(tracker, frames, (20, 40, 30, 30))
    assert 0 < scores[1:].min() <= 1


# ------------------------------------------------------------------------------------- bench


@needs_shared
def test_bench_csrt_and_nano_rows_on_vot_bag(tmp_path):
    d = WEIGHTS / "nanotrack_v2"
    out = tmp_path / "bench.json"
    proc = run_cli(
        "bench",
        "--tracker",
        "kcf",
        "--sequences",
        SEQUENCES / "vot_bag",
        "--max-frames",
        30,
        "--nano-onnx",
        d / "nanotrack_backbone_sim.onnx",
        d / "nanotrack_head_sim.onnx",
        "--json",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    rows = {r["method"]: r for r in json.loads(out.read_text())["rows"]}
    assert set(rows) == {"kcf", "csrt", "opencv-nano"}
    for row in rows.values():
        assert set(row) == {"method", "sequence", "frames", "auc", "precision", "fps", "decode_fps"}
        assert row["decode_fps"] > 0  # the frames were decoded before tracking, and timed
        assert row["sequence"] == "vot_bag" and row["frames"] == 30
        assert 0 < row["auc"] < 1 and 0 <= row["precision"] <= 1 and row["fps"] > 0
    assert rows["opencv-nano"]["auc"] > 0.5  # NanoTrack holds the bag over its first 30 frames
    assert "csrt" in proc.stdout and "fps ratio kcf / opencv-nano" in proc.stdout


def test_bench_random_weights_is_loudly_speed_only(sequence, tmp_path, capsys):
    name = cheap_tracker_name()
    out = tmp_path / "b.json"
    with np.errstate(all="ignore"):
        code = main(
            [
                "bench",
                "--tracker",
                name,
                "--weights",
                "random",
                "--device",
                "cpu",
                "--sequences",
                str(sequence),
                "--max-frames",
                "3",
                "--json",
                str(out),
            ]
        )
    assert code == 0
    captured = capsys.readouterr()
    assert "MEANINGLESS" in captured.out and "MEANINGLESS" in captured.err
    doc = json.loads(out.read_text())
    assert [r["method"] for r in doc["rows"]] == [f"{name}[random]", "csrt"]
    assert "MEANINGLESS" in doc["meta"]["note"]


def test_bench_compares_several_trackers_in_one_run(sequence, tmp_path, capsys):
    out = tmp_path / "b.json"
    args = ["bench", "--tracker", "kcf", "csrt", "kcf", "--sequences", str(sequence), "--max-frames", "3"]
    assert main([*args, "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert [r["method"] for r in doc["rows"]] == ["kcf", "csrt"]  # named once each; csrt not added twice
    assert [t["method"] for t in doc["meta"]["trackers"]] == ["kcf", "csrt"]
    assert main([*args, "--weights", "w.pth"]) == 2
    assert "apply to one tracker" in capsys.readouterr().err


def test_bench_reports_how_sure_each_difference_is(tmp_path, capsys):
    seqs = [make_sequence(tmp_path / name) for name in ("a", "b")]
    for seq, name in zip(seqs, ("a", "b"), strict=True):
        seq.rename(seq.with_name(name))  # two sequences with names of their own
    out = tmp_path / "b.json"
    args = ["bench", "--tracker", "kcf", "--sequences", *(str(tmp_path / n / n) for n in "ab")]
    assert main([*args, "--max-frames", "5", "--json", str(out)]) == 0
    assert "kcf vs csrt: mean AUC" in capsys.readouterr().out
    (pair,) = json.loads(out.read_text())["comparisons"]
    assert (pair["method"], pair["reference"], pair["count"]) == ("kcf", "csrt", 2)
    assert pair["low"] <= pair["mean"] <= pair["high"]


def test_bench_shipped_means_every_tracker_with_shipped_weights():
    shipped = registry.shipped()
    assert sorted(shipped) == sorted(n for n in registry.names() if registry.get(n).default_weights())
    assert bench_names(["shipped"]) == shipped
    assert bench_names(["csrt", "shipped", "siamfc"]) == ["csrt", *shipped]


def test_bench_needs_groundtruth(tmp_path, capsys):
    frames, _ = moving_frames(3)
    for i, f in enumerate(frames):
        cv2.imwrite(str(tmp_path / f"{i}.png"), f)
    assert main(["bench", "--tracker", "csrt", "--sequences", str(tmp_path)]) == 2
    assert "groundtruth" in capsys.readouterr().err


@needs_shared
@pytest.mark.slow
def test_track_real_video_with_real_weights(tmp_path):
    """The whole CLI path on a real video: NanoTrack v2 follows the bag (pysot's demo video of vot_bag)."""
    out = tmp_path / "boxes.txt"
    gt = np.loadtxt(SEQUENCES / "vot_bag" / "groundtruth_rect.txt", delimiter=",")
    init = ",".join(f"{v:g}" for v in gt[0])
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "trackers",
            "track",
            "--tracker",
            "nanotrack",
            "--weights",
            str(WEIGHTS / "nanotrack_v2" / "nanotrackv2.pth"),
            "--device",
            "cpu",
            "--video",
            str(VIDEOS / "pysot_bag.avi"),
            "--init",
            init,
            "--out",
            str(out),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    boxes = np.loadtxt(out, delimiter=",")
    assert boxes.shape == (196, 4)
    np.testing.assert_allclose(boxes[0], gt[0])
    assert float(np.mean(iou(boxes, gt))) > 0.6


def test_bench_validation_needs_every_validation_sequence(tmp_path, capsys):
    assert main(["bench", "--tracker", "kcf", "--validation", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "missing davis_camel" in err and "trackers.training.catalogue" in err
    assert main(["tune", "--tracker", "siamfc", "--validation", str(tmp_path), "--param", "lr=1"]) == 2


@needs_shared
def test_track_keeps_what_it_tracked_before_a_corrupt_frame(tmp_path, capsys):
    # The first half of an mp4 whose index is at the front: frames decode up to the cut.
    data = (VIDEOS / "siamban_football.mp4").read_bytes()
    video = tmp_path / "cut.mp4"
    video.write_bytes(data[: len(data) // 2])
    out = tmp_path / "boxes.txt"
    code = main(
        [
            "track",
            "--tracker",
            "siamrpnpp-mobilev2",
            "--device",
            "cpu",
            "--video",
            str(video),
            "--init",
            "300,200,40,60",
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    lines = out.read_text().splitlines()
    assert 10 < len(lines) < 463  # what was tracked before the cut, not nothing and not all
    assert f"keeping the {len(lines)} frames tracked before it" in err and "cannot decode" in err
