"""Frame sources, ground-truth parsing and box text."""

import re

import cv2
import numpy as np
import pytest

from trackers.io import (
    ImageFolderSource,
    SourceError,
    VideoSource,
    atomic_write_text,
    format_box,
    open_source,
    parse_box,
    read_groundtruth,
    write_boxes,
)

H, W = 48, 64


def frame(i: int) -> np.ndarray:
    """Frame i: background grey level 10*i (so order can be checked), a red square moving right."""
    f = np.full((H, W, 3), 10 * i, np.uint8)
    cv2.rectangle(f, (2 * i, 10), (2 * i + 10, 20), (0, 0, 255), -1)
    return f


def write_video(path, n=12, fourcc="MJPG"):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10, (W, H))
    assert writer.isOpened()
    for i in range(n):
        writer.write(frame(i))
    writer.release()
    return path


def mjpg_chunks(data: bytes) -> list[int]:
    """Offsets of the per-frame '00dc' chunks inside an AVI's movi list."""
    start, end = data.find(b"movi"), data.find(b"idx1")
    return [m.start() for m in re.finditer(b"00dc", data) if start < m.start() < end]


# ------------------------------------------------------------------------------ folders


def test_otb_sequence(tmp_path):
    (tmp_path / "seq" / "img").mkdir(parents=True)
    for i in range(5):
        cv2.imwrite(str(tmp_path / "seq" / "img" / f"{i + 1:04d}.png"), frame(i))
    (tmp_path / "seq" / "groundtruth_rect.txt").write_text("".join(f"{2 * i},10,11,11\n" for i in range(5)))
    src = open_source(tmp_path / "seq")
    assert isinstance(src, ImageFolderSource)
    assert len(src) == 5 and src.name == "seq"
    frames = list(src)
    assert len(frames) == 5
    assert all(f.shape == (H, W, 3) and f.dtype == np.uint8 for f in frames)
    assert [int(f[-1, -1, 0]) for f in frames] == [0, 10, 20, 30, 40]
    np.testing.assert_array_equal(src.groundtruth[:, 0], [0, 2, 4, 6, 8])
    assert len(src.read_all(max_frames=3)) == 3


def test_image_folder_natural_order_and_no_groundtruth(tmp_path):
    for i in (1, 2, 10):  # "10" must come after "2"
        cv2.imwrite(str(tmp_path / f"{i}.jpg"), frame(i))
    (tmp_path / "notes.txt").write_text("not an image")
    src = open_source(tmp_path)
    assert src.groundtruth is None and len(src) == 3
    levels = [int(np.median(f[:, -1, 0])) for f in src]
    assert [round(v / 10) for v in levels] == [1, 2, 10]


def test_grayscale_images_come_back_as_bgr(tmp_path):
    cv2.imwrite(str(tmp_path / "0001.png"), np.full((H, W), 77, np.uint8))
    (f,) = list(open_source(tmp_path))
    assert f.shape == (H, W, 3) and (f == 77).all()


def test_empty_folder(tmp_path):
    with pytest.raises(SourceError, match="no images"):
        open_source(tmp_path)


def test_corrupt_image_names_file_and_index(tmp_path):
    cv2.imwrite(str(tmp_path / "0001.png"), frame(0))
    (tmp_path / "0002.png").write_bytes(b"this is not a png")
    src = open_source(tmp_path)
    with pytest.raises(SourceError, match=r"0002\.png.*index 1"):
        list(src)


def test_missing_path(tmp_path):
    with pytest.raises(SourceError, match="not found") as info:
        open_source(tmp_path / "nope.mp4")
    assert "nope.mp4" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_single_image_is_refused(tmp_path):
    cv2.imwrite(str(tmp_path / "a.jpg"), frame(0))
    with pytest.raises(SourceError, match="single image"):
        open_source(tmp_path / "a.jpg")


# ------------------------------------------------------------------------------- videos


def test_video(tmp_path):
    src = open_source(write_video(tmp_path / "clip.avi"))
    assert isinstance(src, VideoSource)
    assert len(src) == 12 and src.name == "clip"
    assert src.fps == pytest.approx(10)
    frames = list(src)
    assert len(frames) == 12
    assert frames[0].shape == (H, W, 3) and frames[0].dtype == np.uint8
    assert abs(int(np.median(frames[5][40:, :, 1])) - 50) <= 3  # lossy codec: approximately grey 50
    assert len(list(src)) == 12  # iterating again re-opens the file


def test_mp4_video(tmp_path):
    src = open_source(write_video(tmp_path / "clip.mp4", n=6, fourcc="mp4v"))
    assert len(src) == 6 and len(src.read_all()) == 6


def test_empty_video_file(tmp_path):
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(SourceError, match="empty.mp4"):
        open_source(tmp_path / "empty.mp4")


