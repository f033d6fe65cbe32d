"""Coordinate search of inference hyper-parameters (trackers/tune.py) on a stand-in tracker whose
one parameter decides how well it follows a target that moves 2 px per frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from trackers import registry
from trackers.base import MapGeometry, Tracker, TrackResult
from trackers.bench import BenchSequence
from trackers.tune import coordinate_search, parse_grid


@dataclass(frozen=True)
class StepConfig:
    step: float = 0.0
    unused: float = 1.0
    size: int = 255


class StepTracker(Tracker):
    name = "step"

    def __init__(self, config):
        super().__init__()
        self.config = config

    def _init(self, frame, box):
        self._state = box

    def _track(self, frame):
        x, y, w, h = self._state
        self._state = (x + self.config.step, y, w, h)
        return TrackResult(self._state, 0.9, np.zeros((3, 3), np.float32), MapGeometry(0, 0, 8), self._state)

    def _state_box(self):
        return self._state


def sequences(n=2, frames=30):
    out = []
    for k in range(n):
        gt = np.array([[10 + 2 * i, 20 + k, 12, 12] for i in range(frames)], float)
        out.append(BenchSequence(f"s{k}", [np.zeros((80, 120, 3), np.uint8)] * frames, gt))
    return out


@pytest.fixture
def fake_registry(monkeypatch):
    created = []

    def create(name, **kwargs):
        values = {k: v for k, v in kwargs.items() if k in StepConfig.__dataclass_fields__}
        created.append(values)
        return StepTracker(StepConfig(**values))

    monkeypatch.setattr(registry, "create", create)
    return created


def test_search_finds_the_value_that_tracks_and_reuses_trials(fake_registry):
    result = coordinate_search("step", {"step": [1.0, 2.0, 0.0], "unused": [1.0, 3.0]}, sequences())
    assert result.start == {"step": 0.0, "unused": 1.0}
    assert result.best.values == {"step": 2.0, "unused": 1.0}  # a tie keeps the starting value
    assert result.best.mean_auc > max(t.mean_auc for t in result.trials if t.values["step"] != 2.0)
    assert len(result.trials) == 4  # start, step=1, step=2, unused=3 (repeats are not re-run)
    assert set(result.best.per_sequence) == {"s0", "s1"}


def test_unknown_parameter_and_bad_grid(fake_registry):
    with pytest.raises(ValueError, match=r"unknown hyper-parameter\(s\) \[.nope.\]"):
        coordinate_search("step", {"nope": [1.0]}, sequences())
    assert parse_grid(["a=1,2.5", "b=3"]) == {"a": [1.0, 2.5], "b": [3.0]}
    for bad in ("a", "a=", "a=x"):
        with pytest.raises(ValueError):
            parse_grid([bad])


def test_integer_settings_are_tried_as_integers(fake_registry):
    """A crop size from the float grid must reach the tracker as an int (range(), array shapes)."""
    coordinate_search("step", {"size": [319.0]}, sequences(n=1, frames=3))
    tried = [v["size"] for v in fake_registry if "size" in v]
    assert tried == [255, 319] and all(type(v) is int for v in tried)


def test_tune_says_how_sure_a_setting_beats_the_start():
    from trackers.cli import _against_start
    from trackers.tune import Trial

    start = Trial({"lr": 0.4}, 0.5, {"a": 0.5, "b": 0.4, "c": 0.6})
    better = Trial({"lr": 0.3}, 0.6, {"a": 0.6, "b": 0.5, "c": 0.7})
    assert _against_start(start, start) == ""
    text = _against_start(better, start)
    assert "+0.1000 against the start, 95% interval +0.1000 to +0.1000" in text
    alone = Trial({"lr": 0.4}, 0.5, {"a": 0.5})
    assert _against_start(Trial({"lr": 0.3}, 0.6, {"a": 0.6}), alone) == ""  # one sequence: no interval
