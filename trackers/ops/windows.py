"""Cosine (Hann) windows that favour small displacements."""

from __future__ import annotations

import numpy as np


def hanning_window(size: int, tiles: int = 1) -> np.ndarray:
    """Flattened outer(hanning, hanning) (endpoints exactly 0), repeated ``tiles`` times (one per anchor)."""
    h = np.hanning(size)
    return np.tile(np.outer(h, h).flatten(), tiles)


def normalised_hanning(size: int) -> np.ndarray:
    """SiamFC's window: outer(hanning, hanning) / sum, as a 2-D array."""
    h = np.hanning(size)
    w = np.outer(h, h)
    return w / w.sum()
