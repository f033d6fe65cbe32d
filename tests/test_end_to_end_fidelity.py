"""Full trackers (network included) against the official trackers' per-frame results.

Formula weights (random but deterministic, shared/fixtures/fidelity/README.md §1) are loaded
strictly under the official key names; the first 15 frames of vot_bag (and, for SiamFC, of
otb_crossing, whose search windows reach past the image: the padded crop, §4b) are tracked and
compared frame by frame: crop shapes and sums exactly, boxes within 1e-3 px, scores within 1e-5
(§5).
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from tests.formula_weights import formula_weights
from tests.shared_data import FIDELITY, SEQUENCES, needs_shared

pytestmark = [needs_shared, pytest.mark.slow]

CASES = [
    ("siamfc_pytorch__alexnetv1", "siamfc", "vot_bag"),
    ("siamfc_pytorch__alexnetv1", "siamfc", "otb_crossing"),
    ("pysot__siamrpn_alex_dwxcorr", "siamrpn", "vot_bag"),
    ("pysot__siamrpn_r50_l234_dwxcorr", "siamrpnpp-r50", "vot_bag"),
    ("siamban__siamban_r50_l234", "siamban-r50", "vot_bag"),
]


class Recorder(torch.nn.Module):
    """Wraps the real network to record the crops it is fed (shape and exact sum)."""

    def __init__(self, net):
        super().__init__()
        self.net = net
        self.z_sums, self.x_sums, self.x_shapes = [], [], []

    def template(self, z):
        self.z_sums.append(float(z.double().sum()))
        return self.net.template(z)

    def track(self, x):
        self.x_sums.append(float(x.double().sum()))
        self.x_shapes.append(list(x.shape))
        return self.net.track(x)


@pytest.mark.parametrize("stem,name,sequence", CASES)
def test_tracker_reproduces_official_run(stem, name, sequence):
    import trackers
    from trackers.architectures import build
    from trackers.checkpoints import load_strict

    torch.set_num_threads(1)
    meta = json.loads((FIDELITY / f"{stem}__{sequence}15.json").read_text())
    assert meta["sequence"] == sequence
    frames = [cv2.imread(str(SEQUENCES / sequence / "img" / f)) for f in meta["frames"]]
    info = trackers.get(name)
    net = build(stem)
    load_strict(net, formula_weights(stem))
    rec = Recorder(net)
    tracker = info.tracker_cls(info.config_cls.create(), rec, device="cpu")
    tracker.init(frames[0], meta["init_box"])
    ref = meta["per_frame"]
    assert rec.z_sums == [ref[0]["z_crop_sum"]]
    for k, frame in enumerate(frames[1:], start=1):
        res = tracker.track(frame)
        r = ref[k]
        where = f"{name}: first difference at frame {k + 1}"
        assert rec.x_shapes[-1] == r["x_crop_shape"], where
        assert rec.x_sums[-1] == r["x_crop_sum"], where
        np.testing.assert_allclose(res.box, r["bbox"], atol=1e-3, rtol=0, err_msg=where)
        if "best_score" in r:
            assert abs(res.score - r["best_score"]) <= 1e-5, where
        else:
            np.testing.assert_array_equal(
                res.extras["raw_response_argmax_per_scale"], r["raw_response_argmax_per_scale"], err_msg=where
            )
            np.testing.assert_allclose(
                res.extras["raw_response_max_per_scale"],
                r["raw_response_max_per_scale"],
                atol=2e-5,
                err_msg=where,
            )
