"""CVAT for video 1.1: keyframes / outside / occluded as CVAT reads them, round trip, strict errors.

The real reader is Datumaro (CVAT's own import code). It is not in the dev extra: it requires
opencv-python-headless, which clashes with opencv-contrib-python over ``cv2``; install it with
``pip install --no-deps datumaro`` plus its light dependencies to run that test. globox reads
only "CVAT for images" (``<image>`` elements), not video tracks.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from app.io.formats import FORMATS, ExportJob, ExportOptions, FormatError
from app.io.project import VideoRef
from app.model.annotations import Annotations, BoxSource, FrameBox
from tests.formats_sequences import ABSENT_FRAMES, assert_same_tracks, crossing_annotations, crossing_video
from tests.shared_data import needs_shared


def export(annotations, target, video=None, **options):
    video = video or crossing_video()
    FORMATS["cvat"].export(ExportJob(annotations, video, target, ExportOptions(**options)))


def boxes_of(path) -> dict[tuple[int, int], dict]:
    root = ET.parse(path).getroot()
    return {
        (int(track.get("id")), int(box.get("frame"))): {**box.attrib, "source": box.findtext("attribute")}
        for track in root.iter("track")
        for box in track.iter("box")
    }


@needs_shared
def test_keyframes_outside_and_track_ends(tmp_path):
    annotations = crossing_annotations()
    export(annotations, tmp_path / "a.xml")
    root = ET.parse(tmp_path / "a.xml").getroot()
    assert root.findtext("version") == "1.1"
    task = root.find("meta/task")
    assert task.findtext("size") == "120" and task.findtext("mode") == "interpolation"
    assert task.findtext("original_size/width") == "360"
    assert [t.get("id") for t in root.iter("track")] == ["0", "1"]  # CVAT ids are 0-based
    boxes = boxes_of(tmp_path / "a.xml")
    person = annotations.track(1)
    for frame, entry in person.boxes.items():
        box = boxes[0, frame]
        assert box["outside"] == str(int(entry.absent))
        assert box["source"] == entry.source.value
        if entry.absent:
            continue
        x, y, w, h = entry.box
        assert [float(box[k]) for k in ("xtl", "ytl", "xbr", "ybr")] == pytest.approx(
            [x, y, x + w, y + h], abs=1e-3
        )
        assert box["occluded"] == str(int(entry.occluded))
        after_gap = frame - 1 in ABSENT_FRAMES or frame == 0
        assert box["keyframe"] == str(int(entry.is_manual or after_gap)), frame
    # car: frames 10..59; the track's end is closed by an outside keyframe without a source
    assert (
        boxes[1, 60]["outside"] == "1" and boxes[1, 60]["keyframe"] == "1" and boxes[1, 60]["source"] is None
    )
    assert (1, 9) not in boxes and (1, 61) not in boxes
    assert (0, 120) not in boxes  # the person lasts to the last frame: nothing past the video


@needs_shared
def test_round_trip_keeps_sources_labels_colours(tmp_path):
    annotations = crossing_annotations()
    export(annotations, tmp_path / "a.xml")
    back = FORMATS["cvat"].load(tmp_path / "a.xml", 0)
    assert back.frame_count == 120
    assert_same_tracks(annotations, back, source=True)
    assert [(t.id, t.label, t.color) for t in back] == [(t.id, t.label, t.color) for t in annotations]


@needs_shared
def test_gaps_and_steps(tmp_path):
    annotations = crossing_annotations()
    export(annotations, tmp_path / "a.xml", first=5, last=70, step=5, tracks=frozenset({2}))
    boxes = boxes_of(tmp_path / "a.xml")
    assert sorted(f for _, f in boxes) == [10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 56]
    assert boxes[1, 20]["outside"] == "1" and boxes[1, 20]["source"] == "manual"  # absent frame
    assert boxes[1, 25]["keyframe"] == "1"  # after it
    back = FORMATS["cvat"].load(tmp_path / "a.xml", 120)
    assert_same_tracks(
        Annotations.from_dict({"frame_count": 120, "tracks": [annotations.to_dict()["tracks"][1]]}),
        back,
        frames=set(range(5, 71, 5)),
        source=True,
    )


def test_cvat_made_tracks_import(tmp_path):
    (tmp_path / "a.xml").write_text(
        """<?xml version="1.0" encoding="utf-8"?>
