"""Range actions (in / out points, accept / absent / delete over a range or the rest of the span),
split / merge of tracks, and the review queue: the Qt-free rules, then the real window."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.model.annotations import PALETTE, Annotations, BoxSource, Edit, FrameBox, tracked_box
from app.model.ranges import (
    absent_edit,
    accept_frames_edit,
    delete_edit,
    merge_edit,
    span_from,
    split_edit,
    with_in_point,
    with_out_point,
)
from app.model.review import ReviewItem, frames_in, review_queue, settled_by, step_item
from app.model.session import Session

BOX = (10.0, 10.0, 20.0, 20.0)
KEY = FrameBox(BOX, BoxSource.MANUAL, reviewed=True)


def tracked(flag: str = "", x: float = 10.0) -> FrameBox:
    return tracked_box((x, 10.0, 20.0, 20.0), 0.8, flag)


def model(*tracks: dict[int, FrameBox], frame_count: int = 30) -> Annotations:
    annotations = Annotations(frame_count)
    for boxes in tracks:
        annotations.apply(annotations.add_track_edit("car", boxes=boxes))
    return annotations


def applied_and_undone(annotations: Annotations, edit: Edit) -> dict:
    """Apply ``edit`` and its inverse; returns the state in between (the inverse must restore)."""
    before = annotations.to_dict()
    annotations.apply(edit)
    during = annotations.to_dict()
    annotations.apply(edit.inverse())
    assert annotations.to_dict() == before
    return during


# -- the range and the span ----------------------------------------------------------------------


def test_in_and_out_points_keep_the_range_in_order():
    assert with_in_point(None, 7) == (7, 7)
    assert with_out_point((7, 7), 12) == (7, 12)
    assert with_in_point((7, 12), 9) == (9, 12)  # the end stays
    assert with_in_point((7, 12), 15) == (15, 15)  # past the end: a new one-frame range
    assert with_out_point((7, 12), 3) == (3, 3)
    assert with_out_point(None, 4) == (4, 4)


def test_the_span_runs_to_the_next_keyframe_or_gap_and_never_holds_a_keyframe():
    boxes = {0: KEY, **{f: tracked() for f in range(1, 10)}, 10: KEY, 11: tracked(), 12: tracked()}
    boxes.update({14: tracked(), 15: tracked()})  # after a gap at 13
    track = model(boxes).track(1)
    assert span_from(track, 4) == range(4, 10)  # stops before the keyframe on 10
    assert span_from(track, 0) == range(1, 10)  # the keyframe here is kept too
    assert span_from(track, 10) == range(11, 13)  # stops at the gap
    assert span_from(track, 13) == range(13, 13)  # nothing annotated here
    assert span_from(track, 14) == range(14, 16)


# -- range edits: one edit each, undone exactly --------------------------------------------------


def test_mark_absent_over_an_explicit_range_covers_every_frame_keyframes_included():
    annotations = model({0: KEY, 1: tracked(), 2: tracked(), 3: KEY, 4: tracked()})
    edit = absent_edit(annotations, 1, range(2, 7))
    assert [c.frame for c in edit.boxes] == [2, 3, 4, 5, 6]  # 5, 6 were not annotated
    during = applied_and_undone(annotations, edit)
    frames = {e["frame"]: e for e in during["tracks"][0]["frames"]}
    assert all(frames[f].get("absent") for f in range(2, 7))
    assert frames[1]["source"] == "tracked" and "box" in frames[1]
    # An absent frame stays as it is (no change, no empty undo step).
    annotations.apply(edit)
    assert not absent_edit(annotations, 1, range(2, 7))


def test_delete_over_the_span_keeps_keyframes_and_accept_clears_flags():
    annotations = model({0: KEY, 1: tracked("score 0.2 < 0.5"), 2: tracked("jump"), 3: tracked(), 4: KEY})
    span = span_from(annotations.track(1), 0)
    during = applied_and_undone(annotations, delete_edit(annotations, 1, span))
    assert [e["frame"] for e in during["tracks"][0]["frames"]] == [0, 4]
    accept = accept_frames_edit(annotations, 1, range(5))
    assert sorted(c.frame for c in accept.boxes) == [1, 2, 3]  # keyframes were reviewed already
    annotations.apply(accept)
    for f in (1, 2, 3):
        entry = annotations.track(1).get(f)
        assert entry.reviewed and not entry.flag and entry.box == BOX and entry.source is BoxSource.TRACKED


def test_split_moves_the_frames_from_here_to_a_new_track():
    annotations = model({f: tracked() for f in range(10)})
    annotations.apply(annotations.relabel_edit(1, "bike"))
    edit = split_edit(annotations, 1, 6)
    during = applied_and_undone(annotations, edit)
    first, second = during["tracks"]
    assert [e["frame"] for e in first["frames"]] == list(range(6))
    assert [e["frame"] for e in second["frames"]] == list(range(6, 10))
    assert (second["id"], second["label"], second["color"]) == (2, "bike", PALETTE[1])
    with pytest.raises(ValueError, match="nothing before"):
        split_edit(annotations, 1, 0)
    with pytest.raises(ValueError, match="nothing on or after"):
        split_edit(annotations, 1, 10)


def test_merge_joins_disjoint_tracks_and_refuses_two_boxes_on_one_frame():
    annotations = model(
        {0: KEY, 1: tracked(), 2: FrameBox(None, BoxSource.MANUAL, absent=True)},
        {2: tracked(x=50), 3: tracked(x=51), 4: KEY},
    )
    edit = merge_edit(annotations, 1, 2)
    during = applied_and_undone(annotations, edit)
    assert [t["id"] for t in during["tracks"]] == [1]
    merged = {e["frame"]: e for e in during["tracks"][0]["frames"]}
    assert sorted(merged) == [0, 1, 2, 3, 4]
    assert merged[2]["box"][0] == 50  # the box wins over an absent mark
    assert merged[4]["source"] == "manual"
    annotations.apply(annotations.set_box_edit(2, 1, tracked(x=60)))
    with pytest.raises(ValueError, match="both have a box on frame 1"):
        merge_edit(annotations, 1, 2)
    with pytest.raises(ValueError, match="itself"):
        merge_edit(annotations, 1, 1)


# -- the review queue --------------------------------------------------------------------------------


def test_the_queue_lists_runs_of_flagged_frames_of_all_tracks_by_frame_then_track():
    annotations = model(
        {
            0: KEY,
            3: tracked("jump"),
            5: tracked(),
            8: tracked("score 0.1 < 0.5"),
            9: tracked("drop"),
            10: tracked("drop"),
        },
        {1: KEY, 3: tracked("overlaps #1"), 4: tracked("collapsed"), 6: tracked("jump")},
    )
    queue = review_queue(annotations)
    assert queue == [
        ReviewItem(3, 1, "jump", 3),
        ReviewItem(3, 2, "overlaps #1", 4),  # consecutive frames: one item, its first reason
        ReviewItem(6, 2, "jump", 6),
        ReviewItem(8, 1, "score 0.1 < 0.5", 10),
    ]
    assert [item.frames for item in queue] == [1, 2, 1, 3]
    assert queue[3].where() == "frames 8–10" and queue[0].where() == "frame 3" and queue[3].span == "8–10"
    assert queue[3].holds(9, 1) and not queue[3].holds(9, 2) and not queue[3].holds(11, 1)
    assert step_item(queue, 3, 1) == queue[1]  # same frame, the next track
    assert step_item(queue, 5, 1) == queue[2]
    assert step_item(queue, 9, 1) == queue[0]  # from inside the last run: wraps around
    assert step_item(queue, 9, 1, -1) == queue[3]  # back to where the run it is in starts
    assert step_item(queue, 3, 2, -1) == queue[0]
    assert step_item(queue, 0, None, -1) == queue[3]
    assert step_item([], 0, 1) is None
    assert frames_in(queue, (4, 9)) == [(2, 4), (2, 6), (1, 8), (1, 9)] and frames_in(queue, None) == []


def test_how_an_edit_settles_a_flagged_frame():
    annotations = model({0: KEY, 3: tracked("jump")})
    cases = {
        "accepted": accept_frames_edit(annotations, 1, range(3, 4)),
        "absent": absent_edit(annotations, 1, range(3, 4)),
        "deleted": delete_edit(annotations, 1, range(3, 4)),
        "fixed": annotations.manual_box_edit(1, 3, (12, 10, 20, 20)),
    }
    for expected, edit in cases.items():
        assert settled_by(edit, 1, 3) == expected
        assert settled_by(edit, 2, 3) == "" and settled_by(edit, 1, 4) == ""
    assert settled_by(annotations.toggle_edit(1, 3, "occluded"), 1, 3) == ""  # still flagged
    assert settled_by(accept_frames_edit(annotations, 1, range(1)), 1, 0) == ""


def test_the_session_keeps_the_range_in_the_video_and_forgets_it_with_the_document():
    class Video:
        frame_count = 20

    session = Session()
    session.set_document(Video(), Annotations(), None)
    seen = []
    session.range_changed.connect(seen.append)
    session.set_range((25, 4))
    assert session.selected_range == (4, 19) and seen == [(4, 19)]
    session.set_document(Video(), Annotations(), None)
    assert session.selected_range is None and seen[-1] is None


# -- the window ------------------------------------------------------------------------------------


@pytest.fixture
def frames_folder(tmp_path) -> Path:
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(20):
        cv2.imwrite(str(folder / f"{i:04d}.png"), np.full((60, 80, 3), 10 * i, np.uint8))
    return folder


@pytest.fixture
def window(window, frames_folder):
    """The main window (conftest) with the frames open."""
    assert window.files.open_path(frames_folder)
    return window


def tracked_run(window, boxes: dict[int, FrameBox], label: str = "car") -> int:
    """A track as a run leaves it: keyframe(s) and tracked boxes, some flagged (one undo step)."""
    annotations = window.session.annotations
    edit = annotations.add_track_edit(label, boxes=boxes)
    assert window.editing.push(edit)
    return edit.tracks[0].track


def state(window) -> dict:
    return window.session.annotations.to_dict()


def key(window, qt_key, modifiers=Qt.NoModifier) -> None:
    QTest.keyClick(window, qt_key, modifiers)


def test_in_out_keys_mark_a_range_shown_as_a_band_and_cleared(window):
    window.go_to(4, now=True)
    key(window, Qt.Key_I, Qt.ShiftModifier)
    window.go_to(9, now=True)
    key(window, Qt.Key_O, Qt.ShiftModifier)
    assert window.session.selected_range == (4, 9)
    band = window.timeline.range_band
    assert band.isVisible() and band.getRegion() == (3.5, 9.5)
    assert "frames 4–9" in window.statusBar().currentMessage()
    assert window.clear_range_action.isEnabled()
    key(window, Qt.Key_X, Qt.ShiftModifier)
    assert window.session.selected_range is None and not band.isVisible()
    assert not window.clear_range_action.isEnabled()


def test_range_actions_are_one_undo_step_each_and_the_span_keeps_keyframes(window):
    tracked_run(window, {0: KEY, **{f: tracked() for f in range(1, 8)}, 8: KEY, 9: tracked(), 10: tracked()})
    original = state(window)
    # No range marked: from here to the end of the span (the keyframe on 8 stays).
    window.go_to(3, now=True)
    key(window, Qt.Key_Delete, Qt.ControlModifier)
    track = window.session.annotations.track(1)
    assert track.frames() == [0, 1, 2, 8, 9, 10]
    assert window.undo_stack.undoText() == "Delete frames 3–7 (track 1)"
    window.undo_stack.undo()
    assert state(window) == original
    # A marked range: every frame in it, the keyframe on 8 and the unannotated 11, 12 included.
    window.session.set_range((6, 12))
    key(window, Qt.Key_A, Qt.ShiftModifier)
    track = window.session.annotations.track(1)
    assert all(track.get(f).absent for f in range(6, 13)) and track.get(5).box == BOX
    count = window.undo_stack.count()
    key(window, Qt.Key_K, Qt.ShiftModifier)  # accepting absent frames changes nothing: no step
    assert window.undo_stack.count() == count
    window.undo_stack.undo()
    assert state(window) == original


def test_split_and_merge_from_the_edit_menu_with_undo(window, monkeypatch):
    from app.ui import dialogs

    tracked_run(window, {0: KEY, **{f: tracked() for f in range(1, 12)}})
    window.go_to(6, now=True)
    key(window, Qt.Key_K, Qt.ControlModifier)
    annotations = window.session.annotations
    assert annotations.track(1).frames() == list(range(6))
    assert annotations.track(2).frames() == list(range(6, 12)) and annotations.track(2).label == "car"
    assert window.session.selected_track == 2
    assert "are now track #2" in window.statusBar().currentMessage()
    # Merge back: the dialog lists track 1; track 2 is kept and takes its frames.
    asked = []
    monkeypatch.setattr(
        dialogs,
        "ask_merge_track",
        lambda _parent, _model, keep, others: asked.append((keep, others)) or others[0],
    )
    key(window, Qt.Key_M, Qt.ControlModifier)
    assert asked == [(2, [1])]
    assert list(annotations.tracks) == [2] and annotations.track(2).frames() == list(range(12))
    window.undo_stack.undo()
    window.undo_stack.undo()
    assert list(annotations.tracks) == [1] and annotations.track(1).frames() == list(range(12))
    # Two boxes on one frame: refused, said why, nothing changed.
    tracked_run(window, {5: tracked(x=40)})
    before = state(window)
    window.editing.select(1)
    key(window, Qt.Key_M, Qt.ControlModifier)
    assert state(window) == before
    assert "both have a box on frame 5" in window.last_error


def flagged_document(window) -> None:
    tracked_run(
        window, {0: KEY, 1: tracked(), 2: tracked("jump"), 3: tracked(), 5: tracked("score 0.1 < 0.5")}
    )
    tracked_run(
        window, {0: KEY, 2: tracked("overlaps #1"), 7: tracked("collapsed"), 9: tracked("jump")}, "dog"
    )
    window.review_dock.show()
    window.review_dock.raise_()


def rows(window) -> list[tuple[str, str, str]]:
    tree = window.review_panel.tree
    return [tuple(tree.topLevelItem(i).text(c) for c in range(3)) for i in range(tree.topLevelItemCount())]


def test_the_review_dock_lists_flags_and_walks_them_one_key_per_decision(window, qtbot):
    flagged_document(window)
    panel = window.review_panel
    qtbot.waitUntil(panel.isVisible)
    assert rows(window) == [
        ("2", "#1 car", "jump"),
        ("2", "#2 dog", "overlaps #1"),
        ("5", "#1 car", "score 0.1 < 0.5"),
        ("7", "#2 dog", "collapsed"),
        ("9", "#2 dog", "jump"),
    ]
    assert "5 to review" in panel.count_label.text()
    # A click on a row selects the track and shows the frame.
    tree = panel.tree
    row = tree.topLevelItem(0)
    tree.itemClicked.emit(row, 0)
    assert (window.session.selected_track, window.session.current_frame) == (1, 2)
    assert tree.currentItem() is row
    # K accepts and goes on: to the other track's flag on the same frame.
    key(window, Qt.Key_K)
    entry = window.session.annotations.track(1).get(2)
    assert entry.reviewed and not entry.flag
    assert (window.session.selected_track, window.session.current_frame) == (2, 2)
    assert "4 to review" in panel.count_label.text()
    # A marks it absent and goes on.
    key(window, Qt.Key_A)
    assert window.session.annotations.track(2).get(2).absent
    assert (window.session.selected_track, window.session.current_frame) == (1, 5)
    # A fix (a box drawn) settles it but stays, for re-tracking from the corrected box.
    window.set_box((14, 10, 20, 20))
    assert (window.session.selected_track, window.session.current_frame) == (1, 5)
    assert "fixed" in window.statusBar().currentMessage()
    assert [r[0] for r in rows(window)] == ["7", "9"]
    # J / Shift+J step through what is left (wrapping); undo brings an item back.
    key(window, Qt.Key_J)
    assert (window.session.selected_track, window.session.current_frame) == (2, 7)
    key(window, Qt.Key_J, Qt.ShiftModifier)
    assert window.session.current_frame == 9
    window.undo_stack.undo()  # the fix
    assert [r[0] for r in rows(window)] == ["5", "7", "9"]


def test_no_advance_when_the_option_is_off_and_bulk_accept_in_the_range(window):
    flagged_document(window)
    panel = window.review_panel
    panel.advance_check.setChecked(False)
    window.show_review_item(1, 2)
    key(window, Qt.Key_K)
    assert (window.session.selected_track, window.session.current_frame) == (1, 2)
    panel.advance_check.setChecked(True)
    window.review_dock.hide()  # not reviewing: K only accepts
    window.show_review_item(2, 2)
    key(window, Qt.Key_K)
    assert (window.session.selected_track, window.session.current_frame) == (2, 2)
    window.undo_stack.undo()
    window.review_dock.show()
    (accept,) = [a for a in window.actions() if a.text() == "&Accept all flagged in range"]
    assert not accept.isEnabled()  # no range marked
    window.session.set_range((2, 7))
    assert accept.isEnabled() and "3 in the range 2–7" in panel.count_label.text()
    key(window, Qt.Key_K, Qt.ControlModifier | Qt.ShiftModifier)
    assert [r[0] for r in rows(window)] == ["9"]
    assert window.undo_stack.undoText() == "Accept 3 flagged frames in frames 2–7"
    assert not accept.isEnabled()
    window.undo_stack.undo()
    assert len(rows(window)) == 4
    window.editing.push(window.session.annotations.relabel_edit(2, "horse"))  # the list follows it
    assert ("7", "#2 horse", "collapsed") in rows(window)
    view_menu = next(m.menu() for m in window.menuBar().actions() if m.text() == "&View")
    assert window.review_dock.toggleViewAction() in view_menu.actions()


def test_a_run_of_flagged_frames_is_one_row_that_j_skips_and_k_walks(window, qtbot):
    drift = {f: tracked("looks unlike the target") for f in range(4, 9)}
    tracked_run(
        window, {0: KEY, 1: tracked("jump"), 2: tracked(), 3: tracked(), **drift, 12: tracked("drop")}
    )
    window.review_dock.show()
    panel = window.review_panel
    qtbot.waitUntil(panel.isVisible)
    assert rows(window) == [
        ("1", "#1 car", "jump"),
        ("4–8", "#1 car", "looks unlike the target"),
        ("12", "#1 car", "drop"),
    ]
    assert "3 to review</b> · 7 flagged frames" in panel.count_label.text()
    window.show_review_item(1, 1)
    key(window, Qt.Key_J)
    assert window.session.current_frame == 4 and panel.tree.currentItem().text(0) == "4–8"
    window.go_to(6, now=True)  # inside the run: its row stays selected
    assert panel.tree.currentItem().text(0) == "4–8"
    key(window, Qt.Key_J)  # past the rest of the run
    assert window.session.current_frame == 12
    key(window, Qt.Key_J, Qt.ShiftModifier)
    assert window.session.current_frame == 4
    window.go_to(7, now=True)
    key(window, Qt.Key_J, Qt.ShiftModifier)  # from inside a run: back to where it starts
    assert window.session.current_frame == 4
    key(window, Qt.Key_K)  # accepts frame 4 only and goes on to the next frame of the run
    assert window.session.current_frame == 5 and rows(window)[1][0] == "5–8"
    assert "Review 2 of 3: frames 5–8" in window.statusBar().currentMessage()
    window.session.set_range((0, 6))
    assert "· 3 in the range 0–6" in panel.count_label.text()  # frames 1, 5 and 6
    key(window, Qt.Key_K, Qt.ControlModifier | Qt.ShiftModifier)
    assert rows(window) == [("7–8", "#1 car", "looks unlike the target"), ("12", "#1 car", "drop")]


def test_the_new_keys_are_listed_in_the_shortcuts_dialog(window):
    dialog = window.show_shortcuts()
    keys = dict(dialog.rows())
    for shortcut in (
        "Shift+I",
        "Shift+O",
        "Shift+X",
        "Shift+K",
        "Shift+A",
        "Ctrl+Del",
        "Ctrl+K",
        "Ctrl+M",
        "J",
    ):
        assert shortcut in keys, shortcut
    assert keys["Ctrl+M"] == "Merge with track"
    dialog.close()
