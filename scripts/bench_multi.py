"""Multi-object tracking speed: frames per second with 1, 3, 8 objects, batched vs looped.

Every frame runs all objects (trackers/multi.py): "loop" is one network forward per object,
"batched" one forward over all objects' search crops. Runs on the CPU, and on CUDA when present.

    python scripts/bench_multi.py [--tracker siamban-mobilev2] [--weights FILE|random]
                                  [--video resources/demo/demo.mp4] [--frames 20] [--rounds 3]
                                  [--objects 1 3 8] [--threads N]

The objects are boxes on a grid over the first frame (speed does not depend on what they are).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WARM_UP_FRAMES = 3


def grid_boxes(count: int, width: int, height: int) -> list[tuple[float, float, float, float]]:
    """``count`` boxes, each a third of a grid cell wide and high, centred in its cell."""
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    cell_w, cell_h = width / cols, height / rows
    return [
        ((i % cols + 1 / 3) * cell_w, (i // cols + 1 / 3) * cell_h, cell_w / 3, cell_h / 3)
        for i in range(count)
    ]


def frames_per_second(multis: dict[str, object], frames, count: int, rounds: int) -> dict[str, float]:
    """Best of ``rounds`` timings per mode, the modes taking turns: on a shared machine the best
    round is the one least disturbed by other work."""
    h, w = frames[0].shape[:2]
    for multi in multis.values():
        for object_id, box in enumerate(grid_boxes(count, w, h)):
            multi.add(object_id, frames[0], box)
        for frame in frames[1 : 1 + WARM_UP_FRAMES]:
            multi.track(frame)
    timed = frames[1 + WARM_UP_FRAMES :]
    best = dict.fromkeys(multis, math.inf)
    for _ in range(rounds):
        for mode, multi in multis.items():
            start = time.perf_counter()
            for frame in timed:
                results = multi.track(frame)  # ends with the outputs' host copy: the device is done
            best[mode] = min(best[mode], time.perf_counter() - start)
            assert len(results) == count
    return {mode: len(timed) / seconds for mode, seconds in best.items()}


def main() -> int:
    import torch

    from trackers import RANDOM
    from trackers.devices import describe, resolve_device
    from trackers.io import open_source
    from trackers.multi import MultiTracker

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracker", default="siamban-mobilev2")
    ap.add_argument(
        "--weights", default=None, help=f"checkpoint file, '{RANDOM}', or none for the shipped one"
    )
    ap.add_argument("--video", default=str(REPO / "resources" / "demo" / "demo.mp4"))
    ap.add_argument("--frames", type=int, default=20, help="timed frames per round (after a short warm-up)")
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds per mode; the best counts")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    ap.add_argument("--objects", type=int, nargs="+", default=[1, 3, 8])
    ap.add_argument("--devices", nargs="+", default=None, help="default: cpu, and cuda when present")
    args = ap.parse_args()

    frames = open_source(args.video).read_all(1 + WARM_UP_FRAMES + args.frames)
    if len(frames) < 2 + WARM_UP_FRAMES:
        print(f"{args.video}: only {len(frames)} frames; need at least {2 + WARM_UP_FRAMES}", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = args.devices or ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    h, w = frames[0].shape[:2]
    print(
        f"{args.tracker} ({args.weights or 'shipped weights'}), {Path(args.video).name} {w}x{h}, "
        f"best of {args.rounds} rounds of {len(frames) - 1 - WARM_UP_FRAMES} frames, {torch.get_num_threads()} CPU threads"
    )
    print(f"{'device':<8}{'objects':>8}{'loop fps':>11}{'batched fps':>13}{'batched / loop':>16}")
    for device in devices:
        for count in args.objects:
            multis = {
                mode: MultiTracker(args.tracker, args.weights, device=device, batched=mode == "batched")
                for mode in ("loop", "batched")
            }
            fps = frames_per_second(multis, frames, count, args.rounds)
            ratio = fps["batched"] / fps["loop"]
            print(f"{device:<8}{count:>8}{fps['loop']:>11.1f}{fps['batched']:>13.1f}{ratio:>16.2f}")
    if "cuda" in devices:
        print(f"cuda: {describe(resolve_device('cuda'))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
