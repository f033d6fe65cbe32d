"""Per-frame tracking results of one video, Qt-free.

The GUI stores every tracked frame here as it arrives (never skipping one) and reads it back
when it repaints, so display throttling can never lose a result.
"""

from __future__ import annotations

from dataclasses import dataclass

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


class ResultsTable:
    """frame index -> FrameResult, plus a score array over all frames (NaN where not tracked)."""

    def __init__(self, frame_count: int = 0):
        self._rows: dict[int, FrameResult] = {}
        self.scores = np.full(max(frame_count, 0), np.nan, dtype=np.float32)

    @property
    def frame_count(self) -> int:
        return len(self.scores)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, frame: int) -> bool:
        return frame in self._rows

    def get(self, frame: int) -> FrameResult | None:
        return self._rows.get(frame)

    def frames(self) -> list[int]:
        return sorted(self._rows)

    def set_result(self, frame: int, result: TrackResult) -> None:
        row = FrameResult(
            box=tuple(float(v) for v in result.box),
            score=float(result.score),
            response=result.response,
            geometry=result.geometry,
            ok=bool(result.ok),
            message=result.message,
        )
        self._put(frame, row)

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

