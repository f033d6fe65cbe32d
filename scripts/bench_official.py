"""Siamark's trackers against the official code: same frames, same weights, same run.

For each seed tracker, a network of the official layout is built with random (seeded)
weights, saved, and loaded by both sides: the official tracker class from a snapshot of its
repository, and ``trackers.create`` (the fast CPU path unless ``--backend torch``). Frames are
held in memory; the two alternate (official, ours, official, ours) and the faster round of each
is reported, with the ratio. Beside it, the arithmetic each side does per second (the search
branch's FLOPs per frame x fps) against what PyTorch's own large f32 matrix product reaches on
the same threads, measured in the same process: where our side computes at or above that, the
ratio can only grow by doing less arithmetic (or lower precision), not by faster code. Our side
does: its wide convolutions are Winograd ones (``trackers/ops/winograd.py``), so its rate is an
effective one (the FLOPs counted are the direct convolutions'); the same tracker with every
convolution direct runs in the same rounds and is printed beside it.
Nothing of the official code ships with Siamark: point the script at snapshots (``git clone``
or the ``fetch`` tool) and install ``yacs`` (pysot's config).

    python scripts/bench_official.py --pysot DIR --siamban DIR --siamfc DIR \\
        --sequence ../shared/data/sequences/vot_bag [--frames 100] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from trackers.onnx_runner import BACKENDS

#: label, our tracker, official layout, official code, its config (relative to its repository)
PAIRS = (
    (
        "siamrpn (alex)",
        "siamrpn",
        "pysot__siamrpn_alex_dwxcorr",
        "pysot",
        "experiments/siamrpn_alex_dwxcorr/config.yaml",
    ),
    (
        "siamrpnpp-r50",
        "siamrpnpp-r50",
        "pysot__siamrpn_r50_l234_dwxcorr",
        "pysot",
        "experiments/siamrpn_r50_l234_dwxcorr/config.yaml",
    ),
    (
        "siamrpnpp-mobilev2 (pysot x1.4)",
        "siamrpnpp-mobilev2",
        "pysot__siamrpn_mobilev2_l234_dwxcorr",
        "pysot",
        "experiments/siamrpn_mobilev2_l234_dwxcorr/config.yaml",
    ),
    (
        "siamban-r50",
        "siamban-r50",
        "siamban__siamban_r50_l234",
        "siamban",
        "experiments/siamban_r50_l234/config.yaml",
    ),
    ("siamfc (alexnet)", "siamfc", "siamfc_pytorch__alexnetv1", "siamfc", None),
)
ROUNDS = 2


def official_pysot(package: str, repo: Path, config: str, weights: Path):
    """pysot and SiamBAN: the same builder / tracker structure, each under its own package."""
    sys.path.insert(0, str(repo))
    core = __import__(f"{package}.core.config", fromlist=["cfg"])
    cfg = core.cfg
    cfg.merge_from_file(str(repo / config))
    cfg.CUDA = False
    builder = __import__(f"{package}.models.model_builder", fromlist=["ModelBuilder"])
    tracker_builder = __import__(f"{package}.tracker.tracker_builder", fromlist=["build_tracker"])
    model = builder.ModelBuilder()
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    tracker = tracker_builder.build_tracker(model.eval())

    def init(frame, box):
        tracker.init(frame, list(box))

    def track(frame):
        return tracker.track(frame)["bbox"]

    return Official(init, track)


def official_siamfc(repo: Path, weights: Path):
    sys.path.insert(0, str(repo))
    from siamfc import TrackerSiamFC

    tracker = TrackerSiamFC(net_path=str(weights))

    def init(frame, box):
        # siamfc-pytorch reads RGB and treats the box as 1-based (it adds the 1 back on output).
        tracker.init(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), np.asarray(box, dtype=np.float32))

    def track(frame):
        return tracker.update(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))

    return Official(init, track)


class Official:
    """An official tracker as ``trackers.bench`` runs one: ``init`` and ``track`` -> a result
    with ``box`` (the official trackers report no comparable score)."""

    def __init__(self, init, track):
        self.init, self._track = init, track

    def track(self, frame):
        return SimpleNamespace(box=self._track(frame), score=math.nan)


def peak_gflops(size: int = 2048, repeats: int = 5) -> float:
    """GFLOP/s of PyTorch's f32 matrix product on this CPU and thread count: a practical ceiling."""
    import time

    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def search_gflop(tracker, frame, box) -> float:
    """FLOPs of one frame's search forward (all its crops), counted on the PyTorch model."""
    from trackers.flops import count_flops

    tracker.init(frame, box)
    patches = np.asarray(tracker.search_patch(frame))
    batch = torch.from_numpy(patches if patches.ndim == 4 else patches[None]).permute(0, 3, 1, 2).float()
    model = tracker.net.model
    return count_flops(model, batch, fn=model.track).gflops


