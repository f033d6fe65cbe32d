"""The shipped demo clip and its generator."""

import json

import numpy as np
import pytest

from app.io import demo
from app.io.video import open_video


def test_shipped_clip_opens_and_matches_its_boxes():
    clip = demo.SHIPPED_DIR / demo.CLIP_NAME
    assert demo.demo_path() == clip
    assert clip.stat().st_size < 3 * 2**20
    doc = json.loads((demo.SHIPPED_DIR / demo.BOXES_NAME).read_text())
    video = open_video(clip)
    assert video.frame_count == doc["frame_count"] == 200
    assert video.size == tuple(doc["size"]) == (640, 360) and video.fps == pytest.approx(doc["fps"])
    assert not video.variable_frame_rate
    boxes = demo.demo_boxes(clip)
    assert len(boxes) >= 2
    w, h = video.size
    for name, per_frame in boxes.items():
        b = np.asarray(per_frame)
        assert b.shape == (video.frame_count, 4), name
        assert (b[:, 0] >= 0).all() and (b[:, 1] >= 0).all()
        assert (b[:, 0] + b[:, 2] <= w).all() and (b[:, 1] + b[:, 3] <= h).all()
    ball = np.asarray(boxes["ball"])
    assert ball[:, 2].max() / ball[:, 2].min() > 1.5  # the ball changes scale


def test_shipped_clip_is_what_the_generator_renders():
    frames, boxes = demo.render_demo(seed=0)
    assert boxes == demo.demo_boxes(demo.SHIPPED_DIR / demo.CLIP_NAME)
    video = open_video(demo.SHIPPED_DIR / demo.CLIP_NAME)
    for i in (0, 99, 199):  # lossy codec: close, not equal
        diff = np.abs(video.frame(i).astype(np.int16) - frames[i]).mean()
        assert diff < 6, (i, diff)


def test_make_demo_clip_small(tmp_path):
    path = tmp_path / "small.mp4"
    boxes = demo.make_demo_clip(path, seconds=1, fps=10, size=(320, 180), seed=3)
    assert set(boxes) == {"crate", "ball", "blob"} and all(len(b) == 10 for b in boxes.values())
    assert demo.make_demo_clip(tmp_path / "again.mp4", seconds=1, fps=10, size=(320, 180), seed=3) == boxes
    video = open_video(path)
    assert video.frame_count == 10 and video.size == (320, 180)
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_demo_path_renders_into_the_user_cache_when_the_shipped_clip_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "SHIPPED_DIR", tmp_path / "not-shipped")
    monkeypatch.setattr(demo.platformdirs, "user_cache_dir", lambda *a, **k: str(tmp_path / "cache"))
    clip = demo.demo_path()
    assert clip == tmp_path / "cache" / "demo" / demo.CLIP_NAME
    assert open_video(clip).frame_count == 200
    assert len(demo.demo_boxes(clip)["blob"]) == 200
    assert demo.demo_path() == clip  # rendered once, then reused
