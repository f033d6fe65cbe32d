"""YOLO, COCO and Pascal VOC exports read back with their real readers (globox, pycocotools) on a
real two-target sequence; the COCO importer; atomic, cancellable exports into checked folders."""

from __future__ import annotations

import errno
import json
import math
import os
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import globox  # reads the YOLO / VOC / COCO exports
import numpy as np
import pycocotools.coco as pycocotools_coco  # reads the COCO export
import pytest
import yaml  # reads data.yaml as Ultralytics does

from app.io.formats import FORMATS, ExportJob, ExportOptions, FormatError
from app.io.formats.coco import load_coco
from app.io.formats.output import MANIFEST
from app.io.formats.registry import ExportCancelled
from app.io.project import VideoRef
from app.model.annotations import Annotations, BoxSource, FrameBox
from tests.shared_data import SEQUENCES, needs_shared
from trackers.io import open_source, read_groundtruth

JOGGING = SEQUENCES / "otb_jogging"  # two joggers: groundtruth_rect.txt and groundtruth_rect_2.txt
FRAMES = 20
ABSENT_1 = 5  # track 1 marked absent here
BOTH_ABSENT = 15  # both tracks absent: the image is exported without objects
UNANNOTATED = 17  # no entry for either track: nothing says what is there, so no image
OCCLUDED_2 = 7
UNREVIEWED = {3: {1, 2}, 8: {2}}  # frame -> tracks whose tracked box nobody has accepted


@pytest.fixture(scope="module")
def sequence():
    if not JOGGING.is_dir():
        pytest.skip(f"needs {JOGGING} (shared test data)")
    frames = open_source(JOGGING).read_all(FRAMES)
    gt1 = read_groundtruth(JOGGING / "groundtruth_rect.txt")[:FRAMES]
    gt2 = read_groundtruth(JOGGING / "groundtruth_rect_2.txt")[:FRAMES]
    return frames, gt1, gt2


def entry_for(frame: int, box, track: int) -> FrameBox:
    """A realistic mix: keyframes every 10 frames, tracked boxes (reviewed or not) between."""
    box = tuple(float(v) for v in box)
    if frame % 10 == 0:
        return FrameBox(box, BoxSource.MANUAL, reviewed=True)
    if track in UNREVIEWED.get(frame, ()):
        return FrameBox(
            box, BoxSource.TRACKED, score=0.41 + frame / 100, flag="low score" if track == 1 else ""
        )
    if frame > 10:
        return FrameBox(box, BoxSource.INTERPOLATED, reviewed=True)
    occluded = track == 2 and frame == OCCLUDED_2
    return FrameBox(box, BoxSource.TRACKED, score=0.9 - frame / 100, occluded=occluded, reviewed=True)


@pytest.fixture(scope="module")
def annotations(sequence) -> Annotations:
    _, gt1, gt2 = sequence
    model = Annotations(FRAMES)
    for track, (label, gt) in enumerate((("person", gt1), ("jogger", gt2)), start=1):
        boxes = {f: entry_for(f, gt[f], track) for f in range(FRAMES) if f != UNANNOTATED}
        boxes[BOTH_ABSENT] = FrameBox(None, BoxSource.MANUAL, absent=True, reviewed=True)
        if track == 1:
            boxes[ABSENT_1] = FrameBox(None, BoxSource.MANUAL, absent=True, reviewed=True)
        model.apply(model.add_track_edit(label, boxes=boxes))
    return model


class Reader:
    """Frame reader over the decoded frames, recording which frames were asked for."""

    def __init__(self, frames, fail_at: int | None = None):
        self.frames, self.fail_at, self.asked = frames, fail_at, []

    def __call__(self, index: int) -> np.ndarray:
        self.asked.append(index)
        if index == self.fail_at:
            raise ValueError("decoder error")
        return self.frames[index]


def run_export(name, annotations, frames, target, reader=None, progress=None, **options) -> ExportJob:
    """Export as the app does; frames where both objects are absent are asked for too (the
    default leaves them out: test_formats_export_options)."""
    options.setdefault("absent_frames", True)
    height, width = frames[0].shape[:2] if frames else (288, 352)
    job = ExportJob(
        annotations,
        VideoRef(str(JOGGING), frame_count=FRAMES, width=width, height=height, fps=30.0),
        Path(target),
        ExportOptions(**options),
        reader or Reader(frames),
        progress,
    )
    FORMATS[name].export(job)
    return job


