"""The training loop: SGD with warm-up and log decay, freezing, checkpoints, logs, export.

Run folder ``<out without suffix>.train/``: ``epoch_NNN.pth`` after every epoch (model,
optimizer, schedule position, epoch, step, RNG, log: everything ``--resume`` needs),
``log.json`` (recipe, per-step losses, per-epoch means, throughput, evaluation), ``loss.png``.
The exported ``out`` file is a plain state_dict (``torch.load(weights_only=True)``) that
``trackers.create(tracker, weights=out)`` recognises and loads; float tensors are stored as
float16 only if float32 would exceed ``EXPORT_LIMIT`` bytes (inference upcasts on load).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

import trackers
from trackers.architectures import build
from trackers.checkpoints import CheckpointError, load_strict, read_state_dict
from trackers.devices import resolve_device
from trackers.io import atomic_write_text
from trackers.training.backbone import (
    folded_frozen_stages,
    has_imagenet_backbone,
    init_imagenet_backbone,
    set_trainable,
    train_mode,
)
from trackers.training.data import CachedPairDataset, PairCache, PairDataset, cache_key, to_device
from trackers.training.datasets import Track, default_cache_dir, discover
from trackers.training.evaluate import evaluate_weights
from trackers.training.families import family_for
from trackers.training.manifest import Manifest, check_training_tracks
from trackers.training.plot import plot_losses
from trackers.training.sampling import PairSampler, SamplingConfig
from trackers.training.teacher import ResponseTeacher

EXPORT_LIMIT = 20_000_000
CHECKPOINT_FORMAT = "siamark-training-checkpoint/1"


class TrainingError(RuntimeError):
    pass


def lr_at(recipe: dict[str, Any], progress: float) -> float:
    """Learning rate after ``progress`` epochs: linear warm-up, then log-space decay to end_lr."""
    lr, start, end = recipe["lr"], recipe["warmup_start_lr"], recipe["end_lr"]
    warm, total = recipe["warmup_epochs"], recipe["epochs"]
    if progress < warm:
        return start + (lr - start) * progress / warm
    t = min((progress - warm) / max(total - warm, 1e-9), 1.0)
    return lr * (end / lr) ** t


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _fmt_time(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Trainer:
    def __init__(
        self,
        tracker: str,
        recipe: dict[str, Any],
        out: str | Path,
        data: list[str | Path] | None = None,
        *,
        tracks: list[Track] | None = None,
        device: str = "auto",
        init: str | Path | None = None,
        backbone_weights: str | Path | None = None,
        cache_dir: str | Path | None = None,
        resume: bool = False,
        teacher: str | Path | None = None,
        model: torch.nn.Module | None = None,
        log: Callable[[str], None] = _stderr,
    ) -> None:
        """``model`` replaces the tracker's network (research / tests): it must accept the family's
        calls (``template`` / ``track``) and give the tracker's score-map geometry; its export is
        not checked against ``trackers.create``."""
        self.recipe, self.log = recipe, log
        self.info = trackers.get(tracker)
        self.config = self.info.config_cls.create(recipe["preset"])
        self.arch = self.config.architecture
        self.out = Path(out)
        self.run_dir = self.out.with_name(self.out.stem + ".train")
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.device = resolve_device(device)
        self.amp = self.device.type == "cuda"
        # Channels-last speeds up CUDA (and CPU inference) but made CPU training steps ~4x slower
        # (BN and convolution backward), measured with torch 2.13 on 2 cores.
        self.memory_format = torch.channels_last if self.device.type == "cuda" else torch.contiguous_format

        sampling = SamplingConfig.from_dict(recipe["sampling"])
        self.family = family_for(self.info, self.config, sampling.search_size, recipe["loss"])
        self.manifest = Manifest.load(recipe["manifest"])
        if tracks is None:
            if not data:
                raise TrainingError("no training data: pass --data DIR")
            tracks = [t for d in data for t in discover(d, self.cache_dir)]
        self.train_tracks, self.eval_tracks = self.manifest.split(tracks)
        check_training_tracks(self.train_tracks, self.manifest.validation)
        if not self.train_tracks:
            raise TrainingError(f"no training tracks found in {', '.join(map(str, data or []))}")
        self.sampler = PairSampler(self.train_tracks, sampling, self.manifest.kind_weights)

        self.teacher = self._teacher(teacher, sampling.search_size)
        self.custom_model = model is not None
        # The recipe's seed fixes the random initialisation too (the heads'), not only the pairs:
        # two runs of one recipe and seed start from the same weights.
        torch.manual_seed(recipe["seed"])
        self.model = model if model is not None else build(self.arch)
        self.init_note = self._initialise(init, backbone_weights)
        self.model.to(self.device, memory_format=self.memory_format)
        self.optimizer = self._optimizer()
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.steps_per_epoch = recipe["pairs_per_epoch"] // recipe["batch_size"]
        if self.steps_per_epoch < 1:
            raise TrainingError("pairs_per_epoch must be at least batch_size")
        self.epoch, self.step, self.records, self.epochs_log = 0, 0, [], []
        existing = sorted(self.run_dir.glob("epoch_*.pth"))
        if resume:
            if not existing:
                raise TrainingError(f"--resume: no checkpoint in {self.run_dir}")
            self._load_checkpoint(existing[-1])
        elif existing:
            raise TrainingError(
                f"{self.run_dir} already holds checkpoints: pass --resume, or remove the folder"
            )
        self._data = None  # built on first use: the pair cache can take minutes

    @property
    def dataset(self):
        if self._data is None:
            self._data = self._dataset()
        return self._data

    # --- setup ---------------------------------------------------------------------------------
    def _initialise(self, init, backbone_weights) -> str:
        if init:
            load_strict(self.model, read_state_dict(init), source=Path(init).name)
            return f"all weights from {init}"
        mode = self.recipe["backbone_init"]
        if mode not in ("auto", "imagenet", "none"):
            raise TrainingError(f"backbone_init must be auto, imagenet or none, got {mode!r}")
        head = self.family.init_head(self.model)
        head_note = f"; {head}" if head else ""
        if mode == "imagenet" or (mode == "auto" and has_imagenet_backbone(self.model)):
            return init_imagenet_backbone(self.model, self.family.rgb, backbone_weights) + head_note
        return "random initialisation" + head_note

    def _teacher(self, weights, search_size: int):
        wants = self.family.opt.get("distill_weight", 0.0) > 0
        if weights is None:
            if wants:
                raise TrainingError(
                    "the recipe's loss has distill_weight > 0: pass --teacher (NanoTrack v2 weights)"
                )
            return None
        if not wants:
            raise TrainingError(
                f"--teacher: the {self.family.name} recipe gives it no weight (loss.distill_weight)"
            )
        points = getattr(self.family, "points", None)
        if points is None:
            raise TrainingError(f"--teacher: the {self.family.name} family has no score points to distil at")
        try:
            teacher = ResponseTeacher(weights, points, search_size, self.device)
        except (CheckpointError, OSError, ValueError) as exc:
            raise TrainingError(f"--teacher {weights}: {exc}") from exc
        self.log(f"teacher: {teacher.source}, distill_weight {self.family.opt['distill_weight']:g}")
        return teacher

    def _optimizer(self) -> torch.optim.Optimizer:
        r = self.recipe
        backbone = [p for n, p in self.model.named_parameters() if n.startswith("backbone.")]
        rest = [p for n, p in self.model.named_parameters() if not n.startswith("backbone.")]
        groups = [{"params": rest, "lr_mult": 1.0}, {"params": backbone, "lr_mult": r["backbone_lr_mult"]}]
        return torch.optim.SGD(groups, lr=r["lr"], momentum=r["momentum"], weight_decay=r["weight_decay"])

    def _dataset(self):
        r = self.recipe
        if r["cache_pairs"] > 0:
            key = cache_key(self.train_tracks, self.sampler, r["cache_pairs"], r["seed"])
            folder = self.cache_dir / "pairs" / key
            if not (folder / "meta.npz").is_file():
                self.log(f"building the pair cache ({r['cache_pairs']} pairs) in {folder}")
            cache = PairCache.build(folder, self.sampler, r["cache_pairs"], r["seed"], r["num_workers"])
            return CachedPairDataset(cache, self.sampler, self.family, r["pairs_per_epoch"], r["seed"])
        return PairDataset(self.sampler, self.family, r["pairs_per_epoch"], r["seed"])

    def layers_at(self, epoch: int) -> list[str]:
        r = self.recipe
        late = r["unfreeze_epoch"] is not None and epoch >= r["unfreeze_epoch"]
        return list(r["train_layers"]) + (list(r["unfreeze_layers"]) if late else [])

    # --- checkpoints ---------------------------------------------------------------------------
    def save_checkpoint(self) -> Path:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        rng = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        state = {
            "format": CHECKPOINT_FORMAT,
            "tracker": self.info.name,
            "architecture": self.arch,
            "recipe": self.recipe,
            "epoch": self.epoch,
            "step": self.step,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": {"step": self.step, "steps_per_epoch": self.steps_per_epoch},
            "scaler": self.scaler.state_dict(),
            "rng": rng,
            "records": self.records,
            "epochs_log": self.epochs_log,
        }
        path = self.run_dir / f"epoch_{self.epoch:03d}.pth"
        tmp = path.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, path)
        return path

    def _load_checkpoint(self, path: Path) -> None:
        state = torch.load(path, map_location="cpu", weights_only=True)
        if state.get("format") != CHECKPOINT_FORMAT:
            raise TrainingError(f"{path}: not a Siamark training checkpoint")
        if (state["tracker"], state["architecture"]) != (self.info.name, self.arch):
            raise TrainingError(
                f"{path} trains {state['tracker']} ({state['architecture']}), not {self.info.name} ({self.arch})"
            )
        self.model.load_state_dict(state["model"])
        self.model.to(self.device, memory_format=self.memory_format)
        self.optimizer.load_state_dict(state["optimizer"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state["rng"]["torch"])
        if "cuda" in state["rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        changed = sorted(k for k in self.recipe if state["recipe"].get(k) != self.recipe[k])
        if changed:
            self.log(f"note: the recipe differs from the checkpoint's in {changed}; the new values apply")
        self.epoch, self.step = state["epoch"], state["step"]
        self.records, self.epochs_log = list(state["records"]), list(state["epochs_log"])
        self.log(f"resumed from {path.name}: epoch {self.epoch}, step {self.step}")

    # --- training ------------------------------------------------------------------------------
    def train_step(self, batch: dict) -> dict[str, float]:
        """One SGD step on a collated batch; returns the loss terms."""
        r = self.recipe
        lr = lr_at(r, self.step / self.steps_per_epoch)
        for g in self.optimizer.param_groups:
            g["lr"] = lr * g["lr_mult"]
        batch = to_device(batch, self.device, self.memory_format)
        if self.teacher is not None:
            batch["teacher_cls"] = self.teacher(batch["template"], batch["search"])
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp):
            out = self.family.forward(self.model, batch["template"], batch["search"], batch)
        terms = self.family.loss(out, batch)
        total = terms["total"]
        if not torch.isfinite(total):
            raise TrainingError(f"loss is {total.item()} at step {self.step}: lower lr or check the data")
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(total).backward()
        self.scaler.unscale_(self.optimizer)
        params = [p for g in self.optimizer.param_groups for p in g["params"] if p.grad is not None]
        grad_norm = torch.nn.utils.clip_grad_norm_(params, r["clip_grad_norm"])
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.step += 1
        record = {"step": self.step, "epoch": self.epoch, "lr": lr}
        record.update({k: float(v.detach()) for k, v in terms.items()})
        record["grad_norm"] = float(grad_norm)
        self.records.append(record)
        return record

    def _loader(self, epoch: int) -> DataLoader:
        self.dataset.epoch = epoch
        return DataLoader(
            self.dataset,
            batch_size=self.recipe["batch_size"],
            shuffle=False,  # item i is already a random pair; order stays reproducible
            num_workers=self.recipe["num_workers"],
            drop_last=True,
            pin_memory=self.device.type == "cuda",
        )

    def run_epoch(self) -> dict[str, float]:
        r, e = self.recipe, self.epoch
        layers = self.layers_at(e)
        set_trainable(self.model, layers)
        train_mode(self.model, layers)
        if not any(p.requires_grad for p in self.model.parameters()):
            raise TrainingError(f"epoch {e + 1}: no parameter to train (train_layers {layers})")
        start, first = time.monotonic(), len(self.records)
        with folded_frozen_stages(self.model):
            for i, batch in enumerate(self._loader(e)):
                self.train_step(batch)
                if (i + 1) % r["log_every"] == 0 or i + 1 == self.steps_per_epoch:
                    self._progress(i, start, first)
        done = self.records[first:]
        summary = {"epoch": e + 1, "seconds": round(time.monotonic() - start, 1)}
        summary["pairs_per_s"] = round(len(done) * r["batch_size"] / max(summary["seconds"], 1e-9), 2)
        summary.update(
            {k: float(np.mean([x[k] for x in done])) for k in done[0] if k not in ("step", "epoch", "lr")}
        )
        self.epochs_log.append(summary)
        self.epoch += 1
        return summary

    def _progress(self, i: int, start: float, first: int) -> None:
        r, e, rec = self.recipe, self.epoch, self.records[-1]
        rate = (i + 1) * r["batch_size"] / max(time.monotonic() - start, 1e-9)
        left = (self.steps_per_epoch * (r["epochs"] - e) - (i + 1)) * r["batch_size"] / rate
        recent = self.records[max(first, len(self.records) - r["log_every"]) :]
        terms = " ".join(
            f"{k} {np.mean([x[k] for x in recent]):.4f}"
            for k in rec
            if k not in ("step", "epoch", "lr", "grad_norm")
        )
        self.log(
            f"[{self.info.name}] epoch {e + 1}/{r['epochs']} step {i + 1}/{self.steps_per_epoch} "
            f"{terms} lr {rec['lr']:.2e} {rate:.1f} pairs/s ETA {_fmt_time(left)}"
        )

    def write_log(self, extra: dict | None = None) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        log = {
            "tracker": self.info.name,
            "architecture": self.arch,
            "init": self.init_note,
            "device": str(self.device),
            "train_tracks": [t.name for t in self.train_tracks],
            "recipe": self.recipe,
            "epochs": self.epochs_log,
            "steps": self.records,
            **(extra or {}),
        }
        atomic_write_text(self.run_dir / "log.json", json.dumps(log, indent=1))
        (self.run_dir / "log.json").chmod(0o644)
        plot_losses(
            [{k: v for k, v in x.items() if k != "grad_norm"} for x in self.records],
            self.run_dir / "loss.png",
        )

    def export(self) -> Path:
        state = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        if sum(v.numel() * v.element_size() for v in state.values()) > EXPORT_LIMIT:
            state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
        self.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.out.with_name(self.out.name + ".tmp")
        torch.save(state, tmp)
        os.replace(tmp, self.out)
        if not self.custom_model:  # the file must be what trackers.create recognises and loads
            trackers.create(self.info.name, weights=str(self.out), preset=self.recipe["preset"], device="cpu")
        return self.out

    def run(self) -> dict[str, Any]:
        r = self.recipe
        kinds = {k: len(v) for k, v in self.sampler.by_kind.items() if v}
        self.log(
            f"[{self.info.name}] {self.arch} on {self.device}; {self.init_note}; training tracks {kinds}; "
            f"evaluation (never trained on): {[t.name for t in self.eval_tracks]}; "
            f"{r['epochs']} epochs x {self.steps_per_epoch} steps x {r['batch_size']} pairs"
        )
        while self.epoch < r["epochs"]:
            summary = self.run_epoch()
            self.save_checkpoint()
            self.write_log()
            self.log(f"[{self.info.name}] epoch {summary['epoch']} done: " + json.dumps(summary))
        out = self.export()
        size = out.stat().st_size
        self.log(f"[{self.info.name}] exported {out} ({size / 1e6:.1f} MB)")
        results = {}
        if r["eval_max_frames"] > 0 and self.eval_tracks and not self.custom_model:
            results = evaluate_weights(
                self.info.name, out, self.eval_tracks, r["preset"], r["eval_max_frames"]
            )
            for name, s in results.items():
                self.log(
                    f"[{self.info.name}] eval {name}: AUC {s['auc']:.3f} precision {s['precision']:.3f} {s['fps']} fps"
                )
            if results:
                mean = float(np.mean([s["auc"] for s in results.values()]))
                self.log(f"[{self.info.name}] eval mean AUC {mean:.3f}")
        self.write_log({"export": str(out), "export_bytes": size, "eval": results})
        return {"out": str(out), "epochs": self.epochs_log, "eval": results}
