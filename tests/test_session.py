"""The Qt-free session and the rules of a run (app/model/session.py, app/model/run_rules.py),
and the controllers driven headless (no window)."""

from __future__ import annotations

import pytest

from app.model.annotations import Annotations, BoxSource, FrameBox, tracked_box
from app.model.run_rules import (
    Target,
    check_range,
    fuse_keyframe,
    fuse_span,
    keyframe_references,
    run_targets,
)
from app.model.session import Session


class FakeVideo:
    frame_count = 30
    size = (100, 80)
    name = "clip"
    path = "/nowhere/clip.mp4"

    def close(self):
        pass


def model(boxes: dict[int, FrameBox], frame_count: int = 30) -> Annotations:
    annotations = Annotations(frame_count)
    annotations.apply(annotations.add_track_edit("car", boxes=boxes))
    return annotations


KEY = FrameBox((10, 10, 20, 20), BoxSource.MANUAL)


# -- run rules -----------------------------------------------------------------------------------


def test_a_run_stops_before_the_next_keyframe_and_at_end():
    annotations = model({5: KEY, 12: KEY})
    found = run_targets(annotations, [1], 5, 1)
    assert found.targets == (Target(1, KEY.box, 12, ((12, KEY.box),)),) and found.any_box
    assert run_targets(annotations, [1], 12, 1).targets[0].stop == 30  # to the end
    assert run_targets(annotations, [1], 5, -1).targets[0].stop == -1  # back to the start
    assert run_targets(annotations, [1], 5, 1, end=8).targets[0].stop == 8  # capped
    assert run_targets(annotations, [1], 12, -1).targets[0].stop == 5


def test_nothing_to_track_tells_no_box_from_no_room():
    annotations = model({5: KEY, 6: KEY})
    blocked = run_targets(annotations, [1], 5, 1)
    assert blocked.targets == () and blocked.any_box  # the next frame is a keyframe
    empty = run_targets(annotations, [1], 3, 1)
    assert empty.targets == () and not empty.any_box  # no box on the start frame
    assert run_targets(annotations, [1, 99], 5, -1).targets == (
        Target(1, KEY.box, -1, ((6, KEY.box),)),
    )  # unknown ids skipped


def test_a_run_compares_with_the_nearest_other_keyframes():
    other = FrameBox((50, 10, 20, 20), BoxSource.MANUAL)
    annotations = model({2: KEY, 5: KEY, 9: other, 20: KEY, 28: other, 7: tracked_box((1, 1, 5, 5), 0.9)})
    (target,) = run_targets(annotations, [1], 9, 1).targets
    # Manual boxes only, the start frame left out, nearest first, at most MAX_KEYFRAME_REFERENCES.
    assert target.references == ((5, KEY.box), (2, KEY.box), (20, KEY.box))
    assert keyframe_references(annotations.track(1), 28)[0] == (20, KEY.box)


def test_a_run_to_a_keyframe_two_or_more_frames_away_is_fused():
    annotations = model({5: KEY, 12: KEY, 13: KEY})
    assert fuse_keyframe(annotations, run_targets(annotations, [1], 5, 1).targets, 5) == 12
    assert (
        fuse_keyframe(annotations, run_targets(annotations, [1], 13, 1).targets, 13) is None
    )  # runs to the end
    two = model({5: KEY, 7: KEY})
    assert fuse_keyframe(two, run_targets(two, [1], 5, 1).targets, 5) == 7
    many = Annotations(30)
    for _ in range(2):
        many.apply(many.add_track_edit("car", boxes={5: KEY, 12: KEY}))
    assert fuse_keyframe(many, run_targets(many, [1, 2], 5, 1).targets, 5) is None  # one object only
    assert list(fuse_span(5, 12)) == list(fuse_span(12, 5)) == list(range(6, 12))


def test_consistency_check_range():
    tracked = {f: tracked_box((10 + f, 10, 20, 20), 0.9) for f in range(6, 12)}
    track = model({5: KEY, **tracked}).track(1)
    assert check_range(track, 10, 30) == (5, 10)  # back from a tracked frame to the keyframe
    assert check_range(track, 5, 30) == (5, 11)  # on the keyframe: the tracked stretch after it
    assert check_range(track, 3, 30) is None  # no keyframe before


# -- the session ---------------------------------------------------------------------------------


def test_session_events_and_selection():
    session = Session()
    seen = []
    for name in ("document_changed", "annotations_changed", "selection_changed", "frame_changed"):
        getattr(session, name).connect(lambda *args, name=name: seen.append((name, *args)))
    annotations = Annotations(30)
    session.set_document(FakeVideo(), annotations, None)
    assert seen == [("document_changed",), ("selection_changed", None), ("frame_changed", 0)]
    seen.clear()
    edit = annotations.add_track_edit("car", boxes={0: KEY})
    session.apply(edit)
    assert session.selected_track == 1 and seen == [("selection_changed", 1), ("annotations_changed", edit)]
    assert session.go_to(500) == 29 and session.current_frame == 29  # clamped to the video
    session.select(7)  # no such track: ignored
    assert session.selected_track == 1
    session.apply(edit.inverse())  # undo: the track goes, so does the selection
    assert session.selected_track is None and session.boxes_at(0) == {}


def test_session_drift_settings_event():
    session = Session()
    got = []
    session.settings_changed.connect(got.append)
    session.change_drift_settings(pause_on_flag=True)
    assert session.drift_settings.pause_on_flag and got == [session.drift_settings]


# -- controllers without a window ----------------------------------------------------------------


@pytest.fixture
def headless(qapp):
    from PySide6.QtGui import QUndoStack

    from app.controllers.editing import EditingController
    from app.controllers.feedback import RecordingFeedback

    session = Session()
    session.set_document(FakeVideo(), Annotations(30), None)
    feedback = RecordingFeedback()
    running = {"now": False}
    stack = QUndoStack()
    return (
        session,
        stack,
        feedback,
        EditingController(session, stack, feedback, lambda: running["now"]),
        running,
    )


def test_editing_controller_draws_undoes_and_refuses_during_a_run(headless):
    session, stack, feedback, editing, running = headless
    assert editing.draw_box(3, (10, 10, 20, 20))
    assert session.annotations.track(1).get(3).is_manual and stack.count() == 1
    editing.new_track()
    assert editing.draw_box(4, (50, 10, 20, 20), label="person")
    assert session.selected_track == 2 and session.annotations.track(2).label == "person"
    assert not editing.draw_box(4, (1, 2, 0, 5))  # no width
    assert feedback.errors[-1][0] == "Box not set"
    stack.undo()
    assert 2 not in session.annotations.tracks and session.selected_track == 1
    running["now"] = True
    assert not editing.draw_box(5, (10, 10, 20, 20))
    assert "Stop tracking" in feedback.statuses[-1] and stack.index() == 1
