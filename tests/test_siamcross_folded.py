"""SiamCross's folded search branch (trackers/models/siamcross_folded.py) computes what the
trained network computes: on random networks with non-trivial BatchNorm statistics and
attention weights, and with the shipped weights on real crops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import trackers
from tests.shared_data import SEQUENCES, needs_shared
from trackers.bench import load_sequence
from trackers.checkpoints import load_strict, read_state_dict
from trackers.models.siamcross import (
    build_siamcross_mobilev2,
    build_siamcross_mobilev2_s16,
    build_siamcross_r50,
)
from trackers.models.siamcross_folded import FoldedSiamCross, foldable
from trackers.ops.crop import crop_pysot


def _randomised_s16(seed: int) -> torch.nn.Module:
    """A stride-16 SiamCross whose BatchNorms, attention weights and head are not at their
    initial values (which would hide folding mistakes: identity BN, alpha = beta = 0)."""
    torch.manual_seed(seed)
    model = build_siamcross_mobilev2_s16()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.3, 0.3)
        model.scan.lut.alpha.fill_(-0.7)
        model.scan.cross.beta.fill_(0.05)
    return model.eval()


def _compare(model, template: torch.Tensor, search: torch.Tensor, target_wh) -> None:
    with torch.no_grad():
        model.template(template, model.template_mask(torch.as_tensor(target_wh, dtype=torch.float32)))
        expected = model.track(search)
        folded = FoldedSiamCross(model)
        got = folded.track(search)
    assert set(got) == set(expected)
    for name in expected:
        scale = expected[name].abs().max().item()
        assert torch.allclose(got[name], expected[name], rtol=0, atol=2e-5 * max(scale, 1.0)), name


@pytest.mark.parametrize("seed", [0, 1])
def test_folded_matches_the_network_on_random_weights(seed) -> None:
    model = _randomised_s16(seed)
    torch.manual_seed(100 + seed)
    template = torch.rand(2, 3, 127, 127) * 255
    search = torch.rand(2, 3, 255, 255) * 255
    _compare(model, template, search, [[60.0, 40.0], [30.0, 90.0]])


def test_folded_shares_the_template_branch_and_follows_a_new_template() -> None:
    model = _randomised_s16(3)
    folded = FoldedSiamCross(model)
    assert folded.backbone is model.backbone and folded.neck is model.neck and folded.oain is model.oain
    torch.manual_seed(4)
    search = torch.rand(1, 3, 287, 287) * 255
    for side in (50.0, 90.0):
        z = torch.rand(1, 3, 127, 127) * 255
        with torch.no_grad():
            folded.template(z, folded.template_mask(torch.tensor([[side, side / 2]])))
            model.template(z, model.template_mask(torch.tensor([[side, side / 2]])))
            expected, got = model.track(search), folded.track(search)
        assert torch.allclose(got["cls"], expected["cls"], atol=1e-4)
    with pytest.raises(RuntimeError, match="template"):
        FoldedSiamCross(_randomised_s16(5)).track(search)


def test_only_one_level_networks_without_a_template_crop_fold() -> None:
    multi = build_siamcross_mobilev2()  # three levels, fused
    r50 = build_siamcross_r50()  # one level, but the neck crops template maps to 7x7
    assert not foldable(multi) and not foldable(r50)
    assert multi.for_inference() is multi and r50.for_inference() is r50
    with pytest.raises(ValueError, match="one-level"):
        FoldedSiamCross(multi)
    s16 = build_siamcross_mobilev2_s16()
    assert isinstance(s16.for_inference(), FoldedSiamCross)


def test_the_shipped_tracker_runs_the_folded_form() -> None:
    tracker = trackers.create("siamcross-mobilev2", device="cpu", backend="torch")
    assert isinstance(tracker.net.model, FoldedSiamCross)


@needs_shared
def test_folded_matches_the_shipped_weights_on_real_crops() -> None:
    """vot_bag: frame 1's template, frame 40's search crop around the true box."""
    original = build_siamcross_mobilev2_s16()
    load_strict(original, read_state_dict(trackers.registry.get("siamcross-mobilev2").default_weights()))
    original.eval()
    seq = load_sequence(SEQUENCES / "vot_bag", max_frames=40)
    first, later = seq.frames[0], seq.frames[39]

    def side(box) -> float:  # pysot's template context
        w, h = box[2:]
        return float(np.sqrt((w + (w + h) / 2) * (h + (w + h) / 2)))

    def crop(image, box, out, size):
        x, y, w, h = box
        return crop_pysot(image, (x + (w - 1) / 2, y + (h - 1) / 2), out, round(size), image.mean((0, 1)))

    def tensor(patch):
        return torch.from_numpy(patch).permute(2, 0, 1).unsqueeze(0).float()

    box0 = seq.groundtruth[0]
    z = tensor(crop(first, box0, 127, side(box0)))
    x = tensor(crop(later, seq.groundtruth[39], 351, side(seq.groundtruth[39]) * 351 / 127))
    target = [[box0[2] * 127 / round(side(box0)), box0[3] * 127 / round(side(box0))]]
    _compare(original, z, x, target)
