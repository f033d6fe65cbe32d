"""``python -m trackers.train``: train a tracker's network on local data.

    python -m trackers.train --tracker siamban-mobilev2 --data ../shared/data --out siamban.pth
    python -m trackers.train --tracker siamban-mobilev2 --data ../shared/data --out siamban.pth --resume

The recipe (resources/recipes/<tracker>.json unless --recipe) sets the network preset, schedule,
freezing, sampling and losses; --epochs etc. override it. Progress goes to stderr; checkpoints,
log.json and loss.png to ``<out without suffix>.train/``.
"""

from __future__ import annotations

import argparse
import json
import sys

from trackers.checkpoints import CheckpointError
from trackers.io import SourceError
from trackers.training.backbone import BackboneError
from trackers.training.datasets import DatasetError
from trackers.training.manifest import ManifestError
from trackers.training.recipe import RecipeError, load_recipe, merge


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m trackers.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--tracker", required=True, help="tracker name (python -m trackers list)")
    p.add_argument("--data", nargs="+", required=True, metavar="DIR", help="data folders or video files")
    p.add_argument("--out", required=True, metavar="FILE", help="exported weights (.pth)")
    p.add_argument("--init", metavar="FILE", help="start from these weights (whole network, strict)")
    p.add_argument("--epochs", type=int, help="override the recipe's epochs")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (mixed precision on CUDA only)")
    p.add_argument("--recipe", metavar="FILE", help="recipe JSON (default: resources/recipes/<tracker>.json)")
    p.add_argument("--resume", action="store_true", help="continue from the last epoch checkpoint")
    p.add_argument(
        "--backbone-weights",
        metavar="FILE",
        help="ImageNet backbone file (MobileNetV2-1.0 or EfficientNet-Lite0)",
    )
    p.add_argument(
        "--teacher", metavar="FILE", help="NanoTrack v2 weights whose response maps the cls map learns too"
    )
    p.add_argument("--manifest", metavar="FILE", help="which data trains / evaluates (JSON)")
    p.add_argument("--cache-dir", metavar="DIR", help="video frames and pair cache (default: user cache)")
    p.add_argument("--pairs-per-epoch", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--cache-pairs", type=int, help="pairs in the pre-cropped cache (0: sample on the fly)")
    p.add_argument("--workers", type=int, help="data loader processes")
    p.add_argument("--seed", type=int)
    p.add_argument("--no-eval", action="store_true", help="skip the evaluation after training")
    p.add_argument("--dry-run", action="store_true", help="show the recipe and the data split, train nothing")
    return p


def _overrides(args: argparse.Namespace) -> dict:
    pairs = {
        "epochs": args.epochs,
        "pairs_per_epoch": args.pairs_per_epoch,
        "batch_size": args.batch_size,
        "cache_pairs": args.cache_pairs,
        "num_workers": args.workers,
        "seed": args.seed,
        "manifest": args.manifest,
        "eval_max_frames": 0 if args.no_eval else None,
    }
    return {k: v for k, v in pairs.items() if v is not None}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from trackers.training.loop import Trainer, TrainingError  # torch and the engine: after --help

    errors = (
        TrainingError,
        RecipeError,
        ManifestError,
        DatasetError,
        BackboneError,
        CheckpointError,
        SourceError,
        ValueError,
    )
    try:
        recipe = merge(load_recipe(args.tracker, args.recipe), _overrides(args))
        trainer = Trainer(
            args.tracker,
            recipe,
            args.out,
            args.data,
            device=args.device,
            init=args.init,
            backbone_weights=args.backbone_weights,
            cache_dir=args.cache_dir,
            resume=args.resume,
            teacher=args.teacher,
        )
        if args.dry_run:
            split = {
                "architecture": trainer.arch,
                "init": trainer.init_note,
                "train": [t.name for t in trainer.train_tracks],
                "eval": [t.name for t in trainer.eval_tracks],
                "recipe": recipe,
            }
            print(json.dumps(split, indent=1))
            return 0
        trainer.run()
    except errors as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: continue from the last finished epoch with --resume", file=sys.stderr)
        return 130
    return 0
