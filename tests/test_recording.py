"""Recording the view (File > Record view…, File > Save view as PNG…): MP4 / GIF / PNG read back,
frame-exact, with the boxes where the view draws them; Cancel and errors leave nothing."""

from __future__ import annotations

import errno
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PIL import Image

from app.io.recording import gif_durations, output_size, suggested_path
from app.model.annotations import tracked_box
from app.ui.view_renderer import ViewOptions, ViewRenderer
from trackers.base import MapGeometry

FRAMES, W, H = 10, 160, 120
BOX_W, BOX_H = 40, 30


def box_at(i: int) -> tuple[float, float, float, float]:
    return (20.0 + 8 * i, 50.0, float(BOX_W), float(BOX_H))


@pytest.fixture
def clip(tmp_path) -> Path:
    folder = tmp_path / "clip"
    folder.mkdir()
    for i in range(FRAMES):
        frame = np.full((H, W, 3), 40 + 10 * i, np.uint8)  # every frame differs
        cv2.imwrite(str(folder / f"{i + 1:04d}.png"), frame)
    return folder


@pytest.fixture
def tracked(window, clip):
    win = window
    """The clip with one track: a keyframe at 0, tracked boxes (a stand-in run) on 1..7, and
    response maps on frames 2 and 3."""
    assert win.files.open_path(clip)
    win.set_box(box_at(0))
    session = win.session
    track = session.selected_track
    response = np.zeros((16, 16), np.float32)
    response[6:10, 6:10] = 1.0
    for i in range(1, 8):
        maps = i in (2, 3)
        geometry = MapGeometry(box_at(i)[0] + 20 - 7.5 * 4, 65 - 7.5 * 4, 4.0) if maps else None
        session.store_tracked(
            track, i, tracked_box(box_at(i), 0.5 + 0.05 * i), response if maps else None, geometry
        )
    win.presenter.refresh()
    return win


def track_rgb(win) -> np.ndarray:
    colour = win.session.annotations.tracks[win.session.selected_track].color
    return np.array([int(colour[k : k + 2], 16) for k in (1, 3, 5)], float)


def left_edge_colour(rgb: np.ndarray, box) -> np.ndarray:
    """Mean colour of the box's left outline (2 px wide at x = box x) over its middle half."""
    x, y, _w, h = (round(v) for v in box)
    return rgb[y + h // 4 : y + 3 * h // 4, x - 1 : x + 1].reshape(-1, 3).astype(float).mean(axis=0)


def record(win, qtbot, fmt: str, target: Path, strip: bool = False, width: int | None = None):
    dialog = win.record_view()
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData(fmt))
    dialog.strip_check.setChecked(strip)
    if width is not None:
        dialog.width_spin.setValue(width)
    dialog.target_edit.setText(str(target))
    with qtbot.waitSignal(dialog.accepted, timeout=20000):
        dialog.start()
    return dialog


# -- the pieces ------------------------------------------------------------------------------------


def test_sizes_names_and_gif_timing():
    assert output_size((1920, 1080), 640) == (640, 360)
    assert output_size((161, 121), 161) == (160, 120)  # even, for MPEG-4
    assert suggested_path("/v/walk.avi", "gif", (3, 9)) == Path("/v/walk_view_3-9.gif")
    assert suggested_path("/v/walk.avi", "png", (4, 4)) == Path("/v/walk_view_4.png")
    durations = gif_durations(30, 30.0)
    assert sum(durations) == 1000 and set(durations) == {30, 40}  # 1 s, not 0.9 s
    assert gif_durations(5, 25.0) == [40] * 5


# -- the dialog's choices -----------------------------------------------------------------------