def yolo_names(data_yaml: Path) -> dict[int, str]:
    return yaml.safe_load(data_yaml.read_text())["names"]


def manifest(root: Path) -> dict[str, int]:
    lines = (root / MANIFEST).read_text().splitlines()
    assert lines[0] == "image,frame_index_0based"
    return {image: int(frame) for image, frame in (line.split(",") for line in lines[1:])}


def expected_boxes(annotations: Annotations, frame: int, tracks=None) -> list[tuple[str, tuple]]:
    return sorted(
        (t.label, t.boxes[frame].box)
        for t in annotations
        if (tracks is None or t.id in tracks) and frame in t.boxes and t.boxes[frame].box is not None
    )


def exported_frames(annotations: Annotations) -> list[int]:
    return sorted({f for t in annotations for f in t.boxes})


def assert_boxes_close(got, want, tol=1e-3):
    assert [label for label, _ in got] == [label for label, _ in want]
    for (_, a), (_, b) in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, atol=tol)


def no_leftovers(parent: Path) -> bool:
    return not [p for p in parent.iterdir() if p.name.endswith(".partial")]


# -- the three formats, read by their own readers ---------------------------------------------------


@needs_shared
def test_yolo_export_read_by_globox_matches_the_project_frame_by_frame(sequence, annotations, tmp_path):
    frames = sequence[0]
    out = tmp_path / "yolo"
    run_export("yolo", annotations, frames, out, image_format="png")
    names = yolo_names(out / "data.yaml")
    assert names == {0: "person", 1: "jogger"}  # class ids: the project's class order, 0-based
    assert (out / "data.yaml").read_text().count("train: images") == 1
    dataset = globox.AnnotationSet.from_yolo_v5(
        out / "labels", image_folder=out / "images", image_extension=".png"
    )
    files = manifest(out)
    assert sorted(files.values()) == exported_frames(annotations)
    assert UNANNOTATED not in files.values() and BOTH_ABSENT in files.values()
    assert len(dataset) == len(files)
    for ann in dataset:
        frame = files[f"images/{ann.image_id}"]
        assert ann.image_id == f"frame_{frame:06d}.png"
        image = cv2.imread(str(out / "images" / ann.image_id))
        np.testing.assert_array_equal(image, frames[frame])  # PNG: the very frame, pixel for pixel
        assert ann.image_size == (352, 288)
        got = sorted((names[int(b.label)], b.ltwh) for b in ann.boxes)
        assert_boxes_close(got, expected_boxes(annotations, frame))
    assert (out / "labels" / f"frame_{BOTH_ABSENT:06d}.txt").read_text() == ""
    assert no_leftovers(tmp_path)


@needs_shared
def test_coco_export_read_by_pycocotools_and_globox_matches_the_project(sequence, annotations, tmp_path):
    frames = sequence[0]
    out = tmp_path / "coco"
    run_export("coco", annotations, frames, out)  # jpg
    coco = pycocotools_coco.COCO(str(out / "annotations.json"))
    cats = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
    assert cats == {1: "person", 2: "jogger"}  # category ids from 1, in the project's class order
    images = coco.loadImgs(coco.getImgIds())
    assert [img["id"] for img in images] == list(range(1, len(images) + 1))
    assert [img["frame_id"] for img in images] == exported_frames(annotations)
    for img in images:
        frame = img["frame_id"]
        assert img["file_name"] == f"frame_{frame:06d}.jpg" and img["video_id"] == 1
        decoded = cv2.imread(str(out / "images" / img["file_name"]))
        assert np.abs(decoded.astype(int) - frames[frame]).mean() < 3  # JPEG of that frame
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[img["id"]]))
        got = sorted((cats[a["category_id"]], tuple(a["bbox"])) for a in anns)
        assert got == expected_boxes(annotations, frame)  # exact floats
        for a in anns:
            entry = annotations.track(a["instance_id"]).boxes[frame]
            assert a["attributes"]["occluded"] == entry.occluded
            assert a["attributes"]["source"] == entry.source.value
            assert a["area"] == pytest.approx(a["bbox"][2] * a["bbox"][3])
    assert coco.getAnnIds(imgIds=[i["id"] for i in images if i["frame_id"] == BOTH_ABSENT]) == []
    by_globox = globox.AnnotationSet.from_coco(out / "annotations.json")
    for ann in by_globox:
        frame = int(ann.image_id.removeprefix("frame_").removesuffix(".jpg"))
        assert_boxes_close(sorted((b.label, b.ltwh) for b in ann.boxes), expected_boxes(annotations, frame))


