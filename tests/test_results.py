"""Response maps (app/model/results.py): bounded in memory, dropped with the box they belong to."""

from __future__ import annotations

import numpy as np

from app.model.annotations import Annotations, FrameBox, tracked_box
from app.model.results import ResponseMaps
from app.model.session import Session
from trackers.base import MapGeometry


def response(frame: int, side: int = 272) -> np.ndarray:
    return np.random.default_rng(frame).random((side, side), dtype=np.float32)


def test_maps_stay_within_the_budget_and_the_latest_are_kept():
    side = 272  # siamfc's map: 296 KB per frame as float32, 74 KB as 8-bit
    maps = ResponseMaps(budget=20 * side * side)
    for track in (1, 2):  # one budget for every track
        for frame in range(500):
            maps.put(track, frame, response(frame, side), MapGeometry(0, 0, 1))
    assert maps.bytes <= 20 * side * side and len(maps) == 20
    assert maps.get(1, 499) is None and maps.get(2, 5) is None  # the oldest went first
    latest = maps.get(2, 499).response
    assert latest.dtype == np.float32 and np.abs(latest - response(499, side)).max() <= 0.5 / 255 + 1e-6


def test_re_tracking_a_frame_replaces_its_map_without_leaking_bytes():
    maps = ResponseMaps(budget=10**6)
    for _ in range(5):
        maps.put(1, 3, response(3, 50), None)
    assert maps.bytes == 50 * 50
    maps.put(1, 3, None, None)  # a result without a map drops the old one
    assert maps.bytes == 0 and (1, 3) not in maps


class FakeVideo:
    frame_count = 10
    size = (100, 100)


def test_a_map_goes_when_its_box_is_replaced_and_stays_when_only_its_flag_changes():
    session = Session()
    annotations = Annotations(10)
    session.set_document(FakeVideo(), annotations, None)
    session.apply(annotations.add_track_edit("car", boxes={0: FrameBox((0, 0, 10, 10))}))
    for f in (1, 2):
        session.store_tracked(1, f, tracked_box((f, 0, 10, 10), 0.9), response(f, 20), None)
    assert (1, 1) in session.maps and (1, 2) in session.maps
    session.apply(annotations.set_box_edit(1, 2, annotations.track(1).get(2).with_(flag="look")))
    assert (1, 2) in session.maps  # same box: its map still belongs to it
    session.apply(annotations.manual_box_edit(1, 1, (5, 5, 10, 10)))
    assert (1, 1) not in session.maps  # the person's box replaced the tracked one
    session.apply(annotations.remove_track_edit(1))
    assert len(session.maps) == 0 and session.selected_track is None


def test_a_tracked_result_never_replaces_a_manual_box_and_keeps_no_map():
    session = Session()
    annotations = Annotations(10)
    session.set_document(FakeVideo(), annotations, None)
    session.apply(annotations.add_track_edit("car", boxes={0: FrameBox((0, 0, 10, 10)), 3: FrameBox((3, 0, 10, 10))}))
    assert session.store_tracked(1, 3, tracked_box((9, 9, 9, 9), 0.5), response(3, 20), None) == []
    assert annotations.track(1).get(3).box == (3, 0, 10, 10) and (1, 3) not in session.maps