def test_dialog_offers_the_track_the_marked_range_and_the_video(tracked):
    win = tracked
    dialog = win.record_view()
    assert dialog.frames() == range(8)  # the track's frames, first choice without a mark
    assert dialog.target_edit.text() == str(suggested_path(win.session.video.path, "mp4", (0, 7)))
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("gif"))
    assert dialog.target_edit.text().endswith("clip_view_0-7.gif")
    assert dialog.width_spin.value() == W  # small video: GIF keeps its width
    dialog.reject()
    win.session.set_range((2, 5))
    dialog = win.record_view()
    assert dialog.frames() == range(2, 6)  # the marked range comes first
    texts = [dialog.range_combo.itemText(i) for i in range(dialog.range_combo.count())]
    assert any("Whole video" in t for t in texts) and any("Tracked frames of #" in t for t in texts)
    dialog.range_combo.setCurrentIndex(len(texts) - 1)
    assert dialog.frames() == range(FRAMES)
    dialog.reject()


def test_record_is_disabled_while_tracking_and_needs_a_video(window):
    win = window
    assert win.record_view() is None and "Open a video" in win.last_error
    win.runs.running_changed.emit(True)
    assert not win.record_action.isEnabled()
    win.runs.running_changed.emit(False)
    assert win.record_action.isEnabled()
    assert win.record_action.shortcut().toString() == "Ctrl+Shift+R"


# -- MP4 and GIF ------------------------------------------------------------------------------------


def test_mp4_has_every_frame_at_the_video_rate_with_the_box_drawn(tracked, qtbot, tmp_path):
    win = tracked
    target = tmp_path / "out" / "run.mp4"
    target.parent.mkdir()
    dialog = record(win, qtbot, "mp4", target)
    assert dialog.recorded_to == target and "Recorded 8 frames" in win.statusBar().currentMessage()
    assert sorted(p.name for p in target.parent.iterdir()) == ["run.mp4"]  # no temporary left

    capture = cv2.VideoCapture(str(target))
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(30.0)
    frames = []
    while (ok_frame := capture.read())[0]:
        frames.append(cv2.cvtColor(ok_frame[1], cv2.COLOR_BGR2RGB))
    capture.release()
    assert len(frames) == 8 and frames[0].shape == (H, W, 3)
    colour = track_rgb(win)
    for i in (0, 5):  # the keyframe and a tracked frame: the outline where the box is
        assert np.abs(left_edge_colour(frames[i], box_at(i)) - colour).max() < 60
        assert np.abs(left_edge_colour(frames[i], box_at(i + 2)) - colour).max() > 60  # not elsewhere

    with av.open(str(target)) as container:
        stream = container.streams.video[0]
        assert float(stream.average_rate) == pytest.approx(30.0)
        assert sum(1 for _ in container.decode(stream)) == 8


def test_gif_has_every_frame_its_timing_and_the_strip(tracked, qtbot, tmp_path):
    win = tracked
    target = tmp_path / "run.gif"
    record(win, qtbot, "gif", target, strip=True)
    with Image.open(target) as gif:
        assert gif.n_frames == 8
        pictures, durations = [], []
        for i in range(gif.n_frames):
            gif.seek(i)
            durations.append(gif.info["duration"])
            pictures.append(np.asarray(gif.convert("RGB")))
    assert sum(durations) == pytest.approx(8 * 1000 / 30, abs=10)
    strip_height = win.timeline.plot.height()
    assert pictures[0].shape == (H + strip_height, W, 3)
    colour = track_rgb(win)
    assert np.abs(left_edge_colour(pictures[4], box_at(4)) - colour).max() < 40
    # The strip's current-frame marker (yellow) moves right from frame to frame.
    yellow = np.array([0xFF, 0xD4, 0x00])

    def marker_x(picture):
        strip = picture[H + 10 : H + strip_height - 25].astype(float)
        columns = (np.abs(strip - yellow).max(axis=2) < 50).sum(axis=0)
        return int(np.argmax(columns))

    assert marker_x(pictures[0]) < marker_x(pictures[4]) < marker_x(pictures[7])


