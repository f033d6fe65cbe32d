"""What a tracker weighed on one frame: the opt-in "inside" record (issue 19, item 4).

Off by default and free when off: a tracker builds an ``Inside`` only while ``tracker.inspect``
is True (``Tracker.set_inspect``), and puts it in ``TrackResult.extras["inside"]``. Its arrays
are the very ones the tracker decided with (not recomputed), so ``final``'s argmax is the
chosen candidate by construction.

Maps are in the candidates' layout ``(A, S, S)``: A anchor shapes for an anchor head (SiamRPN),
1 for a point head (SiamBAN, SiamCross, NanoTrack) and for SiamFC's upsampled map. A cell shows
the anchor that scores best in ``final`` there (``cell_map``), so the views of one record agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trackers.base import Box, MapGeometry


@dataclass(frozen=True)
class Levels:
    """Maps computed apart and combined into the one the tracker decoded.

    ``kind``: "levels" (per-level head outputs, summed with ``weights``: SiamRPN++ / SiamBAN),
    "branches" (SiamCross's A_cls and A_align probabilities, summed with their shares) or
    "scales" (SiamFC's three search scales; ``weights`` are the scale penalties, the scale with
    the highest penalised peak is ``chosen``).
    """

    kind: str
    names: tuple[str, ...]
    #: one display map (S, S) per entry, in 0..1
    maps: tuple[np.ndarray, ...]
    weights: np.ndarray
    #: "levels" / "branches": the entries' raw outputs (L, ...), with ``weights @ raw == fused``
    raw: np.ndarray | None = None
    #: the combined output the tracker decoded (the head's fused ``cls``, or the fused score)
    fused: np.ndarray | None = None
    chosen: int | None = None


@dataclass(frozen=True)
class Inside:
    #: how candidates are made: "anchors" (RPN), "points" (BAN-style heads) or "scales" (SiamFC)
    decode: str
    #: the exemplar crop the tracker initialised with, BGR uint8
    template: np.ndarray
    search_region: Box
    #: where map cells lie on the image (as ``TrackResult.geometry``)
    geometry: MapGeometry
    #: the candidates' scores before penalty and window, (A, S, S)
    score: np.ndarray
    #: SiamRPN's scale / ratio penalty per candidate, (A, S, S); None where there is none
    penalty: np.ndarray | None
    #: the cosine window, (A, S, S)
    window: np.ndarray
    window_influence: float
    penalty_k: float | None
    #: what the window was blended with: score x penalty, (A, S, S) (SiamFC: its normalised map)
    penalised: np.ndarray
    #: the map whose argmax chose the candidate, (A, S, S)
    final: np.ndarray
    #: the chosen candidate: (anchor, row, col) in ``final``
    best: tuple[int, int, int]
    #: the chosen candidate's box on the image before size smoothing and clipping
    box: Box
    #: anchor shapes (A, 2) as (w, h) in image pixels at this frame's scale; None without anchors
    anchors: np.ndarray | None
    levels: Levels | None
    #: one line on the network's levels ("1 level: ..."), shown where there are no level maps
    level_note: str
    #: one line on which search crop(s) this frame ran, where a tracker chooses between sizes
    search_note: str = ""

    @property
    def best_index(self) -> int:
        """The chosen candidate as a flat index (the tracker's ``extras["best_index"]``)."""
        return int(np.ravel_multi_index(self.best, self.final.shape))

    def cell_map(self, values: np.ndarray) -> np.ndarray:
        """(S, S): each cell's value for the anchor that is best there in ``final``."""
        if values.shape[0] == 1:
            return values[0]
        pick = self.final.argmax(axis=0)[None]
        return np.take_along_axis(values, pick, axis=0)[0]

    def cell_centre(self, row: int, col: int) -> tuple[float, float]:
        return self.geometry.cell_centre(row, col)

    def neighbourhood(self, radius: int = 1) -> list[tuple[float, float]]:
        """Image positions of the cells around the winner (its own included)."""
        _a, row, col = self.best
        rows, cols = self.final.shape[1:]
        return [
            self.cell_centre(r, c)
            for r in range(max(row - radius, 0), min(row + radius + 1, rows))
            for c in range(max(col - radius, 0), min(col + radius + 1, cols))
        ]

    def anchor_boxes(self) -> list[Box]:
        """The anchors of the winner's cell on the image (x, y, w, h), in anchor order."""
        if self.anchors is None:
            return []
        cx, cy = self.cell_centre(*self.best[1:])
        return [(cx - w / 2, cy - h / 2, float(w), float(h)) for w, h in self.anchors]

    @property
    def nbytes(self) -> int:
        """Bytes this record holds of its own (the template and window are the tracker's)."""
        arrays = [self.score, self.penalty, self.penalised, self.final]
        if self.levels is not None:
            arrays += [*self.levels.maps, self.levels.raw, self.levels.fused]
        return sum(a.nbytes for a in arrays if a is not None)


def as_candidates(flat: np.ndarray, size: int) -> np.ndarray:
    """A flat per-candidate array (anchor-major, then row, column) as (A, S, S); a view."""
    return np.asarray(flat).reshape(-1, size, size)
