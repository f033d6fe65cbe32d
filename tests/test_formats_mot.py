"""MOTChallenge: the export read by motmetrics (1-based frames, ids and boxes), round trip, errors."""

from __future__ import annotations

import configparser

import pytest

from app.io.formats import FORMATS, ExportJob, ExportOptions, FormatError
from app.io.formats.output import read_manifest
from app.io.video import open_video
from tests.formats_sequences import CROSSING, assert_same_tracks, crossing_annotations, crossing_video
from tests.shared_data import needs_shared


def export(annotations, target, frames=None, **options):
    FORMATS["mot"].export(
        ExportJob(annotations, crossing_video(), target, ExportOptions(**options), frames=frames)
    )


@needs_shared
def test_motmetrics_reads_every_box_at_its_frame(tmp_path):
    import motmetrics as mm

    annotations = crossing_annotations()
    export(annotations, tmp_path / "seq")
    gt = mm.io.loadtxt(str(tmp_path / "seq" / "gt" / "gt.txt"), fmt="mot16")
    rows = {(int(f), int(i)): r for (f, i), r in gt.iterrows()}
    expected = {
        (frame + 1, track.id): entry
        for track in annotations
        for frame, entry in track.boxes.items()
        if not entry.absent
    }
    assert set(rows) == set(expected)  # absent frames have no row
    labels = (tmp_path / "seq" / "gt" / "labels.txt").read_text().split()
    for key, entry in expected.items():
        row = rows[key]
        x, y, w, h = entry.box
        # motmetrics turns MOT's 1-based bb_left / bb_top into 0-based X / Y
        assert abs(row["X"] - x) <= 1e-3 and abs(row["Y"] - y) <= 1e-3, key
        assert abs(row["Width"] - w) <= 1e-3 and abs(row["Height"] - h) <= 1e-3, key
        assert row["Visibility"] == (0.5 if entry.occluded else 1.0)
        assert labels[int(row["ClassId"]) - 1] == annotations.track(key[1]).label


@needs_shared
def test_sequence_layout_with_frames(tmp_path):
    annotations = crossing_annotations()
    video = open_video(CROSSING)
    export(annotations, tmp_path / "seq", frames=video.frame, first=20, last=49, step=3, image_format="png")
    info = configparser.ConfigParser()
    info.read(tmp_path / "seq" / "seqinfo.ini")
    assert dict(info["Sequence"]) == {
        "name": "seq", "imdir": "img1", "framerate": "30", "seqlength": "10",
        "imwidth": "360", "imheight": "240", "imext": ".png",
    }  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "seq" / "img1").iterdir())[:2] == ["000001.png", "000002.png"]
    assert read_manifest(tmp_path / "seq") == list(range(20, 50, 3))
    first_row = (tmp_path / "seq" / "gt" / "gt.txt").read_text().splitlines()[0].split(",")
    assert first_row[:2] == ["1", "1"]  # video frame 20 is MOT frame 1


@needs_shared
def test_round_trip(tmp_path):
    annotations = crossing_annotations()
    export(annotations, tmp_path / "seq", step=2)
    back = FORMATS["mot"].load(tmp_path / "seq", 120)
    kept = {f for f in range(0, 120, 2)}
    # MOT rows are boxes: absent frames cannot be carried
    for track in annotations:
        track.boxes = {f: e for f, e in track.boxes.items() if not e.absent}
    assert_same_tracks(annotations, back, frames=kept)
    assert back.frame_count == 120


def write_gt(tmp_path, text, labels=None):
    (tmp_path / "gt").mkdir(parents=True, exist_ok=True)
    (tmp_path / "gt" / "gt.txt").write_text(text)
    if labels is not None:
        (tmp_path / "gt" / "labels.txt").write_text(labels)
    return tmp_path


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("1,1,10,10,5,5,1,1,1\n0,1,10,10,5,5,1,1,1\n", 2, "MOT frames start at 1"),
        ("1,-1,10,10,5,5,1,1,1\n", 1, "detection"),
        ("1,1,10,10,5,5,1,1,1\n1,1,11,10,5,5,1,1,1\n", 2, "already has a box on frame 1 (line 1)"),
        ("1,1,10,10,5,5,1,1\n", 1, "expected 9"),
        ("1,1,10,10,0,5,1,1,1\n", 1, "not a box"),
        ("1,1,10,10,5,5,1,1,1.5\n", 1, "visibility"),
        ("1.5,1,10,10,5,5,1,1,1\n", 1, "not a whole number"),
        ("1,1,10,10,5,5,1,3,1\n", 1, "class 3 is not a line of labels.txt"),
    ],
)
def test_malformed_rows_name_the_line(tmp_path, text, line, words):
    folder = write_gt(tmp_path, text, labels="a\nb\n")
    with pytest.raises(FormatError) as error:
        FORMATS["mot"].load(folder, 0)
    assert error.value.line == line and words in str(error.value)
    assert f"gt.txt:{line}:" in str(error.value)


def test_mot17_ground_truth_and_results_files(tmp_path):
    folder = write_gt(tmp_path / "a", "1,1,1363,569,103,241,1,1,0.86014\n2,1,1362,568,103,241,1,3,1\n")
    annotations = FORMATS["mot"].load(folder / "gt" / "gt.txt", 0)
    track = annotations.track(1)
    assert track.label == "pedestrian"  # MOTChallenge class 1, no labels.txt
    assert track.boxes[0].box == (1362, 568, 103, 241) and track.boxes[0].occluded
    assert not track.boxes[1].occluded
    results = tmp_path / "b.txt"
    results.write_text("3,7,11,21,5,6,0.9,-1,-1,-1\n")
    annotations = FORMATS["mot"].load(results, 10)
    assert annotations.frame_count == 10 and annotations.track(7).boxes[2].box == (10, 20, 5, 6)


def test_frames_past_the_video_or_seqinfo(tmp_path):
    folder = write_gt(tmp_path, "5,1,10,10,5,5,1,1,1\n")
    with pytest.raises(FormatError, match="past the video's 4 frames"):
        FORMATS["mot"].load(folder, 4)
    (folder / "seqinfo.ini").write_text("[Sequence]\nseqLength=3\n")
    with pytest.raises(FormatError, match="past seqLength 3"):
        FORMATS["mot"].load(folder, 0)
    with pytest.raises(FormatError, match="no gt/gt.txt"):
        FORMATS["mot"].load(tmp_path / "gt", 0)
