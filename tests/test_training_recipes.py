"""Shipped recipes (resources/recipes/*.json) and the variants (resources/recipes/variants/) are
valid; the shipped ones that pre-crop pairs share one pair cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import trackers
from trackers.training.families import family_for
from trackers.training.recipe import DEFAULTS, RECIPES_DIR, RecipeError, load_recipe, merge
from trackers.training.sampling import SamplingConfig

SHIPPED = sorted(p.stem for p in RECIPES_DIR.glob("*.json") if p.stem not in ("manifest", "sources"))
VARIANTS = sorted((RECIPES_DIR / "variants").glob("*.json"))


def test_the_four_trackers_have_recipes():
    assert SHIPPED == ["siamban-mobilev2", "siamcross-mobilev2", "siamfc", "siamrpnpp-mobilev2"]


def _check(r: dict) -> None:
    info = trackers.get(r["tracker"])
    config = info.config_cls.create(r["preset"])
    assert config.architecture.startswith("siamark__")  # the ImageNet-initialised layouts
    assert r["backbone_init"] == "imagenet" and r["cache_pairs"] >= 0
    family_for(info, config, SamplingConfig.from_dict(r["sampling"]).search_size, r["loss"])
    assert r["pairs_per_epoch"] % r["batch_size"] == 0
    assert Path(r["manifest"]).resolve() == (RECIPES_DIR / "manifest.json").resolve()


@pytest.mark.parametrize("name", SHIPPED)
def test_recipe_is_valid(name):
    _check(load_recipe(name))


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: p.stem)
def test_variant_recipe_is_valid(path):
    _check(load_recipe(json.loads(path.read_text())["tracker"], path))


def test_recipes_share_the_data_and_the_seed():
    # Recipes that pre-crop pairs share one cache (sampling may still differ: those get their own);
    # the stride-16 ones sample on the fly (cache_pairs 0), which needs no shared key.
    cached = [load_recipe(n) for n in SHIPPED if load_recipe(n)["cache_pairs"] > 0]
    keys = {json.dumps([r[k] for k in ("seed", "cache_pairs", "manifest")]) for r in cached}
    assert len(keys) <= 1 and len({load_recipe(n)["seed"] for n in SHIPPED}) == 1


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
