"""Demo mode (View > Demo mode, F11): full screen without docks / menus and back exactly, the
keys (Space, Left / Right, R, N, P, Shift+P, S, H, Esc), the HUD, the picture-in-picture
response map and the scaled on-frame labels; runs use a slow stand-in tracker."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDockWidget

import trackers
from app.ui.demo_mode import BANNER_MS
from app.ui.demo_overlays import DemoHud
from app.ui.frame_labels import label_scale
from app.ui.video_view import LABEL_PIXELS
from tests.stand_ins import Drifting

FRAMES = 30
BOX = (10.0, 10.0, 12.0, 12.0)
PEAK = (2, 3)  # (row, column) of the stand-in's response peak


class Sliding(Drifting):
    """Slow enough to stop mid-run; score 0.8, a 5x5 response map peaked at PEAK."""

    delay = 0.03
    score = 0.8

    def response(self) -> np.ndarray:
        response = np.zeros((5, 5), np.float32)
        response[PEAK] = 1.0
        return response

    def geometry(self, box) -> trackers.MapGeometry:
        return trackers.MapGeometry(box[0] - 4, box[1] - 4, 4.0)


@pytest.fixture
def clip(tmp_path):
    folder = tmp_path / "clip"
    folder.mkdir()
    for i in range(FRAMES):
        cv2.imwrite(str(folder / f"{i + 1:04d}.png"), np.full((48, 64, 3), 4 * i, np.uint8))
    return folder


@pytest.fixture
def demo(window, qtbot, clip, monkeypatch):
    """The window with the clip open, a box on frame 0 and a tracker with shipped weights."""
    monkeypatch.setattr(trackers.multi, "MultiTracker", Sliding)
    assert window.files.open_path(clip)
    window.set_box(BOX)
    window.tracker_panel.set_tracker(window.demo.tracker_names[0])
    qtbot.wait(50)  # the layout settles (compact docks) before it is compared
    return window


def key(window, key, modifier=Qt.NoModifier) -> None:
    QTest.keyClick(window, key, modifier)


def finish(window, qtbot) -> None:
    qtbot.waitUntil(lambda: not window.runs.running, timeout=20_000)


def shown_docks(window) -> set[str]:
    return {d.objectName() for d in window.findChildren(QDockWidget) if d.isVisible()}


def window_action(window, text: str):
    return next(a for a in window.actions() if a.text() == text)


# -- entering and leaving ------------------------------------------------------------------------


@pytest.mark.parametrize("leave_key", [Qt.Key_Escape, Qt.Key_F11])
def test_demo_mode_hides_the_editing_ui_and_leaving_restores_it_exactly(demo, qtbot, leave_key):
    window = demo
    state, geometry, docks = bytes(window.saveState().data()), window.geometry(), shown_docks(window)
    assert {"track_dock", "tracker_dock", "response_dock"} <= docks
    play = window_action(window, "&Play / pause")

    key(window, Qt.Key_F11)
    qtbot.waitUntil(window.isFullScreen)
    assert window.demo.active and window.demo.toggle_action.isChecked()
    assert shown_docks(window) == set()
    assert not window.menuBar().isVisible() and not window.statusBar().isVisible()
    strip = window.timeline
    assert strip.isVisible() and not strip.lanes.isVisible() and not strip.controls.isVisible()
    assert strip.plot.height() == window.demo._strip_height > 110  # the big score curve
    ticks = strip.plot.getPlotItem().getAxis("left")
    assert ticks.style["tickFont"].pixelSize() == round(11 * window.view.label_scale)
    image = QImage(8, 8, QImage.Format_ARGB32)
    painter = QPainter(image)
    labels = [spec[2] for spec in ticks.generateDrawSpecs(painter)[2]]
    painter.end()
    assert sorted(labels) == ["0", "0.5", "1"]  # the big numbers still fit the strip
    assert window.demo.hud.isVisible() and window.demo.pip.isVisible()
    assert window.view.label_scale == label_scale(window.screen().geometry().height()) > 1
    # the window's actions on the demo's keys are off (no ambiguous shortcuts), the demo's on
    assert not play.isVisible() and not play.isEnabled()
    assert set(window.demo.actions) <= set(window.actions())

    key(window, leave_key)
    qtbot.waitUntil(lambda: not window.isFullScreen())
    qtbot.wait(50)
    assert not window.demo.active and not window.demo.toggle_action.isChecked()
    assert bytes(window.saveState().data()) == state
    assert shown_docks(window) == docks
    assert window.geometry() == geometry
    assert window.menuBar().isVisible() and window.statusBar().isVisible()
    assert strip.lanes.isVisible() and strip.controls.isVisible() and strip.plot.height() == 110
    assert ticks.style["tickFont"] is None
    assert not window.demo.hud.isVisible() and not window.demo.pip.isVisible()
    assert window.view.label_scale == 1.0
    assert not set(window.demo.actions) & set(window.actions())
    taken = [a.shortcut().toString() for a in window.actions() if not a.shortcut().isEmpty()]
    assert len(taken) == len(set(taken))  # no two actions share a key out of demo mode
    assert play.isVisible() and play.isEnabled()
    key(window, Qt.Key_Space)  # the window's own Space again: play / pause
    assert window.playback.playing and not window.runs.running
    window.playback.pause()


def test_a_maximized_window_comes_back_maximized(demo, qtbot):
    window = demo
    window.showMaximized()
    qtbot.waitUntil(window.isMaximized)
    window.demo.enter()
    qtbot.waitUntil(window.isFullScreen)
    window.demo.leave()
    qtbot.waitUntil(lambda: not window.isFullScreen())
    assert window.isMaximized()


def test_closing_in_demo_mode_saves_the_normal_layout(demo, qtbot):
    window = demo
    state = bytes(window.saveState().data())
    window.demo.enter()
    qtbot.waitUntil(window.isFullScreen)
    window.close()
    assert window.settings.window_state == state


def test_demo_keys_are_listed_in_the_shortcuts_and_on_the_help_card(demo, qtbot):
    window = demo
    rows = window.show_shortcuts().rows()
    assert ("F11", "Demo mode (full screen, for talks)") in rows
    assert ("N", "New track (next box drawn)") in rows
    demo_row = ("N", "Demo: next tracker (restarts the run)")
    assert demo_row not in rows  # listed while in demo mode
    window.shortcuts_dialog.close()
    window.demo.enter()
    assert demo_row in window.show_shortcuts().rows()
    window.shortcuts_dialog.close()
    card = window.demo.help_card
    assert card.isHidden()
    key(window, Qt.Key_H)
    assert card.isVisible()
    keys = dict(card.rows)
    assert keys["Space"] == "track forward / stop" and keys["N"] == "next tracker (restarts the run)"
    assert keys["Esc"] == "leave (back to the editing layout)" and keys["F11"] == "demo mode on / off"
    assert "Shift+P" in keys and "Left" in keys and "Right" in keys
    assert "next tracker" in card.text()
    view = window.view.rect()
    assert view.contains(card.geometry())  # centred on the video, inside it
    key(window, Qt.Key_H)
    assert card.isHidden()


# -- the keys -----------------------------------------------------------------------------------


def test_space_tracks_stops_and_resumes_and_arrows_step(demo, qtbot):
    window = demo
    window.demo.enter()
    key(window, Qt.Key_Space)
    assert window.runs.running
    qtbot.waitUntil(lambda: window.session.current_frame >= 5, timeout=10_000)
    hud = window.demo.hud
    assert hud.text_lines()[1].startswith("▶ tracking")
    key(window, Qt.Key_Space)  # stop
    finish(window, qtbot)
    track = window.session.annotations.track(1)
    stopped = window.session.current_frame
    assert 5 <= stopped < FRAMES - 1 and max(track.boxes) < FRAMES - 1
    lines = hud.text_lines()
    assert lines[0] == window.tracker_panel.tracker_name()
    assert lines[1] == f"■ stopped · frame {stopped} / {FRAMES - 1}"
    assert re.fullmatch(r"\d+ fps · score 0\.80", lines[2])
    assert "frames tracked" in lines[3]  # the status bar's message, on the HUD
    key(window, Qt.Key_Right)
    assert window.session.current_frame == stopped + 1
    key(window, Qt.Key_Left)
    key(window, Qt.Key_Left)
    assert window.session.current_frame == stopped - 1
    key(window, Qt.Key_Space)  # resume from the frame shown
    finish(window, qtbot)
    assert sorted(track.boxes) == list(range(FRAMES))
    assert window.demo.last_start == (1, stopped - 1)
    assert window.undo_stack.count() == 3  # the box, then one step per run
    assert track.get(0).box == BOX  # the keyframe is never tracked over


def test_restart_goes_back_to_the_keyframe_and_tracks_again(demo, qtbot):
    window = demo
    window.demo.enter()
    key(window, Qt.Key_Space)
    qtbot.waitUntil(lambda: window.session.current_frame >= 4, timeout=10_000)
    key(window, Qt.Key_Space)
    finish(window, qtbot)
    key(window, Qt.Key_Left)
    key(window, Qt.Key_Space)  # resumed: this run starts from a tracked box
    assert window.demo.last_start[1] > 0
    qtbot.waitUntil(lambda: window.session.current_frame >= 8, timeout=10_000)
    key(window, Qt.Key_R)  # stops this run; the next one starts from the keyframe, frame 0
    qtbot.waitUntil(lambda: window.demo.last_start == (1, 0) and window.runs.running, timeout=10_000)
    finish(window, qtbot)
    assert window.session.current_frame == FRAMES - 1
    assert window.undo_stack.text(window.undo_stack.count() - 1) == "Track #1 forward from frame 0"
    # Space at the last frame restarts as well
    key(window, Qt.Key_Space)
    assert window.runs.running and window.demo.last_start == (1, 0)
    finish(window, qtbot)


def test_restart_without_a_keyframe_says_so(window, qtbot, clip):
    assert window.files.open_path(clip)
    window.demo.enter()
    key(window, Qt.Key_R)
    assert not window.runs.running
    assert window.demo.hud.text_lines()[-1].startswith("Nothing to restart")


def test_next_tracker_cycles_shows_its_name_and_restarts_the_run(demo, qtbot):
    window = demo
    names = window.demo.tracker_names
    assert len(names) >= 2 and all(trackers.get(n).default_weights() for n in names)
    window.demo.enter()
    key(window, Qt.Key_Space)
    qtbot.waitUntil(lambda: window.session.current_frame >= 4, timeout=10_000)
    key(window, Qt.Key_N)
    assert window.tracker_panel.tracker_name() == names[1]
    banner = window.demo.banner
    assert banner.isVisible() and banner.message == names[1]
    assert window.view.rect().contains(banner.geometry())
    qtbot.waitUntil(lambda: window.runs.running and window.session.current_frame < 4, timeout=10_000)
    assert window.demo.last_start == (1, 0)
    assert window.demo.hud.text_lines()[0] == names[1]
    qtbot.waitUntil(banner.isHidden, timeout=BANNER_MS + 2000)
    finish(window, qtbot)
    assert window.session.annotations.track(1).get(FRAMES - 1) is not None
    window.stop_tracking(wait=True)
    # round the cycle, back to the first
    for _ in names[1:]:
        window.demo.next_tracker()
        window.stop_tracking()
        finish(window, qtbot)
    assert window.tracker_panel.tracker_name() == names[0]


def test_picture_in_picture_shows_the_map_and_toggles_and_moves(demo, qtbot):
    window = demo
    window.demo.enter()
    key(window, Qt.Key_Space)
    finish(window, qtbot)
    window.go_to(12, now=True)
    pip = window.demo.pip
    kept = window.session.maps.get(1, 12)
    assert pip.isVisible() and kept is not None
    shown = pip.map.image.image
    np.testing.assert_array_equal(shown, kept.response)
    assert np.unravel_index(np.argmax(shown), shown.shape) == PEAK
    assert pip.map.box.isVisible() and pip.caption.text() == "response map"
    view = window.view.rect()
    assert view.contains(pip.geometry())
    assert pip.geometry().right() > view.center().x() and pip.geometry().bottom() > view.center().y()

    key(window, Qt.Key_P)
    assert pip.isHidden()
    window.go_to(20, now=True)  # not painted while hidden ...
    np.testing.assert_array_equal(pip.map.image.image, kept.response)
    key(window, Qt.Key_P)  # ... and brought up to date when shown again
    assert pip.isVisible()
    np.testing.assert_array_equal(pip.map.image.image, window.session.maps.get(1, 20).response)

    key(window, Qt.Key_P, Qt.ShiftModifier)
    assert pip.corner == "bottom-left" and pip.geometry().left() < view.center().x()
    key(window, Qt.Key_P, Qt.ShiftModifier)
    assert pip.corner == "top-right" and pip.geometry().top() < view.center().y()
    window.go_to(0, now=True)  # the keyframe: no map
    assert pip.map.image.image is None and pip.caption.text() == "no map here"


def test_strip_key_hides_and_shows_the_score_curve(demo, qtbot):
    window = demo
    window.demo.enter()
    key(window, Qt.Key_S)
    assert window.timeline.isHidden()
    key(window, Qt.Key_S)
    assert window.timeline.isVisible() and window.timeline.plot.isVisible()


# -- readable from the back of the room -----------------------------------------------------------


def test_label_scale_follows_the_screen_height():
    assert label_scale(1080) == 2.0 and label_scale(720) == 1.5 and label_scale(2160) == 4.0
    assert label_scale(600) == 1.5


def test_demo_mode_scales_the_chips_and_outlines(demo, qtbot):
    window = demo
    view = window.view
    chip_pixels = view.track_label_rects()[0][3] / view.viewbox.viewPixelSize()[1]  # on screen
    outline = view._track_items[0][0].pen().widthF()
    window.demo.enter()
    qtbot.waitUntil(window.isFullScreen)
    scale = view.label_scale
    assert view._label_font.pixelSize() == round(LABEL_PIXELS * scale)
    assert view._track_items[0][0].pen().widthF() == pytest.approx(outline * scale)
    assert view.roi.pen.widthF() == pytest.approx(2.0 * scale)  # the editable box too
    big = view.track_label_rects()[0][3] / view.viewbox.viewPixelSize()[1]
    assert big == pytest.approx(chip_pixels * scale, rel=0.2)  # the chip on screen, text and all
    window.demo.leave()
    assert view._label_font.pixelSize() == LABEL_PIXELS
    assert view._track_items[0][0].pen().widthF() == pytest.approx(outline)


def test_hud_text_is_big_enough_at_1080p(qtbot):
    from PySide6.QtWidgets import QWidget

    parent = QWidget()
    qtbot.addWidget(parent)
    parent.resize(1920, 900)
    hud = DemoHud(parent, lambda: 200)
    hud.set_scale(label_scale(1080))
    hud.set_tracker("siamrpnpp-mobilev2")
    sizes = [int(s) for s in re.findall(r"font-size:(\d+)px", hud.text())]
    assert sizes[:3] and min(sizes[:3]) >= 28  # tracker, state / frame, fps / score
    assert hud.sizeHint().height() >= 3 * 28
