"""Siamark's tracking engine: Siamese single-object trackers, Qt-free.

    import trackers
    t = trackers.create("nanotrack", weights="nanotrackv2.pth")
    t.init(frame_bgr, (x, y, w, h))
    result = t.track(next_frame_bgr)   # -> TrackResult(box, score, response, geometry, ...)

Frames are BGR uint8 (OpenCV's order), boxes (x, y, w, h) 0-based floats: see ``trackers.base``.
"""

from trackers import dasiamrpn, nanotrack, siamban, siamcross, siamfc, siamrpn  # noqa: F401  (register the trackers)
from trackers.base import Box, MapGeometry, Tracker, TrackResult
from trackers.registry import (
    RANDOM,
    NoWeightsError,
    TrackerInfo,
    chosen_backend,
    create,
    get,
    identify_checkpoint,
    names,
    recommended,
    shipped,
)

__all__ = [
    "RANDOM",
    "Box",
    "MapGeometry",
    "NoWeightsError",
    "TrackResult",
    "Tracker",
    "TrackerInfo",
    "chosen_backend",
    "create",
    "get",
    "identify_checkpoint",
    "names",
    "recommended",
    "shipped",
]
