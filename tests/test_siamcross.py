"""SiamCross (paper re-implementation): deformable conv, SCAN, OAIN pieces, the network, the tracker.

No official weights exist, so the checks are hand-computed cases for each component, shape /
batch behaviour of the whole network, and an end-to-end run with random weights.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import trackers
from tests.shared_data import SEQUENCES, needs_shared
from trackers.checkpoints import detect_architecture
from trackers.flops import count_flops
from trackers.io import read_groundtruth
from trackers.models.deform_conv import DeformConv2d, deform_columns, deform_conv2d, deform_rows
from trackers.models.siamcross import (
    GAMMA,
    ChannelAttention,
    CrossAttention,
    LUTAttention,
    ParallelSpatialAttention,
    adca_offsets,
    build_siamcross,
    build_siamcross_mobilev2,
    build_siamcross_r50,
    ellipse_mask,
    fuse_scores,
)
from trackers.ops.xcorr import xcorr_depthwise


def _coordinate_image(h: int, w: int) -> torch.Tensor:
    """(1, 2, h, w): channel 0 = row index, channel 1 = column index. Bilinear sampling of a
    linear ramp is exact, so a conv that reads one tap of it returns the sampled coordinate."""
    rows, cols = torch.meshgrid(
        torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij"
    )
    return torch.stack([rows, cols]).unsqueeze(0)


def _tap_reader(k: int) -> torch.Tensor:
    """Weights (2k, 2, kh, kw) whose output 2t + c is channel c at tap t: the sampled (row, col)."""
    side = math.isqrt(k)
    weight = torch.zeros(2 * k, 2, side, side, dtype=torch.float64)
    for t in range(k):
        for c in range(2):
            weight[2 * t + c, c, t // side, t % side] = 1.0
    return weight


# --- deformable convolution --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("stride", "padding", "dilation"), [(1, 1, 1), (1, 0, 1), (2, 1, 1), (1, 2, 2), (2, (1, 2), 1)]
)
def test_deform_conv_with_zero_offsets_is_conv2d(stride, padding, dilation) -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 5, 11, 13, dtype=torch.float64)
    conv = DeformConv2d(5, 7, 3, stride=stride, padding=padding, dilation=dilation).double()
    ref = F.conv2d(x, conv.weight, conv.bias, stride, padding, dilation)
    offset = torch.zeros(2, 18, ref.shape[2], ref.shape[3], dtype=torch.float64)
    torch.testing.assert_close(conv(x, offset), ref, rtol=1e-10, atol=1e-10)


def test_deform_conv_samples_the_offset_points() -> None:
    img = _coordinate_image(9, 10)
    offset = torch.zeros(1, 18, 9, 10, dtype=torch.float64)
    # Output (4, 5), tap 0 (top-left, nominally at (3, 4)) moved by (dy, dx) = (0.5, -1.25);
    # tap 8 (bottom-right, nominally (5, 6)) by (-2, 2.75).
    offset[0, 0, 4, 5], offset[0, 1, 4, 5] = 0.5, -1.25
    offset[0, 16, 4, 5], offset[0, 17, 4, 5] = -2.0, 2.75
    sampled = deform_conv2d(img, offset, _tap_reader(9), padding=1)
    out = sampled[0, :, 4, 5].reshape(9, 2)
    # grid_sample's normalised coordinates cost a few ulps: compare with a tolerance.
    expected = [[3.0 + dy, 4.0 + dx] for dy in range(3) for dx in range(3)]
    expected[0] = [3.5, 2.75]
    expected[8] = [3.0, 8.75]
    torch.testing.assert_close(out, torch.tensor(expected, dtype=torch.float64))
    # Every other output position samples its regular grid, e.g. tap 0 of (2, 2) reads (1, 1).
    torch.testing.assert_close(sampled[0, 0:2, 2, 2], torch.tensor([1.0, 1.0], dtype=torch.float64))


def test_deform_conv_counts_outside_as_zero() -> None:
    ones = torch.ones(1, 1, 3, 3, dtype=torch.float64)
    pick_centre = torch.zeros(1, 1, 1, 1, dtype=torch.float64)
    pick_centre[0, 0, 0, 0] = 1.0
    offset = torch.zeros(1, 2, 3, 3, dtype=torch.float64)
    offset[0, 0, 0, 1] = -0.5  # (0, 1) -> (-0.5, 1): half of the bilinear weight is outside
    offset[0, 1, 1, 2] = 1.0  # (1, 2) -> (1, 3): entirely outside
    offset[0, 1, 2, 0] = 0.25  # (2, 0) -> (2, 0.25): inside
    out = deform_conv2d(ones, offset, pick_centre)[0, 0]
    assert out[0, 1].item() == 0.5
    assert out[1, 2].item() == 0.0
    assert out[2, 0].item() == 1.0


def _bilinear_zero_outside(img: torch.Tensor, y: float, x: float) -> torch.Tensor:
    """torchvision's deformable-conv sampling rule, written out: (C,) value at (y, x)."""
    h, w = img.shape[1:]
    y0, x0 = math.floor(y), math.floor(x)
    out = torch.zeros(img.shape[0], dtype=img.dtype)
    for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
        for xx, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
            if 0 <= yy < h and 0 <= xx < w:
                out += wy * wx * img[:, yy, xx]
    return out


