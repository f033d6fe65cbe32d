"""The anchor-free families start their regression at a typical target size (not at ~1-3 px boxes)."""

from __future__ import annotations

import math

import torch

import trackers
from trackers.architectures import build
from trackers.training.families import BANFamily, SiamCrossFamily, family_for


def initialised(name: str, family_cls: type):
    """(a freshly built network of tracker ``name`` after its family's head init, the init's note)."""
    info = trackers.get(name)
    config = info.config_cls.create()
    family = family_for(info, config, 255, None)
    assert isinstance(family, family_cls)
    torch.manual_seed(0)
    model = build(config.architecture).eval()
    return model, family.init_head(model)


def median_distance(model, *template_args) -> float:
    with torch.no_grad():
        model.template(torch.rand(1, 3, 127, 127) * 255, *template_args)
        return float(model.track(torch.rand(1, 3, 255, 255) * 255)["loc"].median())


def test_ban_regression_starts_at_typical_distance():
    model, note = initialised("siamban-mobilev2", BANFamily)
    assert note and "3 heads" in note
    median = median_distance(model)
    # exp(log 32 + small noise from the random conv weights): the right order of magnitude.
    assert 8 < median < 128, median
    assert math.isclose(float(model.head.box2.loc.head[3].bias[0]), math.log(32), rel_tol=1e-6)


def test_siamcross_regression_starts_at_typical_distance_with_full_gain():
    model, note = initialised("siamcross-mobilev2", SiamCrossFamily)
    assert "log(32)" in note
    median = median_distance(model, model.template_mask(torch.tensor([[60.0, 40.0]])))
    assert 8 < median < 128, median
    assert float(model.oain.loc_adjust) == 1.0
