"""Cross-correlations (trackers/ops/xcorr.py) against explicit loops on tiny tensors."""

from __future__ import annotations

import pytest
import torch

from trackers.ops.xcorr import xcorr_batched, xcorr_depthwise, xcorr_plain, xcorr_upchannel


def rand(*shape, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64)


def loop_full(search, kernel):
    """out[b, 0, y, x] = sum_{c,u,v} search[b, c, y+u, x+v] * kernel[b, c, u, v]."""
    b, _, hs, ws = search.shape
    _, _, hk, wk = kernel.shape
    out = torch.zeros(b, 1, hs - hk + 1, ws - wk + 1, dtype=search.dtype)
    for n in range(b):
        for y in range(hs - hk + 1):
            for x in range(ws - wk + 1):
                out[n, 0, y, x] = (search[n, :, y : y + hk, x : x + wk] * kernel[n]).sum()
    return out


def loop_depthwise(search, kernel):
    b, c, hs, ws = search.shape
    _, _, hk, wk = kernel.shape
    out = torch.zeros(b, c, hs - hk + 1, ws - wk + 1, dtype=search.dtype)
    for n in range(b):
        for ch in range(c):
            for y in range(hs - hk + 1):
                for x in range(ws - wk + 1):
                    out[n, ch, y, x] = (search[n, ch, y : y + hk, x : x + wk] * kernel[n, ch]).sum()
    return out


def loop_upchannel(search, kernel, out_channels):
    """Kernel channel o*C + c is channel c of output o's kernel (pysot UPChannelRPN / DaSiamRPN view)."""
    b, c, hs, ws = search.shape
    _, _, hk, wk = kernel.shape
    out = torch.zeros(b, out_channels, hs - hk + 1, ws - wk + 1, dtype=search.dtype)
    for n in range(b):
        for o in range(out_channels):
            k = kernel[n, o * c : (o + 1) * c]
            for y in range(hs - hk + 1):
                for x in range(ws - wk + 1):
                    out[n, o, y, x] = (search[n, :, y : y + hk, x : x + wk] * k).sum()
    return out


def test_xcorr_plain_hand_computed():
    # 1 channel, 3x3 search 0..8, 2x2 kernel [[1, 0], [0, -1]] -> s[y,x] - s[y+1,x+1] = -4 everywhere
    search = torch.arange(9, dtype=torch.float64).reshape(1, 1, 3, 3)
    kernel = torch.tensor([[[[1.0, 0.0], [0.0, -1.0]]]], dtype=torch.float64)
    assert xcorr_plain(search, kernel).tolist() == [[[[-4.0, -4.0], [-4.0, -4.0]]]]
    # correlation, not convolution: the kernel is not flipped
    kernel = torch.tensor([[[[0.0, 1.0], [0.0, 0.0]]]], dtype=torch.float64)
    assert xcorr_plain(search, kernel).tolist() == [[[[1.0, 2.0], [4.0, 5.0]]]]


def test_xcorr_plain_sums_channels():
    search, kernel = rand(1, 3, 5, 5, seed=0), rand(1, 3, 2, 2, seed=1)
    out = xcorr_plain(search, kernel)
    assert out.shape == (1, 1, 4, 4)
    torch.testing.assert_close(out, loop_full(search, kernel), rtol=1e-12, atol=1e-12)


def test_xcorr_batched_matches_loop_and_pairs_by_index():
    search, kernel = rand(3, 3, 5, 5, seed=2), rand(3, 3, 2, 2, seed=3)
    out = xcorr_batched(search, kernel)
    assert out.shape == (3, 1, 4, 4)
    torch.testing.assert_close(out, loop_full(search, kernel), rtol=1e-12, atol=1e-12)
    for n in range(3):
        torch.testing.assert_close(out[n : n + 1], xcorr_plain(search[n : n + 1], kernel[n : n + 1]))


def test_xcorr_depthwise_hand_computed():
    search = torch.zeros(1, 2, 3, 3, dtype=torch.float64)
    search[0, 0] = torch.arange(9).reshape(3, 3)
    search[0, 1] = 10
    kernel = torch.zeros(1, 2, 2, 2, dtype=torch.float64)
    kernel[0, 0, 1, 1] = 1.0  # picks s[y+1, x+1]
    kernel[0, 1] = 0.5  # mean-like: 4 * 10 * 0.5 = 20
    out = xcorr_depthwise(search, kernel)
    assert out.tolist() == [[[[4.0, 5.0], [7.0, 8.0]], [[20.0, 20.0], [20.0, 20.0]]]]


def test_xcorr_depthwise_matches_loop():
    search, kernel = rand(2, 3, 5, 5, seed=4), rand(2, 3, 2, 2, seed=5)
    out = xcorr_depthwise(search, kernel)
    assert out.shape == (2, 3, 4, 4)
    torch.testing.assert_close(out, loop_depthwise(search, kernel), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("out_channels", [1, 2, 4])
def test_xcorr_upchannel_matches_loop(out_channels):
    search, kernel = rand(2, 3, 5, 5, seed=6), rand(2, out_channels * 3, 2, 2, seed=7)
    out = xcorr_upchannel(search, kernel, out_channels)
    assert out.shape == (2, out_channels, 4, 4)
    torch.testing.assert_close(out, loop_upchannel(search, kernel, out_channels), rtol=1e-12, atol=1e-12)


def test_xcorr_upchannel_channel_grouping_hand_computed():
    # C=2, out=2: kernel channels [o0c0, o0c1, o1c0, o1c1]; only o1c0 is set -> output 1 = search ch 0
    search = torch.zeros(1, 2, 2, 2, dtype=torch.float64)
    search[0, 0] = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    search[0, 1] = 100.0
    kernel = torch.zeros(1, 4, 1, 1, dtype=torch.float64)
    kernel[0, 2] = 1.0
    out = xcorr_upchannel(search, kernel, 2)
    assert out.tolist() == [[[[0.0, 0.0], [0.0, 0.0]], [[1.0, 2.0], [3.0, 4.0]]]]


@pytest.mark.parametrize(
    "fn, kc, extra",
    [(xcorr_batched, 3, ()), (xcorr_depthwise, 3, ()), (xcorr_upchannel, 6, (2,))],
)
def test_batch_independence(fn, kc, extra):
    search, kernel = rand(4, 3, 5, 5, seed=8), rand(4, kc, 2, 2, seed=9)
    full = fn(search, kernel, *extra)
    for n in range(4):
        torch.testing.assert_close(full[n : n + 1], fn(search[n : n + 1], kernel[n : n + 1], *extra))
    # changing one pair leaves every other pair's output untouched
    search2 = search.clone()
    search2[1] += 1.0
    changed = fn(search2, kernel, *extra)
    assert not torch.allclose(changed[1], full[1])
    for n in (0, 2, 3):
        torch.testing.assert_close(changed[n], full[n], rtol=0, atol=0)
