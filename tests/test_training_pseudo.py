"""Teacher pseudo-labels (trackers/training/pseudo.py): kept only where two teachers agree and the
backward run comes home; written as OTB sequences the training readers take."""

from __future__ import annotations

import json
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from tests.shared_data import VIDEOS, WEIGHTS, needs_shared
from trackers.training.datasets import Track, discover
from trackers.training.pseudo import PseudoConfig, Span, follow, main, returns_to_start, write_span


class Scripted:
    """A teacher that returns given boxes, one per ``track`` call, restarting at every ``init``."""

    def __init__(self, boxes):
        self.boxes = [np.asarray(b, float) for b in boxes]

    def init(self, frame, box):
        self.i = 0

    def track(self, frame):
        self.i += 1
        return SimpleNamespace(box=self.boxes[min(self.i, len(self.boxes) - 1)])


FRAMES = [np.zeros((4, 4, 3), np.uint8)] * 10
START = (10, 10, 20, 20)


def test_agreeing_frames_are_averaged_and_a_disagreement_streak_ends_the_span():
    a = [START] + [(10 + i, 10, 20, 20) for i in range(1, 10)]
    b = list(a)
    b[3] = (60, 60, 20, 20)  # one disagreement: kept as a gap
    b[6:] = [(80, 80, 20, 20)] * 4  # from frame 6 on they part
    boxes = follow(FRAMES, START, Scripted(a), Scripted(b), PseudoConfig(patience=3))
    assert len(boxes) == 6  # frames 0..5: the last agreeing frame ends the span
    assert np.isnan(boxes[3]).all() and np.isfinite(np.delete(boxes, 3, 0)).all()
    np.testing.assert_allclose(boxes[5], (15, 10, 20, 20))


def test_backward_check_needs_the_start_box():
    span = np.array([START, (12, 10, 20, 20), (14, 10, 20, 20)], float)
    home = Scripted([span[-1], span[1], span[0]])
    assert returns_to_start(FRAMES[:3], span, home, PseudoConfig())
    lost = Scripted([span[-1], (70, 70, 20, 20), (90, 90, 20, 20)])
    assert not returns_to_start(FRAMES[:3], span, lost, PseudoConfig())


def test_span_is_written_as_an_otb_sequence(tmp_path):
    paths = []
    for i in range(4):
        path = tmp_path / "cache" / f"{i:05d}.jpg"
        path.parent.mkdir(exist_ok=True)
        cv2.imwrite(str(path), np.full((30, 40, 3), 50 * i, np.uint8))
        paths.append(str(path))
    track = Track("clip", "clip", "video", paths, None)
    span = Span(1, np.array([(1, 2, 10, 10), (np.nan,) * 4, (3, 2, 10, 10)]))
    out = write_span(track, span, tmp_path / "out")
    assert out.name == "clip_p00002"
    (seq,) = discover(out)
    assert seq.kind == "sequence" and len(seq.frames) == 3
    np.testing.assert_allclose(seq.boxes[[0, 2]], [(1, 2, 10, 10), (3, 2, 10, 10)])
    assert np.isnan(seq.boxes[1]).all()
    assert json.loads((out / "source.json").read_text())["first_frame"] == 2


@needs_shared
@pytest.mark.slow
def test_real_teachers_on_a_real_video(tmp_path):
    nano = WEIGHTS / "nanotrack_v2"
    argv = [
        "--data", str(VIDEOS / "vtest.avi"), "--out", str(tmp_path / "out"),
        "--cache-dir", str(tmp_path / "cache"),
        "--nano-onnx", str(nano / "nanotrack_backbone_sim.onnx"), str(nano / "nanotrack_head_sim.onnx"),
        "--vit-onnx", str(WEIGHTS / "opencv_vittrack" / "vitTracker.onnx"),
        "--every", "200", "--length", "40", "--min-length", "10",
    ]  # fmt: skip
    assert main(argv) == 0
    sequences = [t for t in discover(tmp_path / "out") if t.kind == "sequence"]
    assert sequences, "the teachers agreed on no span of vtest.avi"
    for seq in sequences:
        kept = np.isfinite(seq.boxes).all(axis=1)
        assert kept.sum() >= 10 and kept[0]


def test_missing_teacher_file_is_a_clear_error(tmp_path, capsys):
    argv = ["--data", str(tmp_path), "--out", str(tmp_path / "o"), "--nano-onnx", "a.onnx", "b.onnx",
            "--vit-onnx", "v.onnx"]  # fmt: skip
    assert main(argv) == 2
    assert "ONNX file not found" in capsys.readouterr().err
