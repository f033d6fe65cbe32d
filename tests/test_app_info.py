"""Benchmark folders' ground truth, Preferences, About and the response panel (issue 17, 7-9)."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from app.io.formats.single_object import find_sequence
from app.model.annotations import BoxSource, FrameBox, tracked_box
from app.model.groundtruth import GROUND_TRUTH_LABEL, ground_truth_iou
from app.services.settings import ExportDefaults, Settings
from trackers.base import MapGeometry
from trackers.devices import resolve_device
from trackers.onnx_runner import exact_int8, openvino_available, resolve_backend
from trackers.quantization import for_weights
from trackers.registry import SATURATING_INT8, chosen_backend, get

FRAMES = 6
GT_BOXES = [(10.0 + 4 * i, 12.0, 20.0, 16.0) for i in range(FRAMES)]


@pytest.fixture
def image_folder(tmp_path) -> Path:
    """A plain folder of 6 frames (no ground truth)."""
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(FRAMES):
        cv2.imwrite(str(folder / f"{i + 1:04d}.png"), np.full((48, 64, 3), 30 * i, np.uint8))
    return folder


@pytest.fixture
def otb_folder(tmp_path) -> Path:
    """A tiny OTB sequence: img/0001.jpg.. and groundtruth_rect.txt (one absent frame)."""
    folder = tmp_path / "Crossing"
    (folder / "img").mkdir(parents=True)
    for i in range(FRAMES):
        frame = np.full((48, 64, 3), 40, np.uint8)
        cv2.imwrite(str(folder / "img" / f"{i + 1:04d}.jpg"), frame)
    lines = [",".join(f"{v:g}" for v in box) for box in GT_BOXES]
    lines[3] = "nan,nan,nan,nan"
    (folder / "groundtruth_rect.txt").write_text("\n".join(lines) + "\n")
    return folder


def question(win) -> QMessageBox:
    box = win._error_box
    assert isinstance(box, QMessageBox) and "ground truth" in box.text()
    return box


def load_ground_truth(win, qtbot, folder: Path) -> None:
    assert win.files.open_path(folder)
    question(win).button(QMessageBox.Yes).click()
    qtbot.waitUntil(lambda: len(win.session.annotations) == 1)


# -- 7: benchmark folders ------------------------------------------------------------------------


def test_a_sequence_or_its_img_folder_is_found_with_its_ground_truth(otb_folder, image_folder, tmp_path):
    assert find_sequence(otb_folder) == ("otb", otb_folder)
    assert find_sequence(otb_folder / "img") == ("otb", otb_folder)
    got = tmp_path / "GOT-10k_Val_000001"
    got.mkdir()
    (got / "groundtruth.txt").write_text("1,2,3,4\n")
    assert find_sequence(got) == ("got10k", got)
    assert find_sequence(image_folder) is None


def test_opening_a_benchmark_folder_offers_its_ground_truth_as_one_undoable_step(window, qtbot, otb_folder):
    load_ground_truth(window, qtbot, otb_folder)
    (track,) = window.session.annotations
    assert track.label == GROUND_TRUTH_LABEL
    assert [track.get(f).box for f in (0, 1, 5)] == [GT_BOXES[0], GT_BOXES[1], GT_BOXES[5]]
    assert track.get(3).absent and all(e.source is BoxSource.MANUAL for e in track.boxes.values())
    # Nothing selected: the next box drawn is a new track of its own kind, not a ground-truth keyframe.
    assert window.session.selected_track is None
    window.set_box((5.0, 5.0, 10.0, 10.0))
    assert [t.label for t in window.session.annotations] == [GROUND_TRUTH_LABEL, "object"]
    window.undo_stack.undo()
    window.undo_stack.undo()
    assert len(window.session.annotations) == 0 and not window.undo_stack.canUndo()


def test_the_img_subfolder_offers_it_too_and_declining_loads_nothing(window, qtbot, otb_folder):
    assert window.files.open_path(otb_folder / "img")
    question(window).button(QMessageBox.No).click()
    qtbot.wait(50)
    assert len(window.session.annotations) == 0 and window.undo_stack.isClean()


def test_a_plain_image_folder_asks_nothing(window, image_folder):
    assert window.files.open_path(image_folder)
    assert window._error_box is None


def test_the_strip_shows_the_tracked_tracks_iou_with_the_ground_truth(window, qtbot, otb_folder):
    load_ground_truth(window, qtbot, otb_folder)
    session = window.session
    window.set_box(GT_BOXES[0])  # a new track, drawn on the ground truth
    tracked = session.selected_track
    x, y, w, h = GT_BOXES[1]
    session.store_tracked(tracked, 1, tracked_box((x + w / 2, y, w, h), 0.9), None, None)  # IoU 1/3
    session.store_tracked(tracked, 2, tracked_box(GT_BOXES[2], 0.8), None, None)  # IoU 1
    session.store_tracked(tracked, 3, tracked_box(GT_BOXES[3], 0.7), None, None)  # ground truth absent
    window.presenter.refresh(now=True)
    shown = window.timeline.plot.iou_shown()
    np.testing.assert_allclose(shown[:3], [1.0, 1 / 3, 1.0], rtol=1e-6)
    assert np.isnan(shown[3:]).all() and window.timeline.plot.legend.isVisible()
    np.testing.assert_array_equal(
        shown, ground_truth_iou(session.annotations, tracked, FRAMES)
    )  # the same curve, Qt-free
    window.editing.select(1)  # the ground truth itself: nothing to compare
    assert window.timeline.plot.iou_shown().size == 0 and not window.timeline.plot.legend.isVisible()


# -- 8: preferences and about --------------------------------------------------------------------


def test_preferences_are_applied_and_saved(window, qtbot, config_dir, image_folder):
    from app.ui.main_window import MainWindow

    dialog = window.show_preferences()
    assert dialog.device_combo.itemText(0) == f"auto ({resolve_device('auto').type}" + (
        ":0)" if resolve_device("auto").type == "cuda" else ")"
    )
    dialog.drift_spins["min_score"].setValue(0.35)
    dialog.drift_spins["window"].setValue(12)
    dialog.autosave_spin.setValue(7)
    dialog.export_format_combo.setCurrentIndex(dialog.export_format_combo.findData("mot"))
    dialog.export_reviewed_check.setChecked(True)
    dialog.export_flagged_check.setChecked(True)
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.Ok).click()

    drift = window.session.drift_settings
    assert (drift.min_score, drift.window) == (0.35, 12) and window.autosave_timer.interval() == 7000
    stored = Settings()
    assert stored.drift_settings == drift and stored.autosave_interval_ms == 7000
    assert stored.export_defaults == ExportDefaults("mot", False, "jpg", True, True)
    # The next start begins with them.
    again = MainWindow()
    qtbot.addWidget(again)
    assert again.session.drift_settings.min_score == 0.35 and again.autosave_timer.interval() == 7000
    # Restore Defaults brings back the measured thresholds in the dialog.
    dialog = window.show_preferences()
    dialog.restore_button.click()
    assert dialog.preferences().drift.min_score == 0.5 and dialog.autosave_spin.value() == 3


def test_the_export_dialog_starts_with_the_export_defaults(qtbot, otb_folder):
    from app.io.project import VideoRef
    from app.model.annotations import Annotations
    from app.ui.export_dialog import ExportDialog

    annotations = Annotations(FRAMES)
    annotations.apply(annotations.add_track_edit("car", boxes={0: FrameBox(GT_BOXES[0])}))
    defaults = ExportDefaults("got10k", True, "png", True, True)
    dialog = ExportDialog(
        None, annotations, VideoRef(str(otb_folder), "", FRAMES, 64, 48), None, None, defaults
    )
    qtbot.addWidget(dialog)
    assert dialog.format.name == "got10k" and dialog.frames_check.isChecked()
    assert dialog.image_combo.currentText() == "png" and dialog.reviewed_check.isChecked()
    assert dialog.flagged_check.isChecked()
    assert dialog.chosen_defaults() == defaults


def test_about_names_the_version_device_backend_and_model_card(window):
    dialog = window.show_about()
    text = dialog.text()
    device = resolve_device("auto")
    assert f"version: {metadata.version('siamark')}" in text
    assert f"Device: auto → {device}" in text
    name = window.tracker_panel.tracker_name()
    # the shipped default runs in INT8 on the CPU (its INT8 parameters ship) where the CPU
    # computes INT8 exactly, else OpenVINO / torch
    backend = chosen_backend(name, device)
    plain = resolve_backend("auto", device)
    int8 = plain == "openvino" and for_weights(name, get(name).default_weights()) is not None
    int8 = int8 and exact_int8()
    assert backend == ("openvino-int8" if int8 else plain)
    assert f"Backend (auto): {backend}" in text
    assert ("INT8 saturates on this CPU" in text) == (backend == "openvino" and not exact_int8())
    assert f"Tracker: {name}" in text
    assert "success AUC" in text or "no shipped weights" in text
    dialog.close()
    # the panel's precision is what the dialog reports: float32 on the CPU is OpenVINO in f32
    window.tracker_panel.set_device("cpu")
    window.tracker_panel.set_precision("float32")
    text = window.show_about().text()
    assert f"Backend (float32): {'openvino' if openvino_available() else 'torch'}" in text


@pytest.mark.skipif(not openvino_available(), reason="openvino is not installed")
def test_about_reports_int8_or_why_not(tmp_path):
    """The INT8 choice: the shipped weights have parameters; a checkpoint without them is told
    how to measure them (a run with it would stop with the same message)."""
    from app.engine.jobs import TrackerSpec
    from app.ui.about_dialog import about_facts

    facts = dict(about_facts(TrackerSpec("siamfc", device="cpu", precision="int8")))
    # asked for where INT8 saturates (no VNNI / AMX), it runs and the dialog says why not to
    want = "openvino-int8" if exact_int8() else f"openvino-int8; {SATURATING_INT8}"
    assert facts["Backend (int8)"] == want
    mine = tmp_path / "mine.pth"
    mine.write_bytes(get("siamfc").default_weights().read_bytes() + b"\0")  # other bytes, other file
    facts = dict(about_facts(TrackerSpec("siamfc", weights=str(mine), device="cpu", precision="int8")))
    assert "no INT8 parameters" in facts["Backend (int8)"] and "quantize" in facts["Backend (int8)"]


# -- 9: response panel ---------------------------------------------------------------------------


def two_tracks_with_maps(win):
    """Two tracked tracks on frame 1, each with its own response map."""
    session = win.session
    win.set_box((4.0, 4.0, 12.0, 12.0))
    win.new_track()
    win.set_box((30.0, 20.0, 12.0, 12.0))
    geometry = MapGeometry(20.0, 14.0, 4.0)  # 5x5 cells covering (18, 12)-(38, 32)
    maps = {}
    for track, peak in ((1, (1, 1)), (2, (3, 3))):
        response = np.zeros((5, 5), np.float32)
        response[peak] = 1.0
        session.store_tracked(track, 1, tracked_box((20.0, 14.0, 8.0, 8.0), 0.9), response, geometry)
        maps[track] = response
    win.go_to(1, now=True)
    return maps


def test_the_response_panel_shows_the_chosen_tracks_map_on_frame_coordinates(window, qtbot, image_folder):
    window.files.open_path(image_folder)
    maps = two_tracks_with_maps(window)
    panel = window.response_panel
    window.editing.select(1)
    np.testing.assert_allclose(panel.image.image, maps[1], atol=1 / 255)
    assert "x (px)" in panel.plot.getAxis("bottom").labelText
    rect = panel.image.mapRectToParent(panel.image.boundingRect())
    assert (rect.x(), rect.y(), rect.width(), rect.height()) == (18.0, 12.0, 20.0, 20.0)
    assert [panel.track_combo.itemText(i) for i in range(3)] == ["Selected track", "#1 object", "#2 object"]

    panel.track_combo.setCurrentIndex(panel.track_combo.findData(2))  # as the person picks it
    assert window.session.response_track == 2 and window.session.selected_track == 1
    np.testing.assert_allclose(panel.image.image, maps[2], atol=1 / 255)
    window.set_overlay_enabled(True)
    qtbot.waitUntil(window.view.overlay.isVisible)
    shown = window.view.overlay.image
    peak_row = np.unravel_index(np.argmax(shown), shown.shape)[0]
    assert peak_row > shown.shape[0] // 2  # track 2's peak is low in its map, track 1's high

    window.editing.delete_track(2)  # the chosen track is gone: back to the selected one
    assert window.session.response_track is None and panel.track_combo.currentIndex() == 0
    np.testing.assert_allclose(panel.image.image, maps[1], atol=1 / 255)


def test_overlay_opacity_is_applied_painted_and_remembered(window, qtbot, image_folder):
    window.files.open_path(image_folder)
    two_tracks_with_maps(window)
    window.editing.select(2)
    panel, view = window.response_panel, window.view
    assert panel.opacity() == 0.5 and not panel.opacity_slider.isEnabled()  # overlay off (R)
    panel.overlay_button.click()  # the R action
    qtbot.waitUntil(view.overlay.isVisible)
    assert window.overlay_action.isChecked() and panel.opacity_slider.isEnabled()

    def painted() -> tuple[int, int, int]:
        view.fit()
        qtbot.wait(20)
        point = view.map_image_to_widget(32.0, 26.0)  # the centre of track 2's peak cell
        colour = view.grab().toImage().pixelColor(point.x(), point.y())
        return colour.red(), colour.green(), colour.blue()

    panel.opacity_slider.setValue(0)
    hidden = painted()
    panel.opacity_slider.setValue(60)
    assert view.overlay.opacity() == pytest.approx(0.6) and Settings().overlay_opacity == pytest.approx(0.6)
    half = painted()
    panel.opacity_slider.setValue(100)
    full = painted()

    def away(colour) -> int:  # how far from the frame's own colour
        return sum(abs(a - b) for a, b in zip(colour, hidden, strict=True))

    assert hidden == (30, 30, 30)  # frame 1 of the folder, no overlay at 0 %
    assert away(full) > away(half) + 60 and away(half) > 100
    window.overlay_action.trigger()  # R again: off
    assert not view.overlay.isVisible() and not panel.opacity_slider.isEnabled()


def test_the_model_card_row_names_the_backend_its_fps_were_measured_with():
    """The recorded fps are INT8 ones; a CPU that runs f32 (no VNNI) must not read them as its own."""
    import json

    from app.ui.about_dialog import model_card
    from trackers.measured import BENCHMARK_FILE
    from trackers.registry import shipped

    recorded = {
        t["method"]: t.get("backend") for t in json.loads(BENCHMARK_FILE.read_text())["meta"]["trackers"]
    }
    for name in shipped():
        row = model_card(name)
        assert "fps" in row and row.endswith(f", {recorded[name]})"), (name, row)
