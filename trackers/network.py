"""Runs a Siamese network on one device.

This is the only place where frames cross into torch and results come back: crops go up as
one batch, and all outputs of a frame come back in a single device-to-host copy (no other
host synchronisation per frame).

Several objects can share one network (``trackers.multi``): what ``template()`` leaves on the
model is each object's *template state*; ``track_many`` runs the search crops of many objects
through the network in one forward, each against its own template state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from trackers.devices import prepare_for_inference, resolve_device
from trackers.models.fuse import fold_batchnorm

#: attribute name -> tensor, or per-level list of tensors, as ``template()`` stored it.
TemplateState = dict[str, Any]
#: (crops of all objects as one NCHW batch, each object's template state, crops per object) -> outputs
BatchedForward = Callable[[torch.Tensor, Sequence[TemplateState], Sequence[int]], Any]


class NetworkRunner:
    def __init__(self, model: nn.Module, device: str | torch.device = "auto", half: bool = False) -> None:
        self.device = resolve_device(device)
        prepare_for_inference(self.device)
        # fp16 only pays off (and is only well supported) on CUDA.
        self.dtype = torch.float16 if half and self.device.type == "cuda" else torch.float32
        model = model.eval()
        fold_batchnorm(model)
        # NHWC lets oneDNN / cuDNN skip layout conversions: 15-40 % faster per frame on the CPU.
        self.model = model.to(self.device, dtype=self.dtype, memory_format=torch.channels_last)

    @property
    def backend(self) -> str:
        """What runs the search branch now (benchmarks record it beside their figures)."""
        return "torch"

    def _batch(self, patches: np.ndarray | list[np.ndarray]) -> torch.Tensor:
        """HWC uint8 patch(es) -> NCHW float tensor of 0..255 values on the device."""
        arr = np.asarray(patches)
        if arr.ndim == 3:
            arr = arr[None]
        t = torch.from_numpy(np.ascontiguousarray(arr)).to(self.device, non_blocking=True)
        # HWC patches permuted to NCHW are already channels-last in memory: no copy.
        return t.permute(0, 3, 1, 2).to(self.dtype, memory_format=torch.channels_last)

    @torch.inference_mode()
    def template(self, patches) -> None:
        self.model.template(self._batch(patches))

    @torch.inference_mode()
    def track(self, patches) -> dict[str, np.ndarray]:
        return _to_host(self.model.track(self._batch(patches)))

    def prepare(self, patch_shape: tuple[int, ...]) -> None:
        """Do now the one-time work a first ``track`` of crops of ``patch_shape`` (H, W, 3) would
        do (a compiled graph; nothing for PyTorch), so that it does not land inside a run."""

    @torch.inference_mode()
    def template_features(self, patch: np.ndarray) -> TemplateState:
        """What ``template(patch)`` would store (the features; a mask a tracker sets afterwards
        is not among them), while the template on the model stays the one tracked against."""
        saved = template_values(self.model)
        try:
            self.model.template(self._batch(patch))
            fresh = stored_since(self.model, saved)
        finally:
            self.load_template_state(saved)
        if not fresh:
            raise ValueError(f"{type(self.model).__name__}.template() stored no features")
        return fresh

    def embed(self, patch: np.ndarray) -> np.ndarray:
        """The appearance check's embedding of one template crop (trackers/appearance.py), as
        one float32 vector: ``pooled_centre`` of ``template_features``."""
        return pooled_centre(self.template_features(patch)).cpu().numpy()

    # --- several objects on one network -----------------------------------------------------
    def template_state(self) -> TemplateState:
        """What the last ``template()`` stored on the model (features, kernels, masks).

        Those are the model's plain tensor attributes (parameters and buffers live elsewhere),
        so every architecture is covered without naming its attributes here.
        """
        state = template_values(self.model)
        if not state:
            raise ValueError(f"{type(self.model).__name__} keeps no template tensors: call template() first")
        return state

    def load_template_state(self, state: TemplateState) -> None:
        """Put an object's template state back on the model, so that ``track`` runs against it."""
        for name, value in state.items():
            setattr(self.model, name, value)

    @staticmethod
    def stack_template_states(states: Sequence[TemplateState], counts: Sequence[int]) -> TemplateState:
        """One batched template state: object i's template repeated for its ``counts[i]`` crops."""

        def stack(tensors: list[torch.Tensor]) -> torch.Tensor:
            return torch.cat([t.expand(n, *t.shape[1:]) for t, n in zip(tensors, counts, strict=True)])

        stacked: TemplateState = {}
        for name, first in states[0].items():
            values = [s[name] for s in states]
            if isinstance(first, torch.Tensor):
                stacked[name] = stack(values)
            else:  # per-level lists of features
                stacked[name] = [stack([v[level] for v in values]) for level in range(len(first))]
        return stacked

    @torch.inference_mode()
    def track_many(
        self,
        patches: Sequence[np.ndarray],
        states: Sequence[TemplateState],
        forward: BatchedForward | None = None,
    ) -> list[dict[str, np.ndarray]]:
        """Several objects' search crops in one batch, one device-to-host copy.

        ``patches[i]``: object i's crop (H, W, 3) or crops (n_i, H, W, 3), all of one size;
        ``states[i]``: its ``template_state()``. Returns object i's outputs, as ``track`` returns
        them for its crops alone. ``forward(batch, states, counts)`` replaces the default forward
        (``paired_forward``) where a model has a more exact one.
        """
        crops = [p[None] if p.ndim == 3 else p for p in patches]
        counts = [len(c) for c in crops]
        out = _to_host((forward or self.paired_forward)(self._batch(np.concatenate(crops)), states, counts))
        bounds = np.cumsum(counts)[:-1]
        split = {name: np.split(value, bounds) for name, value in out.items()}
        return [{name: split[name][i] for name in out} for i in range(len(crops))]

    def paired_forward(self, batch: torch.Tensor, states: Sequence[TemplateState], counts: Sequence[int]):
        """The models' batch layout "template i for search i": object i's template repeated for
        its ``counts[i]`` crops, one ``model.track``."""
        stacked = self.stack_template_states(states, counts)
        saved = {name: getattr(self.model, name) for name in stacked}
        self.load_template_state(stacked)
        try:
            return self.model.track(batch)
        finally:
            self.load_template_state(saved)


