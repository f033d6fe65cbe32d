"""A comparison's boxes on the main view: each compared tracker's box in its colour, with a chip
saying name · frame rate · score (the legend of the overlaid comparison)."""

from __future__ import annotations

import math

from app.model.comparison import Comparison
from app.ui.video_view import BoxOverlay


def slot_caption(comparison: Comparison, slot: int, frame: int) -> str:
    """A slot's chip: name · its fps · its score on ``frame``."""
    tracked = comparison.slots[slot]
    fps = f"{tracked.fps:.0f} fps" if math.isfinite(tracked.fps) else "– fps"
    score = tracked.score_at(frame)
    return " · ".join((tracked.title, fps, f"{score:.2f}" if math.isfinite(score) else "start"))


def comparison_overlays(comparison: Comparison, frame: int) -> list[BoxOverlay]:
    """Every compared tracker's box on ``frame``, in its colour, for the main view."""
    overlays = []
    for slot, tracked in enumerate(comparison.slots):
        box = tracked.box_at(frame)
        if box is not None:
            text = slot_caption(comparison, slot, frame)
            overlays.append(BoxOverlay(-1 - slot, box, tracked.colour, text, tracked.colour))
    return overlays
