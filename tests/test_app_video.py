"""Random-access video for the GUI: frame-exact seeking, image sequences, VFR, errors, cache."""

import random
import re
import zlib

import cv2
import numpy as np
import pytest

from app.io.video import ImageSequence, SourceError, VideoFile, open_video

from .shared_data import VIDEOS, needs_shared

H, W = 48, 64


def frame(i: int) -> np.ndarray:
    """Distinct, textured frame i (so an off-by-one frame never compares equal)."""
    rng = np.random.default_rng(i)
    f = cv2.resize(rng.integers(0, 255, (6, 8, 3), dtype=np.uint8), (W, H), interpolation=cv2.INTER_CUBIC)
    cv2.rectangle(f, (i % W, 10), (i % W + 10, 20), (0, 0, 255), -1)
    return f


def write_video(path, n=60, fourcc="mp4v", fps=25):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (W, H))
    assert writer.isOpened()
    for i in range(n):
        writer.write(frame(i))
    writer.release()
    return path


def sequential(path, keep=None) -> tuple[int, dict[int, np.ndarray]]:
    """Reference: a plain cv2 read loop; returns the frame count and the frames in ``keep``."""
    cap = cv2.VideoCapture(str(path))
    frames, n = {}, 0
    while cap.grab():  # grab + retrieve is exactly read(); retrieve only the frames kept
        if keep is None or n in keep:
            frames[n] = cap.retrieve()[1]
        n += 1
    cap.release()
    return n, frames


def seek_plan(n: int, seed: int) -> list[int]:
    """15 random indices, the last and first frames, a few steps back and a few forward."""
    rng = random.Random(seed)
    plan = [rng.randrange(n) for _ in range(15)] + [n - 1, 0]
    back = rng.randrange(min(n - 1, 40), n)
    plan += [back, back - 1, back - 2, back - 3]
    fwd = rng.randrange(max(n - 4, 1))
    plan += [fwd, fwd + 1, fwd + 2]
    return plan


# ------------------------------------------------------------------------------ real videos

SHARED_VIDEOS = sorted(p for p in VIDEOS.iterdir() if p.is_file()) if VIDEOS.is_dir() else []


@needs_shared
@pytest.mark.slow
@pytest.mark.parametrize("path", SHARED_VIDEOS or [None], ids=lambda p: p.name if p else "none")
def test_seeking_is_frame_exact_on_every_shared_video(path):
    video = open_video(path)
    plan = seek_plan(video.frame_count, zlib.crc32(path.name.encode()))
    n_ref, ref = sequential(path, keep=set(plan))
    assert video.frame_count == n_ref
    for i in plan:
        got = video.frame(i)
        assert got.dtype == np.uint8 and got.shape == ref[i].shape
        assert np.array_equal(got, ref[i]), f"{path.name}: frame {i} differs from the sequential decode"
    assert video.size == (ref[0].shape[1], ref[0].shape[0])
    t = np.array([video.timestamp(i) for i in range(video.frame_count)])
    assert t[0] == 0 and (np.diff(t) > 0).all()
    video.close()


@needs_shared
def test_header_that_lies_about_length():
    video = open_video(VIDEOS / "tree.avi")
    assert video.nominal_frame_count == 444 and video.frame_count == 68
    assert video.frame(67).shape == (240, 320, 3)


@needs_shared
@pytest.mark.parametrize(
    "name, variable",
    [("opentracker_oneperson.mp4", True), ("tree.avi", True), ("pysot_bag.avi", False), ("vtest.avi", False)],
)
def test_variable_frame_rate_on_shared_videos(name, variable):
    video = open_video(VIDEOS / name)
    assert video.variable_frame_rate is variable
    assert ("variable" in video.frame_rate_note) is variable
    if not variable:
        assert video.timestamp(10) == pytest.approx(10 / video.fps)


# ------------------------------------------------------------------------------ synthetic videos


