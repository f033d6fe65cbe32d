"""The check every fast search path passes: the same outputs as the PyTorch reference."""

from __future__ import annotations

import numpy as np


def assert_same_outputs_on_crops(reference, fast, frames, rel: float) -> None:
    """Frame by frame, on the reference tracker's own crops (so both see the same input however
    the runs would part), every output of ``fast``'s network is within ``rel`` of the output's
    scale (at least 1) of ``reference``'s. Both trackers are initialised by the caller; the
    reference tracks on."""
    for frame in frames:
        patch = reference.search_patch(frame)
        want, got = reference.net.track(patch), fast.net.track(patch)
        for key, value in want.items():
            value = np.asarray(value)
            assert np.abs(got[key] - value).max() <= rel * max(1.0, np.abs(value).max()), key
        reference.track(frame)
