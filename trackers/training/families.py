"""What differs between tracker families in training: targets, forward pass, loss.

``family_for(tracker, config)`` picks one from the tracker's class. Each family reads its score
map geometry (size, stride) from the tracker config, i.e. from what the tracker decodes, and
checks the network's output against it on the first batch.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from trackers.keys import check_keys
from trackers.pysot_tracker import AnchorTracker, PointTracker
from trackers.registry import TrackerInfo
from trackers.siamcross import SiamCrossMobileV2Tracker, SiamCrossR50Tracker
from trackers.siamfc import SiamFCTracker
from trackers.training import losses, targets
from trackers.training.sampling import Pair

#: a typical target half-size in the 255 search crop (context 0.5 puts a square target at ~64 px):
#: the distance the anchor-free regressions start from.
INITIAL_DISTANCE = 32.0


class Family:
    name: ClassVar[str] = ""
    #: loss / label options and their defaults (a recipe's "loss" section overrides them).
    DEFAULTS: ClassVar[dict[str, Any]] = {}
    rgb: ClassVar[bool] = False  # SiamFC's networks take RGB, the pysot family BGR

    def __init__(self, config, search_size: int, options: dict[str, Any] | None = None) -> None:
        check_keys(options or {}, self.DEFAULTS, f"{self.name}: loss option(s)")
        self.opt = {**self.DEFAULTS, **(options or {})}
        self.config = config
        self.search_size = search_size
        self.stride, self.score_size = self.geometry(config, search_size)
        self._checked = False

    @staticmethod
    def geometry(config, search_size: int) -> tuple[int, int]:
        return config.stride, config.score_size(search_size)

    def targets(self, pair: Pair, rng: np.random.Generator) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def run(self, model, z: torch.Tensor, x: torch.Tensor, batch: dict) -> dict[str, torch.Tensor]:
        model.template(z)
        return model.track(x)

    def forward(self, model, z: torch.Tensor, x: torch.Tensor, batch: dict) -> dict[str, torch.Tensor]:
        """Crops as NCHW float 0..255 in BGR; returns the head outputs as float32."""
        if self.rgb:
            z, x = z.flip(1), x.flip(1)
        out = self.run(model, z, x, batch)
        out = {"response": out} if isinstance(out, torch.Tensor) else out
        if not self._checked:
            size = next(iter(out.values())).shape[-1]
            if size != self.score_size:
                raise ValueError(
                    f"{self.name}: the network gives a {size}x{size} map for {self.search_size} searches, "
                    f"the tracker config expects {self.score_size} (stride {self.stride})"
                )
            self._checked = True
        return {k: v.float() for k, v in out.items()}

    def init_head(self, model) -> str | None:
        """Family-specific initialisation of a freshly built head (None: nothing to do)."""
        return None

    def loss(self, out: dict[str, torch.Tensor], batch: dict) -> dict[str, torch.Tensor]:
        """Named terms plus ``total`` (the weighted sum that is optimised)."""
        raise NotImplementedError


class SiamFCFamily(Family):
    name = "siamfc"
    DEFAULTS: ClassVar[dict[str, Any]] = {"r_pos": 16.0, "neg_weight": 1.0}
    rgb = True

    @staticmethod
    def geometry(config, search_size):
        return config.total_stride, (search_size - config.exemplar_size) // config.total_stride + 1

    def targets(self, pair, rng):
        labels = targets.siamfc_labels(
            pair.box, self.score_size, self.stride, self.search_size, pair.negative, self.opt["r_pos"]
        )
        return {"labels": labels}

    def loss(self, out, batch):
        cls = losses.balanced_bce(out["response"][:, 0], batch["labels"], self.opt["neg_weight"])
        return {"cls": cls, "total": cls}


class RPNFamily(Family):
    name = "rpn"
    DEFAULTS: ClassVar[dict[str, Any]] = {
        "cls_weight": 1.0,
        "loc_weight": 1.2,
        "loc_loss": "smooth_l1",  # "l1": pysot's weighted L1
        "smooth_l1_beta": 1.0 / 9,
        "pos_iou": 0.6,
        "neg_iou": 0.3,
        "pos_num": 16,
        "total_num": 64,
        "neg_num": 16,
    }

    def __init__(self, config, search_size, options=None):
        super().__init__(config, search_size, options)
        if self.opt["loc_loss"] not in ("smooth_l1", "l1"):
            raise ValueError(f"loc_loss must be smooth_l1 or l1, got {self.opt['loc_loss']!r}")
        self.anchors = targets.grid_anchors(self.score_size, self.stride, search_size, config.anchor_scale)

    def targets(self, pair, rng):
        o = self.opt
        return targets.rpn_targets(
            pair.box, self.anchors, self.score_size, self.stride, self.search_size, pair.negative, rng,
            o["pos_iou"], o["neg_iou"], o["pos_num"], o["total_num"], o["neg_num"],
        )  # fmt: skip

    def loss(self, out, batch):
        cls = losses.select_cross_entropy(out["cls"], batch["cls"])
        if self.opt["loc_loss"] == "l1":
            loc = losses.weighted_l1(out["loc"], batch["delta"], batch["delta_weight"])
        else:
            loc = losses.weighted_smooth_l1(
                out["loc"], batch["delta"], batch["delta_weight"], self.opt["smooth_l1_beta"]
            )
        total = self.opt["cls_weight"] * cls + self.opt["loc_weight"] * loc
        return {"cls": cls, "loc": loc, "total": total}


def _positive_rows(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor):
    """(N, 4) ltrb rows of the cells where ``mask`` (B, S, S) is set."""
    return pred.permute(0, 2, 3, 1)[mask], target.permute(0, 2, 3, 1)[mask]


class BANFamily(Family):
    name = "ban"
    DEFAULTS: ClassVar[dict[str, Any]] = {
        "cls_weight": 1.0,
        "loc_weight": 1.0,
        "iou_loss": "linear",
        "pos_num": 16,
        "total_num": 64,
        "neg_num": 16,
    }

    def __init__(self, config, search_size, options=None):
        super().__init__(config, search_size, options)
        self.points = targets.grid_points(self.score_size, self.stride, search_size)

    def targets(self, pair, rng):
        o = self.opt
        return targets.ban_targets(
            pair.box,
            self.points,
            self.score_size,
            pair.negative,
            rng,
            o["pos_num"],
            o["total_num"],
            o["neg_num"],
        )

    def init_head(self, model) -> str | None:
        # The BAN head outputs exp(x): from a zero-mean start every box is ~2x2 px, its IoU with a
        # ~64 px target ~1e-3, and the IoU loss's gradient too small to move it on a short CPU
        # schedule (measured: loss stuck at 0.998). Starting the distances at a typical size fixes it.
        heads = [m for n, m in model.named_modules() if n.endswith("loc.head") and hasattr(m, "__getitem__")]
        for head in heads:
            torch.nn.init.constant_(head[-1].bias, math.log(INITIAL_DISTANCE))
        return f"BAN regression bias = log({INITIAL_DISTANCE:g}) in {len(heads)} heads" if heads else None

    def loss(self, out, batch):
        cls = losses.select_cross_entropy(out["cls"], batch["cls"])
        pred, target = _positive_rows(out["loc"], batch["ltrb"], batch["cls"] == 1)
        loc = losses.iou_loss(pred, target, self.opt["iou_loss"])
        total = self.opt["cls_weight"] * cls + self.opt["loc_weight"] * loc
        return {"cls": cls, "loc": loc, "total": total}


class SiamCrossFamily(Family):
    """Paper eq. 11: 1 * BCE(cls) + 1 * BCE(align) + 1.1 * IoU loss (tracker-specs §13).

    Choices the paper leaves open: cls positives are the regressed points (within 16 px of the
    centre and inside the box), every other point negative, pos / neg halves balanced (Ocean's
    weighted BCE); the align branch learns, at every point inside the box, the IoU of the box
    predicted there with the ground truth (Ocean's object-aware score; the prediction detached),
    and 0 outside; IoU loss is -log IoU (UnitBox, as Ocean), averaged over the positives.
    ``hard_negatives`` < 1 mines each pair's hardest negatives for the cls loss (issue 13).
    """

    name = "siamcross"
    DEFAULTS: ClassVar[dict[str, Any]] = {
        "cls_weight": 1.0,
        "align_weight": 1.0,
        "loc_weight": 1.1,
        "iou_loss": "log",
        "radius": 16.0,
        # BCE of the cls map against a teacher's foreground probabilities (trackers/training/teacher.py)
        "distill_weight": 0.0,
        # the cls loss's negatives: each pair's hardest fraction of them (losses.hardest); 1 = all
        "hard_negatives": 1.0,
    }

    def __init__(self, config, search_size, options=None):
        super().__init__(config, search_size, options)
        losses.check_fraction(self.opt["hard_negatives"])
        self.points = targets.grid_points(self.score_size, self.stride, search_size)

    def targets(self, pair, rng):
        return targets.siamcross_targets(
            pair.box, self.points, self.score_size, pair.negative, self.opt["radius"]
        )

    def init_head(self, model) -> str | None:
        # Ocean's exp(adjust * x + bias) starts at adjust 0.1, bias 1: ~3 px boxes whose size
        # barely depends on the features. On a short CPU schedule that learned one mean size for
        # every target (measured: boxes grew frame after frame, AUC 0.15; 0.42 with the size
        # frozen). Start as SiamBAN's plain exp(x + log 32) instead: typical distances, full gain.
        oain = model.oain
        with torch.no_grad():
            oain.loc_adjust.fill_(1.0)
            oain.loc_bias.fill_(math.log(INITIAL_DISTANCE))
        return f"SiamCross regression exp(1.0 * x + log({INITIAL_DISTANCE:g}))"

    def run(self, model, z, x, batch):
        tb = batch["template_box"].to(z.device)
        mask = model.template_mask(torch.stack([tb[:, 2] - tb[:, 0], tb[:, 3] - tb[:, 1]], 1))
        model.template(z, mask)
        return model.track(x)

    def loss(self, out, batch):
        pos = batch["cls"] > 0
        cls = losses.balanced_bce_masked(
            out["cls"][:, 0], batch["cls"], pos, ~pos, self.opt["hard_negatives"]
        )
        inside = batch["inside"] > 0
        with torch.no_grad():
            quality = losses.ltrb_iou(out["loc"], batch["ltrb"]).clamp(0, 1) * inside
        align = losses.balanced_bce_masked(out["align"][:, 0], quality, inside, ~inside)
        pred, target = _positive_rows(out["loc"], batch["ltrb"], pos)
        loc = losses.iou_loss(pred, target, self.opt["iou_loss"])
        o = self.opt
        total = o["cls_weight"] * cls + o["align_weight"] * align + o["loc_weight"] * loc
        terms = {"cls": cls, "align": align, "loc": loc}
        if o["distill_weight"] > 0:
            # positive pairs only: on a negative pair (the search crop holds another object) the
            # teacher often scores that object as the target, the opposite of what it teaches
            keep = pos.flatten(1).any(1)
            terms["distill"] = (
                F.binary_cross_entropy_with_logits(out["cls"][keep, 0], batch["teacher_cls"][keep])
                if keep.any()
                else out["cls"].sum() * 0.0
            )
            total = total + o["distill_weight"] * terms["distill"]
        return {**terms, "total": total}


def family_for(info: TrackerInfo, config, search_size: int, options=None) -> Family:
    cls = info.tracker_cls
    if info.name == "dasiamrpn":
        raise ValueError(
            "dasiamrpn: the official repository has no training code, and Siamark does not train it"
        )
    if issubclass(cls, SiamFCTracker):
        family = SiamFCFamily
    elif issubclass(cls, (SiamCrossR50Tracker, SiamCrossMobileV2Tracker)):
        family = SiamCrossFamily
    elif issubclass(cls, AnchorTracker):
        family = RPNFamily
    elif issubclass(cls, PointTracker):
        family = BANFamily
    else:
        raise ValueError(f"{info.name}: no training family for {cls.__name__}")  # noqa: TRY004
    return family(config, search_size, options)
