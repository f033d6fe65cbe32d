"""The pysot-family tracking loop (SiamRPN, SiamRPN++, DaSiamRPN, SiamBAN, NanoTrack).

One loop, written once: crop the search region at the previous centre, run the network,
decode candidates, penalise scale / ratio changes, add the cosine window, take the best,
smooth the size and clip (tracker-specs §1). Subclasses only say how to decode the network
outputs (anchors or points) and, for DaSiamRPN, which crop-rounding and box conventions apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from torch import nn

from trackers.base import Box, MapGeometry, Tracker, TrackResult
from trackers.config import TrackerConfig
from trackers.inside import Inside, Levels, as_candidates
from trackers.network import NetworkRunner, SharedNetworkSearch
from trackers.ops.crop import crop_pysot
from trackers.ops.geometry import (
    blend_window,
    box_to_center,
    center_to_box,
    clip_state,
    context_side,
    scale_ratio_penalty,
    smooth_size,
)
from trackers.ops.grids import anchor_grid, grid_offsets, point_grid
from trackers.ops.windows import hanning_window


@dataclass(frozen=True)
class PysotConfig(TrackerConfig):
    architecture: str = ""
    exemplar_size: int = 127
    instance_size: int = 255
    base_size: int = 8
    stride: int = 8
    context_amount: float = 0.5
    penalty_k: float = 0.04
    window_influence: float = 0.44
    lr: float = 0.4
    anchor_scale: float = 8.0  # anchor side = stride x scale (pysot ANCHOR.SCALES [8]); anchor heads only
    #: a smaller search crop tried first while the target is held (0: off). The full
    #: ``instance_size`` crop runs instead when the last frame scored below ``near_min_score``,
    #: and again on the same frame when the near crop's best lies on its border or scores below it.
    near_instance_size: int = 0
    near_min_score: float = 0.5
    LAYOUT_FIELDS: ClassVar[tuple[str, ...]] = ("architecture", "stride", "base_size", "anchor_scale")

    def score_size(self, instance_size: int | None = None) -> int:
        inst = instance_size or self.instance_size
        return (inst - self.exemplar_size) // self.stride + 1 + self.base_size

    def check_near_size(self) -> None:
        """Raise unless ``near_instance_size`` is off or a crop centred in the full one."""
        near = self.near_instance_size
        if near and not (
            self.exemplar_size <= near < self.instance_size
            and (self.score_size() - self.score_size(near)) % 2 == 0
        ):
            raise ValueError(
                f"near_instance_size {near} must lie between exemplar_size {self.exemplar_size} and "
                f"instance_size {self.instance_size}, its score map centred in the full one "
                f"({self.score_size(near)} and {self.score_size()} points)"
            )


@dataclass
class TargetState:
    center: np.ndarray  # (cx, cy) image pixels
    size: np.ndarray  # (w, h) image pixels


def softmax_foreground(logits: np.ndarray) -> np.ndarray:
    """Softmax over axis 0 of a (2, N) array, foreground row. float32 like the official torch code."""
    logits = logits.astype(np.float32)
    m = logits.max(axis=0)
    e = np.exp(logits - m)
    return (e[1] / e.sum(axis=0)).astype(np.float32)


class PysotStyleTracker(SharedNetworkSearch, Tracker):
    Config: ClassVar[type[PysotConfig]] = PysotConfig
    #: pysot's centre is x + (w-1)/2; DaSiamRPN's is x + w/2.
    CENTER_HALF_MINUS_ONE: ClassVar[bool] = True
    crop = staticmethod(crop_pysot)

    def __init__(self, config: PysotConfig, model: nn.Module, device: str = "auto", half: bool = False):
        super().__init__()
        config.check_near_size()  # here, not in the dataclass: presets and layouts apply in steps
        self.config = config
        self.net = NetworkRunner(model, device, half)
        self.device = self.net.device
        self.weights_source = ""
        self._avg = np.zeros(3)
        self._instance_size = config.instance_size
        self._full_instance_size = config.instance_size
        self._grid_size: int | None = None

    # --- hooks -------------------------------------------------------------------------------
    def _choose_instance_size(self, frame: np.ndarray, size: np.ndarray) -> int:
        return self.config.instance_size

    def _prepare_grid(self, score_size: int) -> None:
        """Precompute the candidate grid and window for a score map of ``score_size``."""
        raise NotImplementedError

    def _decode(self, outputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """-> score (N,), candidate boxes (4, N) as (cx, cy, w, h) in patch pixels relative to the
        patch centre, and the response map (S, S) in [0, 1]."""
        raise NotImplementedError

    # --- contract ----------------------------------------------------------------------------
    def _init(self, frame: np.ndarray, box: Box) -> None:
        center, size = box_to_center(box, self.CENTER_HALF_MINUS_ONE)
        self._full_instance_size = self._choose_instance_size(frame, size)
        self._grid_size = None
        self._use_instance_size(self._full_instance_size)
        self._avg = np.mean(frame, axis=(0, 1))
        z = self._template_patch(frame, box)
        self.net.template(z)
        self._exemplar = z  # kept for the inside view (a reference, no copy)
        self._state = TargetState(center, size)

    def init(self, frame: np.ndarray, box: Box) -> None:
        super().init(frame, box)
        if self.config.near_instance_size:  # both crop sizes' graphs now, not mid-run
            for size in (self.config.near_instance_size, self._full_instance_size):
                self.net.prepare((size, size, 3))

    def _template_patch(self, frame: np.ndarray, box: Box) -> np.ndarray:
        """The exemplar crop of ``box``, padded with the init frame's mean colour."""
        c = self.config
        center, size = box_to_center(box, self.CENTER_HALF_MINUS_ONE)
        s_z = round(context_side(size[0], size[1], c.context_amount))
        return self.crop(frame, center, c.exemplar_size, s_z, self._avg)

    def _use_instance_size(self, instance_size: int) -> None:
        """Search with crops of ``instance_size`` now (grid and window to match)."""
        self._instance_size = instance_size
        if instance_size == self._grid_size:
            return
        self._score_size = self.config.score_size(instance_size)
        self._prepare_grid(self._score_size)
        self._grid_size = instance_size
        full = self.config.score_size(self._full_instance_size)
        if self._score_size < full:
            # The near crop is the full crop's centre: it keeps the full window's values there,
            # so a target the near crop holds is scored as the full crop would score it.
            cut = (full - self._score_size) // 2
            tiles = len(self._window) // self._score_size**2
            window = hanning_window(full).reshape(full, full)[cut : full - cut, cut : full - cut]
            self._window = np.tile(window.reshape(-1), tiles)

    def _state_box(self) -> Box:
        return center_to_box(self._state.center, self._state.size)

    def set_inspect(self, on: bool) -> None:
        super().set_inspect(on)
        head = getattr(self.net.model, "head_module", None)
        if getattr(head, "num_levels", 1) > 1:  # per-level maps cost a PyTorch forward: only now
            self.net.model.keep_levels = self.inspect

    def _search_scales(self) -> tuple[float, float]:
        """(scale_z, s_x): patch / image scale and search-region side for the current state."""
        c = self.config
        s_z = context_side(self._state.size[0], self._state.size[1], c.context_amount)
        return c.exemplar_size / s_z, s_z * (self._instance_size / c.exemplar_size)

    def search_patch(self, frame: np.ndarray) -> np.ndarray:
        s_x = self._search_scales()[1]
        return self.crop(frame, self._state.center, self._instance_size, round(s_x), self._avg)

    def _candidates(self, outputs: dict[str, np.ndarray], scale_z: float):
        """Decode, penalise and window one search: (score, pred, response, penalty, pscore, best)."""
        c = self.config
        st = self._state
        score, pred, response = self._decode(outputs)
        penalty = scale_ratio_penalty(
            pred[2, :], pred[3, :], st.size[0] * scale_z, st.size[1] * scale_z, c.penalty_k
        )
        pscore = blend_window(penalty * score, self._window, c.window_influence)
        return score, pred, response, penalty, pscore, int(np.argmax(pscore))

    def _near_holds(self, score: np.ndarray, best: int) -> bool:
        """Whether a near crop's answer stands: inside its border, scored high enough."""
        s = self._score_size
        row, col = divmod(best % (s * s), s)
        inside = 0 < row < s - 1 and 0 < col < s - 1
        return inside and score[best] >= self.config.near_min_score

    def _track(self, frame: np.ndarray) -> TrackResult:
        c = self.config
        st = self._state
        self._use_instance_size(self._instance_size)  # the crop chosen after the last frame
        scale_z, s_x = self._search_scales()
        outputs = self._network_outputs(frame)  # crop + forward, or given by a batched forward
        score, pred, response, penalty, pscore, best = self._candidates(outputs, scale_z)
        searches = (self._instance_size,)
        if self._instance_size != self._full_instance_size and not self._near_holds(score, best):
            self._use_instance_size(self._full_instance_size)
            scale_z, s_x = self._search_scales()
            outputs = self.net.track(self.search_patch(frame))
            score, pred, response, penalty, pscore, best = self._candidates(outputs, scale_z)
            searches += (self._instance_size,)
        bbox = pred[:, best] / scale_z
        lr = penalty[best] * score[best] * c.lr

        prev_center = st.center.copy()
        new_size = smooth_size(st.size, bbox[2], bbox[3], lr)
        cx, cy, w, h = clip_state(
            bbox[0] + prev_center[0], bbox[1] + prev_center[1], new_size[0], new_size[1], frame.shape
        )
        st.center = np.array([cx, cy])
        st.size = np.array([w, h])

        ori = grid_offsets(self._score_size, c.stride)[0]
        geometry = MapGeometry(
            x0=float(prev_center[0] + ori / scale_z),
            y0=float(prev_center[1] + ori / scale_z),
            step=float(c.stride / scale_z),
        )
        search_region = (float(prev_center[0] - s_x / 2), float(prev_center[1] - s_x / 2), s_x, s_x)
        extras = {"best_index": best, "search_patch_size": self._instance_size, "searches": searches}
        if self.inspect:
            size = self._score_size
            extras["inside"] = Inside(
                decode=self.DECODE,
                template=self._exemplar,
                search_region=search_region,
                geometry=geometry,
                score=as_candidates(score, size),
                penalty=as_candidates(penalty, size),
                window=as_candidates(self._window, size),
                window_influence=c.window_influence,
                penalty_k=c.penalty_k,
                penalised=as_candidates(penalty * score, size),
                final=as_candidates(pscore, size),
                best=tuple(int(i) for i in np.unravel_index(best, (len(pscore) // size**2, size, size))),
                box=center_to_box(bbox[:2] + prev_center, bbox[2:]),
                anchors=self._anchor_shapes(scale_z),
                levels=self._levels(outputs),
                level_note=self._level_note(),
                search_note=self._search_note(searches),
            )
        if c.near_instance_size:  # the next frame's crop (search_patch reads it before track)
            held = score[best] >= c.near_min_score
            self._instance_size = c.near_instance_size if held else self._full_instance_size
        return TrackResult(
            box=center_to_box(st.center, st.size),
            score=float(score[best]),
            response=response,
            geometry=geometry,
            search_region=search_region,
            extras=extras,
        )

    # --- the inside view (trackers/inside.py) ------------------------------------------------
    DECODE: ClassVar[str] = ""

    def _search_note(self, searches: tuple[int, ...]) -> str:
        near, full, floor = (
            self.config.near_instance_size,
            self._full_instance_size,
            self.config.near_min_score,
        )
        if not near:
            return ""
        if searches == (near,):
            return f"{near} px near crop: it held"
        if len(searches) == 2:
            return (
                f"{near} px near crop did not hold (best on its border or below {floor}): {full} px searched"
            )
        return f"{full} px full crop: the target was not held at the previous frame"

    def _anchor_shapes(self, scale_z: float) -> np.ndarray | None:
        return None

    def _level_scores(self, cls: np.ndarray) -> np.ndarray:
        """One level's cls output (C, S, S) as its display map (S, S) in 0..1."""
        raise NotImplementedError

    def _levels(self, outputs: dict[str, np.ndarray]) -> Levels | None:
        if "cls_levels" not in outputs:
            return None
        raw = outputs["cls_levels"][0]  # (L, C, S, S) of this object
        head = self.net.model.head_module
        return Levels(
            kind="levels",
            names=tuple(f"level {i + 2}" for i in range(len(raw))),
            maps=tuple(self._level_scores(level) for level in raw),
            weights=head.level_weights().numpy(),
            raw=raw,
            fused=outputs["cls"][0],
        )

    def _level_note(self) -> str:
        head = getattr(self.net.model, "head_module", None)
        levels = getattr(head, "num_levels", 1)
        if levels > 1:
            return f"{levels} levels, fused by the head"
        return (
            f"1 level (stride {self.config.stride}): the head's map is the network's only one, nothing fused"
        )


class AnchorTracker(PysotStyleTracker):
    """SiamRPN-style decoding: 5 anchors per cell, (dx, dy, dw, dh) regression."""

    def _prepare_grid(self, score_size: int) -> None:
        self._anchors = anchor_grid(score_size, self.config.stride, scales=(self.config.anchor_scale,))
        self._num_anchors = len(self._anchors) // (score_size * score_size)
        self._window = hanning_window(score_size, self._num_anchors)

    def _decode(self, outputs):
        s, a = self._score_size, self._num_anchors
        # (1, 2A, S, S): channels [bg x A, fg x A]; flat index anchor-major, then row, column.
        score = softmax_foreground(outputs["cls"][0].reshape(2, -1))
        delta = outputs["loc"][0].reshape(4, -1).copy()
        anc = self._anchors
        delta[0] = delta[0] * anc[:, 2] + anc[:, 0]
        delta[1] = delta[1] * anc[:, 3] + anc[:, 1]
        delta[2] = np.exp(delta[2]) * anc[:, 2]
        delta[3] = np.exp(delta[3]) * anc[:, 3]
        response = score.reshape(a, s, s).max(axis=0)
        return score, delta, response

    DECODE = "anchors"

    def _anchor_shapes(self, scale_z: float) -> np.ndarray:
        cells = self._score_size**2
        return self._anchors[::cells, 2:4] / scale_z

    def _level_scores(self, cls: np.ndarray) -> np.ndarray:
        s = self._score_size
        return softmax_foreground(cls.reshape(2, -1)).reshape(-1, s, s).max(axis=0)


class PointTracker(PysotStyleTracker):
    """Anchor-free (SiamBAN / NanoTrack) decoding: one point per cell, (l, t, r, b) distances."""

    def _prepare_grid(self, score_size: int) -> None:
        self._points = point_grid(score_size, self.config.stride)
        self._window = hanning_window(score_size)

    def _score(self, cls: np.ndarray) -> np.ndarray:
        if cls.shape[1] == 1:
            return (1.0 / (1.0 + np.exp(-cls[0, 0].reshape(-1)))).astype(np.float32)
        return softmax_foreground(cls[0].reshape(2, -1))

    def _decode(self, outputs):
        s = self._score_size
        score = self._score(outputs["cls"])
        ltrb = outputs["loc"][0].reshape(4, -1)
        p = self._points
        x1, y1 = p[:, 0] - ltrb[0], p[:, 1] - ltrb[1]
        x2, y2 = p[:, 0] + ltrb[2], p[:, 1] + ltrb[3]
        pred = np.stack([(x1 + x2) * 0.5, (y1 + y2) * 0.5, x2 - x1, y2 - y1])
        return score, pred, score.reshape(s, s)

    DECODE = "points"

    def _level_scores(self, cls: np.ndarray) -> np.ndarray:
        return self._score(cls[None]).reshape(self._score_size, self._score_size)
