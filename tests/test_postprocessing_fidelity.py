"""The official trackers' post-processing, isolated from the networks.

The network is replaced by a stub that returns, frame by frame, the raw outputs the official
tracker's network produced (``<stem>__vot_bag15.outputs.npz``). Our crops are checked through
the sums the stub sees, and our boxes / scores against the official ones
(shared/fixtures/fidelity/README.md §4, §5, §6 step 3).
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from tests.shared_data import FIDELITY, SEQUENCES, needs_shared

pytestmark = needs_shared


class ReplayNet(nn.Module):
    """Stands in for a network: records what it is fed and replays stored outputs."""

    def __init__(self, outputs: dict[str, np.ndarray]):
        super().__init__()
        self.outputs = outputs
        self.frame = 0
        self.z_sums: list[float] = []
        self.x_sums: list[float] = []
        self.x_shapes: list[list[int]] = []

    def template(self, z: torch.Tensor) -> None:
        self.z_sums.append(float(z.double().sum()))

    def track(self, x: torch.Tensor):
        self.x_sums.append(float(x.double().sum()))
        self.x_shapes.append(list(x.shape))
        out = {k: torch.from_numpy(v[self.frame]) for k, v in self.outputs.items()}
        self.frame += 1
        return out["response"] if list(out) == ["response"] else out


def _load(stem: str):
    meta = json.loads((FIDELITY / f"{stem}__vot_bag15.json").read_text())
    outputs = dict(np.load(FIDELITY / f"{stem}__vot_bag15.outputs.npz"))
    frames = [cv2.imread(str(SEQUENCES / "vot_bag" / "img" / name)) for name in meta["frames"]]
    return meta, outputs, frames


def _run(tracker_cls, config, stem):
    meta, outputs, frames = _load(stem)
    net = ReplayNet(outputs)
    tracker = tracker_cls(config, net, device="cpu")
    tracker.init(frames[0], meta["init_box"])
    results = [tracker.track(f) for f in frames[1:]]
    return meta, net, results


PYSOT_CASES = [
    ("pysot__siamrpn_alex_dwxcorr", "siamrpn", None),
    ("pysot__siamrpn_r50_l234_dwxcorr", "siamrpnpp-r50", None),
    ("siamban__siamban_r50_l234", "siamban-r50", None),
]


@pytest.mark.parametrize("stem,name,preset", PYSOT_CASES)
def test_pysot_postprocessing_matches_official(stem, name, preset):
    import trackers

    info = trackers.get(name)
    config = info.config_cls.create(preset)
    meta, net, results = _run(info.tracker_cls, config, stem)
    per_frame = meta["per_frame"]
    assert net.z_sums == [per_frame[0]["z_crop_sum"]]
    for k, (res, ref) in enumerate(zip(results, per_frame[1:]), start=2):
        assert net.x_shapes[k - 2] == ref["x_crop_shape"], f"frame {k}"
        assert net.x_sums[k - 2] == ref["x_crop_sum"], f"frame {k}: search crop differs"
        np.testing.assert_allclose(res.box, ref["bbox"], atol=1e-4, rtol=0, err_msg=f"frame {k}")
        assert abs(res.score - ref["best_score"]) <= 1e-6, f"frame {k}"


def test_siamfc_postprocessing_matches_official():
    import trackers

    info = trackers.get("siamfc")
    meta, net, results = _run(info.tracker_cls, info.config_cls.create(), "siamfc_pytorch__alexnetv1")
    per_frame = meta["per_frame"]
    assert net.z_sums == [per_frame[0]["z_crop_sum"]]
    for k, (res, ref) in enumerate(zip(results, per_frame[1:]), start=2):
        assert net.x_shapes[k - 2] == ref["x_crop_shape"], f"frame {k}"
        assert net.x_sums[k - 2] == ref["x_crop_sum"], f"frame {k}: search crops differ"
        np.testing.assert_allclose(res.box, ref["bbox"], atol=1e-4, rtol=0, err_msg=f"frame {k}")
        np.testing.assert_array_equal(
            res.extras["raw_response_argmax_per_scale"], ref["raw_response_argmax_per_scale"]
        )
        np.testing.assert_allclose(
            res.extras["raw_response_max_per_scale"], ref["raw_response_max_per_scale"], atol=1e-6
        )
