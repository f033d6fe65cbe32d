"""The main window, offscreen: opening, drawing the box, tracking in the real QThread, errors."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QRectF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtTest import QTest

import trackers
from app.engine.jobs import TrackerSpec
from tests.shared_data import SEQUENCES, VIDEOS, WEIGHTS
from tests.stand_ins import StandIn

NANOTRACK_V2 = WEIGHTS / "nanotrack_v2" / "nanotrackv2.pth"
BAG_SEQUENCE = SEQUENCES / "vot_bag"
BAG_BOX = (292.23, 128.36, 145.96, 132.47)  # vot_bag ground truth, frame 0
VIDEO = VIDEOS / "pysot_bag.avi"
RUN_TIMEOUT_MS = 180_000  # the CPU may be shared with other jobs


def need(*paths: Path) -> None:
    for path in paths:
        if not path.exists():
            pytest.skip(f"needs {path} (shared test data)")


def nano_spec() -> TrackerSpec:
    return TrackerSpec("nanotrack", weights=str(NANOTRACK_V2), device="cpu")


def shown_bgr(win) -> np.ndarray:
    return np.ascontiguousarray(win.view.image.image[..., ::-1])


def drag(widget, start: QPoint, end: QPoint, button=Qt.LeftButton, steps: int = 8) -> None:
    """A real mouse drag: press, several moves with the button held, release.

    Moves are spaced like a hand's: pyqtgraph drops mouse moves closer than 10 ms apart.
    """
    QTest.mousePress(widget, button, Qt.NoModifier, start)
    for k in range(1, steps + 1):
        QTest.qWait(15)
        QTest.mouseMove(widget, start + (end - start) * k / steps)
    QTest.mouseRelease(widget, button, Qt.NoModifier, end)


# -- opening -----------------------------------------------------------------------------------


def test_open_video_shows_its_first_frame(window):
    need(VIDEO)
    assert window.files.open_path(VIDEO)
    assert window.session.frame_count == window.session.video.frame_count > 100
    assert window.presenter.displayed_frame == 0
    expected = window.session.video.frame(0)
    np.testing.assert_array_equal(shown_bgr(window), expected)  # RGB for display only
    assert window.timeline.slider.maximum() == window.session.frame_count - 1
    assert window.timeline.frame_box.value() == 0
    assert window.timeline.label.text().startswith(f"/ {window.session.frame_count - 1} ")
    assert VIDEO.stem in window.windowTitle()


def test_open_image_folder_and_step(window, qtbot, image_folder):
    assert window.files.open_path(image_folder)
    assert window.session.frame_count == 6
    QTest.keyClick(window, Qt.Key_Right)
    QTest.keyClick(window, Qt.Key_Right)
    qtbot.waitUntil(lambda: window.presenter.displayed_frame == 2)
    np.testing.assert_array_equal(shown_bgr(window), cv2.imread(str(image_folder / "0003.png")))
    QTest.keyClick(window, Qt.Key_Left)
    qtbot.waitUntil(lambda: window.presenter.displayed_frame == 1)
    window.timeline.slider.setValue(5)  # as the user dragging the slider
    qtbot.waitUntil(lambda: window.presenter.displayed_frame == 5)
    assert window.timeline.frame_box.text() == "frame 5"
    assert window.timeline.label.text().startswith("/ 5 ")


def test_open_bad_path_shows_an_error_and_keeps_the_video(window, tmp_path, image_folder):
    assert window.files.open_path(image_folder)
    missing = tmp_path / "nope.mp4"
    assert not window.files.open_path(missing)
    assert "nope.mp4" in window.last_error
    assert window._error_box is not None and window._error_box.isVisible()
    assert window.session.frame_count == 6  # the open video stays


def test_dropping_a_folder_opens_it(window, qtbot, image_folder):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(image_folder))])
    event = QDropEvent(QPointF(50, 50), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    window.dropEvent(event)
    assert window.session.frame_count == 6


# -- the box -----------------------------------------------------------------------------------


def test_drawing_a_box_with_a_mouse_drag(window, qtbot, image_folder):
    assert window.files.open_path(image_folder)
    view = window.view
    viewport = view.viewport()
    drag(viewport, view.map_image_to_widget(10, 8), view.map_image_to_widget(40, 30))
    box = view.box()
    assert box is not None
    assert box == pytest.approx((10, 8, 30, 22), abs=1.5)  # within a screen pixel of the drag
    entry = window.session.annotations.track(1).get(0)  # the box started track 1 with a keyframe on frame 0
    assert entry.is_manual and entry.box == pytest.approx(box)
    # A click is not a box: the drawn one stays.
    QTest.mouseClick(viewport, Qt.LeftButton, Qt.NoModifier, view.map_image_to_widget(50, 40))
    assert view.box() == box
    # Dragging inside the box moves it (the ROI takes the drag, no new box is drawn).
    drag(viewport, view.map_image_to_widget(25, 19), view.map_image_to_widget(30, 24))
    moved = view.box()
    assert moved[2:] == pytest.approx(box[2:], abs=1e-6)
    assert moved[0] == pytest.approx(box[0] + 5, abs=1.5) and moved[1] == pytest.approx(box[1] + 5, abs=1.5)
    assert window.session.annotations.track(1).get(0).box == pytest.approx(moved)  # the move is an edit
    assert len(window.session.annotations) == 1
    QTest.keyClick(window, Qt.Key_Z, Qt.ControlModifier)  # undo the move
    assert window.session.annotations.track(1).get(0).box == pytest.approx(box)


def test_zero_size_drag_draws_nothing(window, image_folder):
    assert window.files.open_path(image_folder)
    view = window.view
    view.viewbox.rect_drawn.emit(QRectF(20, 20, 0, 0))
    assert view.box() is None
    point = view.map_image_to_widget(20, 20)
    drag(view.viewport(), point, point + QPoint(1, 0), steps=2)
    assert view.box() is None and len(window.session.annotations) == 0


def test_track_without_a_box_or_weights_explains(window, image_folder, monkeypatch, tmp_path):
    assert window.files.open_path(image_folder)
    assert not window.track_forward(spec=nano_spec())
    assert "Draw a box" in window.last_error
    monkeypatch.setattr(trackers.registry, "WEIGHTS_DIR", tmp_path)  # nothing shipped
    window.set_box((5, 10, 20, 20))
    window.tracker_panel.set_tracker("siamfc")
    assert window.tracker_panel.needs_weights()
    assert not window.track_forward()
    assert "Import" in window.last_error and "siamfc" in window.last_error
    assert not window.runs.tracking.running and window.runs.tracking.last_thread is None


# -- tracking ----------------------------------------------------------------------------------


@pytest.fixture
def one_torch_thread():
    # A shared CI CPU makes torch's thread pool crawl; one thread keeps the test's time steady.
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_tracking_run_in_the_real_thread(window, qtbot, one_torch_thread):
    need(BAG_SEQUENCE, NANOTRACK_V2)
    assert window.files.open_path(BAG_SEQUENCE)
    window.set_overlay_enabled(True)
    end = 25
    with qtbot.waitSignal(window.runs.tracking.finished, timeout=RUN_TIMEOUT_MS):
        assert window.start_tracking(box=BAG_BOX, spec=nano_spec(), end=end)
        assert window.runs.tracking.running and not window.tracker_panel.track_button.isEnabled()
    # Every frame's result is stored, whatever was painted.
    track = window.session.annotations.track(1)
    assert track.frames() == list(range(end))
    assert track.get(0).is_manual and all(track.get(f).source == "tracked" for f in range(1, end))
    assert all(np.isfinite(track.get(f).score) for f in range(1, end))
    assert all((1, f) in window.session.maps for f in range(1, end))  # one map per tracked box
    assert window.presenter.repaint_count <= end + 5
    qtbot.waitUntil(lambda: window.presenter.displayed_frame == end - 1)  # the view followed the tracker
    shown = window.timeline.plot.scores_shown()
    assert np.isfinite(shown).sum() == end - 1
    row, kept = track.get(end - 1), window.session.maps.get(1, end - 1)
    assert f"score {row.score:.3f}" in window.response_panel.title
    np.testing.assert_array_equal(window.response_panel.image.image, kept.response)
    qtbot.waitUntil(lambda: window.view.box() is not None)  # editable again once the run is over
    assert window.view.box() == pytest.approx(row.box)  # the selected track's box
    assert window.view.track_box_texts() == [f"#1 object · tracked · {row.score:.2f}"]
    assert window.view.overlay.isVisible()
    assert window.tracker_panel.track_button.isEnabled() and "24/24" in window.progress_label.text()
    # Stepping back shows the stored result of that frame.
    window.go_to(10, now=True)
    assert f"frame 10 · score {track.get(10).score:.3f}" in window.response_panel.title
    # The whole run is one undo step; its maps go with its boxes.
    assert window.undo_stack.count() == 2  # the drawn box, the run
    window.undo_stack.undo()
    assert track.frames() == [0] and len(window.session.maps) == 0


def test_stop_mid_run_on_a_video_file(window, qtbot, one_torch_thread):
    need(VIDEO, NANOTRACK_V2)
    assert window.files.open_path(VIDEO)  # the worker opens its own decoder of this file

    def stop_at_three(index, _frame, _result):
        if index == 3:
            QTest.keyClick(window, Qt.Key_Escape)

    window.runs.tracking.tracked.connect(stop_at_three)
    with qtbot.waitSignal(window.runs.tracking.finished, timeout=RUN_TIMEOUT_MS):
        assert window.start_tracking(box=BAG_BOX, spec=nano_spec(), end=60)
    tracked = [f for f in window.session.annotations.track(1).frames() if f > 0]
    assert tracked[:3] == [1, 2, 3] and len(tracked) < 59
    assert window.last_error is None


def test_tracker_error_is_shown_not_raised(window, qtbot, image_folder, monkeypatch):
    class Broken:
        device = "cpu"

        def init(self, frame, box):
            pass

        def track(self, frame):
            raise RuntimeError("CUDA out of memory (simulated)")

    use_single_trackers(monkeypatch, Broken)
    assert window.files.open_path(image_folder)
    window.set_box((5, 10, 20, 20))
    with qtbot.waitSignal(window.runs.tracking.finished, timeout=30_000):
        assert window.track_forward(spec=TrackerSpec("nanotrack", weights="x.pth"))
    assert window.last_error == "CUDA out of memory (simulated)"
    assert window._error_box.isVisible() and "simulated" in window._error_box.text()
    assert "Tracking failed" in window.statusBar().currentMessage()
    assert window.tracker_panel.track_button.isEnabled()


def use_single_trackers(monkeypatch, make_tracker):
    """Replace the MultiTracker with one that runs a ``make_tracker()`` per object."""

    class PerObject(StandIn):
        device = "cpu"

        def __init__(self, *args, **kwargs):
            self.objects = {}

        def add(self, object_id, frame, box):
            self.objects[object_id] = make_tracker()
            self.objects[object_id].init(frame, box)

        def remove(self, object_id):
            del self.objects[object_id]

        def track(self, frame):
            return {i: t.track(frame) for i, t in self.objects.items()}

    monkeypatch.setattr(trackers.multi, "MultiTracker", PerObject)
    return PerObject


class _InstantTracker:
    """Answers at once, so results arrive far faster than the screen refreshes."""

    device = "cpu"

    def init(self, frame, box):
        self.box = box

    def track(self, frame):
        x, y, w, h = self.box
        self.box = (x + 0.1, y, w, h)
        response = np.linspace(0, 1, 25, dtype=np.float32).reshape(5, 5)
        return trackers.TrackResult(self.box, 0.75, response, trackers.MapGeometry(x, y, 2.0), self.box)


def test_fast_results_are_all_stored_but_repaints_are_coalesced(window, qtbot, tmp_path, monkeypatch):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(300):
        cv2.imwrite(str(folder / f"{i:05d}.png"), np.full((24, 32, 3), i % 255, np.uint8))
    use_single_trackers(monkeypatch, _InstantTracker)
    assert window.files.open_path(folder)
    window.set_box((4, 4, 10, 10))
    with qtbot.waitSignal(window.runs.tracking.finished, timeout=60_000):
        assert window.track_forward(spec=TrackerSpec("nanotrack", weights="x.pth"))
    assert len(window.session.annotations.track(1).boxes) == 300
    assert window.presenter.repaint_count < 150  # ~30 a second, not one per result
    qtbot.waitUntil(lambda: window.presenter.displayed_frame == 299)


def test_closing_while_tracking_stops_the_thread(qtbot, config_dir, image_folder, monkeypatch):
    from app.ui.main_window import MainWindow

    gate = threading.Event()

    class Slow(_InstantTracker):
        def track(self, frame):
            gate.wait(0.2)
            return super().track(frame)

    use_single_trackers(monkeypatch, Slow)
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    assert win.files.open_path(image_folder)
    win.set_box((5, 10, 20, 20))
    assert win.track_forward(spec=TrackerSpec("nanotrack", weights="x.pth"))
    thread = win.runs.tracking.thread
    qtbot.wait(50)
    win.close()
    assert thread.isFinished() and not win.runs.tracking.running


# -- the panels --------------------------------------------------------------------------------


def test_confidence_plot_click_jumps_to_the_frame(window, qtbot, image_folder):
    assert window.files.open_path(image_folder)
    plot = window.timeline.plot
    viewbox = plot.getPlotItem().getViewBox()
    scene_point = viewbox.mapViewToScene(QPointF(4, 0.5))
    QTest.mouseClick(plot.viewport(), Qt.LeftButton, Qt.NoModifier, plot.mapFromScene(scene_point))
    qtbot.waitUntil(lambda: window.presenter.displayed_frame == 4)
    assert plot.cursor.value() == 4


def test_importing_weights_picks_the_tracker(window):
    need(NANOTRACK_V2)
    panel = window.tracker_panel
    panel.set_tracker("siamfc")
    assert panel.import_weights(NANOTRACK_V2)
    assert panel.tracker_name() == "nanotrack"  # recognised from the file, combo switched
    assert panel.weights() == str(NANOTRACK_V2)
    assert not panel.needs_weights()


def test_importing_a_bad_checkpoint_shows_why(window, tmp_path):
    bad = tmp_path / "notes.pth"
    bad.write_text("not a checkpoint")
    panel = window.tracker_panel
    before = panel.tracker_name()
    assert not panel.import_weights(bad)
    assert "notes.pth" in window.last_error
    assert panel.tracker_name() == before and panel.weights() is None


def test_cuda_is_disabled_without_a_gpu(window):
    import torch

    panel = window.tracker_panel
    item = panel.device_combo.model().item(panel.device_combo.findData("cuda"))
    assert item.isEnabled() == torch.cuda.is_available()


# -- entry point -------------------------------------------------------------------------------


def test_main_help_and_subcommand_dispatch(capsys, monkeypatch):
    from app import main as entry
    from app.cli.commands import COMMANDS, Command

    with pytest.raises(SystemExit) as exit_info:
        entry.main(["--help"])
    assert exit_info.value.code == 0 and "--demo" in capsys.readouterr().out

    calls = []
    command = Command(
        help="say hello",
        configure=lambda parser: parser.add_argument("--name", default="x"),
        run=lambda args: calls.append(args.name) or 3,
    )
    monkeypatch.setitem(COMMANDS, "hello", command)
    assert entry.main(["hello", "--name", "bag"]) == 3
    assert calls == ["bag"]


# -- settings, demo, entry point -------------------------------------------------------------


def test_settings_are_restored_in_the_next_session(qtbot, config_dir, image_folder):
    from app.ui.main_window import MainWindow

    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    # within the offscreen screen (800x600); the first resize makes the docks compact (tabs),
    # which lets the second one reach the size
    first.resize(760, 540)
    qtbot.wait(50)
    first.resize(760, 540)
    first.tracker_panel.set_tracker("siamfc")
    first.tracker_panel.set_device("cpu")
    first.tracker_panel.set_precision("float32")
    first.response_dock.hide()
    assert first.files.open_path(image_folder)
    first.close()
    assert first.settings.path.parent == config_dir  # nothing written inside the repository

    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    assert second.tracker_panel.tracker_name() == "siamfc"
    assert second.tracker_panel.device() == "cpu"
    assert second.tracker_panel.precision() == "float32"
    assert second.tracker_panel.spec().precision == "float32"
    assert (second.size().width(), second.size().height()) == (760, 540)
    assert not second.response_dock.isVisible()
    recent = [a.statusTip() for a in second.recent_menu.actions()]
    assert recent == [str(image_folder.resolve())]
    second.recent_menu.actions()[0].trigger()
    assert second.session.frame_count == 6
    second.close()


def test_demo_opens_with_the_box_ready(window):
    assert window.files.open_demo()
    assert window.session.frame_count > 100
    assert window.view.box() is not None and window.session.annotations.track(1).get(0).is_manual
    assert window.undo_stack.isClean()  # nothing of the user's to save yet


def test_right_drag_pans_and_does_not_draw(window, image_folder):
    assert window.files.open_path(image_folder)
    before = window.view.viewbox.viewRange()
    drag(window.view.viewport(), QPoint(300, 300), QPoint(360, 340), button=Qt.RightButton)
    after = window.view.viewbox.viewRange()
    assert after[0][0] < before[0][0] and window.view.box() is None


def test_run_gui_opens_a_video_from_the_command_line(qtbot, qapp, config_dir, image_folder):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app import main as entry
    from app.ui.main_window import MainWindow

    # Exactly one quit: a second one (from closing the last window) would stay queued and end
    # the next test's event loop at once.
    quit_on_close = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    seen = {}

    def inspect_and_quit():
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        seen["frames"] = [w.session.frame_count for w in windows]
        for w in windows:
            w.close()
        qapp.quit()

    QTimer.singleShot(200, inspect_and_quit)
    try:
        assert entry.main([str(image_folder)]) == 0
    finally:
        qapp.setQuitOnLastWindowClosed(quit_on_close)
    assert seen["frames"] == [6]


def test_exports_are_suggested_away_from_the_video_folder(window, image_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert window.files.open_path(image_folder)
    assert window.files.export_folder() == Path.home() != image_folder.parent  # not the dataset's folder
    project = tmp_path / "work" / "clip.siamark.json"
    project.parent.mkdir()
    window.set_box((1, 1, 5, 5))
    assert window.files.save_project_to(project)
    assert window.files.export_folder() == project.parent
    window.settings.export_folder = tmp_path
    assert window.files.export_folder() == tmp_path  # the last export's folder wins


def test_a_long_flag_leaves_the_response_map_and_its_colour_bar_in_view(qtbot):
    from PySide6.QtWidgets import QApplication

    from app.model.annotations import tracked_box
    from app.model.results import ResponseMap
    from app.ui.response_panel import ResponsePanel
    from trackers.base import MapGeometry

    panel = ResponsePanel()
    qtbot.addWidget(panel)
    panel.resize(310, 420)
    panel.show()
    for _ in range(5):  # shown and laid out, as in the window (waitExposed leaves the layout lazy)
        QApplication.processEvents()
    flag = (
        "score 0.61 well below this target's start level 0.89; looks unlike the target: "
        "appearance 0.43 against the manual boxes' 0.80"
    )
    entry = tracked_box((200.0, 100.0, 40.0, 80.0), 0.61, flag)
    kept = ResponseMap(
        np.random.default_rng(0).random((17, 17), dtype=np.float32), MapGeometry(150.0, 40.0, 8.0)
    )
    panel.show_result(243, entry, kept)
    for _ in range(10):  # the graphics layout settles over several passes of the event loop
        QApplication.processEvents()
    right = panel.graphics.viewport().width()
    for item in (panel.plot, panel.colorbar):  # a title wider than the dock once pushed these out
        assert item.sceneBoundingRect().right() <= right + 1
    assert (
        panel.title
        == "frame 243 · score 0.610 · ⚑ score 0.61 well below this target's start level 0.89 (+1 more)"
    )
    frame_line, flag_line = panel.plot.titleLabel.text.split("<br>")
    assert frame_line == "frame 243 · score 0.610"
    assert flag_line.startswith("⚑ score 0.61 well below") and flag_line.endswith("…")
    assert panel.graphics.toolTip() == flag
    height = panel.plot.vb.height()
    panel.show_result(244, tracked_box((200.0, 100.0, 40.0, 80.0), 0.9), kept)  # not flagged
    for _ in range(10):
        QApplication.processEvents()
    assert panel.plot.titleLabel.text == "frame 244 · score 0.900<br>&nbsp;"
    assert panel.plot.vb.height() == height  # the map keeps its size as flags come and go
