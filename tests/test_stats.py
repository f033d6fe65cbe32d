"""The paired bootstrap that says whether a benchmark difference is more than the sequences' noise."""

from __future__ import annotations

import numpy as np
import pytest

from trackers.bench import compare, format_comparison
from trackers.stats import paired_bootstrap


def test_a_clear_difference_is_resolved():
    rng = np.random.default_rng(3)
    b = rng.uniform(0.3, 0.7, 14)
    a = b + 0.1 + rng.normal(0, 0.02, 14)
    d = paired_bootstrap(a, b)
    assert d.mean == pytest.approx(float(np.mean(a - b)))
    assert 0 < d.low < d.mean < d.high and d.resolved
    assert d.wins == 14 and d.count == 14


def test_one_flipped_sequence_is_not_a_difference():
    # 13 sequences equal, one lost by b: the mean moves, but one sequence is all of it
    b = np.full(14, 0.6)
    a = b.copy()
    a[5] = 0.6 + 0.5
    d = paired_bootstrap(a, b)
    assert d.mean == pytest.approx(0.5 / 14)
    assert d.low == 0.0 and not d.resolved and d.wins == 1


def test_the_interval_is_reproducible_and_pairs_the_values():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0, 1, 10), rng.uniform(0, 1, 10)
    assert paired_bootstrap(a, b) == paired_bootstrap(a, b)
    shifted = paired_bootstrap(a + 1, b + 1)  # a per-sequence offset shared by both cancels
    assert shifted.low == pytest.approx(paired_bootstrap(a, b).low)
    same = paired_bootstrap(a, a)
    assert (same.mean, same.low, same.high, same.wins) == (0.0, 0.0, 0.0, 0)


@pytest.mark.parametrize(
    "a, b", [([0.5], [0.4]), ([0.5, float("nan")], [0.4, 0.3]), ([[0.1, 0.2]], [[0.1, 0.2]])]
)
def test_bad_input(a, b):
    with pytest.raises(ValueError):
        paired_bootstrap(a, b)


def test_compare_pairs_rows_by_sequence():
    rows = [
        {"method": "m", "sequence": "s1", "auc": 0.8},
        {"method": "ref", "sequence": "s2", "auc": 0.4},
        {"method": "m", "sequence": "s2", "auc": 0.7},
        {"method": "ref", "sequence": "s1", "auc": 0.5},
        {"method": "m", "sequence": "s3", "auc": 0.9},  # the reference did not run it: left out
    ]
    d = compare(rows, "m", "ref")
    assert d.count == 2 and d.mean == pytest.approx(0.3) and d.wins == 2
    assert compare(rows[:2], "m", "ref") is None  # no sequence that both ran
    line = format_comparison("m", "ref", d)
    assert line.startswith("m vs ref: mean AUC +0.300") and "better on 2 of 2" in line
