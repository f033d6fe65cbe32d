"""Datasets of training pairs: drawn on the fly, or read from a pre-cropped pair cache.

Item i of epoch e uses ``numpy.random.default_rng([seed, e, i])``: the same pairs and labels
come back whatever the number of loader workers, and after a resume.

The cache (``PairCache``) stores the geometric part of N pairs (crops after shift / scale jitter
and blur) as uint8 arrays on disk; colour / grey jitter and label sampling still vary per epoch.
Decoding full frames is the costly part of sampling, so one cache serves every epoch and every
tracker trained with the same data and sampling settings (its folder name is a hash of them).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from trackers.training.datasets import Track
from trackers.training.families import Family
from trackers.training.sampling import Pair, PairSampler

_CACHE_STREAM = 7_919  # separates the cache's random stream from the epochs'


def item(pair: Pair, labels: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {
        "template": pair.template,
        "search": pair.search,
        "box": pair.box,
        "template_box": pair.template_box,
        "negative": np.bool_(pair.negative),
        **labels,
    }


class PairDataset(Dataset):
    """``length`` pairs per epoch, sampled on the fly."""

    def __init__(self, sampler: PairSampler, family: Family, length: int, seed: int) -> None:
        self.sampler, self.family, self.length, self.seed = sampler, family, length, seed
        self.epoch = 0

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> dict:
        rng = np.random.default_rng([self.seed, self.epoch, i])
        pair = self.sampler.photometric(self.sampler.sample(rng), rng)
        return item(pair, self.family.targets(pair, rng))


class _GeometryOnly(Dataset):
    def __init__(self, sampler: PairSampler, count: int, seed: int) -> None:
        self.sampler, self.count, self.seed = sampler, count, seed

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: int) -> Pair:
        return self.sampler.sample(np.random.default_rng([self.seed, _CACHE_STREAM, i]))


def _as_is(pair: Pair) -> Pair:
    return pair


def cache_key(tracks: list[Track], sampler: PairSampler, count: int, seed: int) -> str:
    described = {
        "tracks": sorted((t.name, t.kind, len(t.frames), t.frames[0]) for t in tracks),
        "sampling": asdict(sampler.config),
        "kinds": dict(zip(sampler.kinds, sampler.kind_p.tolist(), strict=True)),
        "count": count,
        "seed": seed,
        "version": 1,
    }
    return hashlib.sha1(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()[:16]


class PairCache:
    """N pre-cropped pairs in ``folder``: template.npy, search.npy (memory-mapped), meta.npz."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.template = np.load(self.folder / "template.npy", mmap_mode="r")
        self.search = np.load(self.folder / "search.npy", mmap_mode="r")
        meta = np.load(self.folder / "meta.npz")
        self.box, self.template_box = meta["box"], meta["template_box"]
        self.negative, self.strong = meta["negative"], meta["strong"]

    def __len__(self) -> int:
        return len(self.box)

    def __getstate__(self) -> dict:
        # Loader workers started by "spawn" reopen the memory maps instead of copying the arrays.
        return {"folder": self.folder}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["folder"])

    def pair(self, j: int) -> Pair:
        return Pair(
            np.array(self.template[j]), np.array(self.search[j]), self.box[j], self.template_box[j],
            bool(self.negative[j]), bool(self.strong[j]),
        )  # fmt: skip

    @classmethod
    def build(
        cls, folder: str | Path, sampler: PairSampler, count: int, seed: int, workers: int = 0
    ) -> PairCache:
        """Sample ``count`` pairs into ``folder`` (written aside, renamed when complete); reuse it
        when it already exists."""
        folder = Path(folder)
        if (folder / "meta.npz").is_file():
            return cls(folder)
        tmp = folder.with_name(folder.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        c = sampler.config
        z = np.lib.format.open_memmap(
            tmp / "template.npy", "w+", np.uint8, (count, c.template_size, c.template_size, 3)
        )
        x = np.lib.format.open_memmap(
            tmp / "search.npy", "w+", np.uint8, (count, c.search_size, c.search_size, 3)
        )
        box = np.zeros((count, 4), np.float32)
        tbox = np.zeros((count, 4), np.float32)
        neg = np.zeros(count, bool)
        strong = np.zeros(count, bool)
        loader = DataLoader(
            _GeometryOnly(sampler, count, seed), batch_size=None, num_workers=workers, collate_fn=_as_is
        )
        start = time.monotonic()
        for i, p in enumerate(loader):
            z[i], x[i], box[i], tbox[i], neg[i], strong[i] = (
                p.template,
                p.search,
                p.box,
                p.template_box,
                p.negative,
                p.strong,
            )
            if (i + 1) % 500 == 0 or i + 1 == count:
                rate = (i + 1) / max(time.monotonic() - start, 1e-9)
                print(f"pair cache: {i + 1}/{count} pairs ({rate:.0f}/s)", file=sys.stderr, flush=True)
        z.flush()
        x.flush()
        del z, x
        np.savez(tmp / "meta.npz", box=box, template_box=tbox, negative=neg, strong=strong)
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
        return cls(folder)


class CachedPairDataset(Dataset):
    """``length`` pairs per epoch from a cache; epochs walk one fixed shuffle of the cache, so
    every cached pair is used once before any is used again."""

    def __init__(
        self, cache: PairCache, sampler: PairSampler, family: Family, length: int, seed: int
    ) -> None:
        self.cache, self.sampler, self.family, self.length, self.seed = cache, sampler, family, length, seed
        self.order = np.random.default_rng([seed, _CACHE_STREAM]).permutation(len(cache))
        self.epoch = 0

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> dict:
        j = int(self.order[(self.epoch * self.length + i) % len(self.cache)])
        rng = np.random.default_rng([self.seed, self.epoch, i])
        pair = self.sampler.photometric(self.cache.pair(j), rng)
        return item(pair, self.family.targets(pair, rng))


def to_device(batch: dict, device: torch.device, memory_format=torch.contiguous_format) -> dict:
    """Crops become NCHW float 0..255 in ``memory_format``; the rest moves as is."""
    out = {}
    for k, v in batch.items():
        v = v.to(device, non_blocking=True)
        if k in ("template", "search"):
            v = v.permute(0, 3, 1, 2).float().contiguous(memory_format=memory_format)
        out[k] = v
    return out
