"""A live comparison of 2-4 trackers on the same frames, Qt-free.

What each compared tracker (a "slot") found: its box and score per frame, its own frame rate
and its response maps (bounded in memory like the tracks' maps). These are not annotations:
nothing here is undoable and nothing here changes the user's tracks; a slot's boxes become a
track only when the user keeps them (one undoable edit, made by the controller).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.model.annotations import Annotations
from app.model.events import Event
from app.model.groundtruth import is_ground_truth
from app.model.results import ResponseMap, ResponseMaps
from trackers.base import Box, MapGeometry
from trackers.metrics import iou

MAX_SLOTS = 4
#: one colour per slot, apart from each other and from the first colours of the tracks' palette
#: (a ground-truth track is usually the first, red)
SLOT_COLOURS = ("#18ffff", "#ff9100", "#c6ff00", "#e040fb")


@dataclass
class ComparedTracker:
    """One slot: the tracker it runs and what that tracker found so far."""

    spec: object  # what the run engine runs (an app.engine.jobs.TrackerSpec; opaque here)
    title: str  # e.g. "siamfc" or "siamban-mobilev2 · my_weights.pth"
    colour: str
    boxes: np.ndarray  # (frames, 4) x, y, w, h; NaN rows: no result there
    scores: np.ndarray  # (frames,); NaN: no result
    fps: float = float("nan")  # its own frames per second of compute, so far
    #: "waiting", "running", "done", "stopped" or "failed"
    status: str = "waiting"

    def box_at(self, frame: int) -> Box | None:
        if not 0 <= frame < len(self.boxes) or np.isnan(self.boxes[frame]).any():
            return None
        return tuple(float(v) for v in self.boxes[frame])

    def score_at(self, frame: int) -> float:
        return float(self.scores[frame]) if 0 <= frame < len(self.scores) else float("nan")

    def last_frame(self) -> int | None:
        """The last frame it has a box on (the start frame before any result)."""
        found = np.flatnonzero(~np.isnan(self.boxes[:, 0]))
        return int(found[-1]) if len(found) else None


class Comparison:
    """The comparison shown now: where it starts (frame and box) and every slot's results."""

    def __init__(self):
        self.slots: list[ComparedTracker] = []
        self.start: int | None = None
        self.box: Box | None = None
        self.frame_count = 0
        self.maps = ResponseMaps()  # keyed (slot, frame)
        #: slots, start or status changed (no arguments)
        self.changed = Event("comparison_changed")
        #: new results on a frame (its index)
        self.advanced = Event("comparison_advanced")

    @property
    def active(self) -> bool:
        return bool(self.slots)

    def begin(self, start: int, box: Box, trackers: list[tuple[object, str]], frame_count: int) -> None:
        """A new comparison of ``trackers`` ((spec, title) each, at most MAX_SLOTS) from ``box``
        on frame ``start``; every earlier result is dropped."""
        if not 1 <= len(trackers) <= MAX_SLOTS:
            raise ValueError(f"a comparison has 1 to {MAX_SLOTS} trackers, got {len(trackers)}")
        self.start, self.box, self.frame_count = int(start), tuple(box), int(frame_count)
        self.maps.clear()
        self.slots = [self._empty(spec, title, SLOT_COLOURS[i]) for i, (spec, title) in enumerate(trackers)]
        self.changed.emit()

    def replace(self, slot: int, spec: object, title: str) -> None:
        """Slot ``slot`` runs another tracker from now on: its results are dropped."""
        self.slots[slot] = self._empty(spec, title, self.slots[slot].colour)
        self.maps.drop_track(slot)
        self.changed.emit()

    def reset(self, slots) -> None:
        """Drop the results of ``slots`` (to run them again)."""
        for slot in slots:
            self.replace(slot, self.slots[slot].spec, self.slots[slot].title)

    def clear(self) -> None:
        self.slots, self.start, self.box, self.frame_count = [], None, None, 0
        self.maps.clear()
        self.changed.emit()

    def set_status(self, slots, status: str) -> None:
        for slot in slots:
            self.slots[slot].status = status
        self.changed.emit()

    def _empty(self, spec: object, title: str, colour: str) -> ComparedTracker:
        n = self.frame_count
        boxes = np.full((n, 4), np.nan, dtype=np.float64)
        scores = np.full(n, np.nan, dtype=np.float32)
        if self.start is not None and 0 <= self.start < n:
            boxes[self.start] = self.box  # every tracker starts from the same box
        return ComparedTracker(spec, title, colour, boxes, scores)

    # -- results -------------------------------------------------------------------------------

    def put(
        self,
        frame: int,
        results: dict[int, tuple[Box, float, float, np.ndarray | None, MapGeometry | None]],
    ) -> None:
        """One frame's results: slot -> (box, score, fps, response map, its geometry)."""
        for slot, (box, score, fps, response, geometry) in results.items():
            tracked = self.slots[slot]
            tracked.boxes[frame] = box
            tracked.scores[frame] = score
            tracked.fps = float(fps)
            self.maps.put(slot, frame, response, geometry)
        self.advanced.emit(frame)

    def map_at(self, slot: int, frame: int) -> ResponseMap | None:
        return self.maps.get(slot, frame)

    def reached(self) -> int | None:
        """The last frame any slot has a result on."""
        last = [f for s in self.slots if (f := s.last_frame()) is not None]
        return max(last) if last else None

    # -- against the ground truth --------------------------------------------------------------

    def ground_truth(self, annotations: Annotations) -> np.ndarray | None:
        """(frames, 4) boxes of the ground-truth track the comparison started on (the one that
        overlaps the start box most there; NaN rows where it has none), or None."""
        if self.start is None:
            return None
        best, best_overlap = None, 0.0
        for track in annotations:
            entry = track.get(self.start)
            if not is_ground_truth(track) or entry is None or entry.box is None:
                continue
            overlap = float(iou([entry.box], [self.box])[0])
            if overlap > best_overlap:
                best, best_overlap = track, overlap
        if best is None:
            return None
        truth = np.full((self.frame_count, 4), np.nan, dtype=np.float64)
        for frame, entry in best.boxes.items():
            if 0 <= frame < self.frame_count and entry.box is not None:
                truth[frame] = entry.box
        return truth

    def iou(self, slot: int, truth: np.ndarray) -> np.ndarray:
        """Slot ``slot``'s IoU with ``truth`` per frame (NaN where either has no box; the start
        frame is left out: every slot starts on the given box)."""
        boxes = self.slots[slot].boxes
        values = np.full(self.frame_count, np.nan, dtype=np.float32)
        both = ~np.isnan(boxes).any(axis=1) & ~np.isnan(truth).any(axis=1)
        both[self.start] = False
        if both.any():
            values[both] = iou(boxes[both], truth[both])
        return values
