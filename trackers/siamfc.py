"""SiamFC (huanglianghua/siamfc-pytorch ``TrackerSiamFC``): AlexNetV1, 3-scale search.

Preset ``mobilev2`` runs Siamark's trainable MobileNetV2-1.0 network
(``siamark__siamfc_mobilev2``, trackers/models/siamfc_net.py) with the same loop: its response
is 17x17 at total stride 8 for a 255 search too, so only the network changes.

Kept as the official code does it (tracker-specs §7.2): RGB input, state in (y, x) order and
float32, crops with banker's rounding, the 17x17 responses upsampled x16 with bicubic
interpolation, a penalty on the non-centre scales, a normalised Hann window, and no clipping.
The official tracker returns no score; ours is the sigmoid of the peak raw response, which is
the probability the logistic loss SiamFC is trained with assigns to that position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import cv2
import numpy as np
import torch
from torch import nn

from trackers.base import Box, MapGeometry, Tracker, TrackResult
from trackers.config import TrackerConfig
from trackers.inside import Inside, Levels
from trackers.network import NetworkRunner, SharedNetworkSearch
from trackers.ops.crop import crop_siamfc
from trackers.ops.windows import normalised_hanning
from trackers.registry import register


@dataclass(frozen=True)
class SiamFCConfig(TrackerConfig):
    architecture: str = "siamfc_pytorch__alexnetv1"
    exemplar_size: int = 127
    instance_size: int = 255
    context: float = 0.5
    scale_num: int = 3
    scale_step: float = 1.0375
    scale_lr: float = 0.59
    scale_penalty: float = 0.9745
    window_influence: float = 0.176
    response_size: int = 17
    response_up: int = 16
    total_stride: int = 8
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "default": {},
        # Official hyper-parameters until tuned for trained weights.
        "mobilev2": {"architecture": "siamark__siamfc_mobilev2"},
    }


@dataclass
class SiamFCState:
    center: np.ndarray  # (y, x), float32
    target_sz: np.ndarray  # (h, w), float32
    z_sz: np.float32
    x_sz: np.float32


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@register(
    "siamfc",
    "SiamFC (siamfc-pytorch AlexNetV1; preset mobilev2: MobileNetV2-1.0): 3-scale search",
    SiamFCConfig,
    ("siamfc_pytorch__alexnetv1", "siamark__siamfc_mobilev2"),
)
class SiamFCTracker(SharedNetworkSearch, Tracker):
    # Each object is already a batch of 3 scale crops: 8 objects batched ran at 0.87x the loop.
    cpu_batching_pays = False

    def __init__(self, config: SiamFCConfig, model: nn.Module, device: str = "auto", half: bool = False):
        super().__init__()
        self.config = config
        self.net = NetworkRunner(model, device, half)
        self.device = self.net.device
        self.weights_source = ""
        c = config
        self.upscale_sz = c.response_up * c.response_size
        self.hann_window = normalised_hanning(self.upscale_sz)
        self.scale_factors = c.scale_step ** np.linspace(-(c.scale_num // 2), c.scale_num // 2, c.scale_num)

    def _init(self, frame: np.ndarray, box: Box) -> None:
        c = self.config
        img = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        # The official code treats the box as 1-based and adds the 1 back on output, so any
        # origin is preserved; subtracting and adding 1 keeps its float32 rounding identical.
        b = np.array(
            [box[1] - 1 + (box[3] - 1) / 2, box[0] - 1 + (box[2] - 1) / 2, box[3], box[2]], dtype=np.float32
        )
        center, target_sz = b[:2], b[2:]
        context = c.context * np.sum(target_sz)
        z_sz = np.sqrt(np.prod(target_sz + context))
        x_sz = z_sz * c.instance_size / c.exemplar_size
        self._avg = np.mean(img, axis=(0, 1))
        z = crop_siamfc(img, center, z_sz, c.exemplar_size, self._avg)
        self.net.template(z)
        self._exemplar = z[..., ::-1]  # BGR, for the inside view (a view, no copy)
        self._state = SiamFCState(center, target_sz, z_sz, x_sz)

    def _template_patch(self, frame: np.ndarray, box: Box) -> np.ndarray:
        """The exemplar crop of ``box`` as ``_init`` makes it, cropped from the BGR frame (the
        crop works per channel) to save converting the whole frame."""
        c = self.config
        center = np.array([box[1] - 1 + (box[3] - 1) / 2, box[0] - 1 + (box[2] - 1) / 2])
        target_sz = np.array([box[3], box[2]])
        z_sz = np.sqrt(np.prod(target_sz + c.context * np.sum(target_sz)))
        return crop_siamfc(frame, center, z_sz, c.exemplar_size, self._avg[::-1])[..., ::-1]

    def _state_box(self) -> Box:
        st = self._state
        return self._to_box(st.center, st.target_sz)

    @staticmethod
    def _to_box(center, target_sz) -> Box:
        return (
            float(center[1] + 1 - (target_sz[1] - 1) / 2),
            float(center[0] + 1 - (target_sz[0] - 1) / 2),
            float(target_sz[1]),
            float(target_sz[0]),
        )

    def search_patch(self, frame: np.ndarray) -> np.ndarray:
        """The search crops at every scale: (scale_num, 255, 255, 3), RGB."""
        c, st = self.config, self._state
        img = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        return np.stack(
            [crop_siamfc(img, st.center, st.x_sz * f, c.instance_size, self._avg) for f in self.scale_factors]
        )

    def forward_many(self, patches, states) -> list[dict[str, np.ndarray]]:
        return self.net.track_many(patches, states, forward=self._embed_together_correlate_apart)

    def _embed_together_correlate_apart(self, batch: torch.Tensor, states, counts) -> torch.Tensor:
        """One backbone pass over every object's scale crops, then each object's own correlation:
        the very call a single tracker makes. (A grouped correlation over all objects differs in
        float rounding, enough to move the argmax of the x16 upsampled response by a cell.)"""
        model = self.net.model
        features = model.embed(batch).split(list(counts))
        return torch.cat([model.head(s["kernel"], f) for s, f in zip(states, features, strict=True)])

    def _track(self, frame: np.ndarray) -> TrackResult:
        c = self.config
        st = self._state
        # crops + forward, or given by a batched forward over several objects
        raw = self._network_outputs(frame)["response"][:, 0]  # (scales, 17, 17)
        responses = np.stack(
            [cv2.resize(u, (self.upscale_sz, self.upscale_sz), interpolation=cv2.INTER_CUBIC) for u in raw]
        )
        half = c.scale_num // 2
        responses[:half] *= c.scale_penalty
        responses[half + 1 :] *= c.scale_penalty
        scale_id = int(np.argmax(np.amax(responses, axis=(1, 2))))
        chosen = responses[scale_id]
        display = _sigmoid(chosen / (c.scale_penalty if scale_id != half else 1.0)).astype(np.float32)
        score = float(_sigmoid(float(raw[scale_id].max())))

        normalised = chosen - chosen.min()
        normalised /= normalised.sum() + 1e-16
        response = (1 - c.window_influence) * normalised + c.window_influence * self.hann_window
        loc = np.unravel_index(response.argmax(), response.shape)

        f = self.scale_factors[scale_id]
        step = c.total_stride / c.response_up * st.x_sz * f / c.instance_size
        prev_center = st.center.copy()
        x_sz_prev = st.x_sz * f
        disp = (np.array(loc) - (self.upscale_sz - 1) / 2) * step
        st.center += disp
        scale = (1 - c.scale_lr) * 1.0 + c.scale_lr * f
        st.target_sz *= scale
        st.z_sz *= scale
        st.x_sz *= scale

        origin = -(self.upscale_sz - 1) / 2 * step
        geometry = MapGeometry(
            x0=float(prev_center[1] + origin), y0=float(prev_center[0] + origin), step=float(step)
        )
        search_region = (
            float(prev_center[1] - x_sz_prev / 2),
            float(prev_center[0] - x_sz_prev / 2),
            float(x_sz_prev),
            float(x_sz_prev),
        )
        extras = {
            "scale_id": scale_id,
            "raw_response_max_per_scale": raw.reshape(len(raw), -1).max(axis=1),
            "raw_response_argmax_per_scale": raw.reshape(len(raw), -1).argmax(axis=1),
        }
        if self.inspect:
            factors = np.where(np.arange(c.scale_num) == half, 1.0, c.scale_penalty)
            extras["inside"] = Inside(
                decode="scales",
                template=self._exemplar,
                search_region=search_region,
                geometry=geometry,
                score=display[None],
                penalty=None,
                window=self.hann_window[None],
                window_influence=c.window_influence,
                penalty_k=None,
                penalised=normalised[None],
                final=response[None],
                best=(0, int(loc[0]), int(loc[1])),
                # the full scale change, before scale_lr smooths it (the centre moves unsmoothed)
                box=self._to_box(st.center, st.target_sz / scale * f),
                anchors=None,
                levels=Levels(
                    kind="scales",
                    names=tuple(f"scale x{s:.3f}" for s in self.scale_factors),
                    maps=tuple(_sigmoid(u).astype(np.float32) for u in raw),
                    weights=factors,
                    chosen=scale_id,
                ),
                level_note="SiamFC: one correlation map per search scale",
            )
        return TrackResult(
            box=self._to_box(st.center, st.target_sz),
            score=score,
            response=display,
            geometry=geometry,
            search_region=search_region,
            extras=extras,
        )
