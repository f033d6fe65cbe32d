"""DaSiamRPN (foolwood/DaSiamRPN ``code/run_SiamRPN.py``): up-channel RPN on AlexNet.

Differences from pysot kept on purpose (tracker-specs §5.2): the box centre is x + w/2, the
crop window is placed with Python 3 ``round``, and SiamRPNBIG enlarges the search region to
287 for small targets (area < 0.4 % of the frame), decided once at init. The anchor origin uses
floor division, as the Python 2 original computed it (pitfall 12).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from trackers.ops.crop import crop_dasiamrpn
from trackers.pysot_tracker import AnchorTracker, PysotConfig
from trackers.registry import register


@dataclass(frozen=True)
class DaSiamRPNConfig(PysotConfig):
    architecture: str = "dasiamrpn__SiamRPNBIG"
    instance_size: int = 271
    base_size: int = 0
    penalty_k: float = 0.055
    window_influence: float = 0.42
    lr: float = 0.295
    adaptive: bool = True
    small_instance_size: int = 287
    small_area_ratio: float = 0.004
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "default": {},
        "big": {},
        "vot": {
            "architecture": "dasiamrpn__SiamRPNvot",
            "penalty_k": 0.04,
            "window_influence": 0.44,
            "lr": 0.45,
            "adaptive": False,
        },
        "otb": {
            "architecture": "dasiamrpn__SiamRPNotb",
            "penalty_k": 0.22,
            "window_influence": 0.40,
            "lr": 0.30,
            "adaptive": False,
        },
    }


@register(
    "dasiamrpn",
    "DaSiamRPN (SiamRPNBIG; vot / otb presets): AlexNet, up-channel RPN, adaptive search size",
    DaSiamRPNConfig,
    ("dasiamrpn__SiamRPNBIG", "dasiamrpn__SiamRPNvot", "dasiamrpn__SiamRPNotb"),
)
class DaSiamRPNTracker(AnchorTracker):
    CENTER_HALF_MINUS_ONE = False
    crop = staticmethod(crop_dasiamrpn)

    def _choose_instance_size(self, frame: np.ndarray, size: np.ndarray) -> int:
        c = self.config
        if c.adaptive:
            small = size[0] * size[1] / float(frame.shape[0] * frame.shape[1]) < c.small_area_ratio
            return c.small_instance_size if small else c.instance_size
        return c.instance_size