<annotations><version>1.1</version>
<meta><task><size>10</size><labels><label><name>dog</name><color>#123456</color></label></labels></task></meta>
<track id="0" label="dog" source="manual">
 <box frame="2" keyframe="1" outside="0" occluded="0" xtl="1" ytl="2" xbr="11" ybr="22" z_order="0"/>
 <box frame="3" keyframe="0" outside="0" occluded="1" xtl="2" ytl="2" xbr="12" ybr="22" z_order="0"/>
 <box frame="4" keyframe="1" outside="1" occluded="0" xtl="2" ytl="2" xbr="12" ybr="22" z_order="0"/>
</track></annotations>
"""
    )
    annotations = FORMATS["cvat"].load(tmp_path / "a.xml", 0)
    track = annotations.track(1)
    assert annotations.frame_count == 10 and track.label == "dog" and track.color == "#123456"
    assert track.boxes[2] == FrameBox((1, 2, 10, 20), BoxSource.MANUAL)
    assert track.boxes[3] == FrameBox((2, 2, 10, 20), BoxSource.INTERPOLATED, occluded=True)
    assert track.boxes[4].absent  # CVAT's outside: the object is not there


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        (
            '<track id="0" label="a">\n<box frame="1" xtl="1" ytl="1" xbr="2" ybr="2" outside="2"/></track>',
            4,
            "outside='2'",
        ),
        (
            '<track id="0" label="a">\n<box frame="1" xtl="1" ytl="1" xbr="0" ybr="2"/></track>',
            4,
            "not a box",
        ),
        (
            '<track id="0" label="a">\n<box frame="x" xtl="1" ytl="1" xbr="2" ybr="2"/></track>',
            4,
            "not numbers",
        ),
        ('<track id="0" label="a">\n<box frame="1" xtl="1" ytl="1" xbr="2"/></track>', 4, "lacks ybr"),
        ('<track id="0" label="a">\n<polygon frame="1" points="1,2;3,4"/></track>', 4, "boxes only"),
        (
            '<track id="0" label="a">\n<box frame="99" xtl="1" ytl="1" xbr="2" ybr="2"/></track>',
            4,
            "outside the video",
        ),
        ('<image id="0" name="a.jpg" width="9" height="9"/>', 3, "CVAT for images"),
        (
            '<track id="0" label="a">\n<box frame="1" xtl="1" ytl="1" xbr="2" ybr="2"></track>',
            4,
            "not well-formed",
        ),
        (
            (
                '<track id="0" label="a"><box frame="1" xtl="1" ytl="1" xbr="2" ybr="2"/></track>\n'
                '<track id="0" label="a"><box frame="2" xtl="1" ytl="1" xbr="2" ybr="2"/></track>'
            ),
            4,
            "appears twice",
        ),
    ],
)
def test_malformed_xml_names_the_line(tmp_path, body, line, words):
    path = tmp_path / "a.xml"
    head = '<?xml version="1.0"?>\n<annotations><meta><task><size>10</size></task></meta>\n'
    path.write_text(f"{head}{body}\n</annotations>\n")
    with pytest.raises(FormatError) as error:
        FORMATS["cvat"].load(path, 0)
    assert error.value.line == line, str(error.value)
    assert words in str(error.value) and f"a.xml:{line}:" in str(error.value)


def test_a_folder_target_is_refused(tmp_path):
    annotations = Annotations(3)
    annotations.apply(annotations.add_track_edit("x", boxes={0: FrameBox((1, 1, 2, 2))}))
    with pytest.raises(OSError, match="is a folder"):
        export(annotations, tmp_path, video=VideoRef("", "", 3))


@needs_shared
def test_datumaro_reads_the_export(tmp_path):
    pytest.importorskip(
        "datumaro", reason="datumaro not installed (not in the dev extra: see the module docstring)"
    )
    from datumaro.components.dataset import Dataset

    annotations = crossing_annotations()
    export(annotations, tmp_path / "annotations.xml")
    dataset = Dataset.import_from(str(tmp_path / "annotations.xml"), "cvat")
    names = dataset.categories()[1].items  # AnnotationType.label
    read = {}
    for item in dataset:
        for ann in item.annotations:
            read[ann.attributes["track_id"], item.attributes["frame"]] = (ann, names[ann.label].name)
    written = boxes_of(tmp_path / "annotations.xml")
    assert set(read) == set(written)
    for track in annotations:
        for frame, entry in track.boxes.items():
            ann, label = read[track.id - 1, frame]
            assert label == track.label
            assert ann.attributes["outside"] == entry.absent
            assert ann.attributes["source"] == entry.source.value
            if not entry.absent:
                assert ann.get_bbox() == pytest.approx(list(entry.box), abs=1e-3)
                assert ann.attributes["occluded"] == entry.occluded
                assert ann.attributes["keyframe"] == (written[track.id - 1, frame]["keyframe"] == "1")
