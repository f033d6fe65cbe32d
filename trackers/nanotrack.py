"""NanoTrack (HonglinChu/SiamTrackers): MobileNetV3 backbone, anchor-free BAN-style head.

The tracking loop is the official Python ``NanoTracker`` — pysot's loop on a stride-16 point
grid (BGR input, mean colour of the first frame, centre x + (w-1)/2) — with its per-version
yaml hyper-parameters as presets. (OpenCV's C++ TrackerNano deviates from it in several
places, see trackers/models/nanotrack.py; we follow the official code.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from trackers.pysot_tracker import PointTracker, PysotConfig
from trackers.registry import register


@dataclass(frozen=True)
class NanoTrackConfig(PysotConfig):
    architecture: str = "nanotrack_v2"
    stride: int = 16
    base_size: int = 7  # (255 - 127) // 16 + 1 + 7 = 16 score cells
    window_influence: float = 0.490
    penalty_k: float = 0.150
    lr: float = 0.385
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "default": {},
        "v2": {},
        "v1": {"architecture": "nanotrack_v1", "window_influence": 0.462, "penalty_k": 0.148, "lr": 0.390},
        "v3": {
            "architecture": "nanotrack_v3",
            "base_size": 6,  # 15 score cells
            "window_influence": 0.455,
            "penalty_k": 0.138,
            "lr": 0.348,
        },
    }


@register(
    "nanotrack",
    "NanoTrack v1 / v2 / v3: MobileNetV3 backbone, anchor-free head (real Apache-2.0 weights exist)",
    NanoTrackConfig,
    ("nanotrack_v2", "nanotrack_v1", "nanotrack_v3"),
)
class NanoTrackTracker(PointTracker):
    pass
