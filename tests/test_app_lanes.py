"""The all-tracks timeline (one lane per track) and frame navigation: the pure runs function, what
the lanes paint, clicks and tooltips, the Playback menu's jumps, the frame box, playback speed
and the docks at a small window size."""

from __future__ import annotations

import math
import time

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QHelpEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolTip

from app.model.annotations import BoxSource, FrameBox, Track, tracked_box
from app.model.spans import FrameState, Span, flagged_spans, frame_state, keyframe_marks, runs, track_spans
from app.services.settings import Settings
from app.ui.track_lanes import BODY, FLAG_COLOUR, ROW_HEIGHT

BOX = (4.0, 4.0, 10.0, 10.0)

# -- runs of states (pure) ---------------------------------------------------------------------


def test_runs_merge_consecutive_equal_states_only():
    states = [(0, "a"), (1, "a"), (2, "b"), (4, "b"), (5, "b"), (6, "a")]
    assert runs(states) == [Span(0, 1, "a"), Span(2, 2, "b"), Span(4, 5, "b"), Span(6, 6, "a")]
    assert runs([]) == []


def test_frame_state_absent_and_occluded_win_over_the_source():
    assert frame_state(FrameBox(BOX)) is FrameState.MANUAL
    assert frame_state(tracked_box(BOX, 0.9)) is FrameState.TRACKED
    assert frame_state(FrameBox(BOX, BoxSource.INTERPOLATED)) is FrameState.INTERPOLATED
    assert frame_state(tracked_box(BOX, 0.9).with_(occluded=True)) is FrameState.OCCLUDED
    assert frame_state(FrameBox(None, absent=True)) is FrameState.ABSENT


def test_track_spans_keyframes_and_flags():
    track = Track(1)
    track.boxes = {
        0: FrameBox(BOX),
        **{f: tracked_box(BOX, 0.8) for f in range(1, 5)},
        5: tracked_box(BOX, 0.3, flag="score drop"),
        6: tracked_box(BOX, 0.2, flag="score drop"),
        7: FrameBox(BOX, BoxSource.INTERPOLATED),
        9: FrameBox(None, absent=True),
        10: FrameBox(None, absent=True),
        11: FrameBox(BOX).with_(occluded=True),
    }
    assert track_spans(track) == [
        Span(0, 0, FrameState.MANUAL),
        Span(1, 6, FrameState.TRACKED),  # flags do not split a run: they are marks on top
        Span(7, 7, FrameState.INTERPOLATED),
        Span(9, 10, FrameState.ABSENT),  # frame 8 is a gap: not annotated
        Span(11, 11, FrameState.OCCLUDED),
    ]
    assert flagged_spans(track) == [Span(5, 6, True)]
    assert keyframe_marks(track) == [0, 11]  # absent frames are manual but drawn as absent


def test_track_spans_of_a_long_track_is_a_handful_of_runs():
    track = Track(1)
    track.boxes = {f: tracked_box(BOX, 0.9) for f in range(100_000)}
    track.boxes[50_000] = FrameBox(BOX)
    assert len(track_spans(track)) == 3


# -- the lanes in the window -------------------------------------------------------------------


@pytest.fixture
def long_folder(tmp_path):
    folder = tmp_path / "long"
    folder.mkdir()
    for i in range(250):
        cv2.imwrite(str(folder / f"{i:05d}.png"), np.full((24, 32, 3), i % 255, np.uint8))
    return folder


def new_track_box(win, box) -> None:
    """A box drawn for a new track; the class picker that pops up for it is dismissed."""
    win.new_track()
    win.set_box(box)
    while (popup := QApplication.activePopupWidget()) is not None:
        popup.close()


def three_tracks(win) -> None:
    """Track 1: keyframes 0 and 5, interpolated between; track 2: one keyframe on frame 2;
    track 3: a keyframe on 0 and absent on 3."""
    win.go_to(0, now=True)
    win.set_box(BOX)
    win.go_to(5, now=True)
    win.set_box((14.0, 4.0, 10.0, 10.0))
    win.editing.interpolate()
    win.go_to(2, now=True)
    new_track_box(win, (20.0, 20.0, 10.0, 10.0))
    win.go_to(0, now=True)
    new_track_box(win, (30.0, 20.0, 10.0, 10.0))
    win.go_to(3, now=True)
    win.editing.toggle_flag("absent")


