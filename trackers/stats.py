"""How sure a benchmark's difference is: paired bootstrap over sequences.

A mean AUC over a dozen sequences moves a lot when one sequence flips (a target lost at one
frame instead of held): on the validation set, one retraining with another seed moved a model's
mean by 0.05 and single sequences by up to 0.2. So a comparison of two methods on the same
sequences reports, besides the mean difference, an interval for it: the sequences resampled
with replacement (paired: both methods' AUCs of a sequence stay together), the central 95 % of
the resampled mean differences. An interval that contains 0 says these sequences do not tell
the two apart. The resampling is seeded, so a report is reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

RESAMPLES = 10_000
LEVEL = 0.95


@dataclass(frozen=True)
class PairedDifference:
    mean: float  # mean of a - b over the sequences
    low: float  # the interval's ends
    high: float
    wins: int  # sequences where a > b
    count: int  # sequences compared

    @property
    def resolved(self) -> bool:
        """Whether the interval leaves out 0: the sequences tell the two apart."""
        return self.low > 0 or self.high < 0


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], resamples: int = RESAMPLES, level: float = LEVEL, seed: int = 0
) -> PairedDifference:
    """The mean of ``a - b`` (one value per sequence, both in the same order) and its percentile
    bootstrap interval at ``level``."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if diff.ndim != 1 or len(diff) < 2:
        raise ValueError(f"need two or more paired values, got {diff.shape}")
    if not np.isfinite(diff).all():
        raise ValueError("the values must be finite")
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), (resamples, len(diff)))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return PairedDifference(float(diff.mean()), float(low), float(high), int((diff > 0).sum()), len(diff))


def paired_by_name(a: Mapping[str, float], b: Mapping[str, float]) -> PairedDifference | None:
    """``paired_bootstrap`` over the names (sequences) both give a finite value for; None with
    fewer than two such names."""
    names = [n for n, v in a.items() if math.isfinite(v) and math.isfinite(b.get(n, math.nan))]
    if len(names) < 2:
        return None
    return paired_bootstrap([a[n] for n in names], [b[n] for n in names])
