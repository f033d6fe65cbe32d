"""The app opens a ``siamark batch`` output folder as a review queue: most flagged first."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

import trackers
from app.cli.batch import Item, write_outputs, write_summary
from app.engine.annotate import annotate
from app.engine.batch import VideoOutcome, VideoTask
from app.engine.jobs import TrackerSpec
from app.io.batch_results import read_batch
from app.io.video import open_video
from app.model.annotations import Annotations, FrameBox
from tests.stand_ins import Drifting
from trackers.drift import DriftSettings


def make_batch(tmp_path, monkeypatch):
    """Three videos: "few" (one keyframe: nothing flagged), "many" (two far-apart keyframes: the
    fused stretch is flagged) and "broken" (failed)."""
    monkeypatch.setattr(trackers.multi, "MultiTracker", Drifting)
    out = tmp_path / "out"
    items = []
    for name, keys in (("few", {0: (10, 10, 8, 8)}), ("many", {0: (10, 10, 8, 8), 9: (40, 10, 8, 8)})):
        folder = tmp_path / name
        folder.mkdir()
        for i in range(10):
            cv2.imwrite(str(folder / f"{i + 1:04d}.png"), np.full((60, 80, 3), 20 * i, np.uint8))
        model = Annotations(10)
        model.apply(
            model.add_track_edit("car", boxes={f: FrameBox(b, reviewed=True) for f, b in keys.items()})
        )
        task = VideoTask(str(folder), model.to_dict(), TrackerSpec("siamban-mobilev2"))
        with open_video(folder) as video:
            stats = annotate(video, model, task.spec, DriftSettings())
            ref = {"path": str(folder), "frame_count": 10, "width": 80, "height": 60, "fps": video.fps}
        item = Item(name, task, status="tracked")
        item.stats = write_outputs(
            out, item, VideoOutcome(str(folder), model.to_dict(), ref, stats.__dict__ | {"fps": 1.0}), []
        )["stats"]
        items.append(item)
    broken = Item("broken", VideoTask(str(tmp_path / "nothing"), {}, TrackerSpec("x")), "failed", "no frames")
    items.insert(0, broken)
    write_summary(out, items, "local", 1.0, False)
    return out


def test_batch_folder_lists_most_flagged_first(tmp_path, monkeypatch):
    out = make_batch(tmp_path, monkeypatch)
    entries = read_batch(out)
    assert [(e.name, e.status) for e in entries] == [
        ("many", "tracked"),
        ("few", "tracked"),
        ("broken", "failed"),
    ]
    assert entries[0].flagged > 0 == entries[1].flagged and entries[2].project is None


def test_a_summary_naming_another_folder_is_refused(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps({"per_video": [{"name": "../../etc"}]}))
    with pytest.raises(ValueError, match="video name"):
        read_batch(tmp_path)


def test_the_app_reviews_a_batch_project_after_project(window, tmp_path, monkeypatch):
    out = make_batch(tmp_path, monkeypatch)
    window.tracker_panel.set_tracker("siamfc")
    assert window.files.open_batch(out)
    assert window.batch_dock.isVisible()
    # a correction re-tracks with the tracker the batch used
    assert window.tracker_panel.tracker_name() == "siamban-mobilev2"
    panel = window.batch_panel
    assert [panel.list.topLevelItem(i).text(0) for i in range(3)] == ["many", "few", "broken"]
    assert window.session.project_path == out / "many" / "many.siamark.json"
    assert window.session.annotations.track(1).flagged_frames()  # the flags came with it
    assert panel.list.currentItem().text(0) == "many"
    assert window.files.next_batch_project()
    assert window.session.project_path == out / "few" / "few.siamark.json"
    assert not window.files.next_batch_project()  # the failed one has no project
    assert window.session.project_path == out / "few" / "few.siamark.json"


def test_a_folder_without_batch_results_says_so(window, tmp_path):
    assert not window.files.open_batch(tmp_path)
    assert "not a Siamark batch summary" in window.last_error
