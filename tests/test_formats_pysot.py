"""pysot / SiamBAN training set: train.json as pysot's SubDataset parses it, crop geometry, and the
OTB layout that ``trackers.train`` reads from the same export."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.io.formats import FORMATS, ExportJob, ExportOptions
from app.io.formats.output import read_manifest
from app.io.formats.pysot import INSTANCE_SIZE, siamfc_crops
from app.io.project import VideoRef
from app.io.video import open_video
from app.model.annotations import Annotations, BoxSource, FrameBox
from tests.formats_sequences import CROSSING, crossing_annotations, crossing_video
from tests.shared_data import needs_shared


def pysot_pairs(root, anno):
    """What pysot/datasets/dataset.py SubDataset does with ROOT and ANNO: drop boxes with w or h
    <= 0, list each track's digit keys as its frames, and find the search crop of a frame at
    ``ROOT/<video>/<frame:06d>.<track>.x.jpg``."""
    meta = json.loads(anno.read_text())
    out = {}
    for video, tracks in meta.items():
        for track, frames in tracks.items():
            kept = {k: b for k, b in frames.items() if b[2] - b[0] > 0 and b[3] - b[1] > 0}
            for frame in sorted(int(k) for k in kept if k.isdigit()):
                key = f"{frame:06d}"
                out[video, track, frame] = (root / video / f"{key}.{track}.x.jpg", kept[key])
    return out


@needs_shared
def test_pysot_loader_finds_every_box_and_crop(tmp_path):
    annotations = crossing_annotations()
    video = open_video(CROSSING)
    job = ExportJob(
        annotations, crossing_video(), tmp_path / "set", ExportOptions(last=59, step=2), frames=video.frame
    )
    FORMATS["pysot"].export(job)
    pairs = pysot_pairs(tmp_path / "set" / "crop511", tmp_path / "set" / "train.json")
    expected = {
        ("otb_crossing", f"{t.id:02d}", f): e.box
        for t in annotations
        for f, e in t.boxes.items()
        if f < 60 and f % 2 == 0 and not e.absent
    }
    assert set(pairs) == set(expected)  # absent frames are left out
    for key, (crop, box) in pairs.items():
        x, y, w, h = expected[key]
        assert box == pytest.approx([x, y, x + w, y + h], abs=1e-3)
        assert crop.is_file() and crop.with_name(crop.name.replace(".x.", ".z.")).is_file()
    config = (tmp_path / "set" / "pysot_dataset.yaml").read_text()
    assert f"ROOT: '{(tmp_path / 'set' / 'crop511').resolve()}'" in config


def test_crops_centre_the_box_at_siamfc_scale():
    image = np.zeros((300, 400, 3), np.uint8)
    image[50:90, 100:160] = 255  # the object: x = 100, y = 50, w = 60, h = 40 (continuous pixels)
    z, x = siamfc_crops(image, (100.0, 50.0, 60.0, 40.0))
    assert z.shape == (127, 127, 3) and x.shape == (INSTANCE_SIZE, INSTANCE_SIZE, 3)
    s_z = np.sqrt((60 + 50) * (40 + 50))
    scale = (INSTANCE_SIZE - 1) / (s_z * INSTANCE_SIZE / 127)
    cols = np.flatnonzero((x[:, :, 0] > 127).any(axis=0))
    rows = np.flatnonzero((x[:, :, 0] > 127).any(axis=1))
    assert abs((cols[0] + cols[-1]) / 2 - (INSTANCE_SIZE - 1) / 2) <= 0.5
    assert abs((rows[0] + rows[-1]) / 2 - (INSTANCE_SIZE - 1) / 2) <= 0.5
    assert abs(len(cols) - 60 * scale) <= 2 and abs(len(rows) - 40 * scale) <= 2
    # outside the frame: the frame's mean colour, as par_crop pads
    assert abs(int(x[0, 0, 0]) - image[:, :, 0].mean()) <= 1


@needs_shared
def test_training_reader_reads_the_same_export(tmp_path):
    from trackers.training.datasets import discover

    annotations = crossing_annotations()
    video = open_video(CROSSING)
    job = ExportJob(
        annotations, crossing_video(), tmp_path / "set", ExportOptions(first=8, last=40), frames=video.frame
    )
    FORMATS["pysot"].export(job)
    tracks = {t.name: t for t in discover(tmp_path / "set")}
    assert sorted(tracks) == ["otb_crossing", "otb_crossing#2"]
    frames = read_manifest(tmp_path / "set" / "sequences" / "otb_crossing")
    assert frames == list(range(8, 41))
    for name, track in (("otb_crossing", annotations.track(1)), ("otb_crossing#2", annotations.track(2))):
        read = tracks[name]
        assert len(read.frames) == len(frames)
        for i, frame in enumerate(frames):
            entry = track.get(frame)
            if entry is None or entry.absent:
                assert np.isnan(read.boxes[i]).all(), (name, frame)
            else:
                assert np.abs(read.boxes[i] - entry.box).max() <= 1e-3


def test_needs_a_video():
    annotations = Annotations(3)
    annotations.apply(annotations.add_track_edit("x", boxes={0: FrameBox((1, 1, 2, 2), BoxSource.MANUAL)}))
    with pytest.raises(ValueError, match="a video is needed"):
        FORMATS["pysot"].export(ExportJob(annotations, VideoRef("", "", 3), "/nonexistent/set"))
