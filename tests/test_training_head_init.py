"""The anchor-free families start their regression at a typical target size (not at ~1-3 px boxes)."""

from __future__ import annotations

import math

import torch

import trackers
from trackers.architectures import build
from trackers.training.families import BANFamily, SiamCrossFamily, family_for


def test_ban_regression_starts_at_typical_distance():
    info = trackers.get("siamban-mobilev2")
    config = info.config_cls.create()
    family = family_for(info, config, 255, None)
    assert isinstance(family, BANFamily)
    torch.manual_seed(0)
    model = build(config.architecture).eval()
    note = family.init_head(model)
    assert note and "3 heads" in note
    with torch.no_grad():
        model.template(torch.rand(1, 3, 127, 127) * 255)
        loc = model.track(torch.rand(1, 3, 255, 255) * 255)["loc"]
    median = float(loc.median())
    # exp(log 32 + small noise from the random conv weights): the right order of magnitude.
    assert 8 < median < 128, median
    assert math.isclose(float(model.head.box2.loc.head[3].bias[0]), math.log(32), rel_tol=1e-6)


def test_siamcross_regression_starts_at_typical_distance_with_full_gain():
    info = trackers.get("siamcross-mobilev2")
    config = info.config_cls.create()
    family = family_for(info, config, 255, None)
    assert isinstance(family, SiamCrossFamily)
    torch.manual_seed(0)
    model = build(config.architecture).eval()
    assert "log(32)" in family.init_head(model)
    with torch.no_grad():
        model.template(torch.rand(1, 3, 127, 127) * 255, model.template_mask(torch.tensor([[60.0, 40.0]])))
        loc = model.track(torch.rand(1, 3, 255, 255) * 255)["loc"]
    assert 8 < float(loc.median()) < 128
    assert float(model.oain.loc_adjust) == 1.0
