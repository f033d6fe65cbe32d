"""The annotation model: edits and their inverses, re-track rules, interpolation, (de)serialisation."""

import math

import pytest

from app.model.annotations import Annotations, BoxSource, FrameBox, tracked_box


def model_with_track(frames=100):
    model = Annotations(frames)
    model.apply(model.add_track_edit("car"))
    return model


def snapshot(model):
    return model.to_dict()


def test_frame_box_rejects_bad_boxes_and_absent_carries_no_box():
    with pytest.raises(ValueError, match="width and height"):
        FrameBox((1, 2, 0, 5))
    with pytest.raises(ValueError, match="finite"):
        FrameBox((1, 2, math.nan, 5))
    with pytest.raises(ValueError, match="four"):
        FrameBox((1, 2, 3))
    with pytest.raises(ValueError, match="beyond"):
        FrameBox((1e300, 0, 1e300, 1e300))  # a hand-edited or hostile project file
    assert FrameBox((-5e5, 0, 9e5, 10)).box == (-5e5, 0.0, 9e5, 10.0)
    assert FrameBox((1, 2, 3, 4), absent=True).box is None
    assert FrameBox(None, absent=True).absent


def test_every_edit_is_undone_by_its_inverse():
    model = model_with_track()
    before = snapshot(model)
    edits = [
        model.manual_box_edit(1, 0, (10, 10, 20, 20)),
    ]
    model.apply(edits[0])
    for edit in (
        model.manual_box_edit(1, 10, (30, 10, 20, 40)),
        model.add_track_edit("person"),
    ):
        model.apply(edit)
        edits.append(edit)
    for make in (
        lambda: model.interpolate_edit(1),
        lambda: model.toggle_edit(1, 5, "occluded"),
        lambda: model.toggle_edit(1, 6, "absent"),
        lambda: model.relabel_edit(2, "cyclist", "#123456"),
        lambda: model.delete_box_edit(1, 7),
        lambda: model.remove_track_edit(1),
    ):
        edit = make()
        assert edit, "each of these edits changes something"
        model.apply(edit)
        edits.append(edit)
    assert list(model.tracks) == [2]
    for edit in reversed(edits):
        model.apply(edit.inverse())
    assert snapshot(model) == before


def test_tracking_span_stops_before_the_next_manual_keyframe_both_ways():
    model = model_with_track(50)
    for frame in (10, 30):
        model.apply(model.manual_box_edit(1, frame, (5, 5, 10, 10)))
    assert list(model.tracking_span(1, 10, 1)) == list(range(11, 30))
    assert list(model.tracking_span(1, 30, 1)) == list(range(31, 50))
    assert list(model.tracking_span(1, 30, -1)) == list(range(29, 10, -1))
    assert list(model.tracking_span(1, 10, -1)) == list(range(9, -1, -1))
    with pytest.raises(ValueError):
        model.tracking_span(1, 10, 2)


def test_tracked_results_never_overwrite_manual_boxes():
    model = model_with_track(20)
    model.apply(model.manual_box_edit(1, 0, (0, 0, 10, 10)))
    model.apply(model.manual_box_edit(1, 5, (50, 50, 10, 10)))
    model.apply(model.interpolate_edit(1))
    results = [(f, tracked_box((f, f, 10, 10), 0.9)) for f in range(1, 10)]
    changes = model.tracked_changes(1, results)
    assert [c.frame for c in changes] == [1, 2, 3, 4, 6, 7, 8, 9]
    assert changes[0].before.source is BoxSource.INTERPOLATED  # interpolated boxes are replaceable
    from app.model.annotations import Edit

    model.apply(Edit("run", (), tuple(changes)))
    assert model.track(1).get(5).box == (50, 50, 10, 10) and model.track(1).get(5).is_manual
    assert model.track(1).get(7).source is BoxSource.TRACKED


def test_clear_span_keeps_manual_boxes():
    model = model_with_track(20)
    model.apply(model.manual_box_edit(1, 3, (0, 0, 10, 10)))
    from app.model.annotations import Edit

    model.apply(
        Edit(
            "run",
            (),
            tuple(model.tracked_changes(1, [(f, tracked_box((0, 0, 9, 9), 0.5)) for f in range(10)])),
        )
    )
    cleared = model.clear_span_changes(1, range(10))
    assert sorted(c.frame for c in cleared) == [0, 1, 2, 4, 5, 6, 7, 8, 9]