@needs_shared
def test_voc_export_read_by_globox_is_one_based_with_flags(sequence, annotations, tmp_path):
    frames = sequence[0]
    out = tmp_path / "voc"
    run_export("voc", annotations, frames, out)
    dataset = globox.AnnotationSet.from_pascal_voc(out / "Annotations")
    files = manifest(out)
    assert sorted(files.values()) == exported_frames(annotations)
    stems = (out / "ImageSets" / "Main" / "trainval.txt").read_text().split()
    assert stems == [f"frame_{f:06d}" for f in exported_frames(annotations)]
    for ann in dataset:
        frame = files[f"JPEGImages/{ann.image_id}"]
        assert (out / "JPEGImages" / ann.image_id).is_file() and ann.image_size == (352, 288)
        # VOC corners are 1-based and inclusive: x + 1 .. x + w
        want = [
            (label, (x + 1, y + 1, x + w, y + h))
            for label, (x, y, w, h) in expected_boxes(annotations, frame)
        ]
        assert_boxes_close(sorted((b.label, b.ltrb) for b in ann.boxes), want)
    root = ET.parse(out / "Annotations" / f"frame_{OCCLUDED_2:06d}.xml").getroot()
    flags = {
        o.findtext("name"): (o.findtext("occluded"), o.findtext("difficult"), o.findtext("truncated"))
        for o in root.iter("object")
    }
    assert flags == {"jogger": ("1", "1", "0"), "person": ("0", "0", "0")}
    assert root.findtext("source/frame") == str(OCCLUDED_2)
    assert list(ET.parse(out / "Annotations" / f"frame_{BOTH_ABSENT:06d}.xml").getroot().iter("object")) == []


def test_golden_conventions_on_a_one_pixel_box(tmp_path):
    """Pins the frame numbering and pixel origin of each format (annotation-formats.md §3.3–3.5):
    a box over only the top-left pixel of frame 0 of a 4 x 2 image."""
    model = Annotations(2)
    model.apply(model.add_track_edit("dot", boxes={0: FrameBox((0.0, 0.0, 1.0, 1.0))}))
    frames = [np.zeros((2, 4, 3), np.uint8), np.ones((2, 4, 3), np.uint8)]
    for name in ("yolo", "coco", "voc"):
        run_export(name, model, frames, tmp_path / name)
    assert (
        tmp_path / "yolo/labels/frame_000000.txt"
    ).read_text() == "0 0.125000 0.250000 0.250000 0.500000\n"
    doc = json.loads((tmp_path / "coco/annotations.json").read_text())
    assert doc["images"][0] == {
        "id": 1, "file_name": "frame_000000.jpg", "width": 4, "height": 2, "video_id": 1, "frame_id": 0,
    }  # fmt: skip
    assert doc["annotations"][0]["bbox"] == [0.0, 0.0, 1.0, 1.0] and doc["annotations"][0]["category_id"] == 1
    box = ET.parse(tmp_path / "voc/Annotations/frame_000000.xml").getroot().find("object/bndbox")
    assert [box.findtext(k) for k in ("xmin", "ymin", "xmax", "ymax")] == ["1", "1", "1", "1"]


def test_boxes_past_the_border_are_cut_and_boxes_wholly_outside_left_out(tmp_path):
    model = Annotations(1)
    model.apply(model.add_track_edit("car", boxes={0: FrameBox((30.0, -5.0, 20.0, 10.0))}))
    model.apply(model.add_track_edit("gone", boxes={0: FrameBox((60.0, 0.0, 5.0, 5.0))}))  # wholly outside
    frames = [np.zeros((20, 40, 3), np.uint8)]
    for name in ("yolo", "coco", "voc"):
        run_export(name, model, frames, tmp_path / name)
    yolo = globox.AnnotationSet.from_yolo_v5(tmp_path / "yolo/labels", image_folder=tmp_path / "yolo/images")
    [ltrb] = [b.ltrb for ann in yolo for b in ann.boxes]
    np.testing.assert_allclose(ltrb, (30, 0, 40, 5), atol=1e-4)
    obj = ET.parse(tmp_path / "voc/Annotations/frame_000000.xml").getroot().findall("object")
    assert len(obj) == 1 and obj[0].findtext("truncated") == "1"
    assert [obj[0].findtext(f"bndbox/{k}") for k in ("xmin", "ymin", "xmax", "ymax")] == [
        "31",
        "1",
        "40",
        "5",
    ]
    doc = json.loads((tmp_path / "coco/annotations.json").read_text())
    assert [a["bbox"] for a in doc["annotations"]] == [[30.0, 0.0, 10.0, 5.0]]