@pytest.mark.parametrize("fourcc, ext", [("mp4v", ".mp4"), ("MJPG", ".avi")])
def test_random_seeks_on_written_video(tmp_path, fourcc, ext):
    path = write_video(tmp_path / f"clip{ext}", n=60, fourcc=fourcc)
    n, ref = sequential(path)
    assert n == 60
    video = open_video(path)
    assert isinstance(video, VideoFile) and video.frame_count == 60 and video.size == (W, H)
    assert video.name == "clip" and video.fps == pytest.approx(25)
    assert not video.variable_frame_rate and "constant" in video.frame_rate_note
    order = list(range(60)) + list(range(59, -1, -1))
    random.Random(0).shuffle(order)
    for i in order + [59, 58, 57, 0, 1, 2]:
        assert np.array_equal(video.frame(i), ref[i]), i
    assert video.fallbacks == 0


def test_unidentified_seek_lands_fall_back_to_exact_decoding(tmp_path):
    path = write_video(tmp_path / "clip.mp4", n=50)
    _, ref = sequential(path)
    video = open_video(path)
    video._ms_to_index = {}  # as if no timestamp were trustworthy: every seek is unverifiable
    for i in [40, 10, 49, 9, 8, 30]:
        assert np.array_equal(video.frame(i), ref[i]), i
    assert video.fallbacks > 0


def test_variable_frame_rate_detected_on_synthetic_file(tmp_path):
    from fractions import Fraction

    import av

    path = tmp_path / "vfr.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        pts = 0
        for i in range(30):
            f = av.VideoFrame.from_ndarray(frame(i), format="bgr24")
            f.pts, f.time_base = pts, Fraction(1, 1000)
            pts += 120 if i % 3 == 0 else 40  # a 120 ms gap every third frame
            out.mux(stream.encode(f))
        out.mux(stream.encode())
    video = open_video(path)
    assert video.frame_count == 30 and video.variable_frame_rate
    assert video.timestamp(1) == pytest.approx(0.12) and video.timestamp(2) == pytest.approx(0.16)


