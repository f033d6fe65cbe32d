"""SiamCross trackers (network: trackers/models/siamcross.py; no official code or weights exist).

The tracking loop is the anchor-free pysot one (``PointTracker``: crop, (l, t, r, b) decode on
the 25x25 point grid, scale / ratio penalty, cosine window, size smoothing, clipping). What
differs:

* after the template crop, the LUT values — the ellipse inscribed in the init box, on the 7x7
  template grid — are handed to the network (``SiamCross.set_template_mask``);
* the score is the paper's (1 - omega) A_cls + A_align on sigmoid probabilities, divided by
  2 - omega to stay in [0, 1] (``fuse_scores``).

Choices the paper leaves open here (numbered as in the list of trackers/models/siamcross.py):

14. omega = 0 by default: as written, the formula can weight A_cls at most as much as A_align
    (share (1 - omega) / (2 - omega) <= 1/2), while Ocean's tuned blend favours the plain
    classification (0.93 / 0.07); omega = 0 (equal shares) is the closest the written formula
    comes to that.
15. Post-processing: pysot/SiamBAN's (one size-smoothing rate), not Ocean's (which applies lr
    twice and switches to a 271 search for small targets): SiamCross's head and output layout
    are SiamBAN's (anchor-free l, t, r, b on a 25x25 map of a 255 crop), and the paper gives no
    post-processing values. Defaults are SiamBAN's VOT2018 values; ``vot2019`` and ``otb``
    presets are SiamBAN's for those benchmarks (tracker-specs §4.5). Retune once trained
    weights exist.
16. The LUT mask uses the init box as it lies in the template crop: the state size times
    127 / round(s_z), the scale the crop was resized with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from trackers.inside import Levels
from trackers.models.siamcross import fuse_scores
from trackers.ops.geometry import context_side
from trackers.pysot_tracker import PointTracker
from trackers.registry import register
from trackers.siamban import SIAMBAN_HYPERPARAMETERS, VOT2018, SiamBANR50Config


@dataclass(frozen=True)
class SiamCrossR50Config(SiamBANR50Config):
    architecture: str = "siamark__siamcross_r50"
    # Post-processing: SiamBAN's values, inherited; none are published for SiamCross (choice 15).
    #: trade-off of the plain and the box-aligned classification (paper Alg. 2); 0 = equal
    #: shares, the closest the written formula gets to Ocean's cls-dominant blend (choice 14).
    omega: float = 0.0
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = SIAMBAN_HYPERPARAMETERS

    def __post_init__(self) -> None:
        if not 0.0 <= self.omega <= 1.0:
            raise ValueError(f"omega must be in [0, 1], got {self.omega}")


@dataclass(frozen=True)
class SiamCrossMobileV2Config(SiamCrossR50Config):
    architecture: str = "siamark__siamcross_mobilev2"
    # Searched on the validation set (python -m trackers tune; resources/recipes/tuning/
    # siamcross-mobilev2.json): mean AUC 0.469 with SiamBAN's VOT2018 values -> 0.480.
    window_influence: float = 0.3
    penalty_k: float = 0.02
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        **SIAMBAN_HYPERPARAMETERS,
        "vot2018": VOT2018,
        # One level, layer5 at stride 16. Searched for the shipped s16 weights on the validation
        # set (resources/recipes/tuning/siamcross-mobilev2-s16.json): a 351 px search crop (15x15
        # points; trained on 255) holds fast targets that leave the 255 one (mean AUC 0.514 ->
        # 0.597; 319 px: 0.557, the fast car still lost). While the target is held, the 255 px
        # crop it was trained on is searched first (resources/recipes/tuning/
        # siamcross-mobilev2-s16-near.json): the same mean AUC (0.590 -> 0.591), 1.5x the fps.
        "s16": {
            "architecture": "siamark__siamcross_mobilev2_s16",
            "stride": 16,
            "base_size": 0,
            "instance_size": 351,
            "near_instance_size": 255,
            "near_min_score": 0.5,
        },
    }


class _SiamCrossTracker(PointTracker):
    def _init(self, frame: np.ndarray, box) -> None:
        super()._init(frame, box)  # crops and templates; the LUT values come next
        c = self.config
        size = self._state.size
        # The init box as it lies in the template crop, which was round(s_z) pixels resized to
        # exemplar_size (choice 16).
        scale = c.exemplar_size / round(context_side(size[0], size[1], c.context_amount))
        target = torch.tensor([[size[0] * scale, size[1] * scale]], dtype=torch.float32)
        model = self.net.model
        model.set_template_mask(model.template_mask(target))

    def _decode(self, outputs):
        cls_prob, pred, _ = super()._decode(outputs)  # sigmoid of the 1-channel A_cls
        align_prob = self._score(outputs["align"])  # A_align is 1-channel too: sigmoid
        score = fuse_scores(cls_prob, align_prob, self.config.omega).astype(np.float32)
        return score, pred, score.reshape(self._score_size, self._score_size)

    def _levels(self, outputs):
        """The two classification branches the score sums (its shares are the weights)."""
        s, omega = self._score_size, self.config.omega
        branches = np.stack([self._score(outputs["cls"]), self._score(outputs["align"])])
        return Levels(
            kind="branches",
            names=("A_cls: classification", "A_align: box-aligned classification"),
            maps=tuple(b.reshape(s, s) for b in branches),
            weights=np.array([(1 - omega) / (2 - omega), 1 / (2 - omega)]),
            raw=branches,
            fused=fuse_scores(branches[0], branches[1], omega).astype(np.float32),
        )

    def _level_note(self) -> str:
        fuse = getattr(self.net.model, "fuse", None)
        if fuse is None:
            return f"1 level (stride {self.config.stride}): nothing fused"
        weights = " / ".join(f"{w:.2f}" for w in torch.softmax(fuse.weight.detach(), 0).tolist())
        return f"{len(fuse.weight)} levels fused as features before the heads (weights {weights}): no per-level maps"


@register(
    "siamcross-r50",
    "SiamCross (paper re-implementation, no official weights): ResNet-50 layer4, SCAN + OAIN heads",
    SiamCrossR50Config,
    ("siamark__siamcross_r50",),
)
class SiamCrossR50Tracker(_SiamCrossTracker):
    pass


@register(
    "siamcross-mobilev2",
    "SiamCross on MobileNetV2-1.0 (layers 3/5/7 at stride 8, or layer5 at stride 16: preset s16; "
    "paper re-implementation, no official weights)",
    SiamCrossMobileV2Config,
    ("siamark__siamcross_mobilev2", "siamark__siamcross_mobilev2_s16"),
)
class SiamCrossMobileV2Tracker(_SiamCrossTracker):
    pass