# -- options ----------------------------------------------------------------------------------------


@needs_shared
def test_options_select_tracks_classes_range_step_and_reviewed_frames(sequence, annotations, tmp_path):
    frames = sequence[0]
    reader = Reader(frames)
    run_export(
        "coco", annotations, frames, tmp_path / "a", reader, tracks=frozenset({2}), first=2, last=14, step=3
    )
    doc = json.loads((tmp_path / "a/annotations.json").read_text())
    assert [i["frame_id"] for i in doc["images"]] == [2, 5, 8, 11, 14]
    assert reader.asked == [2, 5, 8, 11, 14]  # only the exported frames are decoded, in order
    assert {a["instance_id"] for a in doc["annotations"]} == {2}
    assert [c["name"] for c in doc["categories"]] == ["jogger"]

    run_export("yolo", annotations, frames, tmp_path / "b", labels=frozenset({"person"}), last=9)
    assert yolo_names(tmp_path / "b/data.yaml") == {0: "person"}
    assert sorted(manifest(tmp_path / "b").values()) == list(range(10))
    assert (tmp_path / "b/labels/frame_000005.txt").read_text() == ""  # person absent there

    run_export("voc", annotations, frames, tmp_path / "c", reviewed_only=True)
    kept = sorted(manifest(tmp_path / "c").values())
    assert kept == [f for f in exported_frames(annotations) if f not in UNREVIEWED]
    # Only frame 3's jogger is flagged: leaving it out leaves out that frame, not just its box.
    run_export("yolo", annotations, frames, tmp_path / "d", skip_flagged=True)
    assert sorted(manifest(tmp_path / "d").values()) == [f for f in exported_frames(annotations) if f != 3]


@needs_shared
def test_bad_options_and_empty_selections_are_refused_before_writing(sequence, annotations, tmp_path):
    frames = sequence[0]
    with pytest.raises(ValueError, match="k must be 1"):
        run_export("yolo", annotations, frames, tmp_path / "a", step=0)
    with pytest.raises(ValueError, match="starts after it ends"):
        run_export("yolo", annotations, frames, tmp_path / "a", first=9, last=3)
    with pytest.raises(ValueError, match="no track labelled boat"):
        run_export("yolo", annotations, frames, tmp_path / "a", labels=frozenset({"boat"}))
    with pytest.raises(ValueError, match="nothing to export"):
        run_export("yolo", annotations, frames, tmp_path / "a", first=UNANNOTATED, last=UNANNOTATED)
    with pytest.raises(
        ValueError, match="nothing to export: every chosen frame has boxes nobody has reviewed"
    ):
        run_export("yolo", annotations, frames, tmp_path / "a", first=8, last=8, reviewed_only=True)
    with pytest.raises(ValueError, match="image format"):
        run_export("yolo", annotations, frames, tmp_path / "a", image_format="gif")
    assert list(tmp_path.iterdir()) == []


# -- COCO import --------------------------------------------------------------------------------------


def same_annotations(a: Annotations, b: Annotations) -> None:
    assert a.frame_count == b.frame_count
    assert [(t.id, t.label, t.color) for t in a] == [(t.id, t.label, t.color) for t in b]
    for ta, tb in zip(a, b, strict=True):
        assert sorted(ta.boxes) == sorted(tb.boxes), f"track {ta.id}"
        for frame, ea in ta.boxes.items():
            eb = tb.boxes[frame]
            assert (ea.box, ea.source, ea.occluded, ea.absent, ea.flag, ea.reviewed) == (
                eb.box, eb.source, eb.occluded, eb.absent, eb.flag, eb.reviewed,
            ), f"track {ta.id} frame {frame}"  # fmt: skip
            assert ea.score == eb.score or (math.isnan(ea.score) and math.isnan(eb.score))


@needs_shared
def test_coco_export_then_import_is_lossless(sequence, annotations, tmp_path):
    run_export("coco", annotations, sequence[0], tmp_path / "coco")
    back = FORMATS["coco"].load(tmp_path / "coco", 0)  # the folder, or the JSON file itself
    same_annotations(back, annotations)
    same_annotations(load_coco(tmp_path / "coco" / "annotations.json", FRAMES), annotations)