def test_progress_is_reported(tmp_path):
    path = write_video(tmp_path / "clip.avi", n=130, fourcc="MJPG")
    calls = []
    open_video(path, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == 128 and all(total >= done for done, total in calls)


def test_cache_stays_within_its_byte_budget(tmp_path):
    path = write_video(tmp_path / "clip.avi", n=40, fourcc="MJPG")
    budget = 5 * H * W * 3
    video = open_video(path, cache_bytes=budget)
    _, ref = sequential(path)
    for i in [3, 30, 29, 28, 27, 26, 10, 0, 39, 20, 21, 22, 5]:
        assert np.array_equal(video.frame(i), ref[i])
        assert video.cache_used_bytes <= budget
    got = video.frame(5)
    assert not got.flags.writeable  # shared with the cache: callers copy before drawing
    with pytest.raises(ValueError):
        got[0, 0] = 0
    with pytest.raises(IndexError):
        video.frame(40)
    video.close()
    assert video.cache_used_bytes == 0
    with pytest.raises(ValueError, match="closed"):
        video.frame(1)


# ------------------------------------------------------------------------------ image sequences


def test_plain_image_folder(tmp_path):
    for i in (1, 2, 10):  # natural order: 10 after 2
        cv2.imwrite(str(tmp_path / f"{i}.png"), frame(i))
    video = open_video(tmp_path)
    assert isinstance(video, ImageSequence)
    assert video.frame_count == 3 and video.size == (W, H) and video.groundtruth is None
    assert np.array_equal(video.frame(2), frame(10)) and np.array_equal(video.frame(0), frame(1))
    assert video.timestamp(2) == pytest.approx(2 / video.fps) and not video.variable_frame_rate


def test_otb_layout(tmp_path):
    seq = tmp_path / "Basketball"
    (seq / "img").mkdir(parents=True)
    for i in range(4):
        cv2.imwrite(str(seq / "img" / f"{i + 1:04d}.png"), frame(i))
    (seq / "groundtruth_rect.txt").write_text("".join(f"{i},10,11,11\n" for i in range(4)))
    video = open_video(seq)
    assert video.name == "Basketball" and video.frame_count == 4
    assert np.array_equal(video.frame(3), frame(3))
    np.testing.assert_array_equal(video.groundtruth[:, 0], [0, 1, 2, 3])


def test_got10k_layout(tmp_path):
    seq = tmp_path / "GOT-10k_Val_000001"
    seq.mkdir()
    for i in range(3):
        cv2.imwrite(str(seq / f"{i + 1:08d}.jpg"), frame(i))
    (seq / "groundtruth.txt").write_text("1,2,3,4\n5,6,7,8\n9,10,11,12\n")
    (seq / "absence.label").write_text("0\n0\n0\n")
    video = open_video(seq)
    assert video.frame_count == 3 and video.groundtruth.shape == (3, 4)
    assert np.array_equal(video.frame(1), cv2.imread(str(seq / "00000002.jpg")))


def test_bad_image_mid_sequence_names_the_file(tmp_path):
    for i in range(4):
        cv2.imwrite(str(tmp_path / f"{i:04d}.png"), frame(i))
    (tmp_path / "0002.png").write_bytes(b"not a png")
    cv2.imwrite(str(tmp_path / "0003.png"), np.zeros((H + 2, W, 3), np.uint8))
    video = open_video(tmp_path)
    assert np.array_equal(video.frame(1), frame(1))
    with pytest.raises(SourceError, match=r"0002\.png.*frame index 2"):
        video.frame(2)
    with pytest.raises(SourceError, match=r"0003\.png.*64x50"):
        video.frame(3)


# ------------------------------------------------------------------------------ errors


def _bad_source(folder, kind):
    if kind == "missing":
        return folder / "missing.mp4"
    if kind == "empty-folder":
        (folder / "nothing").mkdir()
        return folder / "nothing"
    path = folder / {"empty": "empty.mp4", "junk": "junk.avi", "text": "notes.mov"}[kind]
    path.write_bytes({"empty": b"", "junk": bytes(range(256)) * 40, "text": b"hello" * 100}[kind])
    return path


@pytest.mark.parametrize(
    "kind, message",
    [
        ("missing", "not found"),
        ("empty", "empty"),
        ("junk", "cannot open"),
        ("text", "cannot open"),
        ("empty-folder", "no images"),
    ],
)
def test_unreadable_sources_raise_source_error_naming_the_file(tmp_path, kind, message):
    path = _bad_source(tmp_path, kind)
    with pytest.raises(SourceError, match=message) as info:
        open_video(path)
    assert str(path) in str(info.value)


def _mjpg_chunks(data: bytes) -> list[int]:
    start, end = data.find(b"movi"), data.find(b"idx1")
    return [m.start() for m in re.finditer(b"00dc", data) if start < m.start() < end]


def test_corrupt_frame_mid_file_raises_with_its_index(tmp_path):
    path = write_video(tmp_path / "clip.avi", n=40, fourcc="MJPG")
    data = bytearray(path.read_bytes())
    chunk = _mjpg_chunks(bytes(data))[20]
    data[chunk + 8 + 100 : chunk + 8 + 600] = bytes(500)  # wipe part of frame 20's JPEG
    path.write_bytes(bytes(data))
    video = open_video(path)
    assert video.frame_count == 40 and video.bad_frames == {20}
    with pytest.raises(SourceError, match=r"clip\.avi.*frame index 20"):
        video.frame(20)
    cap, ref = cv2.VideoCapture(str(path)), {}
    for i in range(40):  # reference: read on past the failure
        ok, f = cap.read()
        ref[i] = f if ok else None
    for i in [25, 19, 39, 21, 0, 22]:
        assert np.array_equal(video.frame(i), ref[i]), i


def test_file_damaged_after_opening_raises_not_crashes(tmp_path):
    path = write_video(tmp_path / "clip.avi", n=40, fourcc="MJPG")
    video = open_video(path)
    video.frame(0)
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 3)
    with pytest.raises(SourceError, match=r"clip\.avi.*frame index 35"):
        video.frame(35)
    assert video.frame(0).shape == (H, W, 3)  # cached frames are still served
