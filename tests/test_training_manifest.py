"""Which data trains / evaluates; evaluation sequences can never train (trackers/training/manifest.py)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from trackers.training.datasets import Track
from trackers.training.manifest import (
    ALWAYS_EXCLUDED,
    Manifest,
    ManifestError,
    check_training_tracks,
    excluded_name,
)
from trackers.training.recipe import RECIPES_DIR


def track(name: str, kind: str = "sequence", sequence: str | None = None) -> Track:
    boxes = None if kind == "video" else np.ones((1, 4)) * 10
    return Track(name, sequence or name.split("#")[0], kind, ["f.jpg"], boxes)


TRACKS = [
    track("vot_bag"),
    track("otb_crossing"),
    track("otb_basketball"),
    track("otb_jogging"),
    track("otb_jogging#2"),
    track("dog", "davis"),
    track("raccoon-1#1", "detection", "raccoon-1"),
    track("pysot_bag", "video"),
    track("vtest", "video"),
]


def test_default_split_excludes_evaluation_sequences():
    train, evaluation = Manifest.load(None).split(TRACKS)
    assert sorted(t.name for t in train) == ["dog", "otb_jogging", "otb_jogging#2", "raccoon-1#1", "vtest"]
    assert sorted(t.name for t in evaluation) == sorted(ALWAYS_EXCLUDED)


def test_excluded_even_when_the_manifest_evaluates_something_else():
    manifest = Manifest.from_dict({"eval": ["otb_jogging"], "train": {"include": ["*"], "exclude": ["dog"]}})
    train, evaluation = manifest.split(TRACKS)
    names = {t.name for t in train}
    assert not names & (ALWAYS_EXCLUDED | {"pysot_bag", "otb_jogging", "otb_jogging#2", "dog"})
    assert [t.name for t in evaluation] == ["otb_jogging"]


def test_hard_check_raises():
    with pytest.raises(ManifestError, match="vot_bag"):
        check_training_tracks([track("otb_jogging"), track("vot_bag")])
    with pytest.raises(ManifestError, match="pysot_bag"):  # the same bag sequence, as a video
        check_training_tracks([track("pysot_bag", "video")])
    with pytest.raises(ManifestError, match="otb_crossing"):  # a second target of it too
        check_training_tracks([track("otb_crossing#2")])


def test_manifest_refuses_to_name_an_evaluation_sequence_for_training():
    with pytest.raises(ManifestError, match="otb_basketball"):
        Manifest.from_dict({"train": {"include": ["otb_basketball"]}})
    with pytest.raises(ManifestError, match="unknown manifest key"):
        Manifest.from_dict({"training": {}})
    with pytest.raises(ManifestError, match="unknown kind"):
        Manifest.from_dict({"kind_weights": {"lidar": 1.0}})


def test_include_patterns_and_shipped_manifest():
    manifest = Manifest.from_dict({"train": {"include": ["otb_*"]}})
    assert sorted(t.name for t in manifest.split(TRACKS)[0]) == ["otb_jogging", "otb_jogging#2"]
    shipped = Manifest.from_dict(json.loads((RECIPES_DIR / "manifest.json").read_text()))
    assert dataclasses.replace(shipped, validation=[]) == Manifest.load(None)  # the built-in + validation


def test_validation_sequences_never_train():
    manifest = Manifest.from_dict({"validation": ["otb_jogging"]})
    assert [t.name for t in manifest.split(TRACKS)[0]] == [
        t.name for t in TRACKS if t.sequence != "otb_jogging" and excluded_name(t) is None
    ]
    with pytest.raises(ManifestError, match=r"otb_jogging \(validation\)"):
        check_training_tracks([track("otb_jogging")], ["otb_jogging"])
