"""The export dialog, offscreen: formats and their conventions, options, the export in a worker
thread with progress, Cancel and closing mid-export, and errors shown without closing."""

from __future__ import annotations

import errno
import json
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog

from app.io.formats import FORMATS
from app.io.project import VideoRef
from app.model.annotations import Annotations, BoxSource, FrameBox
from app.ui.export_dialog import ExportDialog, export_with_dialog, exportable_formats

FRAMES = 12
TIMEOUT_MS = 30_000


class Reader:
    """Synthetic frames; records the thread of each call; can hold a frame until released."""

    def __init__(self, hold_at: int | None = None, delay: float = 0.0):
        self.frames = [np.full((48, 64, 3), 10 * i, np.uint8) for i in range(FRAMES)]
        self.hold_at, self.delay = hold_at, delay
        self.reached, self.release = threading.Event(), threading.Event()
        self.threads: set[int] = set()
        self.asked: list[int] = []

    def __call__(self, index: int) -> np.ndarray:
        self.threads.add(threading.get_ident())
        self.asked.append(index)
        if index == self.hold_at:
            self.reached.set()
            assert self.release.wait(TIMEOUT_MS / 1000)
        time.sleep(self.delay)
        return self.frames[index]


@pytest.fixture
def annotations() -> Annotations:
    model = Annotations(FRAMES)
    car = {f: FrameBox((2.0 + f, 3.0, 20.0, 10.0), BoxSource.MANUAL) for f in range(FRAMES)}
    dog = {f: FrameBox((30.0, 20.0 - f, 8.0, 9.0), BoxSource.TRACKED, score=0.8) for f in range(0, FRAMES, 3)}
    model.apply(model.add_track_edit("car", boxes=car))
    model.apply(model.add_track_edit("dog", boxes=dog))
    return model


@pytest.fixture
def video(tmp_path) -> VideoRef:
    return VideoRef(str(tmp_path / "clip.mp4"), frame_count=FRAMES, width=64, height=48, fps=25.0)


def make_dialog(qtbot, annotations, video, reader) -> ExportDialog:
    dialog = ExportDialog(None, annotations, video, reader)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def choose(dialog: ExportDialog, name: str, target: Path | None = None) -> None:
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData(name))
    if target is not None:
        dialog.target_edit.setText(str(target))


def wait_idle(qtbot, dialog: ExportDialog) -> None:
    qtbot.waitUntil(lambda: not dialog.running, timeout=TIMEOUT_MS)


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".partial")]


def test_every_exporting_format_is_offered_with_its_conventions(qtbot, annotations, video, tmp_path):
    dialog = make_dialog(qtbot, annotations, video, Reader())
    offered = [dialog.format_combo.itemData(i) for i in range(dialog.format_combo.count())]
    assert offered == [f.name for f in exportable_formats()]
    assert {"yolo", "coco", "voc"} <= set(offered)
    for name in offered:
        choose(dialog, name)
        fmt = FORMATS[name]
        assert dialog.conventions_label.text() == fmt.conventions
        assert Path(dialog.target_edit.text()).parent == tmp_path  # beside the video
        assert Path(dialog.target_edit.text()).name.startswith(f"clip_{name}")
        assert dialog.frames_check.isChecked() == fmt.needs_frames
        assert dialog.frames_check.isEnabled() == (fmt.frames_optional and not fmt.needs_frames)
        assert dialog.image_combo.isEnabled() == fmt.needs_frames
    dialog.target_edit.setText(str(tmp_path / "mine"))
    choose(dialog, "voc")
    assert dialog.target_edit.text() == str(tmp_path / "mine")  # a typed target is kept


def test_options_follow_the_controls(qtbot, annotations, video):
    dialog = make_dialog(qtbot, annotations, video, Reader())
    options = dialog.options()
    assert (options.tracks, options.labels, options.first, options.last, options.step) == (
        None,
        None,
        None,
        None,
        1,
    )
    dialog.tracks_list.item(1).setCheckState(Qt.Unchecked)
    dialog.classes_list.item(0).setCheckState(Qt.Unchecked)
    dialog.first_spin.setValue(2)
    dialog.last_spin.setValue(9)
    dialog.step_spin.setValue(3)
    dialog.reviewed_check.setChecked(True)
    dialog.flagged_check.setChecked(True)
    dialog.image_combo.setCurrentText("png")
    options = dialog.options()
    assert options.tracks == frozenset({1}) and options.labels == frozenset({"dog"})
    assert (options.first, options.last, options.step, options.reviewed_only) == (2, 9, 3, True)
    assert options.skip_flagged
    assert options.image_format == "png"
    dialog.tracks_list.item(0).setCheckState(Qt.Unchecked)
    with pytest.raises(ValueError, match="at least one track"):
        dialog.options()


