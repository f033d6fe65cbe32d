"""Shipped recipes (resources/recipes/*.json) are valid and share one pair cache."""

from __future__ import annotations

import json

import pytest

import trackers
from trackers.training.families import family_for
from trackers.training.recipe import DEFAULTS, RECIPES_DIR, RecipeError, load_recipe, merge
from trackers.training.sampling import SamplingConfig

SHIPPED = sorted(p.stem for p in RECIPES_DIR.glob("*.json") if p.stem not in ("manifest", "sources"))


def test_the_four_trackers_have_recipes():
    assert SHIPPED == ["siamban-mobilev2", "siamcross-mobilev2", "siamfc", "siamrpnpp-mobilev2"]


@pytest.mark.parametrize("name", SHIPPED)
def test_recipe_is_valid(name):
    r = load_recipe(name)
    info = trackers.get(name)
    config = info.config_cls.create(r["preset"])
    assert config.architecture.startswith("siamark__")  # the ImageNet MobileNetV2-1.0 layouts
    assert r["backbone_init"] == "imagenet" and r["cache_pairs"] > 0
    family_for(info, config, SamplingConfig.from_dict(r["sampling"]).search_size, r["loss"])
    assert r["pairs_per_epoch"] % r["batch_size"] == 0 and r["manifest"].endswith("manifest.json")


def test_recipes_share_the_data_and_the_seed():
    # Sampling may differ per recipe (siamrpnpp stretches its search windows): those get a cache of their own.
    keys = {json.dumps([load_recipe(n)[k] for k in ("seed", "cache_pairs", "manifest")]) for n in SHIPPED}
    assert len(keys) == 1


def test_recipe_errors(tmp_path):
    with pytest.raises(RecipeError, match="unknown recipe key"):
        merge(DEFAULTS, {"epoch": 3})
    (tmp_path / "r.json").write_text(json.dumps({"tracker": "siamfc"}))
    with pytest.raises(RecipeError, match="not 'siamban-mobilev2'"):
        load_recipe("siamban-mobilev2", tmp_path / "r.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(RecipeError, match="not valid JSON"):
        load_recipe("siamfc", tmp_path / "bad.json")
    assert load_recipe("nanotrack")["train_layers"] == ["all"]  # no shipped recipe: defaults
