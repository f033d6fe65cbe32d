"""The inside records (trackers/inside.py) of recently tracked frames, Qt-free, bounded.

Not document state: a record explains a tracker's decision on one frame of one run, for the
Inside view. Only the newest records within ``budget`` bytes are kept (a SiamRPN++ frame is
~20 kB, a SiamFC one ~0.9 MB); older frames show none and the view says how to get one.
"""

from __future__ import annotations

from collections import OrderedDict

from trackers.inside import Inside

#: bytes of records kept (a few hundred frames of the pysot family, ~70 of SiamFC)
RECORD_BUDGET = 64 * 2**20


class InsideRecords:
    """(track, frame) -> the inside record of the run that tracked that box last."""

    def __init__(self, budget: int = RECORD_BUDGET):
        self.budget = int(budget)
        self._records: OrderedDict[tuple[int, int], Inside] = OrderedDict()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._records)

    def get(self, track: int | None, frame: int) -> Inside | None:
        return self._records.get((track, frame))

    def put(self, track: int, frame: int, record: Inside) -> None:
        self._drop((track, frame))
        self._records[(track, frame)] = record
        self.bytes += record.nbytes
        while self.bytes > self.budget and len(self._records) > 1:
            self._drop(next(iter(self._records)))  # the oldest first

    def _drop(self, key: tuple[int, int]) -> None:
        record = self._records.pop(key, None)
        if record is not None:
            self.bytes -= record.nbytes

    def clear(self) -> None:
        self._records.clear()
        self.bytes = 0