def pooled_centre(features: TemplateState) -> torch.Tensor:
    """Each feature map averaged over its central 3x3 cells, the target without its context,
    all concatenated (float32, 1-D). Pooled, it says what is in the box rather than where: on
    the validation runs the full maps' cosine moved with small shifts of a right box, and caught
    fewer failures at the same false-flag rate. Plain tensor code, so the fast path exports it."""
    parts = []
    for value in features.values():
        for t in value if isinstance(value, list) else [value]:
            if t.dim() == 4:
                h, w = t.shape[-2:]
                t = t[..., max(0, (h - 3) // 2) : (h + 3) // 2, max(0, (w - 3) // 2) : (w + 3) // 2]
                t = t.mean(dim=(-2, -1))
            parts.append(t.float().reshape(-1))
    return torch.cat(parts)


def template_values(model: nn.Module) -> TemplateState:
    """The model's plain tensor attributes, and lists of them: what its ``template()`` stores."""
    return {k: v for k, v in vars(model).items() if _is_template_value(v)}


def stored_since(model: nn.Module, before: TemplateState) -> TemplateState:
    """What ``template()`` stored anew since ``before = template_values(model)`` was taken."""
    return {k: v for k, v in template_values(model).items() if v is not before.get(k)}


def _is_template_value(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return True
    return isinstance(value, list) and bool(value) and all(isinstance(v, torch.Tensor) for v in value)


def _to_host(out: torch.Tensor | dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """All outputs of a forward as numpy arrays, in one transfer."""
    if isinstance(out, torch.Tensor):
        out = {"response": out}
    names = list(out)
    flat = torch.cat([out[n].float().reshape(-1) for n in names]).cpu().numpy()
    result, start = {}, 0
    for n in names:
        size = out[n].numel()
        result[n] = flat[start : start + size].reshape(tuple(out[n].shape))
        start += size
    return result


class SharedNetworkSearch:
    """Mixin for trackers whose frame step is: search crop(s) -> network -> post-processing.

    The split lets ``trackers.multi.MultiTracker`` crop for every object, run all crops through
    the network as one batch, then hand each tracker its own outputs (``track_with_outputs``):
    the tracker's ``track`` then runs unchanged (checks, rollback) minus the crop and forward.
    """

    net: NetworkRunner
    _given_outputs: dict[str, np.ndarray] | None = None
    #: Whether one batch over all objects beats a loop of forwards on a CPU (scripts/bench_multi.py:
    #: NanoTrack 2.5x with 8 objects, SiamBAN-MobileNetV2 ~1.1x). On CUDA batching always pays.
    cpu_batching_pays: ClassVar[bool] = True

    def search_patch(self, frame: np.ndarray) -> np.ndarray:
        """The search crop(s) the next ``track(frame)`` feeds the network: (H, W, 3) or (n, H, W, 3)."""
        raise NotImplementedError

    def forward_many(
        self, patches: Sequence[np.ndarray], states: Sequence[TemplateState]
    ) -> list[dict[str, np.ndarray]]:
        """Several objects' ``search_patch`` crops through this tracker's network in one batch."""
        return self.net.track_many(patches, states)

    def track_with_outputs(self, frame: np.ndarray, outputs: dict[str, np.ndarray]):
        """``track(frame)`` with this frame's network outputs already computed (for ``search_patch``)."""
        self._given_outputs = outputs
        try:
            return self.track(frame)
        finally:
            self._given_outputs = None

    def _template_patch(self, frame: np.ndarray, box) -> np.ndarray:
        """The template crop of ``box`` on ``frame``, as ``init`` crops it."""
        raise NotImplementedError

    def _embedding(self, frame: np.ndarray, box) -> np.ndarray | None:
        return self.net.embed(self._template_patch(frame, box))

    def _network_outputs(self, frame: np.ndarray) -> dict[str, np.ndarray]:
        if self._given_outputs is not None:
            return self._given_outputs
        return self.net.track(self.search_patch(frame))
