"""Response-map distillation (trackers/training/teacher.py): the teacher's map read at the
student's points, the loss term, and the trainer's checks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import trackers
from tests.shared_data import SEQUENCES, WEIGHTS, needs_shared
from tests.test_training_datasets import write_synthetic_otb
from trackers.io import list_images, read_groundtruth
from trackers.training.datasets import discover
from trackers.training.families import SiamCrossFamily
from trackers.training.loop import Trainer, TrainingError
from trackers.training.recipe import load_recipe, merge

NANOTRACK_V2 = WEIGHTS / "nanotrack_v2" / "nanotrackv2.pth"


def siamcross_family(**options) -> SiamCrossFamily:
    config = trackers.get("siamcross-mobilev2").config_cls.create("s16")
    return SiamCrossFamily(config, 255, options)


def crop(frame: np.ndarray, cx: float, cy: float, side: float, out: int) -> np.ndarray:
    """A square crop of ``side`` px centred on (cx, cy), resized to ``out`` px (edges replicated)."""
    scale = out / side
    m = np.array([[scale, 0, out / 2 - scale * cx], [0, scale, out / 2 - scale * cy]], np.float32)
    return cv2.warpAffine(frame, m, (out, out), borderMode=cv2.BORDER_REPLICATE)


def nchw(patch: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(patch).permute(2, 0, 1)[None].float()


@needs_shared
def test_the_teachers_map_peaks_at_the_students_cell_of_the_target():
    from trackers.training.teacher import ResponseTeacher

    family = siamcross_family(distill_weight=1.0)
    teacher = ResponseTeacher(NANOTRACK_V2, family.points, 255)
    frame = cv2.imread(str(list_images(SEQUENCES / "vot_bag" / "img")[0]))
    x, y, w, h = (float(v) for v in read_groundtruth(SEQUENCES / "vot_bag" / "groundtruth_rect.txt")[0])
    cx, cy = x + w / 2, y + h / 2
    context = (w + h) / 2
    side_z = float(np.sqrt((w + context) * (h + context)))
    template = nchw(crop(frame, cx, cy, side_z, 127))
    # the search crop centred 32 px (crop pixels) left of and 16 px above the target: the target
    # sits at (+32, +16) from the crop's centre, which is a score point of SiamCross's 9x9 map
    side_x = side_z * 255 / 127
    shift = side_x / 255
    search = nchw(crop(frame, cx - 32 * shift, cy - 16 * shift, side_x, 255))
    prob = teacher(template, search)[0]
    assert prob.shape == (9, 9)
    target_cell = int(np.argmin(np.hypot(family.points[:, 0] - 127.5 - 32, family.points[:, 1] - 127.5 - 16)))
    assert int(prob.flatten().argmax()) == target_cell
    assert prob.flatten()[target_cell] > 0.8
    far = np.hypot(family.points[:, 0] - 127.5 - 32, family.points[:, 1] - 127.5 - 16) > 80
    assert float(prob.flatten()[torch.from_numpy(far)].max()) < 0.5


def test_the_distillation_term_learns_the_teacher_on_positive_pairs_only():
    family = siamcross_family(distill_weight=2.0)
    plain = siamcross_family()
    torch.manual_seed(0)
    n, s = 3, family.score_size
    cls = torch.zeros(n, s, s)
    cls[0, 4, 4] = cls[1, 3, 5] = 1.0  # pair 2 is negative: no positive cell
    ltrb = torch.full((n, 4, s, s), 20.0)
    batch = {"cls": cls, "inside": cls.clone(), "ltrb": ltrb, "teacher_cls": torch.rand(n, s, s)}
    out = {
        "cls": torch.randn(n, 1, s, s),
        "align": torch.randn(n, 1, s, s),
        "loc": torch.rand(n, 4, s, s) * 30 + 1,
    }
    terms, base = family.loss(out, batch), plain.loss(out, batch)
    want = F.binary_cross_entropy_with_logits(out["cls"][:2, 0], batch["teacher_cls"][:2])
    assert terms["distill"] == pytest.approx(float(want), rel=1e-6)
    assert terms["total"] == pytest.approx(float(base["total"] + 2.0 * want), rel=1e-6)
    assert "distill" not in base


def test_the_trainer_asks_for_a_teacher_exactly_when_the_recipe_weighs_one(tmp_path):
    tracks = discover(write_synthetic_otb(tmp_path / "data", n=4))
    recipe = load_recipe("siamcross-mobilev2")
    weighted = merge(recipe, {"loss": {"distill_weight": 1.0}, "manifest": None, "backbone_init": "none"})
    unweighted = merge(recipe, {"manifest": None, "backbone_init": "none"})

    def trainer(recipe, out, teacher):
        return Trainer(
            "siamcross-mobilev2", recipe, tmp_path / out, tracks=tracks, teacher=teacher, log=lambda m: None
        )

    with pytest.raises(TrainingError, match="pass --teacher"):
        trainer(weighted, "a.pth", None)
    with pytest.raises(TrainingError, match="gives it no weight"):
        trainer(unweighted, "b.pth", tmp_path / "teacher.pth")
    (tmp_path / "not-a-checkpoint.pth").write_bytes(b"garbage")
    with pytest.raises(TrainingError, match="--teacher"):
        trainer(weighted, "c.pth", tmp_path / "not-a-checkpoint.pth")
