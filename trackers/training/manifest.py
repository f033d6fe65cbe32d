"""Which tracks train and which evaluate.

A manifest is a JSON file (``resources/recipes/manifest.json`` is the shipped one; ``DEFAULT`` is
the same built in)::

    {"train": {"include": ["*"], "exclude": []},      # fnmatch patterns on track / sequence names
     "eval": ["vot_bag", "otb_crossing", "otb_basketball"],
     "kind_weights": {"sequence": 1.0, "davis": 0.5, "detection": 0.5, "video": 0.5}}

``kind_weights`` is each data kind's share of the sampled pairs (kinds with no tracks drop out).

The development sequences in ``ALWAYS_EXCLUDED`` never train, whatever a manifest says: they are
what trained models are judged on. ``pysot_bag`` (shared/data/videos/pysot_bag.avi) is the same
VOT bag sequence re-encoded as a video, so it is excluded as an alias of ``vot_bag``.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from pathlib import Path

from trackers.keys import check_keys
from trackers.training.datasets import KINDS, Track
from trackers.training.recipe import RECIPES_DIR

ALWAYS_EXCLUDED = frozenset({"vot_bag", "otb_crossing", "otb_basketball"})
ALIASES = {"pysot_bag": "vot_bag"}

DEFAULT = {
    "train": {"include": ["*"], "exclude": []},
    "eval": sorted(ALWAYS_EXCLUDED),
    # Sequences every tracker decision is made on (python -m trackers bench): never train.
    "validation": [],
    "kind_weights": {"sequence": 1.0, "davis": 0.5, "detection": 0.5, "video": 0.5},
}


class ManifestError(ValueError):
    pass


def shipped_validation() -> list[str]:
    """The validation sequences of the shipped manifest (resources/recipes/manifest.json)."""
    return Manifest.load(RECIPES_DIR / "manifest.json").validation


def excluded_name(track: Track) -> str | None:
    """The always-excluded sequence this track is (by name or alias), or None."""
    for name in (track.sequence, track.name.split("#")[0]):
        name = ALIASES.get(name, name)
        if name in ALWAYS_EXCLUDED:
            return name
    return None


def check_training_tracks(tracks: list[Track], validation: list[str] = ()) -> None:
    """Hard check on the final training set: raises if an evaluation or validation sequence is in it."""
    bad = sorted({f"{t.name} ({excluded_name(t)})" for t in tracks if excluded_name(t)})
    bad += sorted({f"{t.name} (validation)" for t in tracks if t.sequence in validation})
    if bad:
        raise ManifestError(
            f"evaluation sequences must never train, but the training set holds {', '.join(bad)}"
        )


@dataclass
class Manifest:
    include: list[str] = field(default_factory=lambda: ["*"])
    exclude: list[str] = field(default_factory=list)
    eval: list[str] = field(default_factory=lambda: sorted(ALWAYS_EXCLUDED))
    kind_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT["kind_weights"]))
    validation: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict) -> Manifest:
        check_keys(data, DEFAULT, "manifest key(s)", ManifestError)
        train = data.get("train", DEFAULT["train"])
        weights = {**DEFAULT["kind_weights"], **data.get("kind_weights", {})}
        check_keys(weights, KINDS, "kind_weights: kind(s)", ManifestError)
        # Asking explicitly to train on an evaluation sequence is an error, not a silent skip.
        validation = list(data.get("validation", []))
        reserved = ALWAYS_EXCLUDED | set(validation)
        named = [p for p in train.get("include", []) if ALIASES.get(p, p) in reserved]
        if named:
            raise ManifestError(f"manifest includes evaluation / validation sequence(s) {named} in training")
        return cls(
            list(train.get("include", ["*"])),
            list(train.get("exclude", [])),
            list(data.get("eval", DEFAULT["eval"])),
            weights,
            validation,
        )

    @classmethod
    def load(cls, path: str | Path | None) -> Manifest:
        if path is None:
            return cls.from_dict(DEFAULT)
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ManifestError(f"{path}: cannot read manifest ({exc})") from None
        return cls.from_dict(data)

    def _matches(self, track: Track, patterns: list[str]) -> bool:
        return any(fnmatch.fnmatch(n, p) for p in patterns for n in (track.name, track.sequence))

    def split(self, tracks: list[Track]) -> tuple[list[Track], list[Track]]:
        """(training tracks, evaluation tracks). Evaluation tracks are labelled sequences named in
        ``eval``; training takes what ``include`` matches, minus ``exclude``, the evaluation
        names and ``ALWAYS_EXCLUDED``, and is then checked once more."""
        eval_names = set(self.eval)
        evaluation = [t for t in tracks if t.boxes is not None and t.name in eval_names]
        eval_names |= set(self.validation)  # validation sequences never train either
        train = [
            t
            for t in tracks
            if self._matches(t, self.include)
            and not self._matches(t, self.exclude)
            and t.sequence not in eval_names
            and excluded_name(t) is None
        ]
        check_training_tracks(train, self.validation)
        return train, evaluation
