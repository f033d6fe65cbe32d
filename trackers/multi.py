"""Several objects tracked in one pass over the frames (GitHub issue 6).

    multi = MultiTracker("siamban-mobilev2", device="auto")
    multi.add("car", frame0, (10, 20, 50, 40))
    multi.add("dog", frame0, (200, 80, 30, 30))
    for frame in frames[1:]:
        results = multi.track(frame)        # {"car": TrackResult, "dog": TrackResult}

Siamese trackers (the pysot family and SiamFC) keep one tracker state per object around one
shared network: the weights are loaded once and every object keeps only its own template state
(``NetworkRunner.template_state``). A frame is then: crop per object -> one network forward over
all objects' search crops, each correlated with its own template (the models' "template i for
search i" batch layout) -> per-object post-processing. Objects whose crops differ in size
(DaSiamRPN's adaptive search region) are batched by crop size.

Batching pays on a GPU, and on a CPU for the single-crop trackers (NanoTrack: 2.5x the loop's
frame rate with 8 objects; SiamFC, whose objects are already batches of 3 scales, runs slower
batched): ``batched=None`` picks by those measurements (``scripts/bench_multi.py``). Both paths
give the same boxes within float rounding (SiamFC's exactly); the loop path gives exactly what
a single tracker per object gives.

Trackers without a shared network (OpenCV's CSRT / KCF / Nano references) get one instance per
object. Frames may come in any order: backward tracking is feeding them in reverse; nothing here
or in the trackers depends on frame indices.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from trackers.base import Box, Tracker, TrackResult, as_bgr_frame
from trackers.network import NetworkRunner, SharedNetworkSearch, TemplateState
from trackers.reference import REFERENCE_NAMES, create_reference
from trackers.registry import create


@dataclass
class _Object:
    tracker: Tracker
    #: the object's template on the shared network (None when the tracker owns its network).
    template: TemplateState | None


class MultiTracker:
    """One tracker name, several objects, each with its own target state.

    ``name``, ``weights``, ``device``, ``preset``, ``half`` and ``overrides`` are those of
    ``trackers.create``; ``name`` may also be a reference tracker (``csrt``, ``kcf``,
    ``opencv-nano`` with ``nano_onnx``). ``batched``: run all objects' crops as one batch (True),
    one forward per object (False), or where it was measured to pay (None: ``_batching_pays``).
    """

    def __init__(
        self,
        name: str,
        weights: str | Path | None = None,
        device: str = "auto",
        preset: str | None = None,
        half: bool = False,
        backend: str = "auto",
        batched: bool | None = None,
        nano_onnx: tuple[str | Path, str | Path] | None = None,
        **overrides: Any,
    ) -> None:
        if name in REFERENCE_NAMES:
            # No shared network: one OpenCV tracker per object.
            self._setup(
                create_reference(name, nano_onnx), partial(create_reference, name, nano_onnx), batched
            )
        else:
            self._setup(
                create(name, weights, device=device, preset=preset, half=half, backend=backend, **overrides),
                None,
                batched,
            )

    @classmethod
    def from_tracker(cls, tracker: Tracker, batched: bool | None = None) -> MultiTracker:
        """Objects tracked on ``tracker``'s network and settings.

        ``tracker`` (a pysot-family or SiamFC tracker) lends its network: its own target state is
        not used, and it should not track on its own afterwards (the network's template changes).
        """
        multi = cls.__new__(cls)
        multi._setup(tracker, None, batched)
        return multi

    def _setup(self, prototype: Tracker, factory: Callable[[], Tracker] | None, batched: bool | None) -> None:
        if factory is None and not isinstance(prototype, SharedNetworkSearch):
            raise TypeError(f"{type(prototype).__name__} cannot share its network between objects")
        self.name = prototype.name or type(prototype).__name__
        self._prototype = prototype
        self._new_tracker = factory or self._clone_prototype
        self._objects: dict[Hashable, _Object] = {}
        self.weights_source = prototype.weights_source
        self.device = getattr(prototype, "device", None)
        self.batched = self._batching_pays() if batched is None else bool(batched)

    def _batching_pays(self) -> bool:
        """Measured with scripts/bench_multi.py: always on CUDA; on a CPU for single-crop trackers
        (the pysot family), not for SiamFC; MPS is unmeasured, so it keeps the exact loop."""
        if not self.shares_network:
            return False
        if self.device.type == "cuda":
            return True
        return self.device.type == "cpu" and self._prototype.cpu_batching_pays

    # --- objects -----------------------------------------------------------------------------
    @property
    def shares_network(self) -> bool:
        """True when all objects run on one network (and can be batched)."""
        return isinstance(self._prototype, SharedNetworkSearch)

    @property
    def _runner(self) -> NetworkRunner:
        return self._prototype.net

    def _clone_prototype(self) -> Tracker:
        # A shallow copy shares the network and the read-only tables; init() sets the rest.
        tracker = copy.copy(self._prototype)
        tracker._state = None
        tracker._last_good = None
        return tracker

    def add(self, object_id: Hashable, frame: np.ndarray, box: Box) -> None:
        """Start tracking ``object_id`` from ``box`` on ``frame``; an existing id is re-initialised.

        A bad frame or box raises ValueError and leaves the tracked objects as they were.
        """
        frame = as_bgr_frame(frame)
        tracker = self._new_tracker()
        tracker.set_appearance(self._prototype.appearance)
        tracker.init(frame, box)
        template = self._runner.template_state() if self.shares_network else None
        self._objects[object_id] = _Object(tracker, template)

    def add_keyframe(self, object_id: Hashable, frame: np.ndarray, box: Box) -> None:
        """Another manual box of ``object_id`` for its appearance check (``Tracker.add_keyframe``)."""
        self._objects[object_id].tracker.add_keyframe(frame, box)

    def remove(self, object_id: Hashable) -> None:
        """Stop tracking ``object_id`` (KeyError naming the tracked ids when it is not one of them)."""
        if object_id not in self._objects:
            raise KeyError(f"no tracked object {object_id!r}; tracked: {list(self._objects)}")
        del self._objects[object_id]

    def tracker(self, object_id: Hashable) -> Tracker:
        """The single-object tracker that holds ``object_id``'s state (on the shared network)."""
        return self._objects[object_id].tracker

    @property
    def object_ids(self) -> list[Hashable]:
        return list(self._objects)

    def __len__(self) -> int:
        return len(self._objects)

    def __contains__(self, object_id: object) -> bool:
        return object_id in self._objects

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._objects)

    # --- tracking ----------------------------------------------------------------------------
    def set_inspect(self, on: bool) -> None:
        """Every object's results carry ``extras["inside"]`` (trackers/inside.py) while on."""
        for tracker in (self._prototype, *(obj.tracker for obj in self._objects.values())):
            tracker.set_inspect(on)

    def set_appearance(self, on: bool) -> None:
        """Objects added from now on carry ``extras["appearance"]`` (``Tracker.set_appearance``)."""
        self._prototype.set_appearance(on)

    def track(self, frame: np.ndarray) -> dict[Hashable, TrackResult]:
        """Every object's result on ``frame`` (any frame: next, previous, or further away)."""
        frame = as_bgr_frame(frame)
        if self.batched and self.shares_network and len(self._objects) > 1:
            return self._track_batched(frame)
        results = {}
        for object_id, obj in self._objects.items():
            if obj.template is not None:
                self._runner.load_template_state(obj.template)
            results[object_id] = obj.tracker.track(frame)
        return results

    def _track_batched(self, frame: np.ndarray) -> dict[Hashable, TrackResult]:
        patches = {oid: obj.tracker.search_patch(frame) for oid, obj in self._objects.items()}
        # One batch per crop size: DaSiamRPN picks a larger search region for small targets.
        batches: dict[tuple[int, ...], list[Hashable]] = {}
        for oid, patch in patches.items():
            batches.setdefault(patch.shape[-3:], []).append(oid)
        outputs: dict[Hashable, dict[str, np.ndarray]] = {}
        for ids in batches.values():
            if len(ids) == 1:  # exactly what a single tracker runs
                self._runner.load_template_state(self._objects[ids[0]].template)
                outputs[ids[0]] = self._runner.track(patches[ids[0]])
                continue
            states = [self._objects[i].template for i in ids]
            batch_outputs = self._prototype.forward_many([patches[i] for i in ids], states)
            outputs.update(zip(ids, batch_outputs, strict=True))
        results = {}
        for oid, obj in self._objects.items():
            # Its own template loaded: a tracker may search again (a near crop that did not hold).
            if obj.template is not None:
                self._runner.load_template_state(obj.template)
            results[oid] = obj.tracker.track_with_outputs(frame, outputs[oid])
        return results
