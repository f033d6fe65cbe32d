"""``siamark bench-effort``: the annotation-effort benchmark (``app.model.effort``) from the command line.

    python main.py bench-effort --sequences DIR [DIR ...] [--tracker NAME] [--json FILE]

Methods: each ``--tracker`` (default: every tracker with shipped weights), OpenCV CSRT in the
same workflow, and keyframe interpolation every N frames (``--interpolate``, default 10 25).
User errors print one ``error: ...`` line on stderr and exit with code 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from app.cli.commands import Command, register_command

EXIT_USAGE = 2
REFERENCE_METHOD = "csrt"


class UsageError(ValueError):
    pass


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sequences",
        nargs="+",
        required=True,
        metavar="DIR",
        help="OTB-layout sequence folders (img/ + groundtruth_rect.txt)",
    )
    parser.add_argument(
        "--tracker",
        action="append",
        metavar="NAME",
        help="tracker to simulate (repeatable); default: every tracker with shipped weights. "
        "An OpenCV reference tracker (csrt, kcf) may be named too",
    )
    parser.add_argument(
        "--weights",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="checkpoint for tracker NAME instead of its shipped weights (repeatable)",
    )
    parser.add_argument(
        "--interpolate",
        nargs="+",
        type=int,
        metavar="N",
        help="keyframe intervals for the interpolation baseline (default: 10 25)",
    )
    parser.add_argument(
        "--max-frames", type=int, metavar="N", help="use only the first N frames of each sequence"
    )
    parser.add_argument(
        "--min-iou",
        type=float,
        default=0.5,
        help="the annotator corrects a frame below this IoU (default 0.5)",
    )
    parser.add_argument(
        "--device", default="auto", help="torch device for the Siamese trackers (auto, cpu, cuda, mps)"
    )
    parser.add_argument(
        "--json", metavar="FILE", help='write {"rows": [...], "summary": [...], "meta": {...}} here'
    )


def _parse_weights(items: list[str]) -> dict[str, Path]:
    out = {}
    for item in items:
        name, sep, file = item.partition("=")
        if not sep or not name or not file:
            raise UsageError(f"--weights {item!r}: expected NAME=FILE, e.g. nanotrack=nanotrackv2.pth")
        if not Path(file).is_file():
            raise UsageError(f"--weights {item!r}: {file} is not a file")
        out[name] = Path(file)
    return out


def _check_args(args: argparse.Namespace) -> None:
    if args.max_frames is not None and args.max_frames < 2:
        raise UsageError("--max-frames must be at least 2 (the first, drawn frame and one more)")
    if not 0.0 < args.min_iou <= 1.0:
        raise UsageError(f"--min-iou must be in (0, 1], got {args.min_iou:g}")
    for every in args.interpolate or ():
        if every < 1:
            raise UsageError(f"--interpolate {every}: the keyframe interval is at least 1 frame")
    for path in args.sequences:
        if not Path(path).is_dir():
            raise UsageError(f"--sequences {path}: not a folder")
    if args.json:
        out = Path(args.json)
        if out.is_dir() or not out.parent.is_dir():
            raise UsageError(f"--json {out}: must be a file in an existing folder")


def build_methods(args: argparse.Namespace) -> list:
    """Trackers first (named, or all with shipped weights), then csrt, then interpolate-N."""
    from app.model.effort import DEFAULT_INTERPOLATION, InterpolationMethod, TrackerMethod
    from trackers import registry
    from trackers.reference import REFERENCE_NAMES, create_reference

    weights = _parse_weights(args.weights)
    names = args.tracker or [n for n in registry.names() if registry.get(n).default_weights()]
    for name in weights:
        if name not in names:
            raise UsageError(
                f"--weights {name}=...: {name!r} is not among the trackers run ({', '.join(names)})"
            )
    names = [*dict.fromkeys([*names, REFERENCE_METHOD])]
    methods = []
    for name in names:
        if name in REFERENCE_NAMES and name not in registry.names():
            if name == "opencv-nano":
                raise UsageError(
                    "opencv-nano needs ONNX files; use `python -m trackers bench --nano-onnx` for it"
                )
            methods.append(TrackerMethod(name, create_reference(name)))
            continue
        if name not in registry.names():
            known = ", ".join([*registry.names(), "csrt", "kcf"])
            raise UsageError(f"--tracker {name}: unknown tracker; available: {known}")
        tracker = registry.create(name, weights=weights.get(name), device=args.device)
        print(f"{name}: weights {getattr(tracker, 'weights_source', '?')}", file=sys.stderr)
        methods.append(TrackerMethod(name, tracker))
    methods += [InterpolationMethod(n) for n in dict.fromkeys(args.interpolate or DEFAULT_INTERPOLATION)]
    return methods


class _Progress:
    """A line on stderr every few seconds while a tracker runs through a sequence."""

    def __init__(self, interval: float = 5.0):
        self.interval, self.last = interval, time.monotonic()

    def __call__(self, sequence: str, method: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            print(f"  {sequence}: {method} at frame {done}/{total}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from trackers.checkpoints import CheckpointError
    from trackers.io import SourceError

    try:
        _check_args(args)
        methods = build_methods(args)
        return _run(args, methods)
    except (UsageError, SourceError, CheckpointError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _run(args: argparse.Namespace, methods: list) -> int:
    from app.model.effort import format_table, run_effort, summarize
    from trackers.bench import write_json

    results = run_effort(
        args.sequences,
        methods,
        max_frames=args.max_frames,
        min_iou=args.min_iou,
        log=lambda m: print(m, file=sys.stderr, flush=True),
        progress=_Progress(),
    )
    print(f"Corrections (per 100 frames) to reach IoU >= {args.min_iou:g} on every frame:")
    print(format_table(results))
    if args.json:
        meta = {
            "min_iou": args.min_iou,
            "max_frames": args.max_frames,
            "weights": {
                m.name: getattr(m.tracker, "weights_source", None) for m in methods if hasattr(m, "tracker")
            },
            "device": args.device,
            # what ran each Siamese network (INT8 or f32 on the CPU: their boxes differ a little)
            "backends": {
                m.name: m.tracker.net.backend
                for m in methods
                if hasattr(m, "tracker") and hasattr(getattr(m.tracker, "net", None), "backend")
            },
            "counting": "every manual box or absent mark counts one, the first frame's box included",
        }
        write_json(args.json, [r.row() for r in results], summary=summarize(results), meta=meta)
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


register_command(
    "bench-effort",
    Command(
        help="annotation-effort benchmark: corrections per 100 frames, trackers vs CSRT vs interpolation",
        configure=configure,
        run=run,
    ),
)