def test_plain_coco_and_cvat_coco_files_import(tmp_path):
    plain = {
        "images": [{"id": 7, "file_name": "img10.jpg"}, {"id": 3, "file_name": "img2.jpg"}],
        "categories": [{"id": 5, "name": "cat"}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 5, "bbox": [1, 2, 3, 4]},
            {"id": 2, "image_id": 3, "category_id": 5, "bbox": [5, 6, 7, 8]},
        ],
    }
    (tmp_path / "plain.json").write_text(json.dumps(plain))
    model = load_coco(tmp_path / "plain.json")
    [track] = list(model)
    assert track.label == "cat"  # no instance ids: one track per category
    assert {f: e.box for f, e in track.boxes.items()} == {0: (5, 6, 7, 8), 1: (1, 2, 3, 4)}  # img2 < img10
    cvat = {
        "images": [{"id": 1, "file_name": "frame_000000.jpg"}, {"id": 2, "file_name": "frame_000001.jpg"}],
        "categories": [{"id": 1, "name": "car"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 9, 9],
             "attributes": {"occluded": True, "track_id": 4, "keyframe": True}},
            {"id": 2, "image_id": 2, "category_id": 1, "bbox": [1, 0, 9, 9],
             "attributes": {"occluded": False, "track_id": 4, "keyframe": False}},
        ],
    }  # fmt: skip
    (tmp_path / "cvat.json").write_text(json.dumps(cvat))
    track = load_coco(tmp_path / "cvat.json").track(4)
    assert track.boxes[0].occluded and track.boxes[0].source is BoxSource.MANUAL
    assert track.boxes[1].source is BoxSource.INTERPOLATED


def coco_text_with(tmp_path, mutate) -> tuple[Path, str]:
    doc = {
        "images": [{"id": i, "file_name": f"frame_{i:06d}.jpg", "frame_id": i - 1} for i in (1, 2, 3)],
        "categories": [{"id": 1, "name": "car"}],
        "annotations": [
            {"id": i, "image_id": i, "category_id": 1, "bbox": [i, i, 10, 10], "instance_id": 1}
            for i in (1, 2, 3)
        ],
    }
    mutate(doc)
    path = tmp_path / "bad.json"
    text = json.dumps(doc, indent=1)
    path.write_text(text)
    return path, text


def element_line(text: str, key: str, index: int) -> int:
    """1-based line where ``key``'s ``index``-th element starts, in a json.dumps(indent=1) text
    (each element of a top-level list opens with a line holding only "  {")."""
    lines = text.splitlines()
    first = lines.index(f' "{key}": [')
    starts = [n for n in range(first + 1, len(lines)) if lines[n] == "  {"]
    return starts[index] + 1


@pytest.mark.parametrize(
    ("mutate", "where", "message"),
    [
        (lambda d: d["annotations"][1].update(bbox=[1, 2, -3, 4]), ("annotations", 1), "width and height"),
        (
            lambda d: d["annotations"][2].update(image_id=99),
            ("annotations", 2),
            "image_id 99 is not in images",
        ),
        (lambda d: d["annotations"][0].update(category_id=4), ("annotations", 0), "category_id 4 is not"),
        (lambda d: d["annotations"][1].update(bbox=[1, 2, 3]), ("annotations", 1), "four finite numbers"),
        (lambda d: d["annotations"][2].update(image_id=1), ("annotations", 2), "two boxes on frame 0"),
        (
            lambda d: d["annotations"][2].update(bbox=[0, 0, "9", 9]),
            ("annotations", 2),
            "four finite numbers",
        ),
        (
            lambda d: d["annotations"][0].update(attributes={"occluded": "yes"}),
            ("annotations", 0),
            "occluded",
        ),
        (lambda d: d["annotations"][1].update(instance_id=None), ("annotations", 1), "instance_id"),
        (lambda d: d["images"][2].update(id=1), ("images", 2), "image id 1 appears twice"),
        (lambda d: d["images"][1].update(frame_id=-1), ("images", 1), "0 or more"),
        (lambda d: d["images"][1].pop("frame_id"), ("images", 1), "frame_id"),
        (lambda d: d["categories"].append({"id": 1, "name": "bus"}), ("categories", 1), "appears twice"),
        (
            lambda d: d.pop("categories"),
            None,
            r"categories: expected a list \(a COCO file has \"categories\"\)",
        ),
    ],
)
def test_a_malformed_coco_file_names_file_and_line_and_imports_nothing(tmp_path, mutate, where, message):
    path, text = coco_text_with(tmp_path, mutate)
    with pytest.raises(FormatError, match=message) as info:
        load_coco(path)
    assert info.value.path == path
    if where is not None:
        key, index = where
        assert info.value.line == element_line(text, key, index)
        assert str(info.value).startswith(f"{path}:{info.value.line}: {key}[{index}]: ")


