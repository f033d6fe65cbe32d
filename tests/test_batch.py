"""``siamark batch``: keyframes in, tracked projects out — locally and on a real local Ray, with the
same numbers; resumable; one bad video fails alone; Ctrl+C leaves no half-written output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

import trackers
from app.engine.annotate import annotate, planned_runs
from app.engine.jobs import TrackerSpec
from app.io.formats import FormatError
from app.io.keyframes import keyframes_from_file, read_keyframes_csv
from app.io.project import load_project
from app.io.video import open_video
from app.model.annotations import Annotations, BoxSource, FrameBox
from tests.shared_data import SEQUENCES, needs_shared
from tests.stand_ins import Drifting
from trackers.drift import DriftSettings

ROOT = Path(__file__).resolve().parents[1]
HEADER = "video,frame,track,label,x,y,w,h\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- keyframes -----------------------------------------------------------------------------------


def test_keyframes_csv_gives_manual_boxes_per_video(tmp_path):
    csv = write(
        tmp_path / "k.csv",
        HEADER + "a.mp4,1,car1,car,10,20,30,40\na.mp4,50,car1,car,12,22,30,40\n"
        "a.mp4,1,p,person,1,2,3,4\nclips/b,3,1,dog,5,6,7,8\n",
    )
    got = read_keyframes_csv(csv)
    assert list(got) == [str((tmp_path / "a.mp4").resolve()), str((tmp_path / "clips/b").resolve())]
    a = got[str((tmp_path / "a.mp4").resolve())]
    assert [(t.id, t.label) for t in a] == [(1, "car"), (2, "person")]
    car = a.track(1)
    assert car.manual_frames() == [0, 49]  # 1-based in the file
    assert car.get(49).box == (12.0, 22.0, 30.0, 40.0) and car.get(49).source is BoxSource.MANUAL


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("video,frame,track\n", 1, "header"),
        (HEADER + "a.mp4,0,1,car,1,2,3,4\n", 2, ">= 1"),
        (HEADER + "a.mp4,x,1,car,1,2,3,4\n", 2, "whole number"),
        (HEADER + "a.mp4,1,1,car,1,2,0,4\n", 2, "positive width"),
        (HEADER + "a.mp4,1,1,car,1,2,3\n", 2, "expected 8"),
        (HEADER + "a.mp4,1,1,car,1,2,3,4\na.mp4,2,1,dog,1,2,3,4\n", 3, "'car'"),
        (HEADER + "a.mp4,1,1,car,1,2,3,4\na.mp4,1,1,car,1,2,3,4\n", 3, "two boxes"),
        (HEADER, None, "no keyframes"),
    ],
)
def test_bad_keyframes_csv_names_the_line(tmp_path, text, line, words):
    path = write(tmp_path / "k.csv", text)
    with pytest.raises(FormatError) as caught:
        read_keyframes_csv(path)
    assert words in str(caught.value)
    assert caught.value.line == line


@needs_shared
def test_benchmark_ground_truth_gives_its_first_box_only():
    seq = SEQUENCES / "otb_crossing"
    got = keyframes_from_file("otb", seq / "groundtruth_rect.txt", 120)
    assert len(got) == 1 and got.track(1).manual_frames() == [0]


def test_runs_go_back_from_the_first_keyframe_then_forward_from_each():
    model = Annotations(100)
    model.apply(model.add_track_edit("a", boxes={10: FrameBox((1, 1, 5, 5)), 40: FrameBox((2, 2, 5, 5))}))
    model.apply(model.add_track_edit("b", boxes={0: FrameBox((1, 1, 5, 5))}))
    assert planned_runs(model) == [(1, 10, -1), (1, 10, 1), (1, 40, 1), (2, 0, -1), (2, 0, 1)]


# -- the engine, with a stand-in tracker ----------------------------------------------------------


@pytest.fixture
def folder(tmp_path) -> Path:
    images = tmp_path / "clip"
    images.mkdir()
    for i in range(12):
        cv2.imwrite(str(images / f"{i + 1:04d}.png"), np.full((60, 80, 3), 10 * i, np.uint8))
    return images


def test_annotate_tracks_both_ways_and_fuses_at_keyframes(monkeypatch, folder):
    monkeypatch.setattr(trackers.multi, "MultiTracker", Drifting)
    model = Annotations(12)
    model.apply(
        model.add_track_edit(
            "car",
            boxes={3: FrameBox((10, 10, 8, 8), reviewed=True), 8: FrameBox((30, 10, 8, 8), reviewed=True)},
        )
    )
    progress = []
    with open_video(folder) as video:
        stats = annotate(
            video, model, TrackerSpec("x"), DriftSettings(), lambda d, t: progress.append((d, t))
        )
    track = model.track(1)
    # every frame has a box; the keyframes are untouched
    assert sorted(track.boxes) == list(range(12))
    assert track.get(3).box == (10.0, 10.0, 8.0, 8.0) and track.get(8).box == (30.0, 10.0, 8.0, 8.0)
    # back from frame 3: 1 px per frame from 10 (the stand-in always moves right)
    assert [track.get(f).box[0] for f in (2, 1, 0)] == [11.0, 12.0, 13.0]
    # after the last keyframe, forward only
    assert [track.get(f).box[0] for f in (9, 10, 11)] == [31.0, 32.0, 33.0]
    # between the keyframes: fused with the run back from 8 (31, 32, 33, 34 going back), which
    # parts from the forward run (11, 12, 13, 14): far apart, so flagged
    between = [track.get(f) for f in range(4, 8)]
    assert all(e.source is BoxSource.TRACKED and e.flag for e in between)
    assert stats.tracked == 3 + 4 + 4 + 3 == progress[-1][0] == progress[-1][1]
    assert stats.keyframes == 2 and stats.boxes == 12 and stats.flagged == 4


# -- the command ---------------------------------------------------------------------------------


def clip(tmp_path: Path, name: str, frames: int) -> tuple[Path, tuple]:
    """The first ``frames`` frames of a shared sequence as a folder of its own, and its first box."""
    seq = SEQUENCES / name
    folder = tmp_path / name / "img"
    folder.mkdir(parents=True)
    for path in sorted((seq / "img").iterdir())[:frames]:
        os.symlink(path, folder / path.name)
    first = (seq / "groundtruth_rect.txt").read_text().split()[0].replace("\t", ",").split(",")
    x, y, w, h = (float(v) for v in first[:4])
    return folder, (x - 1, y - 1, w, h)


def batch(*args, env=None, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "batch", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
        check=False,
    )


@pytest.fixture
def keyframes(tmp_path) -> Path:
    rows = []
    for name, label in (("vot_bag", "bag"), ("otb_crossing", "person")):
        folder, (x, y, w, h) = clip(tmp_path, name, 16)
        rows.append(f"{folder},1,1,{label},{x},{y},{w},{h}")
    bag, _ = clip(tmp_path / "again", "vot_bag", 16)
    rows.append(f"{bag},12,1,bag,200,120,80,80")  # a second keyframe source for the same scene
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "0001.jpg").write_bytes(b"not an image")
    rows.append(f"{tmp_path / 'broken'},1,1,thing,1,1,5,5")
    return write(tmp_path / "keyframes.csv", HEADER + "\n".join(rows) + "\n")


def tracks_of(out: Path, name: str) -> dict:
    return load_project(out / name / f"{name}.siamark.json").annotations.to_dict()


@needs_shared
@pytest.mark.slow
def test_batch_runs_every_video_resumes_and_fails_alone(tmp_path, keyframes):
    out = tmp_path / "out"
    common = ("--keyframes", keyframes, "--tracker", "siamrpnpp-mobilev2", "--threads", "1")
    done = batch(*common, "--out", out, "--export", "mot", "--workers", "2")
    assert done.returncode == 1, done.stderr  # the broken video failed
    summary = json.loads((out / "summary.json").read_text())
    status = {v["name"]: v["status"] for v in summary["per_video"]}
    assert status == {
        "vot_bag": "tracked",
        "otb_crossing": "tracked",
        "vot_bag-2": "tracked",
        "broken": "failed",
    }
    broken = next(v for v in summary["per_video"] if v["name"] == "broken")
    assert broken["error"] and not (out / "broken" / "result.json").exists()
    for name in ("vot_bag", "otb_crossing"):
        project = load_project(out / name / f"{name}.siamark.json")
        track = project.annotations.track(1)
        assert sorted(track.boxes) == list(range(16)) and track.manual_frames() == [0]
        assert (out / name / "exports" / "mot" / "gt" / "gt.txt").is_file()
    # the second bag clip started from frame 12: tracked back to 0 and on to the end
    assert sorted(
        load_project(out / "vot_bag-2" / "vot_bag-2.siamark.json").annotations.track(1).boxes
    ) == list(range(16))
    # a rerun does only what is not done
    again = batch(*common, "--out", out)
    assert "3 done before" in again.stderr and "1 failed" in again.stderr
    # the same as one video tracked alone by the tracker, frame by frame
    folder = Path(summary["per_video"][1]["video"])
    box = load_project(out / "otb_crossing" / "otb_crossing.siamark.json").annotations.track(1).get(0).box
    tracker = trackers.create("siamrpnpp-mobilev2", device="cpu")
    frames = [cv2.imread(str(p)) for p in sorted(folder.iterdir())]
    tracker.init(frames[0], box)
    alone = [tracker.track(f).box for f in frames[1:]]
    stored = load_project(out / "otb_crossing" / "otb_crossing.siamark.json").annotations.track(1)
    got = [stored.get(i).box for i in range(1, 16)]
    assert np.abs(np.array(got) - np.array(alone)).max() < 0.05  # threads differ; saved to 4 decimals


@needs_shared
@pytest.mark.slow
def test_ray_gives_the_local_result_number_for_number(tmp_path, keyframes):
    pytest.importorskip("ray")
    common = ("--keyframes", keyframes, "--tracker", "siamrpnpp-mobilev2", "--threads", "1")
    local = batch(*common, "--out", tmp_path / "local", "--workers", "1")
    ray = batch(*common, "--out", tmp_path / "ray", "--ray")
    assert local.returncode == ray.returncode == 1, (local.stderr, ray.stderr)
    assert json.loads((tmp_path / "ray" / "summary.json").read_text())["mode"].startswith("Ray, 1 node")
    for name in ("vot_bag", "otb_crossing", "vot_bag-2"):
        assert tracks_of(tmp_path / "ray", name) == tracks_of(tmp_path / "local", name)


@needs_shared
@pytest.mark.slow
def test_ctrl_c_leaves_only_whole_outputs(tmp_path):
    rows = []
    for k in range(4):
        folder, (x, y, w, h) = clip(tmp_path / str(k), "vot_bag", 60)
        rows.append(f"{folder},1,1,bag,{x},{y},{w},{h}")
    csv = write(tmp_path / "k.csv", HEADER + "\n".join(rows) + "\n")
    out = tmp_path / "out"
    command = [sys.executable, str(ROOT / "main.py"), "batch", "--keyframes", str(csv), "--out", str(out)]
    command += ["--tracker", "siamrpnpp-mobilev2", "--workers", "1", "--threads", "1"]
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not list(out.glob("*/result.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] and summary["tracked"] < 4
    for folder in out.iterdir():
        if folder.is_dir():  # a folder is complete (result.json and a loadable project) or absent
            assert (folder / "result.json").is_file()
            load_project(folder / f"{folder.name}.siamark.json")
    rest = batch("--keyframes", csv, "--out", out, "--tracker", "siamrpnpp-mobilev2", "--threads", "1")
    assert rest.returncode == 0 and f"{summary['tracked']} done before" in rest.stderr