def run_each_apart(args, pairs) -> int:
    """One process per pair: pysot and SiamBAN keep their configuration in a global, and each
    pair starts from cold thread pools."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for label, *_ in pairs:
            out = Path(folder) / "row.json"
            command = [
                sys.executable,
                __file__,
                "--sequence",
                str(args.sequence),
                "--frames",
                str(args.frames),
            ]
            for code in ("pysot", "siamban", "siamfc"):
                if getattr(args, code) is not None:
                    command += [f"--{code}", str(getattr(args, code))]
            command += ["--backend", args.backend, "--only", label.split()[0], "--json", str(out)]
            if subprocess.run(command, check=False).returncode == 0 and out.is_file():
                rows += json.loads(out.read_text())["rows"]
    if args.json:
        args.json.write_text(
            json.dumps({"sequence": args.sequence.name, "frames": args.frames, "rows": rows}, indent=2) + "\n"
        )
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pysot", type=Path, help="a snapshot of STVIR/pysot")
    ap.add_argument("--siamban", type=Path, help="a snapshot of hqucv/siamban")
    ap.add_argument("--siamfc", type=Path, help="a snapshot of huanglianghua/siamfc-pytorch")
    ap.add_argument("--sequence", required=True, type=Path)
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--backend", default="auto", choices=BACKENDS)
    ap.add_argument("--only", nargs="+", help="labels' first words to run (e.g. siamfc siamban-r50)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    import trackers
    from trackers.architectures import build
    from trackers.bench import bench_one, load_sequence

    selected = [p for p in PAIRS if not args.only or p[0].split()[0] in args.only]
    if len(selected) > 1:
        return run_each_apart(args, selected)
    seq = load_sequence(args.sequence, args.frames)
    frames = seq.frames
    repos = {"pysot": args.pysot, "siamban": args.siamban, "siamfc": args.siamfc}
    print(
        f"{seq.name}: {len(frames)} frames; torch threads {torch.get_num_threads()}; ours: backend {args.backend}"
    )
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for label, ours_name, layout, code, config in PAIRS:
            if args.only and label.split()[0] not in args.only:
                continue
            repo = repos[code]
            if repo is None:
                print(f"{label}: skipped (no --{code} snapshot)")
                continue
            torch.manual_seed(0)
            weights = Path(folder) / f"{layout}.pth"
            torch.save(build(layout).state_dict(), weights)
            if code == "siamfc":
                official = official_siamfc(repo, weights)
            else:
                official = official_pysot(code, repo, config, weights)
            ours = trackers.create(ours_name, weights=str(weights), device="cpu", backend=args.backend)
            # the same path with every convolution direct: what the Winograd layers add
            direct = trackers.create(ours_name, weights=str(weights), device="cpu", backend=args.backend)
            if hasattr(direct.net, "winograd"):
                direct.net.winograd = False
            fps = {"official": [], "ours": [], "direct": []}
            for _ in range(ROUNDS):
                fps["official"].append(bench_one(official, label, seq)["fps"])
                fps["ours"].append(bench_one(ours, ours_name, seq)["fps"])
                fps["direct"].append(bench_one(direct, ours_name, seq)["fps"])
            row = {"tracker": label, "official_fps": max(fps["official"]), "ours_fps": max(fps["ours"])}
            row["ours_direct_fps"] = max(fps["direct"])
            row["ratio"] = row["ours_fps"] / row["official_fps"]
            row["gflop_per_frame"] = search_gflop(ours, frames[0], seq.init_box)
            row["peak_gflops"] = peak_gflops()
            for side in ("official", "ours"):
                row[f"{side}_gflops"] = row["gflop_per_frame"] * row[f"{side}_fps"]
            rows.append(row)
            print(
                f"{label:34s} official {row['official_fps']:6.1f} fps   ours {row['ours_fps']:6.1f} fps"
                f"   ratio {row['ratio']:.2f}   (ours with direct convolutions {row['ours_direct_fps']:.1f} fps)"
                f"\n{'':34s} {row['gflop_per_frame']:.2f} GFLOP / frame:"
                f" official {row['official_gflops']:.0f}, ours {row['ours_gflops']:.0f} GFLOP/s;"
                f" PyTorch f32 matrix product {row['peak_gflops']:.0f} GFLOP/s",
                flush=True,
            )
    if args.json:
        args.json.write_text(
            json.dumps({"sequence": seq.name, "frames": len(frames), "rows": rows}, indent=2) + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