def test_invalid_json_and_out_of_range_frames(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n "images": [\n  {"id": 1,}\n ]\n}\n')
    with pytest.raises(FormatError, match="not valid JSON") as info:
        load_coco(path)
    assert info.value.line == 3
    path, _ = coco_text_with(tmp_path, lambda d: None)
    with pytest.raises(FormatError, match=r"frame 2 is outside the video \(0..1\)"):
        load_coco(path, frame_count=2)


# -- atomic exports, cancel, bad targets ---------------------------------------------------------------


@needs_shared
def test_cancel_leaves_nothing(sequence, annotations, tmp_path):
    calls = []

    def progress(done, total):
        calls.append((done, total))
        return done < 6

    with pytest.raises(ExportCancelled):
        run_export("yolo", annotations, sequence[0], tmp_path / "out", progress=progress)
    assert calls[0] == (0, 19) and calls[-1] == (6, 19)
    assert list(tmp_path.iterdir()) == []


@needs_shared
def test_a_failing_frame_read_leaves_nothing_and_names_the_frame(sequence, annotations, tmp_path):
    with pytest.raises(ValueError, match="cannot read frame 9 .*decoder error"):
        run_export("voc", annotations, sequence[0], tmp_path / "out", reader=Reader(sequence[0], fail_at=9))
    assert list(tmp_path.iterdir()) == []


@needs_shared
def test_targets_that_hold_files_are_refused_and_left_alone(sequence, annotations, tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    reader = Reader(sequence[0])
    with pytest.raises(OSError, match="already holds files"):
        run_export("coco", annotations, sequence[0], full, reader)
    assert reader.asked == [] and [p.name for p in full.iterdir()] == ["keep.txt"]
    with pytest.raises(OSError, match="is a file"):
        run_export("coco", annotations, sequence[0], full / "keep.txt", reader)
    with pytest.raises(OSError, match="does not exist"):
        run_export("coco", annotations, sequence[0], tmp_path / "no" / "such", reader)
    empty = tmp_path / "empty"
    empty.mkdir()
    run_export("coco", annotations, sequence[0], empty)  # an empty folder is used
    assert (empty / "annotations.json").is_file() and no_leftovers(tmp_path)


@needs_shared
def test_read_only_target_gives_a_clear_error(sequence, annotations, tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    with pytest.raises(OSError, match="cannot write there: the file system is read-only"):
        run_export("yolo", annotations, sequence[0], tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


@needs_shared
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_permissions(sequence, annotations, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(OSError, match="permission denied"):
            run_export("yolo", annotations, sequence[0], locked / "out")
    finally:
        locked.chmod(0o755)


@needs_shared
def test_not_enough_disk_space_is_found_before_writing_frames(sequence, annotations, tmp_path, monkeypatch):
    import shutil

    from app.io.formats import frames as frames_module

    real = shutil.disk_usage
    monkeypatch.setattr(frames_module.shutil, "disk_usage", lambda p: real(p)._replace(free=100_000))
    with pytest.raises(
        OSError, match="not enough disk space for 19 frames: about .* MB needed, 0 MB free"
    ) as info:
        run_export("coco", annotations, sequence[0], tmp_path / "out", reader := Reader(sequence[0]))
    assert str(info.value).startswith(f"{tmp_path / 'out'}: ")
    assert reader.asked == [0]  # found from the first image, before decoding the others
    assert list(tmp_path.iterdir()) == []


def test_the_formats_are_registered_with_their_conventions():
    for name in ("yolo", "coco", "voc"):
        fmt = FORMATS[name]
        assert fmt.needs_frames and fmt.target_kind == "folder" and fmt.export is not None
        assert "0-based frame index" in fmt.conventions
    assert FORMATS["coco"].load is load_coco
    assert "1-based" in FORMATS["voc"].conventions and "0-based" in FORMATS["yolo"].conventions