def test_the_dialog_says_how_many_chosen_boxes_are_still_flagged(qtbot, annotations, video, tmp_path):
    dog = annotations.track(2)
    for frame in (3, 6):  # two of the dog's tracked boxes flagged by the drift checks
        annotations.apply(annotations.set_box_edit(2, frame, dog.get(frame).with_(flag="drift")))
    dialog = make_dialog(qtbot, annotations, video, Reader())
    boxes = FRAMES + len(dog.boxes)
    assert f"2 of the {boxes} boxes chosen are still flagged" in dialog.flagged_label.text()
    dialog.last_spin.setValue(4)  # the range follows: frame 6 is out
    assert "1 of the" in dialog.flagged_label.text()
    dialog.flagged_check.setChecked(True)
    assert "are flagged and will be left out" in dialog.flagged_label.text()
    dialog.tracks_list.item(1).setCheckState(Qt.Unchecked)  # the car alone: nothing flagged
    assert dialog.flagged_label.text() == ""
    choose(dialog, "otb", tmp_path / "out")
    dialog.tracks_list.item(1).setCheckState(Qt.Checked)
    dialog.tracks_list.item(0).setCheckState(Qt.Unchecked)
    dialog.last_spin.setValue(FRAMES - 1)
    dialog.start_export()
    wait_idle(qtbot, dialog)
    written = (tmp_path / "out" / "groundtruth_rect.txt").read_text().splitlines()
    assert "nan" in written[3] and "nan" in written[6] and "nan" not in written[0]


def test_export_runs_in_a_worker_thread_with_live_progress(qtbot, annotations, video, tmp_path):
    reader = Reader(delay=0.02)
    dialog = make_dialog(qtbot, annotations, video, reader)
    choose(dialog, "coco", tmp_path / "out")
    dialog.step_spin.setValue(2)
    dialog.tracks_list.item(1).setCheckState(Qt.Unchecked)  # only the car
    seen = []
    dialog.progress_bar.valueChanged.connect(seen.append)
    with qtbot.waitSignal(dialog.accepted, timeout=TIMEOUT_MS):
        qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
        assert dialog.running and not dialog.export_button.isEnabled()
        assert dialog.cancel_button.text() == "Cancel"
    assert threading.get_ident() not in reader.threads and len(reader.threads) == 1
    assert reader.asked == [0, 2, 4, 6, 8, 10]
    assert len(set(seen)) >= 4 and max(seen) == 6  # the bar moved while frames were written
    assert dialog.exported_to == tmp_path / "out"
    doc = json.loads((tmp_path / "out" / "annotations.json").read_text())
    assert [i["frame_id"] for i in doc["images"]] == [0, 2, 4, 6, 8, 10]
    assert {a["instance_id"] for a in doc["annotations"]} == {1}
    assert dialog.result() == QDialog.Accepted and leftovers(tmp_path) == []


def test_cancel_stops_the_export_leaves_nothing_and_keeps_the_dialog(qtbot, annotations, video, tmp_path):
    reader = Reader(hold_at=4)
    dialog = make_dialog(qtbot, annotations, video, reader)
    choose(dialog, "yolo", tmp_path / "out")
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    qtbot.waitUntil(reader.reached.is_set, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: dialog.progress_bar.value() == 4, timeout=TIMEOUT_MS)  # GUI updated meanwhile
    qtbot.mouseClick(dialog.cancel_button, Qt.LeftButton)
    reader.release.set()
    wait_idle(qtbot, dialog)
    assert "cancelled" in dialog.status_label.text().lower()
    assert dialog.isVisible() and dialog.export_button.isEnabled() and dialog.exported_to is None
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no target, no staged folder
    assert reader.asked == [0, 1, 2, 3, 4]


def test_closing_during_an_export_cancels_it_then_closes(qtbot, annotations, video, tmp_path):
    reader = Reader(hold_at=2)
    dialog = make_dialog(qtbot, annotations, video, reader)
    choose(dialog, "voc", tmp_path / "out")
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    qtbot.waitUntil(reader.reached.is_set, timeout=TIMEOUT_MS)
    dialog.close()
    assert dialog.isVisible()  # not under a running thread
    reader.release.set()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=TIMEOUT_MS)
    assert not dialog.running and dialog.result() == QDialog.Rejected
    assert list(tmp_path.iterdir()) == []


