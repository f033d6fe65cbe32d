"""Sequences from fetched repository snapshots (trackers/training/catalogue.py), on a git repo
made here: frames + x,y,w,h, VOT polygon and DAVIS-mask ground truth, by allowlist only."""

from __future__ import annotations

import json
import subprocess

import cv2
import numpy as np
import pytest

from trackers.io import read_groundtruth
from trackers.training.catalogue import (
    SOURCES,
    CatalogueError,
    Entry,
    boxes_from_text,
    load_entries,
    mask_box,
    materialise,
)
from trackers.training.manifest import Manifest, ManifestError
from trackers.training.recipe import RECIPES_DIR


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def bare_mirror(tmp_path, work):
    """Commit ``work`` and leave a bare snapshot of it at <mirror>/someone+data/repo, as fetch
    does; returns (mirror root, commit)."""
    git(work, "init", "-q")
    git(work, "add", ".")
    git(work, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "data")
    commit = git(work, "rev-parse", "HEAD")
    root = tmp_path / "mirror"
    (root / "someone+data").mkdir(parents=True)
    git(tmp_path, "clone", "-q", "--bare", str(work), str(root / "someone+data" / "repo"))
    return root, commit


@pytest.fixture
def mirror(tmp_path):
    """<mirror>/owner+name/repo: a bare snapshot, as fetch leaves it."""
    work = tmp_path / "work"
    (work / "seq" / "img").mkdir(parents=True)
    (work / "masks").mkdir()
    for i in range(5):
        frame = np.full((40, 60, 3), 30 * i, np.uint8)
        cv2.imwrite(str(work / "seq" / "img" / f"{i + 1:05d}.jpg"), frame)
        mask = np.zeros((40, 60), np.uint8)
        if i != 3:  # frame 4: the object is out of view
            mask[10 + i : 20 + i, 5:25] = 255
        cv2.imwrite(str(work / "masks" / f"{i:05d}.png"), mask)
    (work / "seq" / "gt.txt").write_text("".join(f"{i},2,10,12\n" for i in range(4)) + "NaN,NaN,NaN,NaN\n")
    (work / "seq" / "poly.txt").write_text("1,2,11,2,11,22,1,22\n" * 5)
    (work / "other").mkdir()
    (work / "other" / "secret.txt").write_text("not allowlisted")
    return bare_mirror(tmp_path, work)


def entry(commit, name="s", frames="seq/img", gt="seq/gt.txt", fmt="xywh"):
    return Entry(name, "someone/data", commit, frames, gt, fmt, "test", "none")


def test_xywh_sequence_in_otb_layout(mirror, tmp_path):
    root, commit = mirror
    out = materialise(entry(commit), root, tmp_path / "out")
    assert sorted(p.name for p in (out / "img").iterdir()) == [f"{i:04d}.jpg" for i in range(1, 6)]
    gt = read_groundtruth(out / "groundtruth_rect.txt")
    np.testing.assert_array_equal(gt[:4], [[i, 2, 10, 12] for i in range(4)])
    assert np.isnan(gt[4]).all()
    assert json.loads((out / "source.json").read_text())["commit"] == commit
    assert cv2.imread(str(out / "img" / "0003.jpg")).shape == (40, 60, 3)


def test_sub_sequence_starts_at_its_first_annotated_frame(tmp_path):
    work = tmp_path / "work"
    (work / "img").mkdir(parents=True)
    for i in range(5):
        cv2.imwrite(str(work / "img" / f"{i + 1:06d}.jpg"), np.full((20, 30, 3), 40 * i, np.uint8))
    (work / "sub_2.txt").write_text("1,2,10,12\n2,2,10,12\n3,2,10,12\n")  # frames 3-5
    root, commit = bare_mirror(tmp_path, work)
    sub = Entry("sub", "someone/data", commit, "img", "sub_2.txt", "xywh", "test", "none", start=3)
    out = materialise(sub, root, tmp_path / "out")
    assert len(list((out / "img").iterdir())) == 3
    assert abs(cv2.imread(str(out / "img" / "0001.jpg")).mean() - 80) <= 2  # source frame 3
    assert json.loads((out / "source.json").read_text())["start"] == 3
    late = Entry("late", "someone/data", commit, "img", "sub_2.txt", "xywh", "test", "none", start=4)
    with pytest.raises(CatalogueError, match=r"2 frames but 3 boxes \(from frame 4\)"):
        materialise(late, root, tmp_path / "out")


def test_mask_and_polygon_ground_truth(mirror, tmp_path):
    root, commit = mirror
    out = materialise(entry(commit, "m", gt="masks", fmt="mask"), root, tmp_path / "out")
    gt = read_groundtruth(out / "groundtruth_rect.txt")
    np.testing.assert_array_equal(gt[0], [5, 10, 20, 10])  # min/max of the non-zero pixels
    np.testing.assert_array_equal(gt[2], [5, 12, 20, 10])
    assert np.isnan(gt[3]).all()
    out = materialise(entry(commit, "p", gt="seq/poly.txt", fmt="polygon"), root, tmp_path / "out")
    np.testing.assert_array_equal(read_groundtruth(out / "groundtruth_rect.txt")[0], [1, 2, 10, 20])


def test_written_once_and_no_half_sequence(mirror, tmp_path, monkeypatch):
    root, commit = mirror
    out = materialise(entry(commit), root, tmp_path / "out")
    stamp = (out / "groundtruth_rect.txt").stat().st_mtime_ns
    assert materialise(entry(commit), root, tmp_path / "out") == out
    assert (out / "groundtruth_rect.txt").stat().st_mtime_ns == stamp
    monkeypatch.setattr("trackers.training.catalogue.json.dumps", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        materialise(entry(commit, "broken"), root, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["s"]  # nothing half-written


def test_errors(mirror, tmp_path):
    root, commit = mirror
    with pytest.raises(CatalogueError, match="fetch github:nobody/none"):
        materialise(Entry("x", "nobody/none", commit, "a", "b", "xywh", "", ""), root, tmp_path)
    with pytest.raises(CatalogueError, match="frames but"):
        materialise(entry(commit, "few", frames="other"), root, tmp_path / "out")
    with pytest.raises(CatalogueError, match="expected 4"):
        boxes_from_text("1,2,3\n", "xywh")
    assert mask_box(cv2.imencode(".png", np.zeros((4, 4), np.uint8))[1].tobytes()) is None
    bad = tmp_path / "sources.json"
    bad.write_text(json.dumps({"repositories": {}, "sequences": [
        {"name": "a", "repo": "x/y", "frames": "f", "gt": "g", "format": "xywh"}]}))
    with pytest.raises(CatalogueError, match="not listed"):
        load_entries(bad)


def test_shipped_allowlist_and_validation_set():
    entries = load_entries(SOURCES)
    manifest = Manifest.load(RECIPES_DIR / "manifest.json")
    assert len(manifest.validation) >= 12
    assert set(manifest.validation) <= {e.name for e in entries}  # every validation sequence is allowlisted
    assert not set(manifest.validation) & set(manifest.eval)
    with pytest.raises(ManifestError, match="validation"):
        Manifest.from_dict({"train": {"include": [manifest.validation[0]]}, "validation": manifest.validation})