def test_interpolation_is_linear_between_manual_keyframes_and_skips_absent_ones():
    model = model_with_track(40)
    model.apply(model.manual_box_edit(1, 0, (0, 0, 10, 20)))
    model.apply(model.manual_box_edit(1, 10, (100, 50, 30, 20)))
    model.apply(model.toggle_edit(1, 20, "absent"))
    model.apply(model.manual_box_edit(1, 30, (0, 0, 5, 5)))
    model.apply(model.interpolate_edit(1))
    track = model.track(1)
    assert track.get(5).box == pytest.approx((50, 25, 20, 20))
    assert track.get(5).source is BoxSource.INTERPOLATED
    assert all(track.get(f) is None for f in range(11, 20))  # towards an absent keyframe
    assert all(track.get(f) is None for f in range(21, 30))  # from an absent keyframe
    assert track.get(10).is_manual and track.get(20).absent


def test_toggle_absent_and_back_restores_a_box():
    model = model_with_track(10)
    model.apply(model.manual_box_edit(1, 2, (1, 1, 5, 5)))
    model.apply(model.toggle_edit(1, 3, "absent"))
    assert model.track(1).get(3).absent and model.track(1).get(3).box is None
    model.apply(model.toggle_edit(1, 3, "absent"))
    assert model.track(1).get(3).box == (1, 1, 5, 5)
    with pytest.raises(ValueError, match="no box"):
        model.toggle_edit(1, 7, "occluded")


def test_edits_outside_the_video_are_refused():
    model = model_with_track(10)
    with pytest.raises(IndexError):
        model.manual_box_edit(1, 10, (0, 0, 5, 5))
    with pytest.raises(KeyError, match="no track 9"):
        model.manual_box_edit(9, 1, (0, 0, 5, 5))


def test_flags_are_set_only_on_existing_entries():
    model = model_with_track(10)
    model.apply(model.manual_box_edit(1, 2, (1, 1, 5, 5)))
    edit = model.flag_edit({(1, 2): "score 0.10 < 0.30", (1, 3): "nothing here"})
    assert len(edit.boxes) == 1
    model.apply(edit)
    assert model.flagged_frames() == [2]


def test_round_trip_through_dict_and_strict_errors():
    model = model_with_track(30)
    model.apply(model.manual_box_edit(1, 0, (1.5, 2.25, 10, 11)))
    model.apply(model.toggle_edit(1, 4, "absent"))
    from app.model.annotations import Edit

    model.apply(
        Edit("run", (), tuple(model.tracked_changes(1, [(1, tracked_box((2, 2, 10, 10), 0.75, "low"))])))
    )
    again = Annotations.from_dict(model.to_dict())
    assert again.to_dict() == model.to_dict()
    assert again.track(1).get(1).score == pytest.approx(0.75)
    bad = model.to_dict()
    bad["tracks"][0]["frames"][1]["box"] = [1, 2, 0, 3]
    bad["tracks"][0]["frames"][1].pop("absent", None)
    with pytest.raises(ValueError, match=r"tracks\[0\]\.frames\[1\]"):
        Annotations.from_dict(bad)
    bad = model.to_dict()
    bad["tracks"][0]["frames"][0]["frame"] = 99
    with pytest.raises(ValueError, match="outside"):
        Annotations.from_dict(bad)


def test_labels_are_one_line_and_never_empty_and_colours_are_checked():
    from app.model.annotations import Annotations, Track

    assert Track(1, "  red\ncar\t ").label == "red car"  # a newline would shift MOT labels.txt
    for bad in ("", " \n ", None, 3):
        with pytest.raises(ValueError, match="label"):
            Track(1, bad)
    assert Track(1, color="#AABBCC").color == "#aabbcc"
    for bad in ("red", "#12345", "#1234567", None):
        with pytest.raises(ValueError, match="colour"):
            Track(1, color=bad)
    model = Annotations(10)
    model.apply(model.add_track_edit("car"))
    with pytest.raises(ValueError, match="empty"):
        model.relabel_edit(1, "   ")
    with pytest.raises(ValueError, match=r"tracks\[0\]: a colour"):
        Annotations.from_dict({"frame_count": 5, "tracks": [{"id": 1, "color": "blue"}]})
