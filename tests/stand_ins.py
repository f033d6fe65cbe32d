"""A stand-in for trackers.multi.MultiTracker (monkeypatched in): no network, known results."""

from __future__ import annotations

import time

import numpy as np

import trackers


class StandIn:
    """What every stand-in for MultiTracker answers as a network-free MultiTracker would: the
    appearance check and keyframes are accepted (the results carry no appearance)."""

    device = "cpu"

    def set_appearance(self, on):
        self.appearance = bool(on)

    def add_keyframe(self, object_id, frame, box):
        pass

    def set_inspect(self, on):
        pass


class Drifting(StandIn):
    """Each object's box moves 1 px right per frame from where it started, whichever way the
    run goes, with score ``score``; ``delay`` seconds per frame (to stop a run midway); the
    response map is ``response()`` placed by ``geometry(box)``."""

    device = "cpu"
    score = 0.9
    delay = 0.0

    def __init__(self, *args, **kwargs):
        self.objects = {}

    def add(self, object_id, frame, box):
        self.objects[object_id] = list(box)

    def remove(self, object_id):
        del self.objects[object_id]

    def response(self) -> np.ndarray:
        return np.zeros((3, 3), np.float32)

    def geometry(self, box) -> trackers.MapGeometry:
        return trackers.MapGeometry(0, 0, 1)

    def track(self, frame):
        if self.delay:
            time.sleep(self.delay)
        out = {}
        for object_id, box in self.objects.items():
            box[0] += 1.0
            out[object_id] = trackers.TrackResult(
                tuple(box), self.score, self.response(), self.geometry(box), (0, 0, 20, 20)
            )
        return out