def test_a_target_that_holds_files_is_an_error_shown_in_the_dialog(qtbot, annotations, video, tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    reader = Reader()
    dialog = make_dialog(qtbot, annotations, video, reader)
    choose(dialog, "yolo", full)
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    wait_idle(qtbot, dialog)
    assert "already holds files" in dialog.status_label.text()
    assert "color" in dialog.status_label.styleSheet()
    assert dialog.isVisible() and dialog.export_button.isEnabled()
    assert reader.asked == [] and [p.name for p in full.iterdir()] == ["keep.txt"]


def test_a_read_only_target_is_an_error_shown_in_the_dialog(qtbot, annotations, video, tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    dialog = make_dialog(qtbot, annotations, video, Reader())
    choose(dialog, "coco", tmp_path / "out")
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    wait_idle(qtbot, dialog)
    assert "read-only" in dialog.status_label.text() and dialog.isVisible()
    assert list(tmp_path.iterdir()) == []


def test_formats_that_need_frames_say_so_without_a_video(qtbot, annotations, video, tmp_path):
    dialog = make_dialog(qtbot, annotations, video, None)
    choose(dialog, "yolo", tmp_path / "out")
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    assert not dialog.running and "needs the video's frames" in dialog.status_label.text()
    dialog.target_edit.setText("")
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    assert "Choose where to export" in dialog.status_label.text()


def test_browse_uses_an_empty_folder_or_makes_a_new_one_inside(
    qtbot, annotations, video, tmp_path, monkeypatch
):
    dialog = make_dialog(qtbot, annotations, video, Reader())
    choose(dialog, "voc")
    empty, busy = tmp_path / "empty", tmp_path / "busy"
    empty.mkdir()
    busy.mkdir()
    (busy / "x.txt").write_text("x")
    for chosen, expected in ((empty, empty), (busy, busy / "clip_voc")):
        monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, c=chosen: str(c))
        qtbot.mouseClick(dialog.browse_button, Qt.LeftButton)
        assert dialog.target_edit.text() == str(expected)


def test_export_with_dialog_returns_the_exported_folder(qtbot, annotations, video, tmp_path):
    target = tmp_path / "dataset"

    def drive():
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, ExportDialog)
        choose(dialog, "yolo", target)
        dialog.export_button.click()

    def give_up():  # a failed drive() must not leave exec() waiting forever
        dialog = QApplication.activeModalWidget()
        if dialog is not None:
            dialog.done(QDialog.Rejected)

    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(give_up)
    guard.start(TIMEOUT_MS)
    QTimer.singleShot(0, drive)
    try:
        exported = export_with_dialog(None, annotations, video, Reader())
    finally:
        guard.stop()
    assert exported[0] == target and f"to {target}" in exported[1]
    assert (target / "data.yaml").is_file() and len(list((target / "labels").iterdir())) == FRAMES


def test_file_formats_and_optional_frames_go_through_the_same_dialog(qtbot, annotations, video, tmp_path):
    file_formats = [f for f in exportable_formats() if f.target_kind == "file"]
    optional = [f for f in exportable_formats() if f.frames_optional and not f.needs_frames]
    if not file_formats or not optional:
        pytest.skip("needs a file format and a format with optional frames registered")
    reader = Reader()
    dialog = make_dialog(qtbot, annotations, video, reader)
    choose(dialog, file_formats[0].name)
    target = Path(dialog.target_edit.text())
    assert target.suffix  # a file name with the format's suffix, beside the video
    dialog.start_export()
    wait_idle(qtbot, dialog)
    assert target.is_file() and dialog.exported_to == target and reader.asked == []

    dialog = make_dialog(qtbot, annotations, video, reader)
    choose(dialog, optional[0].name, tmp_path / "with_frames")
    dialog.frames_check.setChecked(True)
    assert dialog.image_combo.isEnabled()
    dialog.start_export()
    wait_idle(qtbot, dialog)
    assert dialog.exported_to == tmp_path / "with_frames" and sorted(set(reader.asked)) == list(range(FRAMES))


def test_the_target_is_suggested_in_the_given_folder_and_the_result_says_where_it_went(
    qtbot, annotations, video, tmp_path
):
    """Defect: the default target was the video's folder (a dataset, or the app's own demo
    folder) and nothing confirmed where the export went."""
    elsewhere = tmp_path / "exports"
    elsewhere.mkdir()
    dialog = ExportDialog(None, annotations, video, Reader(), elsewhere)
    qtbot.addWidget(dialog)
    choose(dialog, "mot")
    assert Path(dialog.target_edit.text()) == elsewhere / "clip_mot"
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.exported_to is not None, timeout=TIMEOUT_MS)
    assert dialog.message.startswith(f"Exported {len(annotations.track(1).boxes) + 4} boxes of 2 tracks")
    assert str(elsewhere / "clip_mot") in dialog.message