def test_deform_conv_matches_a_written_out_reference() -> None:
    torch.manual_seed(1)
    x = torch.randn(1, 2, 5, 6, dtype=torch.float64)
    weight = torch.randn(3, 2, 3, 3, dtype=torch.float64)
    offset = (torch.rand(1, 18, 3, 3, dtype=torch.float64) - 0.5) * 6  # some taps leave the map
    out = deform_conv2d(x, offset, weight, stride=2, padding=1)
    ref = torch.zeros(1, 3, 3, 3, dtype=torch.float64)
    for i in range(3):
        for j in range(3):
            for t in range(9):
                y = i * 2 - 1 + t // 3 + offset[0, 2 * t, i, j].item()
                xx = j * 2 - 1 + t % 3 + offset[0, 2 * t + 1, i, j].item()
                ref[0, :, i, j] += weight[:, :, t // 3, t % 3] @ _bilinear_zero_outside(x[0], y, xx)
    torch.testing.assert_close(out, ref)


@pytest.mark.parametrize(("stride", "padding"), [(1, 1), (2, 1), (1, 0)])
def test_deform_rows_are_the_columns_position_major(stride, padding) -> None:
    """The INT8 graph's gathered samples are deform_columns' values, (B, L, K * C) with the
    tap before the channel, also where taps leave the map (zeros) and across a batch."""
    torch.manual_seed(2)
    x = torch.randn(2, 3, 6, 7, dtype=torch.float64)
    h_out = (6 + 2 * padding - 3) // stride + 1
    w_out = (7 + 2 * padding - 3) // stride + 1
    offset = (torch.rand(2, 18, h_out, w_out, dtype=torch.float64) - 0.5) * 8
    columns, _, _ = deform_columns(x, offset, (3, 3), stride, padding)  # (B, C * K, L)
    expected = columns.reshape(2, 3, 9, -1).permute(0, 3, 2, 1).reshape(2, h_out * w_out, 27)
    torch.testing.assert_close(deform_rows(x, offset, (3, 3), stride, padding), expected)


def test_deform_conv_rejects_wrong_offset_shape() -> None:
    with pytest.raises(ValueError, match="offset must be"):
        deform_conv2d(torch.zeros(1, 2, 5, 5), torch.zeros(1, 18, 4, 4), torch.zeros(3, 2, 3, 3), padding=1)
    with pytest.raises(ValueError, match="offset must be"):  # the INT8 graph's sampling too
        deform_rows(torch.zeros(1, 2, 5, 5), torch.zeros(1, 18, 4, 4), (3, 3), padding=1)


# --- ADCA offsets --------------------------------------------------------------------------------
def test_adca_offsets_span_the_predicted_box() -> None:
    ltrb = torch.zeros(1, 4, 16, 16, dtype=torch.float64)
    ltrb[0, :, 8, 8] = torch.tensor([8.0, 16.0, 24.0, 0.0])  # l, t, r, b in pixels, stride 8
    offset = adca_offsets(ltrb, stride=8, kernel_size=3)
    assert offset.shape == (1, 18, 16, 16)
    # Box centre - cell = ((r - l) / 2, (b - t) / 2) / 8 = (1, -1) cells; shape offset per unit
    # tap = ((extent + 1) / 8) / 2 - 1: width 33 px -> 1.0625, height 17 px -> 0.0625.
    per_tap = offset[0, :, 8, 8].reshape(9, 2)  # (dy, dx), taps row-major
    ty = torch.tensor([-1, -1, -1, 0, 0, 0, 1, 1, 1], dtype=torch.float64)
    tx = torch.tensor([-1, 0, 1, -1, 0, 1, -1, 0, 1], dtype=torch.float64)
    torch.testing.assert_close(per_tap[:, 0], -1.0 + 0.0625 * ty)
    torch.testing.assert_close(per_tap[:, 1], 1.0 + 1.0625 * tx)
    # Sampled points (deform conv, padding 1, on a coordinate ramp): the box centre plus
    # t * (extent + 1) / 16 cells, i.e. the box edges.
    pts = deform_conv2d(_coordinate_image(16, 16), offset, _tap_reader(9), padding=1)[0, :, 8, 8]
    pts = pts.reshape(9, 2)
    torch.testing.assert_close(pts[:, 0], 7.0 + 17 / 16 * ty)
    torch.testing.assert_close(pts[:, 1], 9.0 + 33 / 16 * tx)


# --- SCAN -----------------------------------------------------------------------------------------
def test_lut_attention_hand_computed() -> None:
    # C = 2, template 2x2 (positions z0..z3), search 1x2 (x0, x1).
    zf = torch.tensor([[[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]]).unsqueeze(0)  # z0 = (1, 0)
    xf = torch.tensor([[[0.0, math.log(3.0)]], [[0.0, 0.0]]]).unsqueeze(0)  # x0 = (0, 0), x1 = (ln 3, 0)
    mask = torch.tensor([[1.0, 0.0], [0.0, 1.0]]).reshape(1, 1, 2, 2)  # V = (1, 0, 0, 1)
    lut = LUTAttention()
    with torch.no_grad():
        lut.alpha.fill_(0.5)
    out = lut(xf, zf, mask)
    # x0: all similarities 0 -> A = (1/4, 1/4, 1/4, 1/4), M = 1/2.
    # x1: similarities (ln 3, 0, 0, 0) -> A = (1/2, 1/6, 1/6, 1/6), M = 1/2 + 1/6 = 2/3.
    expected = torch.tensor([[[0.25, math.log(3.0) + 1 / 3]], [[0.25, 1 / 3]]]).unsqueeze(0)
    torch.testing.assert_close(out, expected)


def test_lut_attention_starts_as_identity() -> None:
    xf, zf = torch.randn(2, 4, 5, 5), torch.randn(2, 4, 3, 3)
    assert torch.equal(LUTAttention()(xf, zf, torch.ones(2, 1, 3, 3)), xf)


def test_cross_attention_hand_computed_and_shapes() -> None:
    # Search X (C=2, N=2) = identity -> X X^T = I -> A' rows (e, 1) / (e + 1) and (1, e) / (e + 1).
    xf = torch.eye(2).reshape(1, 2, 1, 2)
    zf = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)
    cross = CrossAttention()
    with torch.no_grad():
        cross.beta.fill_(2.0)
    e = math.e
    a = torch.tensor([[e, 1.0], [1.0, e]]) / (e + 1)
    expected = zf + 2.0 * (a @ zf.reshape(2, 2)).reshape(1, 2, 1, 2)
    torch.testing.assert_close(cross(zf, xf), expected)
    # Template shape kept whatever the search size.
    z, x = torch.randn(3, 8, 7, 7), torch.randn(3, 8, 31, 31)
    assert cross(z, x).shape == z.shape
    assert torch.equal(CrossAttention()(z, x), z)  # beta starts at 0


def test_ellipse_mask_hand_computed() -> None:
    # 48 x 16 px target: half-axes 24 / 8 px = 3 / 1 cells of 8 px around the centre cell (3, 3).
    mask = ellipse_mask(torch.tensor([[48.0, 16.0], [200.0, 200.0]]))
    expected = torch.zeros(7, 7)
    expected[3, :] = 1
    expected[2, 3] = expected[4, 3] = 1
    assert mask.shape == (2, 1, 7, 7)
    assert torch.equal(mask[0, 0], expected)
    assert torch.equal(mask[1, 0], torch.ones(7, 7))  # the whole template grid is target


# --- OAIN / PCA -------------------------------------------------------------------------------------
def test_channel_attention_range_and_reduction() -> None:
    torch.manual_seed(0)
    ca = ChannelAttention(256).eval()
    assert ca.mlp[0].weight.shape == (16, 256, 1, 1) and ca.mlp[2].weight.shape == (256, 16, 1, 1)
    f = torch.randn(2, 256, 25, 25)
    w = ca.weights(f)
    assert w.shape == (2, 256, 1, 1)
    assert bool(((w > 0) & (w < 1)).all())
    torch.testing.assert_close(ca(f), w * f)


def test_slp_maps_and_gamma_weighting() -> None:
    torch.manual_seed(0)
    sa = ParallelSpatialAttention()
    f_reg, f_cls_c = torch.randn(2, 16, 25, 25), torch.randn(2, 16, 25, 25)
    maps = sa.maps(f_reg)
    assert maps.shape == (2, 4, 25, 25)
    assert bool(((maps > 0) & (maps < 1)).all())
    # Each SLP its own 7x7 conv: the four maps differ.
    assert not torch.allclose(maps[:, 0], maps[:, 1])
    # Constant SLPs: S_i = sigmoid(b_i) * F_cls^C, F_reg^S = sum_i gamma_i S_i.
    biases = [0.0, 1.0, -2.0, 3.0]
    with torch.no_grad():
        sa.slp.weight.zero_()
        sa.slp.bias.copy_(torch.tensor(biases))
    weight = sum(g / (1 + math.exp(-b)) for g, b in zip(GAMMA, biases, strict=True))
    torch.testing.assert_close(sa(f_reg, f_cls_c), weight * f_cls_c)
    assert GAMMA == (1.0, 1.0, 1.0, 0.05)
    assert "gamma" not in sa.state_dict()  # fixed, not a checkpoint entry


def test_fuse_scores_formula_and_range() -> None:
    cls, align = np.array([0.0, 1.0, 0.2, 1.0]), np.array([0.0, 0.0, 0.6, 1.0])
    np.testing.assert_allclose(fuse_scores(cls, align, 0.0), (cls + align) / 2)
    np.testing.assert_allclose(fuse_scores(cls, align, 0.4), (0.6 * cls + align) / 1.6)
    assert fuse_scores(1.0, 1.0, 0.9) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        fuse_scores(cls, align, 1.5)


# --- whole network ---------------------------------------------------------------------------------
class _TinyBackbone(torch.nn.Module):
    """Stride-8 stand-in with the atrous backbones' geometry (127 -> 15, 255 -> 31), two levels."""

    out_channels = (6, 10)

    def __init__(self) -> None:
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 6, 15, stride=8)
        self.deep = torch.nn.Conv2d(6, 10, 3, padding=1)

    def forward(self, x):
        a = torch.relu(self.stem(x / 255))
        return [a, self.deep(a)]


