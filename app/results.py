"""Per-frame tracking results of one video, Qt-free.

The GUI stores every tracked frame here as it arrives (never skipping one) and reads it back
when it repaints, so display throttling can never lose a result.

Memory stays bounded on long videos: box, score and status are kept for every frame, but
response maps are kept as 8-bit (the display needs no more) and only the most recently
tracked ones within ``map_budget`` bytes per table; older frames show no map.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np

from trackers.base import Box, MapGeometry, TrackResult


@dataclass(frozen=True)
class FrameResult:
    box: Box
    score: float
    response: np.ndarray | None
    geometry: MapGeometry | None
    ok: bool = True
    message: str = ""


#: bytes of 8-bit response maps one table keeps (siamfc's 272x272 map: ~900 frames)
MAP_BUDGET = 64 * 2**20


class ResultsTable:
    """frame index -> FrameResult, plus a score array over all frames (NaN where not tracked)."""

    def __init__(self, frame_count: int = 0, map_budget: int = MAP_BUDGET):
        self._rows: dict[int, FrameResult] = {}
        self.scores = np.full(max(frame_count, 0), np.nan, dtype=np.float32)
        self.map_budget = int(map_budget)
        self._maps: OrderedDict[int, np.ndarray] = OrderedDict()  # frame -> uint8 map, oldest first
        self.map_bytes = 0

    @property
    def frame_count(self) -> int:
        return len(self.scores)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, frame: int) -> bool:
        return frame in self._rows

    def get(self, frame: int) -> FrameResult | None:
        row = self._rows.get(frame)
        if row is None:
            return None
        packed = self._maps.get(frame)
        return replace(row, response=None if packed is None else packed.astype(np.float32) / 255.0)

    def frames(self) -> list[int]:
        return sorted(self._rows)

    def set_result(self, frame: int, result: TrackResult) -> None:
        row = FrameResult(
            box=tuple(float(v) for v in result.box),
            score=float(result.score),
            response=None,  # kept packed in self._maps
            geometry=result.geometry,
            ok=bool(result.ok),
            message=result.message,
        )
        self._put(frame, row)
        self._drop_map(frame)
        if result.response is not None:
            response = np.nan_to_num(np.asarray(result.response, dtype=np.float32), nan=0.0)
            packed = np.round(np.clip(response, 0.0, 1.0) * 255.0).astype(np.uint8)
            self._maps[frame] = packed
            self.map_bytes += packed.nbytes
            while self.map_bytes > self.map_budget and self._maps:
                self._drop_map(next(iter(self._maps)))

    def _drop_map(self, frame: int) -> None:
        packed = self._maps.pop(frame, None)
        if packed is not None:
            self.map_bytes -= packed.nbytes

    def _put(self, frame: int, row: FrameResult) -> None:
        if frame < 0:
            raise IndexError(f"frame index must be >= 0, got {frame}")
        if frame >= len(self.scores):
            # The container may understate its length; grow rather than drop a result.
            grown = np.full(frame + 1, np.nan, dtype=np.float32)
            grown[: len(self.scores)] = self.scores
            self.scores = grown
        self._rows[frame] = row
        self.scores[frame] = row.score

