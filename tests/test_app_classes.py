"""Classes per project (the class list, its panel, keys 1-9, the picker, exports) and the
on-frame labels (chips that never overlap, occluded / absent / interpolated / flagged shown)."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QColorDialog, QInputDialog

import trackers
from app.io.formats import FORMATS, ExportJob
from app.io.project import Project, VideoRef, load_project, save_project
from app.model.annotations import Annotations, BoxSource, FrameBox, ObjectClass
from app.ui.frame_labels import overlaps, place_labels, readable_text_colour
from tests.test_app_annotate import SPEC, FakeMulti, Scripted, run

FRAMES, WIDTH, HEIGHT = 12, 160, 120


def names_of(annotations: Annotations) -> list[str]:
    return annotations.class_names()


# -- the model ------------------------------------------------------------------------------------


def test_class_list_edits_and_their_inverses():
    model = Annotations(10)
    model.apply(model.add_track_edit("car", boxes={0: FrameBox((1, 1, 5, 5))}))
    assert names_of(model) == ["car"]  # a new label joins the class list in the same edit
    model.apply(model.add_class_edit("person"))
    model.apply(model.add_track_edit("car", boxes={1: FrameBox((9, 1, 5, 5))}))
    assert names_of(model) == ["car", "person"] and model.class_color("person") != model.class_color("car")

    rename = model.rename_class_edit("car", "red car")
    assert len(rename.tracks) == 2  # both tracks relabelled in the same edit: one undo step
    model.apply(rename)
    assert names_of(model) == ["red car", "person"]
    assert [t.label for t in model] == ["red car", "red car"]
    model.apply(rename.inverse())
    assert names_of(model) == ["car", "person"] and [t.label for t in model] == ["car", "car"]

    recolour = model.recolour_class_edit("person", "#123ABC")
    model.apply(recolour)
    assert model.class_color("person") == "#123abc"
    model.apply(recolour.inverse())
    assert model.class_color("person") != "#123abc"

    with pytest.raises(ValueError, match=r"used by tracks #1, #2"):
        model.remove_class_edit("car")  # never loses a box
    with pytest.raises(ValueError, match="already"):
        model.rename_class_edit("car", "person")
    with pytest.raises(ValueError, match="already"):
        model.add_class_edit(" person ")
    remove = model.remove_class_edit("person")
    model.apply(remove)
    assert names_of(model) == ["car"]
    model.apply(remove.inverse())
    assert names_of(model) == ["car", "person"]

    relabel = model.relabel_edit(1, "bus")  # a new class through a track
    model.apply(relabel)
    assert names_of(model) == ["car", "person", "bus"]
    model.apply(relabel.inverse())
    assert names_of(model) == ["car", "person"]


def test_project_round_trip_keeps_the_class_list_and_old_projects_get_their_labels(tmp_path):
    model = Annotations(10)
    model.apply(model.add_class_edit("zebra", "#00ff00"))
    model.apply(model.add_class_edit("ant"))
    model.apply(model.add_track_edit("ant", boxes={0: FrameBox((1, 1, 5, 5))}))
    path = tmp_path / "p.siamark.json"
    save_project(Project(VideoRef(str(tmp_path / "v.mp4")), model), path)
    loaded = load_project(path).annotations
    assert loaded.classes == model.classes  # names, colours and order (not sorted)
    assert loaded.classes[0] == ObjectClass("zebra", "#00ff00")

    data = json.loads(path.read_text())
    del data["annotations"]["classes"]  # a project written before class lists
    data["annotations"]["tracks"].append({"id": 2, "label": "cat", "color": "#ff0000", "frames": []})
    path.write_text(json.dumps(data))
    assert names_of(load_project(path).annotations) == ["ant", "cat"]  # the labels used, sorted

    data["annotations"]["classes"] = [{"name": "dog", "color": "#000000"}, {"name": "dog"}]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"classes\[1\]: class 'dog' appears twice"):
        load_project(path)


def test_an_import_adds_its_labels_to_the_class_list_with_their_colours():
    model = Annotations(10)
    model.apply(model.add_class_edit("car"))
    other = Annotations(10)
    other.apply(other.add_track_edit("car", boxes={0: FrameBox((1, 1, 5, 5))}))
    other.apply(other.add_class_edit("truck", "#abcdef"))
    other.apply(other.relabel_edit(1, "truck"))
    other.apply(other.add_track_edit("bike", boxes={0: FrameBox((1, 1, 5, 5))}))
    edit = model.import_edit(other)
    model.apply(edit)
    assert names_of(model) == ["car", "truck", "bike"] and model.class_color("truck") == "#abcdef"
    model.apply(edit.inverse())
    assert names_of(model) == ["car"]


# -- label placement --------------------------------------------------------------------------------


def test_label_chips_of_adjacent_boxes_never_overlap():
    boxes = [(100, 50, 40, 40), (110, 52, 40, 40), (105, 49, 40, 40), (300, 0, 20, 20)]
    sizes = [(60, 14)] * 4
    rects = place_labels(boxes, sizes)
    assert rects[0] == (100, 36, 60, 14)  # above its box
    assert rects[1] == (110, 92, 60, 14)  # above is taken: below
    assert rects[2][1] >= 92 + 14  # both taken: further down, past the chip in the way
    assert rects[3] == (300, 20, 60, 14)  # at the frame's top: below
    for i, a in enumerate(rects):
        assert not any(overlaps(a, b) for b in rects[i + 1 :])
    rng = np.random.default_rng(0)  # a crowd
    crowd = [(float(x), float(y), 30.0, 30.0) for x, y in rng.uniform(0, 100, (40, 2))]
    placed = place_labels(crowd, [(50.0, 12.0)] * len(crowd))
    assert not any(overlaps(a, b) for i, a in enumerate(placed) for b in placed[i + 1 :])


def test_label_chips_stay_on_the_frame():
    frame = (200.0, 100.0)
    right, low = (180, 40, 20, 20), (20, 80, 20, 20)
    assert place_labels([right], [(60, 14)], frame) == [(140, 26, 60, 14)]  # moved in from the right
    # near the bottom, both places taken: up from above rather than off the frame
    rects = place_labels([(20, 40, 20, 20), low, low], [(60, 14)] * 3, frame)
    assert rects[1] == (20, 66, 60, 14) and rects[2] == (20, 52, 60, 14)
    assert all(0 <= r[1] and r[1] + r[3] <= 100 for r in rects)
    assert not any(overlaps(a, b) for i, a in enumerate(rects) for b in rects[i + 1 :])


def test_a_chip_shows_a_flags_first_reason_and_counts_the_rest():
    from app.ui.flag_text import short_flag

    three = "score 0.37 < 0.50; well below the start level 0.70; looks unlike the target: appearance 0.43"
    assert short_flag(three) == "score 0.37 < 0.50 (+2 more)"
    assert short_flag("drift") == "drift"
    assert short_flag("forward/backward IoU 0.42 (kept the forward box)").endswith("box)")
    look = "looks unlike the target: appearance 0.47 against 0.79 at the start"
    assert short_flag(look) == "looks unlike the target" and short_flag("") == ""
    assert short_flag(f"{look}; score 0.5 < 0.6") == "looks unlike the target (+1 more)"


def test_chip_text_is_black_on_light_and_white_on_dark_fills():
    assert readable_text_colour("#ffd740") == "#000000"
    assert readable_text_colour("#ffffff") == "#000000"
    assert readable_text_colour("#7c4dff") == "#ffffff"
    assert readable_text_colour("#000000") == "#ffffff"


# -- the window -----------------------------------------------------------------------------------


@pytest.fixture
def frames_folder(tmp_path) -> Path:
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(FRAMES):
        frame = np.full((HEIGHT, WIDTH, 3), 235, np.uint8)  # a light floor
        frame[0, 0, 0] = i  # the fake tracker reads the frame index here
        cv2.imwrite(str(folder / f"{i:04d}.png"), frame)
    return folder


@pytest.fixture
def window(window, frames_folder):
    """The main window (conftest) with the frames open; the class picker closed after."""
    assert window.files.open_path(frames_folder)
    yield window
    window.class_actions.picker.close()


def answer_text(monkeypatch, *answers: str) -> list[str]:
    """QInputDialog.getText answers ``answers`` in turn; returns the prompts it was shown."""
    prompts, queue = [], list(answers)
    monkeypatch.setattr(
        QInputDialog,
        "getText",
        lambda parent, title, label, **kw: (prompts.append(label), (queue.pop(0), True))[1],
    )
    return prompts


def panel_texts(panel) -> list[str]:
    return [panel.list.item(i).text() for i in range(panel.list.count())]


def test_class_panel_adds_renames_recolours_and_removes_classes_undoably(window, monkeypatch):
    annotations = window.session.annotations
    panel = window.track_panel.classes
    assert not panel.rename_button.isEnabled()  # nothing chosen yet
    answer_text(monkeypatch, "car", "person")
    panel.add_button.click()
    panel.add_button.click()
    assert names_of(annotations) == ["car", "person"]
    assert window.session.active_class == "person"  # what was just added is active
    assert panel.current_name() == "person" and panel.remove_button.isEnabled()

    window.set_box((10, 10, 30, 30))  # a new track gets the active class
    assert annotations.track(1).label == "person"
    assert panel_texts(panel) == ["1  car   0 tracks", "2  person   1 track"]

    panel.list.setCurrentRow(1)
    answer_text(monkeypatch, "walker")
    panel.rename_button.click()
    assert names_of(annotations) == ["car", "walker"] and annotations.track(1).label == "walker"
    assert window.session.active_class == "walker"
    window.undo_stack.undo()  # one step: the class and its track
    assert names_of(annotations) == ["car", "person"] and annotations.track(1).label == "person"
    window.undo_stack.redo()

    monkeypatch.setattr(QColorDialog, "getColor", lambda *a, **k: QColor("#102030"))
    panel.colour_button.click()
    assert annotations.class_color("walker") == "#102030"
    assert window.view.track_box_texts() == ["#1 walker · key"]
    assert window.view._track_items[0][1].fill.color().name() == "#102030"  # the chip: class colour

    panel.remove_button.click()  # walker is in use: refused, with a message
    assert names_of(annotations) == ["car", "walker"] and "used by track #1" in window.last_error
    panel.list.setCurrentRow(0)
    assert window.session.active_class == "car"
    panel.remove_button.click()
    assert names_of(annotations) == ["walker"] and window.session.active_class is None
    window.undo_stack.undo()
    assert names_of(annotations) == ["car", "walker"]


def test_keys_1_to_9_give_the_selected_track_a_class(window, monkeypatch):
    annotations = window.session.annotations
    for name in ("car", "person", "bike"):
        window.classes.add(name)
    texts = [a.text() for a in window.class_actions.set_class_actions]
    assert texts[:4] == ["Class &1: car", "Class &2: person", "Class &3: bike", "Class &4 (none yet)"]
    assert not window.class_actions.set_class_actions[3].isEnabled()
    window.set_box((10, 10, 30, 30), label="car")
    QTest.keyClick(window, Qt.Key_3)
    assert annotations.track(1).label == "bike" and window.session.active_class == "bike"
    QTest.keyClick(window, Qt.Key_2)
    assert annotations.track(1).label == "person"
    window.undo_stack.undo()
    assert annotations.track(1).label == "bike"
    assert window.track_panel.list.item(0).text() == "#1  bike   1 box"


def test_the_picker_pops_up_for_a_new_track_and_sets_its_class(window, monkeypatch):
    annotations = window.session.annotations
    picker = window.class_actions.picker
    window.set_box((10, 10, 30, 30))  # the project's first box: no classes to choose from yet
    assert annotations.track(1).label == "object" and not picker.isVisible()
    window.new_track()
    window.set_box((20, 60, 30, 30))  # one class: nothing to choose, so the keys stay free
    assert annotations.track(2).label == "object" and not picker.isVisible()
    window.undo_stack.undo()
    window.classes.add("car")
    window.new_track()
    window.set_box((60, 10, 30, 30))
    assert picker.isVisible()  # popped up, nothing waits for it
    assert annotations.track(2).label == "car"  # the active class until something is chosen
    assert [a.text() for a in picker.actions() if a.text()] == ["&1  object", "&2  car", "&New class…"]
    picker.actions()[0].trigger()
    picker.close()
    assert annotations.track(2).label == "object" and window.session.active_class == "object"
    window.undo_stack.undo()
    assert annotations.track(2).label == "car"

    window.new_track()
    window.set_box((100, 50, 30, 30))
    answer_text(monkeypatch, "truck")
    next(a for a in picker.actions() if "New class" in a.text()).trigger()
    picker.close()
    assert annotations.track(3).label == "truck" and names_of(annotations)[-1] == "truck"


def test_the_class_dialog_offers_the_classes_and_the_whole_current_label(window, monkeypatch):
    window.set_box((10, 10, 30, 30), label="red car")
    window.classes.add("bus")
    asked = {}

    def get_item(parent, title, label, items, current, editable):
        asked.update(items=list(items), current=current, editable=editable)
        return "bus", True

    monkeypatch.setattr(QInputDialog, "getItem", get_item)
    window.track_panel.ask_label()
    assert asked == {"items": ["red car", "bus"], "current": 0, "editable": True}  # not "red"
    assert window.session.annotations.track(1).label == "bus"


def test_state_is_shown_on_the_frame_and_chips_never_overlap(window, qtbot):
    annotations = window.session.annotations
    picker = window.class_actions.picker
    window.classes.add("car", "#ffd740")
    window.set_box((40, 40, 30, 30))
    window.new_track()
    window.set_box((44, 42, 30, 30))  # adjacent boxes: their chips compete for the same place
    picker.close()
    window.new_track()
    window.set_box((80, 60, 20, 20))
    picker.close()
    window.editing.toggle_flag("absent")  # track 3 is out of view on frame 0 ...
    window.go_to(1, now=True)
    window.set_box((82, 62, 20, 20))  # ... and seen on frame 1
    window.go_to(0, now=True)
    window.editing.select(2)
    window.editing.toggle_flag("occluded")
    window.editing.push(annotations.flag_edit({(1, 0): "drift"}))

    texts = window.view.track_box_texts()
    assert texts == ["#1 car · key · ⚑ drift", "#2 car · key · occluded", "#3 car · absent"]
    items = window.view._track_items
    assert items[0][0].pen().style() == Qt.PenStyle.SolidLine
    assert items[1][0].pen().style() == Qt.PenStyle.DashLine  # occluded: dashed outline
    assert not items[2][0].isVisible() and items[2][1].isVisible()  # absent: a chip, no box
    assert items[2][1].fill.color().name() == "#5f5f5f"  # greyed
    assert items[0][1].border.color().name() == "#ffab00"  # flagged
    assert items[0][1].textItem.defaultTextColor().name() == "#000000"  # black on the yellow class
    assert items[0][1].textItem.font().pixelSize() == 13
    rects = window.view.track_label_rects()
    assert rects[2][0] == pytest.approx(82)  # where track 3 was last seen (frame 1)
    assert not any(overlaps(a, b) for i, a in enumerate(rects) for b in rects[i + 1 :])

    window.view.viewbox.scaleBy((0.5, 0.5))  # zoomed in: chips smaller on the frame, re-placed
    qtbot.waitUntil(lambda: window.view.track_label_rects()[0][2] < rects[0][2] * 0.75)
    zoomed = window.view.track_label_rects()
    assert not any(overlaps(a, b) for i, a in enumerate(zoomed) for b in zoomed[i + 1 :])


def test_an_interpolated_box_is_dotted(window):
    window.set_box((10, 80, 20, 20), label="car")
    window.go_to(2, now=True)
    window.set_box((20, 80, 20, 20))
    window.editing.interpolate()
    window.go_to(1, now=True)
    assert window.view.track_box_texts() == ["#1 car · interpolated"]
    assert window.view._track_items[0][0].pen().style() == Qt.PenStyle.DotLine


class SlowMulti(FakeMulti):
    def track(self, frame):
        time.sleep(0.05)  # slow enough for the window to repaint during the run, even on a busy machine
        return super().track(frame)


def test_track_counts_update_live_during_a_run(window, qtbot, monkeypatch):
    monkeypatch.setattr(trackers.multi, "MultiTracker", SlowMulti)
    monkeypatch.setattr(Scripted, "scores", {})
    monkeypatch.setattr(Scripted, "boxes", {})
    window.set_box((10, 10, 30, 30))
    assert window.track_panel.list.item(0).text() == "#1  object   1 box"
    seen = []
    window.runs.progress.connect(lambda *_: seen.append(window.track_panel.list.item(0).text()))
    run(window, qtbot, lambda: window.track(1, spec=SPEC))
    counts = {int(text.split()[2]) for text in seen}
    assert any(1 < n < FRAMES for n in counts)  # the list followed the run
    assert window.track_panel.list.item(0).text() == f"#1  object   {FRAMES} boxes"


# -- exports ----------------------------------------------------------------------------------------


def class_annotations() -> Annotations:
    model = Annotations(4)
    for name, colour in (("zebra", "#00ff00"), ("ant", "#0000ff"), ("unused", "#ff00ff")):
        model.apply(model.add_class_edit(name, colour))
    for label, x in (("ant", 10), ("zebra", 60), ("ant", 100)):
        boxes = {f: FrameBox((x + f, 20, 30, 30), BoxSource.MANUAL) for f in range(4)}
        model.apply(model.add_track_edit(label, boxes=boxes))
    return model


@pytest.mark.parametrize("name", ["yolo", "coco", "voc", "mot", "cvat", "project", "lasot", "got10k"])
def test_every_export_carries_the_classes(name, tmp_path):
    model = class_annotations()
    frames = [np.full((HEIGHT, WIDTH, 3), 40 * i, np.uint8) for i in range(4)]
    target = tmp_path / ("out.xml" if name == "cvat" else "out.siamark.json" if name == "project" else "out")
    job = ExportJob(model, VideoRef(str(tmp_path / "clip.mp4"), "", 4, WIDTH, HEIGHT, 25.0), target)
    job = ExportJob(job.annotations, job.video, job.target, job.options, lambda i: frames[i])
    FORMATS[name].export(job)
    if name == "yolo":  # category lists follow the project's class order (used classes only)
        assert yaml.safe_load((target / "data.yaml").read_text())["names"] == {0: "zebra", 1: "ant"}
        assert (target / "labels/frame_000000.txt").read_text().split()[::5] == ["1", "0", "1"]
    elif name == "coco":
        doc = json.loads((target / "annotations.json").read_text())
        assert [c["name"] for c in doc["categories"]] == ["zebra", "ant"]
        assert [a["category_id"] for a in doc["annotations"] if a["image_id"] == 1] == [2, 1, 2]
    elif name == "voc":
        xml = ET.parse(target / "Annotations/frame_000000.xml")
        assert [o.findtext("name") for o in xml.iter("object")] == ["ant", "zebra", "ant"]
    elif name == "mot":
        assert (target / "gt/labels.txt").read_text().split() == ["zebra", "ant"]
        rows = [line.split(",") for line in (target / "gt/gt.txt").read_text().split()]
        assert {(r[1], r[7]) for r in rows} == {("1", "2"), ("2", "1"), ("3", "2")}
    elif name == "cvat":
        root = ET.parse(target).getroot()
        labels = [(lab.findtext("name"), lab.findtext("color")) for lab in root.iter("label")]
        assert labels == [("zebra", "#00ff00"), ("ant", "#0000ff")]  # the class colours
        assert [t.get("label") for t in root.iter("track")] == ["ant", "zebra", "ant"]
    elif name == "project":
        assert load_project(target).annotations.classes == model.classes  # the whole list
    else:  # one folder per track, named <class>-<id>; the class inside too
        assert sorted(p.name for p in target.iterdir() if p.is_dir()) == ["ant-1", "ant-3", "zebra-2"]
        if name == "lasot":
            assert (target / "zebra-2/nlp.txt").read_text() == "zebra\n"
        else:
            assert "object_class: zebra" in (target / "zebra-2/meta_info.ini").read_text()