def test_overlay_is_drawn_only_where_a_map_is_kept(tracked):
    win = tracked
    session = win.session

    def picture(overlay: bool, frame: int) -> np.ndarray:
        renderer = ViewRenderer(session, ViewOptions(W, overlay=overlay, overlay_opacity=1.0, strip=False))
        try:
            return renderer.render_rgb(frame).astype(int)
        finally:
            renderer.close()

    centre = (slice(58, 72), slice(int(box_at(2)[0]) + 14, int(box_at(2)[0]) + 26))
    assert np.abs(picture(True, 2)[centre] - picture(False, 2)[centre]).max() > 80  # the peak, coloured
    np.testing.assert_array_equal(picture(True, 5), picture(False, 5))  # no map kept for frame 5


# -- the PNG still ------------------------------------------------------------------------------


def test_png_is_the_frame_as_rendered(tracked, tmp_path):
    win = tracked
    win.go_to(3, now=True)
    target = tmp_path / "still.png"
    assert win.save_view_png(target) == target
    saved = cv2.cvtColor(cv2.imread(str(target)), cv2.COLOR_BGR2RGB)
    renderer = ViewRenderer(win.session, ViewOptions(W, False, 0.6, strip=True))
    try:
        expected = renderer.render_rgb(3)
    finally:
        renderer.close()
    np.testing.assert_array_equal(saved, expected)
    assert np.abs(left_edge_colour(saved, box_at(3)) - track_rgb(win)).max() < 10
    assert "Saved frame 3" in win.statusBar().currentMessage()
    # The visible view was not disturbed by the offscreen rendering.
    assert win.presenter.displayed_frame == 3 and win.view.frame_size == (W, H)


def test_png_into_a_missing_folder_says_so(tracked, tmp_path):
    win = tracked
    assert win.save_view_png(tmp_path / "nope" / "still.png") is None
    assert "does not exist" in win.last_error


# -- cancel and errors leave nothing ----------------------------------------------------------------


def test_cancel_leaves_no_file(tracked, qtbot, tmp_path):
    win = tracked
    folder = tmp_path / "out"
    folder.mkdir()
    dialog = win.record_view()
    dialog.target_edit.setText(str(folder / "run.mp4"))
    dialog.start()
    assert dialog.running and dialog.close_button.text() == "Cancel"
    assert not dialog.format_combo.isEnabled()
    dialog.close_button.click()  # Cancel
    assert not dialog.running and "cancelled" in dialog.status_label.text()
    assert list(folder.iterdir()) == []
    assert dialog.isVisible() and dialog.record_button.isEnabled()
    # Closing the dialog mid-recording cancels too, and closes it.
    dialog.start()
    dialog.reject()
    assert not dialog.isVisible() and list(folder.iterdir()) == []


def test_unwritable_target_gives_a_clear_error(tracked, tmp_path):
    win = tracked
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    dialog = win.record_view()
    dialog.target_edit.setText(str(blocker / "run.mp4"))
    dialog.start()
    assert not dialog.running and dialog.isVisible()
    assert (
        "Cannot write into" in dialog.status_label.text() and "does not exist" in dialog.status_label.text()
    )
    dialog.target_edit.setText(str(tmp_path))  # a folder, not a file name
    dialog.start()
    assert "is a folder" in dialog.status_label.text()
    dialog.reject()


def test_a_full_disk_fails_cleanly(tracked, qtbot, tmp_path, monkeypatch):
    win = tracked

    def no_space(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", no_space)
    folder = tmp_path / "out"
    folder.mkdir()
    dialog = win.record_view()
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("gif"))
    dialog.target_edit.setText(str(folder / "run.gif"))
    dialog.start()
    qtbot.waitUntil(lambda: not dialog.running, timeout=20000)
    assert "the disk is full" in dialog.status_label.text()
    assert dialog.isVisible() and dialog.recorded_to is None
    assert list(folder.iterdir()) == []
    dialog.reject()
