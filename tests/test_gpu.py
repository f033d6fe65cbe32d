"""CUDA path: same boxes as the CPU within float tolerance, fp16 close; skipped without a GPU."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from tests.shared_data import SEQUENCES, WEIGHTS, needs_shared

pytestmark = [
    needs_shared,
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine"),
]


def _run(device: str, half: bool = False, n: int = 30):
    import trackers

    files = sorted((SEQUENCES / "vot_bag" / "img").glob("*.jpg"))[:n]
    gt = np.loadtxt(SEQUENCES / "vot_bag" / "groundtruth_rect.txt", delimiter=",")
    t = trackers.create(
        "nanotrack", weights=WEIGHTS / "nanotrack_v2/nanotrackv2.pth", device=device, half=half
    )
    assert t.device.type == device
    t.init(cv2.imread(str(files[0])), gt[0])
    return np.array([t.track(cv2.imread(str(f))).box for f in files[1:]])


def test_cuda_matches_cpu():
    np.testing.assert_allclose(_run("cuda"), _run("cpu"), atol=0.05)


def test_cuda_fp16_stays_on_target():
    boxes, ref = _run("cuda", half=True), _run("cpu")
    assert np.abs(boxes - ref).max() < 5.0