def _pairs(batch: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    z = torch.rand(batch, 3, 127, 127, generator=g) * 255
    x = torch.rand(batch, 3, 255, 255, generator=g) * 255
    sizes = torch.tensor([[60.0, 40.0], [30.0, 70.0], [50.0, 50.0]])[:batch]
    return z, x, sizes


def _with_attention_on(model):
    # alpha / beta start at 0; switch SCAN on so the tests exercise it.
    with torch.no_grad():
        model.scan.lut.alpha.fill_(0.7)
        model.scan.cross.beta.fill_(0.3)
    return model


def test_generic_builder_multi_level_batch_independence() -> None:
    torch.manual_seed(0)
    model = _with_attention_on(build_siamcross(_TinyBackbone(), _TinyBackbone.out_channels))
    assert model.fuse is not None and model.fuse.weight.shape == (2,)
    z, x, sizes = _pairs(3)
    with torch.no_grad():
        model.template(z, model.template_mask(sizes))
        batched = model.track(x)
        for i in range(3):
            model.template(z[i : i + 1], model.template_mask(sizes[i : i + 1]))
            single = model.track(x[i : i + 1])
            for key in ("cls", "loc", "align"):
                torch.testing.assert_close(single[key], batched[key][i : i + 1], rtol=1e-4, atol=1e-4)
    assert batched["cls"].shape == (3, 1, 25, 25)
    assert batched["loc"].shape == (3, 4, 25, 25)
    assert batched["align"].shape == (3, 1, 25, 25)
    assert bool((batched["loc"] > 0).all())


def test_template_mask_contract() -> None:
    model = build_siamcross(_TinyBackbone(), _TinyBackbone.out_channels)
    z, x, sizes = _pairs(2)
    with torch.no_grad():
        with pytest.raises(RuntimeError, match="template"):
            model.track(x)
        model.template(z)  # features first, LUT values later (the tracker's order)
        with pytest.raises(RuntimeError):
            model.track(x)
        with pytest.raises(ValueError, match="mask must be"):
            model.set_template_mask(torch.ones(1, 1, 7, 7))
        model.set_template_mask(model.template_mask(sizes))
        assert model.track(x)["cls"].shape == (2, 1, 25, 25)


def test_r50_forward_shapes_and_layout() -> None:
    # Batch independence is checked on the tiny backbone above (same SCAN / OAIN code); one
    # ResNet-50 pass is all this 2-core test budget affords.
    torch.manual_seed(0)
    model = _with_attention_on(build_siamcross_r50())
    assert model.fuse is None  # single level: no fusion weights
    assert model.backbone.used_layers == [4]
    sd = model.state_dict()
    assert sd["neck.downsample.downsample.0.weight"].shape == (256, 2048, 1, 1)
    assert sd["oain.align.conv.weight"].shape == (256, 256, 3, 3)
    assert detect_architecture(sd) == "siamark__siamcross_r50"
    z, x, sizes = _pairs(1)
    with torch.no_grad():
        model.template(z, model.template_mask(sizes))
        assert model.zf.shape == (1, 256, 7, 7)
        out = model.track(x)
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "cls": (1, 1, 25, 25),
        "loc": (1, 4, 25, 25),
        "align": (1, 1, 25, 25),
    }
    for value in out.values():
        assert bool(torch.isfinite(value).all())


