"""Which engine runs the search branch fastest on this machine? Same-run figures, printed.

For every tracker: the search forward (one frame's crops through the network) timed through
the tuned PyTorch runner, OpenVINO in f32 and, where the CPU has it, bf16, OpenVINO with INT8
convolutions where the weights have INT8 parameters (``trackers/quantization.py``), the f32 graph with every convolution direct (what its Winograd layers add,
``trackers/ops/winograd.py``), and — when the ``onnxruntime`` package is installed (it is not a
dependency: it measured slower, ``trackers/onnx_runner.py``) — ONNX Runtime, all from the same
exported graph; then
whole tracking runs with the PyTorch and the OpenVINO backends on a sequence held in memory,
and — with ``--video`` — decode-only fps and the end-to-end fps of the fast path with decoding
overlapped. With ``--nano-onnx`` OpenCV's C++ NanoTrack runs the same frames in the same run.

    python scripts/bench_backends.py --sequence ../shared/data/sequences/vot_bag \\
        --video ../shared/data/videos/pysot_bag.avi [--nano-onnx BACKBONE HEAD] [--json out.json]

Timings interleave the engines (A B C A B C ...) and report medians, so a noisy machine moves
them together rather than favouring whichever ran in a quiet moment.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHIPPED = ("siamcross-mobilev2", "siamrpnpp-mobilev2", "siamban-mobilev2", "siamfc")
ROUNDS = 5


def median_ms(fn, calls: int = 10) -> float:
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls * 1000.0


def forward_times(name: str, weights: str | None, frames, box) -> dict:
    import torch

    import trackers
    from trackers.onnx_runner import (
        _PRECISION,
        GraphSpec,
        _flatten,
        _session_from,
        _tensor_spec,
        export_graph,
        native_bf16,
    )
    from trackers.quantization import for_weights

    tracker = trackers.create(name, weights=weights, device="cpu", backend="torch")
    tracker.init(frames[0], box)
    runner = tracker.net
    patch = tracker.search_patch(frames[1])
    arr = np.ascontiguousarray(patch[None] if patch.ndim == 3 else patch)
    layout, flat = _flatten(runner.template_state())
    spec = GraphSpec(arr.shape, tuple(layout), tuple(_tensor_spec(t) for t in flat))
    graph = export_graph(runner.model, spec)
    feeds = {"patches": arr} | {f"state{i}": t.detach().numpy() for i, t in enumerate(flat)}
    engines = {"torch": lambda: runner.track(patch)}
    for backend, precision in _PRECISION.items():
        if precision == "bf16" and not native_bf16():
            continue
        backend_graph = graph
        if precision == "int8":  # its own graph, where INT8 parameters were measured for the weights
            params = for_weights(name, tracker.weights_source)
            if params is None:
                continue
            backend_graph = export_graph(runner.model, dataclasses.replace(spec, int8=params.digest), params)
        compiled = _session_from(backend_graph, precision)
        engines[backend] = lambda c=compiled: c.run(feeds)
    # the f32 graph with every convolution direct: what its Winograd layers add
    direct = _session_from(export_graph(runner.model, dataclasses.replace(spec, winograd=False)))
    engines["openvino-direct"] = lambda: direct.run(feeds)
    try:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        engines["onnxruntime"] = lambda: session.run(None, feeds)
    except ImportError:
        pass
    for fn in engines.values():
        fn()  # warm
    times = {k: [] for k in engines}
    for _ in range(ROUNDS):
        for k, fn in engines.items():
            times[k].append(median_ms(fn))
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sequence", required=True, help="OTB-layout sequence folder (frames held in memory)")
    ap.add_argument("--video", help="a video file: decode-only and end-to-end fps")
    ap.add_argument("--video-box", help="x,y,w,h on the video's first frame (default: the sequence's)")
    ap.add_argument("--trackers", nargs="+", default=[*SHIPPED, "nanotrack"])
    ap.add_argument("--nanotrack-weights", default=None, help="NanoTrack .pth (default: ../shared's v2)")
    ap.add_argument("--nano-onnx", nargs=2, metavar=("BACKBONE", "HEAD"))
    ap.add_argument("--max-frames", type=int, default=200)
    ap.add_argument("--json")
    args = ap.parse_args()

    import torch

    import trackers
    from trackers.bench import bench_one, load_sequence
    from trackers.io import open_source, parse_box, read_ahead

    root = Path(__file__).resolve().parents[1]
    nano = args.nanotrack_weights or str(root.parent / "shared/data/weights/nanotrack_v2/nanotrackv2.pth")
    seq = load_sequence(args.sequence, args.max_frames)
    frames, box = seq.frames, seq.init_box
    print(f"{seq.name}: {len(frames)} frames in memory; torch threads {torch.get_num_threads()}")
    rows = []
    for name in args.trackers:
        weights = nano if name == "nanotrack" else None
        forward = forward_times(name, weights, frames, box)
        fps = {}
        for _ in range(2):  # interleaved: torch, openvino, torch, openvino
            for backend in ("torch", "openvino"):
                tracker = trackers.create(name, weights=weights, device="cpu", backend=backend)
                fps.setdefault(backend, []).append(bench_one(tracker, name, seq)["fps"])
        row = {
            "tracker": name,
            "forward_ms": {k: round(v, 2) for k, v in forward.items()},
            "fps_torch": round(max(fps["torch"]), 1),
            "fps_openvino": round(max(fps["openvino"]), 1),
        }
        row["speedup"] = round(row["fps_openvino"] / row["fps_torch"], 2)
        rows.append(row)
        engines = "  ".join(f"{k} {v:.1f} ms" for k, v in forward.items())
        print(
            f"{name:20s} forward: {engines}   tracking: torch {row['fps_torch']:.1f} fps, "
            f"openvino {row['fps_openvino']:.1f} fps ({row['speedup']:.2f}x)",
            flush=True,
        )
    report: dict = {"sequence": seq.name, "frames": len(frames), "rows": rows}
    if args.nano_onnx:
        from trackers.reference import create_reference

        reference = create_reference("opencv-nano", nano_onnx=tuple(args.nano_onnx))
        ours = trackers.create("nanotrack", weights=nano, device="cpu")
        ref_fps, our_fps = [], []
        for _ in range(2):
            ref_fps.append(bench_one(reference, "opencv-nano", seq)["fps"])
            our_fps.append(bench_one(ours, "nanotrack", seq)["fps"])
        report["nanotrack_vs_opencv"] = {"ours": max(our_fps), "opencv": max(ref_fps)}
        print(
            f"NanoTrack v2: ours {max(our_fps):.1f} fps, OpenCV C++ {max(ref_fps):.1f} fps "
            f"(ratio {max(our_fps) / max(ref_fps):.2f})"
        )
    if args.video:
        source = open_source(args.video)
        t0 = time.perf_counter()
        count = sum(1 for _ in source)
        decode_fps = count / (time.perf_counter() - t0)
        first = next(iter(source))
        video_box = parse_box(args.video_box) if args.video_box else box
        e2e = {}
        for name in args.trackers:
            weights = nano if name == "nanotrack" else None
            tracker = trackers.create(name, weights=weights, device="cpu")
            tracker.init(first, video_box)
            tracker.track(first)  # warm
            t0 = time.perf_counter()
            it = read_ahead(source)
            tracker.init(next(it), video_box)
            n = 1
            for frame in it:
                tracker.track(frame)
                n += 1
            e2e[name] = n / (time.perf_counter() - t0)
        report["video"] = {"name": Path(args.video).name, "decode_fps": decode_fps, "end_to_end_fps": e2e}
        print(f"{Path(args.video).name}: decode only {decode_fps:.1f} fps; end to end (decode overlapped):")
        for name, value in e2e.items():
            print(f"  {name:20s} {value:.1f} fps ({value / decode_fps:.2f} of the decode limit)")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
