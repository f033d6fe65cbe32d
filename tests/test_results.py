"""Per-frame results (app/results.py): every box and score kept, response maps bounded in memory."""

from __future__ import annotations

import numpy as np

from app.results import ResultsTable
from trackers.base import MapGeometry, TrackResult


def result(frame: int, side: int = 272) -> TrackResult:
    response = np.random.default_rng(frame).random((side, side), dtype=np.float32)
    return TrackResult((frame, 1.0, 10.0, 10.0), 0.5, response, MapGeometry(0, 0, 1), (0, 0, 1, 1))


def test_maps_stay_within_the_budget_and_the_latest_are_kept():
    side = 272  # siamfc's map: 296 KB per frame as float32, 74 KB as 8-bit
    table = ResultsTable(10_000, map_budget=20 * side * side)
    for frame in range(1000):
        table.set_result(frame, result(frame, side))
    assert table.map_bytes <= 20 * side * side
    assert len(table) == 1000 and np.isfinite(table.scores[:1000]).all()  # every box and score
    assert table.get(5).response is None and table.get(5).box[0] == 5.0  # old map dropped, box kept
    latest = table.get(999).response
    original = result(999, side).response
    assert latest.dtype == np.float32 and np.abs(latest - original).max() <= 0.5 / 255 + 1e-6


def test_re_tracking_a_frame_replaces_its_map_without_leaking_bytes():
    table = ResultsTable(10, map_budget=10**6)
    for _ in range(5):
        table.set_result(3, result(3, 50))
    assert table.map_bytes == 50 * 50