def test_mobilev2_forward_shapes() -> None:
    model = build_siamcross_mobilev2()
    assert model.fuse is not None and model.fuse.weight.shape == (3,)
    z, x, sizes = _pairs(1)
    with torch.no_grad():
        model.template(z, model.template_mask(sizes))
        out = model.track(x)
    assert out["cls"].shape == (1, 1, 25, 25) and out["loc"].shape == (1, 4, 25, 25)


# --- FLOP counter -------------------------------------------------------------------------------
def test_count_flops_counts_modules_and_functional_convs() -> None:
    conv = torch.nn.Conv2d(4, 8, 3)
    fc = count_flops(conv, torch.zeros(1, 4, 10, 10))
    assert fc.macs == 8 * 4 * 9 * 8 * 8 and fc.flops == 2 * fc.macs
    # A functional depthwise correlation (no module) is counted as well.
    dw = count_flops(conv, torch.zeros(1, 4, 10, 10), torch.zeros(1, 4, 3, 3), fn=xcorr_depthwise)
    assert dw.macs == 4 * 9 * 8 * 8


# --- tracker ------------------------------------------------------------------------------------------
def test_config_presets_and_omega_check() -> None:
    info = trackers.get("siamcross-r50")
    assert info.architectures == ("siamark__siamcross_r50",)
    cfg = info.config_cls.create()
    assert cfg.omega == 0.0 and cfg.score_size() == 25
    assert info.config_cls.create("vot2019").penalty_k == pytest.approx(0.0012159181005195463)
    with pytest.raises(ValueError, match="omega"):
        info.config_cls.create(omega=1.5)
    assert (
        trackers.get("siamcross-mobilev2").config_cls.create().architecture == "siamark__siamcross_mobilev2"
    )


