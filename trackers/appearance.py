"""Appearance check: does the tracked box still look like the target the person drew?

A tracker's score says how well the best candidate matches the template *among the candidates of
this search crop*; when the box slides onto the background or a look-alike slowly, the score
often stays high. The appearance check asks another question: the tracked box, cropped the way
the tracker crops its template and put through the tracker's own template branch, against the
manual boxes of the track (the run's start box, and any other keyframes the caller adds): the
cosine similarity of the two feature vectors, the best over the references.

The embedding is ``NetworkRunner.embed``: the template features' central 3x3 cells, pooled. On
the 14 validation runs of siamcross-mobilev2 a similarity held well below its start level marks
slow drifts onto the background that no score rule sees (thresholds and held-out figures:
``trackers.drift.DriftSettings``, resources/weights/README.md). Cost: one template-branch
forward per tracked frame, so it is on only where drift flags are computed
(``Tracker.set_appearance``).
"""

from __future__ import annotations

import math

import numpy as np

#: references kept per track: the start box and the latest keyframes (a long track with hundreds
#: of keyframes must not make every frame slower)
MAX_REFERENCES = 8


def unit_vector(values: np.ndarray) -> np.ndarray | None:
    """``values`` flattened to float32 and scaled to length 1; None when it has no direction."""
    v = np.asarray(values, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(v))
    if not math.isfinite(norm) or norm == 0.0:
        return None
    return v / norm


class AppearanceMemory:
    """The embeddings (unit vectors) of one track's manual boxes; ``similarity`` of a tracked
    box's embedding is its best cosine against them, in [-1, 1] (NaN when nothing compares)."""

    def __init__(self, start: np.ndarray | None = None) -> None:
        self._references: list[np.ndarray] = []
        if start is not None:
            self.add(start)

    def __len__(self) -> int:
        return len(self._references)

    def add(self, embedding: np.ndarray | None) -> None:
        v = None if embedding is None else unit_vector(embedding)
        if v is None:
            return
        if self._references and v.shape != self._references[0].shape:
            raise ValueError(f"embedding of {v.size} values; this track's have {self._references[0].size}")
        self._references.append(v)
        if len(self._references) > MAX_REFERENCES:
            del self._references[1]  # the start box stays: it is what the run was asked to follow

    def similarity(self, embedding: np.ndarray | None) -> float:
        v = None if embedding is None else unit_vector(embedding)
        if v is None or not self._references:
            return math.nan
        if v.shape != self._references[0].shape:
            return math.nan
        return float(max(float(r @ v) for r in self._references))