def lane_x(win, frame: float) -> int:
    canvas = win.timeline.lanes.canvas
    first, last, left, right = win.timeline.plot.frame_axis(canvas)
    return round(left + (frame - first) * (right - left) / (last - first))


def body_y(row: int) -> int:
    return row * ROW_HEIGHT + BODY[0] + BODY[1] // 2


def painted(win, x: int, y: int) -> QColor:
    return win.timeline.lanes.canvas.grab().toImage().pixelColor(x, y)


def close_to(colour: QColor, expected: str, tolerance: int = 40) -> bool:
    want = QColor(expected)
    return all(abs(a - b) <= tolerance for a, b in zip(colour.getRgb()[:3], want.getRgb()[:3], strict=True))


def test_one_lane_per_track_painted_in_its_states(window, image_folder):
    assert window.files.open_path(image_folder)
    lanes = window.timeline.lanes
    assert lanes.lane_count() == 0
    three_tracks(window)
    window.presenter.repaint()
    assert lanes.lane_count() == 3
    assert lanes.height() == 3 * ROW_HEIGHT
    tracks = window.session.annotations.tracks
    canvas = lanes.canvas
    assert [s.state for s in canvas.runs[1].spans] == [
        FrameState.MANUAL,
        FrameState.INTERPOLATED,
        FrameState.MANUAL,
    ]
    # A keyframe's run is solid in the track's colour; the gap on track 2 (frame 4) is not.
    window.go_to(1, now=True)  # the current-frame line away from the frames looked at
    frame_px = lane_x(window, 1) - lane_x(window, 0)
    assert close_to(painted(window, lane_x(window, 2) + frame_px // 3, body_y(1)), tracks[2].color)
    assert not close_to(painted(window, lane_x(window, 4), body_y(1)), tracks[2].color)
    # Absent on track 3 (frame 3) is a thin grey bar, not the track's colour.
    assert close_to(painted(window, lane_x(window, 3), body_y(2)), "#8a8a8a")


def test_lanes_share_the_plot_frame_axis(window, image_folder):
    assert window.files.open_path(image_folder)
    window.set_box(BOX)
    window.go_to(3, now=True)
    plot, canvas = window.timeline.plot, window.timeline.lanes.canvas
    cursor_scene = plot.getPlotItem().getViewBox().mapViewToScene(QPointF(3, 0.5))
    cursor_global = plot.viewport().mapToGlobal(plot.mapFromScene(cursor_scene))
    assert abs(canvas.mapFromGlobal(cursor_global).x() - lane_x(window, 3)) <= 1
    # The current-frame line runs through the lanes.
    assert close_to(painted(window, lane_x(window, 3), ROW_HEIGHT - 1), "#ffd400")


def test_click_on_a_lane_selects_its_track_and_shows_the_frame(window, qtbot, image_folder):
    assert window.files.open_path(image_folder)
    three_tracks(window)
    window.session.select(3)
    window.go_to(0, now=True)
    canvas = window.timeline.lanes.canvas
    QTest.mouseClick(canvas, Qt.LeftButton, Qt.NoModifier, QPoint(lane_x(window, 4), body_y(0)))
    assert window.session.selected_track == 1
    qtbot.waitUntil(lambda: window.presenter.displayed_frame == 4)
    assert window.timeline.frame_box.value() == 4
    # The label column selects without moving.
    QTest.mouseClick(canvas, Qt.LeftButton, Qt.NoModifier, QPoint(8, body_y(1)))
    assert window.session.selected_track == 2
    assert window.session.current_frame == 4


def test_tooltip_names_track_frame_and_state(window, image_folder):
    assert window.files.open_path(image_folder)
    three_tracks(window)
    window.editing.push(window.session.annotations.flag_edit({(1, 2): "score drop"}))
    canvas = window.timeline.lanes.canvas
    assert canvas.describe(QPointF(lane_x(window, 2), body_y(0))) == (
        "#1 object · frame 2 · interpolated · ⚑ score drop"
    )
    assert canvas.describe(QPointF(lane_x(window, 3), body_y(2))) == "#3 object · frame 3 · absent · reviewed"
    assert canvas.describe(QPointF(lane_x(window, 5), body_y(1))) == "#2 object · frame 5 · not annotated"
    pos = QPoint(lane_x(window, 0), body_y(1))
    canvas.event(QHelpEvent(QEvent.ToolTip, pos, canvas.mapToGlobal(pos)))
    assert QToolTip.text() == "#2 object · frame 0 · not annotated"


def test_an_edit_repaints_its_lane_live_and_undo_restores_it(window, image_folder):
    assert window.files.open_path(image_folder)
    three_tracks(window)
    canvas = window.timeline.lanes.canvas
    untouched = canvas.runs[2]
    window.session.select(1)
    window.go_to(2, now=True)
    window.editing.toggle_flag("absent")
    # Shown at once, and only the edited track's runs were recomputed.
    assert [s.state for s in canvas.runs[1].spans][1:4] == [
        FrameState.INTERPOLATED,
        FrameState.ABSENT,
        FrameState.INTERPOLATED,
    ]
    assert canvas.runs[2] is untouched
    window.go_to(0, now=True)
    assert close_to(painted(window, lane_x(window, 2), body_y(0)), "#8a8a8a")
    window.undo_stack.undo()
    assert FrameState.ABSENT not in {s.state for s in canvas.runs[1].spans}
    assert not close_to(painted(window, lane_x(window, 2), body_y(0)), "#8a8a8a")
    # Flags are red marks above the runs.
    window.editing.push(window.session.annotations.flag_edit({(2, 2): "jump"}))
    assert close_to(painted(window, lane_x(window, 2), ROW_HEIGHT + 2), FLAG_COLOUR)


def test_a_costly_lane_is_recomputed_at_a_bounded_rate_and_catches_up(
    window, qtbot, image_folder, monkeypatch
):
    from app.ui import track_lanes

    assert window.files.open_path(image_folder)
    three_tracks(window)
    slow = track_lanes.lane_runs

    def costly(track):  # as a track of many thousand frames
        time.sleep(0.01)
        return slow(track)

    monkeypatch.setattr(track_lanes, "lane_runs", costly)
    canvas = window.timeline.lanes.canvas
    window.session.select(1)
    window.go_to(2, now=True)
    window.editing.toggle_flag("absent")  # computed at once: the first costly computation
    window.go_to(3, now=True)
    window.editing.toggle_flag("absent")  # within 10x its cost: the old runs stay a moment

    def absent_runs():
        return [(s.start, s.end) for s in canvas.runs[1].spans if s.state is FrameState.ABSENT]

    assert absent_runs() == [(2, 2)]
    assert canvas.catch_up.isActive()
    qtbot.waitUntil(lambda: absent_runs() == [(2, 3)], timeout=2000)


def test_many_tracks_scroll_and_the_selected_lane_is_shown(window, image_folder):
    assert window.files.open_path(image_folder)
    for i in range(9):
        new_track_box(window, (1.0 + i, 1.0, 8.0, 8.0))
    lanes = window.timeline.lanes
    assert lanes.lane_count() == 9
    assert lanes.height() == 6 * ROW_HEIGHT  # then a scroll bar
    assert lanes.verticalScrollBar().maximum() > 0
    assert lanes.verticalScrollBar().value() == lanes.verticalScrollBar().maximum()  # #9 selected
    window.session.select(1)
    window.presenter.repaint()
    assert lanes.verticalScrollBar().value() == 0


# -- navigation --------------------------------------------------------------------------------


def test_navigation_keys(window, qtbot, long_folder):
    assert window.files.open_path(long_folder)
    window.go_to(120, now=True)

    def press(key, modifier=Qt.NoModifier, expected=None):
        QTest.keyClick(window, key, modifier)
        assert window.session.current_frame == expected

    press(Qt.Key_Right, Qt.ShiftModifier, 130)
    press(Qt.Key_Left, Qt.ShiftModifier, 120)
    press(Qt.Key_PageDown, expected=220)
    press(Qt.Key_PageDown, expected=249)  # clamped at the last frame
    press(Qt.Key_PageUp, expected=149)
    press(Qt.Key_Home, expected=0)
    press(Qt.Key_End, expected=249)
    qtbot.waitUntil(lambda: window.presenter.displayed_frame == 249)
    assert window.timeline.frame_box.value() == 249


def test_next_and_previous_keyframe_of_the_selected_track(window, long_folder):
    assert window.files.open_path(long_folder)
    for frame in (10, 60, 200):
        window.go_to(frame, now=True)
        window.set_box(BOX)
    window.go_to(100, now=True)
    new_track_box(window, BOX)  # track 2's keyframe: not a stop for track 1
    window.session.select(1)
    window.go_to(30, now=True)
    QTest.keyClick(window, Qt.Key_Right, Qt.ControlModifier)
    assert window.session.current_frame == 60
    QTest.keyClick(window, Qt.Key_Right, Qt.ControlModifier)
    assert window.session.current_frame == 200
    QTest.keyClick(window, Qt.Key_Right, Qt.ControlModifier)
    assert window.session.current_frame == 200
    assert "No more keyframes of track #1" in window.statusBar().currentMessage()
    QTest.keyClick(window, Qt.Key_Left, Qt.ControlModifier)
    QTest.keyClick(window, Qt.Key_Left, Qt.ControlModifier)
    assert window.session.current_frame == 10


def test_go_to_frame_box(window, qtbot, long_folder):
    assert window.files.open_path(long_folder)
    QTest.keyClick(window, Qt.Key_G, Qt.ControlModifier)
    box = window.timeline.frame_box
    assert box.hasFocus()
    QTest.keyClicks(box.lineEdit(), "123")
    assert window.session.current_frame == 0  # nothing moves while typing
    window.go_to(7, now=True)  # as a tracking run moving on: what is typed stays
    assert box.text() == "frame 123"
    QTest.keyClick(box.lineEdit(), Qt.Key_Return)
    assert window.session.current_frame == 123
    qtbot.waitUntil(lambda: window.presenter.displayed_frame == 123)
    assert not box.hasFocus()  # the arrow keys step frames again
    QTest.keyClick(window, Qt.Key_Right)
    assert window.session.current_frame == 124


def test_navigation_actions_are_listed_with_their_shortcuts(window):
    shortcuts = {a.text().replace("&", ""): a.shortcut().toString() for a in window.actions()}
    assert shortcuts["First frame"] == "Home"
    assert shortcuts["Last frame"] == "End"
    assert shortcuts["Forward 10 frames"] == "Shift+Right"
    assert shortcuts["Back 100 frames"] == "PgUp"
    assert shortcuts["Go to frame…"] == "Ctrl+G"
    assert shortcuts["Next keyframe of the track"] == "Ctrl+Right"
    taken = [a.shortcut().toString() for a in window.actions() if not a.shortcut().isEmpty()]
    assert len(taken) == len(set(taken)), "two actions share a shortcut"


def test_speed_sets_the_playback_interval_and_is_remembered(window, long_folder, config_dir):
    assert window.files.open_path(long_folder)
    fps = window.session.video.fps or 25.0
    playback, speed_box = window.playback, window.timeline.speed_box
    assert playback.speed == 1.0
    speed_box.setCurrentIndex(speed_box.findData(4.0))
    assert playback.speed == 4.0
    QTest.keyClick(window, Qt.Key_Space)
    assert playback.playing
    assert playback.timer.interval() == round(1000 / (fps * 4))
    speed_box.setCurrentIndex(speed_box.findData(0.5))  # while playing: at once
    assert playback.timer.interval() == round(1000 / (fps * 0.5))
    playback.pause()
    assert math.isclose(Settings(config_dir).playback_speed, 0.5)


def test_saved_speed_is_shown_in_the_next_session(qtbot, config_dir):
    from app.ui.main_window import MainWindow

    Settings(config_dir).playback_speed = 2.0
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.playback.speed == 2.0
    assert win.timeline.speed_box.currentData() == 2.0


# -- a small window ----------------------------------------------------------------------------


def test_small_window_tabs_the_tracker_dock_and_a_large_one_splits_it(window, qtbot):
    compact = window.compact_docks
    assert not compact.is_tabbed()
    window.resize(1024, 700)
    qtbot.waitUntil(compact.is_tabbed)
    assert window.response_dock.isVisible()
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: not compact.is_tabbed())
    assert window.tracker_dock.isVisible() and window.response_dock.isVisible()
    # Docks the person moved are left where they are.
    window.tracker_dock.setFloating(True)
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: compact.compact)
    assert window.tracker_dock.isFloating() and not compact.is_tabbed()