@pytest.mark.slow
@needs_shared
def test_siamcross_r50_tracks_vot_bag_with_random_weights() -> None:
    seq = SEQUENCES / "vot_bag"
    gt = read_groundtruth(seq / "groundtruth_rect.txt")
    # 20 frames: ~0.7 s each on an idle 2-core CPU (93 GFLOPs a search frame).
    frames = [cv2.imread(str(seq / "img" / f"{i:04d}.jpg")) for i in range(1, 21)]
    torch.manual_seed(0)
    tracker = trackers.create("siamcross-r50", weights=trackers.RANDOM, device="cpu")
    with torch.no_grad():  # exercise SCAN too (its scales start at 0)
        tracker.net.model.scan.lut.alpha.fill_(0.5)
        tracker.net.model.scan.cross.beta.fill_(0.5)
    tracker.init(frames[0], tuple(gt[0]))
    mask = tracker.net.model.mask
    assert mask.shape == (1, 1, 7, 7) and mask[0, 0, 3, 3] == 1 and mask.sum() < 49
    img_h, img_w = frames[0].shape[:2]
    for frame in frames[1:]:
        result = tracker.track(frame)
        x, y, w, h = result.box
        assert result.ok and all(math.isfinite(v) for v in result.box)
        assert 0 <= x + w / 2 <= img_w and 0 <= y + h / 2 <= img_h
        assert 0 < w <= img_w and 0 < h <= img_h
        assert 0.0 <= result.score <= 1.0
        assert result.response.shape == (25, 25)
