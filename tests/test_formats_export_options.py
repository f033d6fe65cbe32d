"""What every exporter shares: the selection of rows from ExportOptions, the project format (the
lossless one), and export folders that appear whole or not at all."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from app.io.formats import FORMATS, ExportJob, ExportOptions, FormatError
from app.io.formats.registry import ExportCancelled
from app.io.formats.selection import SelectionError, flagged_rows, select
from app.io.project import VideoRef
from app.model.annotations import Annotations, BoxSource, FrameBox


def small_annotations() -> Annotations:
    annotations = Annotations(20)
    annotations.apply(
        annotations.add_track_edit(
            "person",
            boxes={
                0: FrameBox((1, 2, 3, 4), BoxSource.MANUAL),
                1: FrameBox((1.5, 2, 3, 4), BoxSource.TRACKED, score=0.7, flag="drift"),
                2: FrameBox((2, 2, 3, 4), BoxSource.TRACKED, score=0.8, reviewed=True),
                3: FrameBox(None, BoxSource.MANUAL, absent=True),
                4: FrameBox((3, 2, 3, 4), BoxSource.INTERPOLATED, occluded=True),
            },
        )
    )
    annotations.apply(
        annotations.add_track_edit("car", boxes={f: FrameBox((9, 9, 5, 5)) for f in range(2, 12)})
    )
    return annotations


def rows(selection):
    return [(r.track.id, r.frame) for r in selection.rows]


def test_selection_options():
    annotations = small_annotations()
    everything = select(annotations, ExportOptions())
    assert len(everything.rows) == 15 and everything.frames == tuple(range(20))
    assert rows(everything)[:4] == [(1, 0), (1, 1), (1, 2), (2, 2)]  # by frame, then track
    assert rows(select(annotations, ExportOptions(tracks=frozenset({1}), first=1, last=3))) == [
        (1, 1),
        (1, 2),
        (1, 3),
    ]
    assert rows(select(annotations, ExportOptions(labels=frozenset({"car"}), first=8, step=3))) == [
        (2, 8),
        (2, 11),
    ]
    reviewed = select(annotations, ExportOptions(reviewed_only=True, tracks=frozenset({1})))
    assert rows(reviewed) == [(1, 0), (1, 2), (1, 3)]  # manual or accepted
    unflagged = select(annotations, ExportOptions(skip_flagged=True, tracks=frozenset({1})))
    assert rows(unflagged) == [(1, 0), (1, 2), (1, 3), (1, 4)]  # frame 1 is still flagged
    assert unflagged.describe() == "1 boxes still flagged for review left out"
    assert flagged_rows(annotations, ExportOptions(skip_flagged=True)) == (1, 14)  # boxes, flags aside
    assert flagged_rows(annotations, ExportOptions(reviewed_only=True)) == (0, 12)  # flagged is unreviewed
    assert flagged_rows(annotations, ExportOptions(first=15)) == (0, 0)  # chooses nothing
    assert select(annotations, ExportOptions(last=500)).frames[-1] == 19  # cut to the video
    assert select(annotations, ExportOptions(first=2)).span() == list(range(2, 12))


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (ExportOptions(tracks=frozenset({7})), "no track 7 (tracks: 1, 2)"),
        (ExportOptions(labels=frozenset({"dog"})), "no track labelled dog (labels: car, person)"),
        (ExportOptions(tracks=frozenset({1}), labels=frozenset({"car"})), "both the chosen ids and labels"),
        (ExportOptions(step=0), "k must be 1 or more"),
        (ExportOptions(first=5, last=4), "starts after it ends"),
        (ExportOptions(first=-1), "numbered from 0"),
        (ExportOptions(first=15), "nothing to export"),
    ],
)
def test_selection_errors(options, words):
    with pytest.raises(SelectionError, match=words.replace("(", r"\(").replace(")", r"\)")):
        select(small_annotations(), options)


# -- the project format -------------------------------------------------------------------------


def test_project_round_trip_is_lossless(tmp_path):
    annotations = small_annotations()
    video = VideoRef(str(tmp_path / "clip.mp4"), "sha256-headtail:ab", 20, 64, 48, 25.0)
    FORMATS["project"].export(ExportJob(annotations, video, tmp_path / "p.siamark.json"))
    back = FORMATS["project"].load(tmp_path / "p.siamark.json", 20)
    assert back.to_dict() == annotations.to_dict()
    saved = json.loads((tmp_path / "p.siamark.json").read_text())
    assert saved["video"]["path"] == "clip.mp4" and saved["video"]["fps"] == 25.0


def test_project_export_applies_the_options(tmp_path):
    video = VideoRef("", "", 20)
    options = ExportOptions(first=2, last=4)
    FORMATS["project"].export(ExportJob(small_annotations(), video, tmp_path / "p.siamark.json", options))
    back = FORMATS["project"].load(tmp_path / "p.siamark.json", 0)
    assert back.track(1).frames() == [2, 3, 4] and back.track(2).frames() == [2, 3, 4]
    assert back.track(1).boxes[4].occluded and back.track(1).boxes[2].score == 0.8


def test_project_errors_name_file_and_line(tmp_path):
    path = tmp_path / "p.siamark.json"
    path.write_text('{"format": "siamark-project",\n "version": 1,\n oops}\n')
    with pytest.raises(FormatError) as error:
        FORMATS["project"].load(path, 0)
    assert error.value.line == 3 and str(error.value).startswith(f"{path}:3: ")
    path.write_text(json.dumps({"format": "siamark-project", "version": 1, "video": {"path": "v.mp4"},
                                "annotations": small_annotations().to_dict()}))  # fmt: skip
    with pytest.raises(FormatError, match="annotates frame 11 .* the video has 5 frames"):
        FORMATS["project"].load(path, 5)


# -- boxes outside the frame, absent frames ------------------------------------------------------


def border_annotations() -> Annotations:
    """On a 64 x 48 frame: a box crossing the right border, one wholly outside, an absent frame."""
    annotations = Annotations(4)
    boxes = {
        0: FrameBox((10, 10, 5, 5)),
        1: FrameBox((60, 40, 10, 10)),  # crosses the right and bottom borders
        2: FrameBox((100, 10, 5, 5)),  # nothing of it inside
        3: FrameBox(None, BoxSource.MANUAL, absent=True),
    }
    annotations.apply(annotations.add_track_edit("car", boxes=boxes))
    return annotations


def test_mot_export_cuts_boxes_to_the_frame_and_says_what_it_left_out(tmp_path):
    """Defects: boxes wholly outside the image were exported, and seqinfo.ini named imDir=img1
    with no images written."""
    job = ExportJob(border_annotations(), VideoRef("", "", 4, 64, 48, 25.0), tmp_path / "mot")
    selection = FORMATS["mot"].export(job)
    lines = (tmp_path / "mot/gt/gt.txt").read_text().splitlines()
    assert [line.split(",")[:6] for line in lines] == [
        ["1", "1", "11", "11", "5", "5"],
        ["2", "1", "61", "41", "4", "8"],
    ]
    assert selection.describe() == "1 boxes cut to the frame; 1 boxes outside the frame left out"
    info = (tmp_path / "mot/seqinfo.ini").read_text()
    assert "imDir" not in info and not (tmp_path / "mot/img1").exists()
    frames = [np.zeros((48, 64, 3), np.uint8)] * 4
    FORMATS["mot"].export(
        ExportJob(border_annotations(), job.video, tmp_path / "mot2", frames=frames.__getitem__)
    )
    assert "imDir=img1" in (tmp_path / "mot2/seqinfo.ini").read_text() and (tmp_path / "mot2/img1").is_dir()


def test_detection_export_leaves_out_frames_where_every_object_is_absent(tmp_path):
    frames = [np.zeros((48, 64, 3), np.uint8)] * 4
    job = ExportJob(
        border_annotations(), VideoRef("", "", 4, 64, 48), tmp_path / "yolo", frames=frames.__getitem__
    )
    selection = FORMATS["yolo"].export(job)
    assert sorted(p.name for p in (tmp_path / "yolo/labels").iterdir()) == [
        "frame_000000.txt",
        "frame_000001.txt",
    ]
    assert "1 frames where every object is absent left out" in selection.describe()


def test_the_project_format_keeps_every_box_as_drawn(tmp_path):
    job = ExportJob(border_annotations(), VideoRef("", "", 4, 64, 48), tmp_path / "p.siamark.json")
    assert FORMATS["project"].export(job).describe() == ""
    back = FORMATS["project"].load(tmp_path / "p.siamark.json", 4)
    assert back.to_dict() == border_annotations().to_dict()


# -- export folders: whole or nothing -----------------------------------------------------------


def mot_job(target, progress=None) -> ExportJob:
    return ExportJob(small_annotations(), VideoRef("", "", 20, 64, 48), Path(target), progress=progress)


def test_unwritable_folder_gives_a_clear_error_and_leaves_nothing(tmp_path):
    if os.geteuid() == 0:  # root ignores permission bits; the kernel still refuses /sys
        parent = Path("/sys")
        if not parent.is_dir():
            pytest.skip("running as root and no /sys to stand for a read-only folder")
    else:
        parent = tmp_path / "locked"
        parent.mkdir()
        parent.chmod(0o555)
    before = sorted(p.name for p in parent.iterdir())
    for name in ("mot", "got10k", "cvat", "project"):
        target = parent / ("x.xml" if name in ("cvat", "project") else "out")
        with pytest.raises(OSError, match="cannot write") as error:
            FORMATS[name].export(mot_job(target))
        assert str(parent) in str(error.value)
    assert sorted(p.name for p in parent.iterdir()) == before


def test_a_folder_holding_files_is_never_overwritten(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep")
    with pytest.raises(OSError, match="already holds files"):
        FORMATS["mot"].export(mot_job(tmp_path / "out"))
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["mine.txt"]
    FORMATS["mot"].export(mot_job(tmp_path / "empty"))  # a new folder is fine
    assert (tmp_path / "empty" / "gt" / "gt.txt").is_file()


def test_cancel_leaves_nothing(tmp_path):
    calls = []

    def progress(done, total):
        calls.append(done)
        return done < 3  # cancel after writing three frames

    job = mot_job(tmp_path / "out", progress)
    job = ExportJob(
        job.annotations,
        job.video,
        job.target,
        frames=lambda i: np.zeros((48, 64, 3), np.uint8),
        progress=progress,
    )
    with pytest.raises(ExportCancelled):
        FORMATS["mot"].export(job)
    assert calls[-1] == 3 and list(tmp_path.iterdir()) == []
