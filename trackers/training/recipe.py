"""Training recipes: JSON files (``resources/recipes/<tracker>.json``) over built-in defaults.

Keys (defaults in ``DEFAULTS``; unknown keys are errors, so a typo never falls back silently):

* ``tracker``, ``preset``: what is trained (the preset picks the network layout and the tracker
  geometry the labels follow).
* ``backbone_init``: ``"imagenet"`` (MobileNetV2-1.0 weights, see trackers/training/backbone.py),
  ``"none"`` (random), or ``"auto"`` (ImageNet when the backbone has that layout).
* ``epochs``, ``pairs_per_epoch``, ``batch_size``, ``seed``.
* SGD: ``lr`` (peak), ``momentum``, ``weight_decay``, ``clip_grad_norm``; schedule: linear warm-up
  from ``warmup_start_lr`` over ``warmup_epochs``, then log-space decay to ``end_lr``.
* Backbone: ``train_layers`` train from the start (default ``["all"]``; ``["layer7"]``: all but
  the last used block frozen), ``unfreeze_layers`` join at epoch ``unfreeze_epoch`` (0-based); backbone
  parameters learn at ``backbone_lr_mult`` x lr. Frozen stages keep their BatchNorm in eval mode.
* ``loss``: options of the family (trackers/training/families.py); ``sampling``: SamplingConfig.
* ``cache_pairs``: pairs pre-cropped once into a cache and reused (0: sample on the fly);
  ``num_workers``: loader processes; ``manifest``: file (relative to the recipe) or null.
* ``eval_max_frames``: frames per evaluation sequence after training (0: no evaluation).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from trackers.keys import check_keys

RECIPES_DIR = Path(__file__).resolve().parents[2] / "resources" / "recipes"

DEFAULTS: dict[str, Any] = {
    "tracker": None,
    "preset": None,
    "backbone_init": "auto",
    "epochs": 10,
    "pairs_per_epoch": 2000,
    "batch_size": 8,
    "seed": 0,
    "lr": 0.005,
    "momentum": 0.9,
    "weight_decay": 1e-4,
    "clip_grad_norm": 10.0,
    "warmup_epochs": 1.0,
    "warmup_start_lr": 0.001,
    "end_lr": 0.0005,
    "train_layers": ["all"],
    "unfreeze_epoch": None,
    "unfreeze_layers": [],
    "backbone_lr_mult": 0.1,
    "loss": {},
    "sampling": {},
    "cache_pairs": 0,
    "num_workers": 0,
    "manifest": None,
    "eval_max_frames": 300,
    "log_every": 10,
    "notes": "",
}


class RecipeError(ValueError):
    pass


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    check_keys(override, DEFAULTS, "recipe key(s)", RecipeError)
    out = copy.deepcopy(base)
    for k, v in override.items():
        out[k] = {**out[k], **v} if isinstance(out.get(k), dict) and isinstance(v, dict) else copy.deepcopy(v)
    return out


def default_recipe_path(tracker: str) -> Path:
    return RECIPES_DIR / f"{tracker}.json"


def load_recipe(tracker: str, path: str | Path | None = None) -> dict[str, Any]:
    """Defaults, then the recipe file (``path``, else the tracker's shipped one if it exists)."""
    path = Path(path) if path else default_recipe_path(tracker)
    recipe = merge(DEFAULTS, {"tracker": tracker})
    if path.is_file():
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise RecipeError(f"{path}: not valid JSON ({exc})") from None
        if data.get("tracker", tracker) != tracker:
            raise RecipeError(f"{path} is a recipe for {data['tracker']!r}, not {tracker!r}")
        recipe = merge(recipe, data)
        if recipe["manifest"] and not Path(recipe["manifest"]).is_absolute():
            recipe["manifest"] = str(path.parent / recipe["manifest"])
    elif path != default_recipe_path(tracker):
        raise RecipeError(f"{path}: recipe file not found")
    return recipe
