"""NanoTrack with its real weights on real video, against OpenCV's own TrackerNano.

Both run in this test, on the same frames with the same weights (OpenCV gets the official
ONNX exports of the same checkpoints). Our tracker follows the official Python NanoTracker;
OpenCV's C++ port uses other hyper-parameters, RGB input and a few shortcuts, so the two
differ frame by frame while being the same network.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.shared_data import SEQUENCES, WEIGHTS, needs_shared

pytestmark = [needs_shared, pytest.mark.slow]

SEQS = ("vot_bag", "otb_crossing", "otb_basketball")
ONNX = {
    1: ("nanotrack_v1/nanotrack_backbone_sim.onnx", "nanotrack_v1/nanotrack_head_sim.onnx"),
    2: ("nanotrack_v2/nanotrack_backbone_sim.onnx", "nanotrack_v2/nanotrack_head_sim.onnx"),
}
# The same network in both, with different pre- and post-processing: the mean success AUC over
# these three sequences differs by up to ~0.012 either way (v2 ours 0.700 vs OpenCV 0.688 with
# opencv-contrib 5.0, 0.702 with 5.1; v1 0.681 vs 0.693), and OpenCV's own figure moves that much
# between minor releases. On 14 other sequences ours leads for both versions (v1 0.653 vs 0.629,
# v2 0.684 vs 0.660). So "as good as OpenCV's" is held to within 0.03 (2.5x that spread), the same
# for both versions; a real defect (a wrong crop, window or scale) costs far more than that.
MARGIN = 0.03


@pytest.fixture(scope="module")
def sequences():
    from trackers.bench import load_sequence

    return [load_sequence(SEQUENCES / name) for name in SEQS]


@pytest.mark.parametrize("version", [1, 2])
def test_nanotrack_matches_or_beats_opencv_tracker_nano(sequences, version):
    import trackers
    from trackers.bench import bench_one
    from trackers.reference import create_reference

    ours, theirs = [], []
    for seq in sequences:
        tracker = trackers.create(
            "nanotrack", weights=WEIGHTS / f"nanotrack_v{version}/nanotrackv{version}.pth", device="cpu"
        )
        assert tracker.config.architecture == f"nanotrack_v{version}"
        ours.append(bench_one(tracker, "nanotrack", seq, warmup=False)["auc"])
        ref = create_reference("opencv-nano", tuple(WEIGHTS / p for p in ONNX[version]))
        theirs.append(bench_one(ref, "opencv-nano", seq, warmup=False)["auc"])
    print(
        f"v{version} AUC ours {np.round(ours, 3)} mean {np.mean(ours):.3f}; "
        f"OpenCV {np.round(theirs, 3)} mean {np.mean(theirs):.3f}"
    )
    # Real weights track: every sequence well above what a drifting tracker scores.
    assert min(ours) > 0.5
    assert np.mean(ours) >= np.mean(theirs) - MARGIN
