"""Response maps of tracked boxes, Qt-free, bounded in memory.

The annotations are the one store of every box, score and flag; this holds only what they do
not: the response map (and its geometry on the frame) that produced a tracked box, keyed by
(track, frame). The session drops a map as soon as its box changes, so a map on screen always
belongs to the box shown with it.

Memory stays bounded on long videos: maps are kept as 8-bit (the display needs no more) and
only the most recently tracked ones within ``budget`` bytes; older frames show no map.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from trackers.base import MapGeometry

#: bytes of 8-bit response maps kept (siamfc's 272x272 map: ~900 frames)
MAP_BUDGET = 64 * 2**20


@dataclass(frozen=True)
class ResponseMap:
    response: np.ndarray  # float32 in 0..1
    geometry: MapGeometry | None


class ResponseMaps:
    """(track, frame) -> the 8-bit response map of the tracked box there."""

    def __init__(self, budget: int = MAP_BUDGET):
        self.budget = int(budget)
        self._maps: OrderedDict[tuple[int, int], tuple[np.ndarray, MapGeometry | None]] = OrderedDict()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._maps)

    def __contains__(self, key: tuple[int, int]) -> bool:
        return key in self._maps

    def get(self, track: int, frame: int) -> ResponseMap | None:
        kept = self._maps.get((track, frame))
        if kept is None:
            return None
        packed, geometry = kept
        return ResponseMap(packed.astype(np.float32) / 255.0, geometry)

    def put(self, track: int, frame: int, response: np.ndarray | None, geometry: MapGeometry | None) -> None:
        self.drop(track, frame)
        if response is None:
            return
        response = np.nan_to_num(np.asarray(response, dtype=np.float32), nan=0.0)
        packed = np.round(np.clip(response, 0.0, 1.0) * 255.0).astype(np.uint8)
        self._maps[(track, frame)] = (packed, geometry)
        self.bytes += packed.nbytes
        while self.bytes > self.budget and self._maps:
            self.drop(*next(iter(self._maps)))  # the oldest first

    def drop(self, track: int, frame: int) -> None:
        kept = self._maps.pop((track, frame), None)
        if kept is not None:
            self.bytes -= kept[0].nbytes

    def drop_track(self, track: int) -> None:
        for key in [k for k in self._maps if k[0] == track]:
            self.drop(*key)

    def clear(self) -> None:
        self._maps.clear()
        self.bytes = 0