def test_garbage_video_file(tmp_path):
    (tmp_path / "junk.avi").write_bytes(np.random.default_rng(0).integers(0, 255, 5000, np.uint8).tobytes())
    with pytest.raises(SourceError, match=r"junk\.avi.*cannot open"):
        open_source(tmp_path / "junk.avi")


def test_corrupt_frame_mid_video_names_file_and_index(tmp_path):
    data = bytearray(write_video(tmp_path / "clip.avi").read_bytes())
    chunks = mjpg_chunks(data)
    assert len(chunks) == 12
    at = chunks[5]
    size = int.from_bytes(data[at + 4 : at + 8], "little")
    data[at + 8 : at + 8 + size] = bytes(size)  # frame 5's JPEG becomes zeros; frames 6.. stay good
    (tmp_path / "bad.avi").write_bytes(bytes(data))
    src = open_source(tmp_path / "bad.avi")
    with pytest.raises(SourceError, match=r"bad\.avi.*frame index 5"):
        list(src)


def test_video_shorter_than_its_header_just_ends(tmp_path):
    # Like OpenCV's own tree.avi (header 444 frames, 68 decodable): not an error, but reported.
    data = write_video(tmp_path / "clip.avi").read_bytes()
    (tmp_path / "cut.avi").write_bytes(data[: mjpg_chunks(data)[5]])
    src = open_source(tmp_path / "cut.avi")
    assert len(src) == 12
    assert len(list(src)) == 5
    assert src.decoded_frames == 5


# -------------------------------------------------------------------------- groundtruth


def test_groundtruth_separators_nan_and_blank_lines(tmp_path):
    p = tmp_path / "gt.txt"
    p.write_text(
        "1,2,3,4\n5\t6\t7\t8\n 9  10 11   12 \n\n13, 14,\t15 ,16\nNaN,NaN,NaN,NaN\nnan\n1.5e1,0,2,2\r\n"
    )
    gt = read_groundtruth(p)
    assert gt.shape == (7, 4)
    np.testing.assert_array_equal(gt[:4], [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]])
    assert np.isnan(gt[4]).all() and np.isnan(gt[5]).all()
    np.testing.assert_array_equal(gt[6], [15, 0, 2, 2])


def test_groundtruth_tab_separated_otb_file(tmp_path):
    p = tmp_path / "groundtruth_rect.txt"
    p.write_text("205\t151\t17\t50\n204\t150\t17\t50\n")
    np.testing.assert_array_equal(read_groundtruth(p), [[205, 151, 17, 50], [204, 150, 17, 50]])


@pytest.mark.parametrize(
    "text, match",
    [
        ("1,2,3,4\n1,2,3\n", r"gt\.txt:2: expected 4 values"),
        ("1,2,3,4\n1,2,3,4,5,6,7,8\n", "polygon"),
        ("1,2,x,4\n", r"gt\.txt:1: not numbers"),
        ("\n\n", "no boxes"),
    ],
)
def test_groundtruth_errors(tmp_path, text, match):
    (tmp_path / "gt.txt").write_text(text)
    with pytest.raises(SourceError, match=match):
        read_groundtruth(tmp_path / "gt.txt")


def test_groundtruth_missing(tmp_path):
    with pytest.raises(SourceError, match="not found"):
        read_groundtruth(tmp_path / "gt.txt")


# ---------------------------------------------------------------------------- box text


@pytest.mark.parametrize(
    "text, box",
    [("1,2,3,4", (1, 2, 3, 4)), ("1 2 3 4", (1, 2, 3, 4)), (" -1.5, 2 ,3.25,4 ", (-1.5, 2, 3.25, 4))],
)
def test_parse_box(text, box):
    assert parse_box(text) == box


@pytest.mark.parametrize("text", ["1,2,3", "1,2,3,4,5", "a,b,c,d", "1,2,0,4", "1,2,3,-4", "nan,1,2,3", ""])
def test_parse_box_rejects(text):
    with pytest.raises(ValueError):
        parse_box(text)


def test_write_boxes_round_trip_and_atomic(tmp_path):
    boxes = [(292.23, 128.36, 145.96, 132.47), (10.0, 20.5, 30.125, 40.0)]
    assert format_box(boxes[1]) == "10,20.5,30.125,40"
    out = tmp_path / "out.txt"
    out.write_text("old content\n")
    write_boxes(out, boxes)
    np.testing.assert_allclose(read_groundtruth(out), boxes)
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temporary file left behind


def test_atomic_write_needs_an_existing_folder(tmp_path):
    with pytest.raises(OSError, match="does not exist"):
        atomic_write_text(tmp_path / "missing" / "out.txt", "x")
    with pytest.raises(OSError, match="is a folder"):
        atomic_write_text(tmp_path, "x")
