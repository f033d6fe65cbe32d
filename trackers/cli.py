"""``python -m trackers list | track | bench``.

User errors (bad box, unreadable video, wrong checkpoint, missing weights, ...) print one
``error: ...`` line on stderr and exit with code 2; there is no traceback for them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2

from trackers import registry
from trackers.bench import format_table, fps_ratio, run_bench, run_sequence, summarize, write_json
from trackers.devices import DEVICE_CHOICES
from trackers.io import open_source, parse_box, write_boxes
from trackers.reference import REFERENCE_NAMES, create_reference

EXIT_USAGE = 2

RANDOM_NOTE = (
    "NOTE: --weights random builds an UNTRAINED network. Its AUC and precision are MEANINGLESS; "
    "only the fps column means anything (speed measurement)."
)


class UsageError(ValueError):
    pass


def _err(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


# ---------------------------------------------------------------------------------------- list


def cmd_list(_args) -> int:
    header = ("name", "presets", "architectures", "default weights", "description")
    rows = []
    for name in registry.names():
        info = registry.get(name)
        weights = info.default_weights()
        rows.append(
            (
                name,
                ",".join(info.presets),
                ",".join(info.architectures),
                str(weights) if weights else "none — pass --weights",
                info.description,
            )
        )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        print("  ".join([c.ljust(w) for c, w in zip(row, widths)] + [row[-1]]))
    if not rows:
        print("(no trackers registered)")
    print(f"\nreference trackers for bench (OpenCV, not Siamese): {', '.join(REFERENCE_NAMES)}")
    return 0


# --------------------------------------------------------------------------------------- track


class _ProgressPrinter:
    """Frame count and fps on stderr: redrawn in place on a terminal, a line every few s otherwise."""

    def __init__(self):
        self.tty = sys.stderr.isatty()
        self.interval = 0.25 if self.tty else 5.0
        self.last = 0.0

    def __call__(self, done: int, total: int | None, seconds: float) -> None:
        now = time.monotonic()
        if now - self.last < self.interval and done != total:
            return
        self.last = now
        fps = (done - 1) / seconds if seconds > 0 else 0.0
        text = f"frame {done}/{total if total else '?'}  {fps:.1f} fps"
        print(("\r" + text) if self.tty else text, end="" if self.tty else "\n", file=sys.stderr, flush=True)

    def finish(self) -> None:
        if self.tty:
            print(file=sys.stderr)


def cmd_track(args) -> int:
    box = parse_box(args.init)
    if args.weights == registry.RANDOM:
        raise UsageError("--weights random is for speed measurements (bench) only; track needs a checkpoint")
    out = Path(args.out)
    if out.is_dir() or not out.parent.is_dir():
        raise UsageError(f"--out {out}: must be a file in an existing folder")
    if args.tracker in REFERENCE_NAMES and args.tracker not in registry.names():
        raise UsageError(f"{args.tracker} is an OpenCV reference tracker, for bench only; see `list`")
    source = open_source(args.video or args.sequence)
    tracker = registry.create(
        args.tracker, weights=args.weights, device=args.device, preset=args.preset, half=args.half
    )
    print(f"{args.tracker}: weights {getattr(tracker, 'weights_source', '?')}", file=sys.stderr)
    progress = _ProgressPrinter()
    try:
        boxes, _scores, seconds = run_sequence(tracker, source, box, progress=progress)
    finally:
        progress.finish()
    decoded = getattr(source, "decoded_frames", None)
    if decoded is not None and decoded < len(source):
        print(
            f"warning: {source.path.name} says {len(source)} frames but only {decoded} could be decoded",
            file=sys.stderr,
        )
    write_boxes(out, boxes)
    fps = (len(boxes) - 1) / seconds if seconds > 0 else float("nan")
    print(f"tracked {len(boxes)} frames ({fps:.1f} fps) -> {out}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------------------- bench


SHIPPED = "shipped"


def bench_names(requested: list[str]) -> list[str]:
    """``--tracker`` names in order, ``shipped`` standing for every tracker with shipped weights."""
    names = []
    for name in requested:
        expanded = registry.shipped() if name == SHIPPED else [name]
        names += [n for n in expanded if n not in names]
    if not names:
        raise UsageError("no tracker has shipped weights; name one with --tracker NAME --weights FILE")
    return names


def bench_method(args, name: str) -> tuple[str, object]:
    if name in REFERENCE_NAMES and name not in registry.names():
        # A reference tracker may be the subject too (e.g. --tracker kcf); it needs no weights.
        return name, create_reference(name, args.nano_onnx)
    tracker = registry.create(
        name, weights=args.weights, device=args.device, preset=args.preset, half=args.half
    )
    random = args.weights == registry.RANDOM
    return name + (f":{args.preset}" if args.preset else "") + ("[random]" if random else ""), tracker


def cmd_bench(args) -> int:
    random = args.weights == registry.RANDOM
    if args.max_frames is not None and args.max_frames < 2:
        raise UsageError("--max-frames must be at least 2 (one init frame and one tracked frame)")
    names = bench_names(args.tracker)
    if len(names) > 1 and (args.weights or args.preset):
        raise UsageError("--weights and --preset apply to one tracker; bench several with their defaults")
    methods = [bench_method(args, name) for name in names]
    subjects = [method for method, _ in methods]
    if "csrt" not in subjects:
        methods.append(("csrt", create_reference("csrt")))
    if args.nano_onnx and "opencv-nano" not in subjects:
        methods.append(("opencv-nano", create_reference("opencv-nano", args.nano_onnx)))
    if random:
        print(RANDOM_NOTE, file=sys.stderr)

    rows = run_bench(args.sequences, methods, args.max_frames, log=lambda m: print(m, file=sys.stderr))
    summary = summarize(rows)
    if random:
        print(RANDOM_NOTE)
    print(format_table(rows))
    if len(args.sequences) > 1:
        print()
        print(format_table(summary))
    ratios = {method: fps_ratio(summary, method) for method in subjects}
    lines = [f"fps ratio {m} / opencv-nano: {r:.2f}" for m, r in ratios.items() if r is not None]
    if lines:
        print("\n" + "\n".join(lines))
    if args.json:
        meta = {
            "trackers": [
                {
                    "method": method,
                    "weights": getattr(tracker, "weights_source", None),
                    "device": str(getattr(tracker, "device", "cpu")),
                    "fps_ratio_vs_opencv_nano": ratios[method],
                }
                for method, tracker in methods
                if method in subjects
            ],
            "preset": args.preset,
            "max_frames": args.max_frames,
            "note": RANDOM_NOTE if random else "",
        }
        write_json(args.json, rows, summary=summary, meta=meta)
    return 0


# ---------------------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m trackers", description="Siamark tracking engine")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="registered trackers, presets, architectures and default weights")

    def common(p, many=False):
        if many:
            p.add_argument(
                "--tracker",
                required=True,
                nargs="+",
                metavar="NAME",
                help=f"tracker names (see `list`), compared in one run; {SHIPPED!r}: all with shipped weights",
            )
        else:
            p.add_argument("--tracker", required=True, help="tracker name (see `list`)")
        p.add_argument("--weights", help="checkpoint file (default: the shipped one)")
        p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
        p.add_argument("--preset", help="hyper-parameter preset (see `list`)")
        p.add_argument("--half", action="store_true", help="fp16 inference (CUDA only; ignored elsewhere)")

    p = sub.add_parser("track", help="track one target through a video or an image sequence")
    common(p)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--video", help="video file")
    src.add_argument("--sequence", help="sequence folder (OTB layout with img/, or a folder of images)")
    p.add_argument(
        "--init",
        required=True,
        metavar="x,y,w,h",
        help="box on frame 1, 0-based pixels (write --init=-3,5,40,40 for a negative x)",
    )
    p.add_argument("--out", required=True, help="output text file: one x,y,w,h line per frame")

    p = sub.add_parser("bench", help="success AUC / precision / fps on OTB-layout sequences")
    common(p, many=True)
    p.add_argument("--sequences", nargs="+", required=True, metavar="DIR")
    p.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    p.add_argument(
        "--nano-onnx",
        nargs=2,
        metavar=("BACKBONE", "HEAD"),
        help="add a cv2.TrackerNano reference row from these two ONNX files",
    )
    p.add_argument("--max-frames", type=int, metavar="N", help="use only the first N frames of each sequence")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # cv2.TrackerNano logs a "Targets are not supported" warning on every create: noise in a CLI.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    command = {"list": cmd_list, "track": cmd_track, "bench": cmd_bench}[args.command]
    try:
        return command(args)
    except (ValueError, OSError) as exc:  # SourceError, CheckpointError, NoWeightsError are ValueErrors
        _err(str(exc) or type(exc).__name__)
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("interrupted; nothing written")
        return 130
