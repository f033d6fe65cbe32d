"""Training data readers (trackers/training/datasets.py) on tiny data made here, and one real OTB
folder. The ``write_*`` helpers are shared with the other test_training_* files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.shared_data import SEQUENCES, needs_shared
from trackers.training.datasets import (
    DatasetError,
    discover,
    mask_boxes,
    mask_ids,
    read_davis,
    read_detection,
    read_got10k,
    read_otb,
    read_video,
)


def textured_frames(
    n: int, seed: int = 0, hw=(120, 160), side: int = 32
) -> tuple[list[np.ndarray], np.ndarray]:
    """Frames of a smooth dark background with a bright checkerboard square moving across it."""
    rng = np.random.default_rng(seed)
    h, w = hw
    bg = cv2.GaussianBlur(rng.integers(0, 90, (h, w, 3), dtype=np.uint8), (0, 0), 5)
    tile = (np.indices((side, side)).sum(0) // 4 % 2).astype(bool)
    colour = rng.integers(150, 256, 3)
    frames, boxes = [], []
    for i in range(n):
        x, y = 10 + 6 * i + rng.integers(0, 4), 20 + 3 * i + rng.integers(0, 4)
        f = bg.copy()
        patch = f[y : y + side, x : x + side]
        patch[tile] = colour
        frames.append(f)
        boxes.append((x, y, side, side))
    return frames, np.asarray(boxes, dtype=np.float64)


def write_otb(folder: Path, frames, boxes, extra: dict[str, np.ndarray] | None = None) -> Path:
    (folder / "img").mkdir(parents=True)
    for i, f in enumerate(frames, start=1):
        cv2.imwrite(str(folder / "img" / f"{i:04d}.png"), f)
    for name, b in {"groundtruth_rect.txt": boxes, **(extra or {})}.items():
        lines = ["NaN,NaN,NaN,NaN" if np.isnan(r).any() else ",".join(f"{v:g}" for v in r) for r in b]
        (folder / name).write_text("\n".join(lines) + "\n")
    return folder


def write_synthetic_otb(root: Path, names=("seq_a", "seq_b", "seq_c"), n: int = 8) -> Path:
    for k, name in enumerate(names):
        frames, boxes = textured_frames(n, seed=k)
        write_otb(root / name, frames, boxes)
    return root


# --- OTB / LaSOT / GOT-10k ---------------------------------------------------------------------


def test_otb_reader_with_second_target_and_absent_frames(tmp_path):
    frames, boxes = textured_frames(5)
    second = boxes + 5
    second[2] = np.nan
    write_otb(tmp_path / "jog", frames, boxes, {"groundtruth_rect_2.txt": second})
    tracks = read_otb(tmp_path / "jog")
    assert [t.name for t in tracks] == ["jog", "jog#2"]
    assert all(t.sequence == "jog" and t.kind == "sequence" and len(t.frames) == 5 for t in tracks)
    np.testing.assert_array_equal(tracks[0].boxes, boxes)
    assert np.isnan(tracks[1].boxes[2]).all() and list(tracks[1].visible) == [0, 1, 3, 4]
    assert tracks[0].frames[0].endswith("0001.png")


def test_lasot_flags_and_short_groundtruth(tmp_path):
    frames, boxes = textured_frames(4)
    folder = tmp_path / "airplane-1"
    write_otb(folder, frames, boxes[:3])  # one box short: the last frame has none
    (folder / "groundtruth_rect.txt").rename(folder / "groundtruth.txt")
    (folder / "out_of_view.txt").write_text("0,1,0,0\n")
    (track,) = read_otb(folder)
    assert list(track.visible) == [0, 2]


def test_got10k_reader_absence(tmp_path):
    frames, boxes = textured_frames(3)
    folder = tmp_path / "GOT-10k_Train_000001"
    folder.mkdir()
    for i, f in enumerate(frames, start=1):
        cv2.imwrite(str(folder / f"{i:08d}.jpg"), f)
    np.savetxt(folder / "groundtruth.txt", boxes, delimiter=",", fmt="%g")
    (folder / "absence.label").write_text("0\n1\n0\n")
    (track,) = read_got10k(folder)
    assert track.name == "GOT-10k_Train_000001" and list(track.visible) == [0, 2]
    assert discover(tmp_path)[0].name == track.name


# --- DAVIS ---------------------------------------------------------------------------------------


def test_davis_masks_to_boxes_per_object(tmp_path):
    images = tmp_path / "JPEGImages" / "480p" / "cows"
    annotations = tmp_path / "Annotations" / "480p" / "cows"
    images.mkdir(parents=True)
    annotations.mkdir(parents=True)
    for i in range(3):
        cv2.imwrite(str(images / f"{i:05d}.jpg"), np.zeros((40, 60, 3), np.uint8))
        mask = np.zeros((40, 60, 3), np.uint8)
        mask[5 + i : 15 + i, 10:30] = (0, 0, 128)  # object 1 (palette colour, read as BGR)
        if i != 1:
            mask[20:31, 40:45] = (0, 128, 0)  # object 2, absent in frame 1
        cv2.imwrite(str(annotations / f"{i:05d}.png"), mask)
    tracks = read_davis(tmp_path)
    assert [t.name for t in tracks] == ["cows#1", "cows#2"]
    assert all(t.kind == "davis" and t.sequence == "cows" for t in tracks)
    one = {tuple(b) for b in tracks[0].boxes}
    assert one == {(10.0, 5.0 + i, 20.0, 10.0) for i in range(3)}  # w = xmax - xmin + 1
    np.testing.assert_array_equal(tracks[1].boxes[0], [40, 20, 5, 11])
    assert list(tracks[1].visible) == [0, 2]
    assert [t.name for t in discover(tmp_path)] == ["cows#1", "cows#2"]


def test_davis_grey_mask_is_one_object():
    mask = np.zeros((10, 10), np.uint8)
    mask[2:4, 3:8] = 255
    assert mask_boxes(mask_ids(mask)) == {255: (3.0, 2.0, 5.0, 2.0)}


# --- still images ------------------------------------------------------------------------------


def test_detection_csv_voc_corners(tmp_path):
    (tmp_path / "images").mkdir()
    cv2.imwrite(str(tmp_path / "images" / "a.jpg"), np.zeros((50, 80, 3), np.uint8))
    (tmp_path / "annotations.csv").write_text(
        "filename,width,height,class,xmin,ymin,xmax,ymax\na.jpg,80,50,raccoon,1,1,10,20\na.jpg,80,50,raccoon,30,5,70,45\n"
    )
    tracks = read_detection(tmp_path)
    assert [t.name for t in tracks] == ["a#1", "a#2"]
    np.testing.assert_array_equal(tracks[0].boxes, [[0, 0, 10, 20]])  # VOC: 1-based, inclusive
    assert tracks[1].kind == "detection" and len(tracks[1].frames) == 1


def test_detection_csv_missing_column(tmp_path):
    (tmp_path / "annotations.csv").write_text("filename,x,y\n")
    with pytest.raises(DatasetError, match="missing column"):
        read_detection(tmp_path)


# --- unlabelled video --------------------------------------------------------------------------


def test_video_is_decoded_once_into_the_cache(tmp_path):
    frames, _ = textured_frames(6)
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 120))
    for f in frames:
        writer.write(f)
    writer.release()
    (track,) = read_video(path, tmp_path / "cache")
    assert track.kind == "video" and track.boxes is None and len(track.frames) == 6
    assert list(track.visible) == list(range(6))
    stamp = Path(track.frames[0]).stat().st_mtime_ns
    (again,) = read_video(path, tmp_path / "cache")
    assert again.frames == track.frames and Path(again.frames[0]).stat().st_mtime_ns == stamp


def test_discover_mixed_root_and_errors(tmp_path):
    write_synthetic_otb(tmp_path / "sequences", n=3)
    assert sorted(t.name for t in discover(tmp_path)) == ["seq_a", "seq_b", "seq_c"]
    with pytest.raises(DatasetError, match="not found"):
        discover(tmp_path / "missing")


@needs_shared
def test_real_otb_two_targets():
    tracks = read_otb(SEQUENCES / "otb_jogging")
    assert [t.name for t in tracks] == ["otb_jogging", "otb_jogging#2"]
    assert all(len(t.frames) == 307 for t in tracks)
    np.testing.assert_array_equal(tracks[0].boxes[0], [111, 98, 25, 101])
    np.testing.assert_array_equal(tracks[1].boxes[0], [180, 79, 37, 114])
