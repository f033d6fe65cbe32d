"""``python -m trackers list | track | bench | calibrate | quantize | tune``.

User errors (bad box, unreadable video, wrong checkpoint, missing weights, ...) print one
``error: ...`` line on stderr and exit with code 2; there is no traceback for them.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import os
import platform
import shlex
import shutil
import sys
import textwrap
import time
from pathlib import Path

import cv2

from trackers import registry
from trackers.bench import (
    compare,
    format_comparison,
    format_table,
    fps_ratio,
    run_bench,
    run_sequence,
    summarize,
    write_json,
)
from trackers.devices import DEVICE_CHOICES
from trackers.io import SourceError, atomic_write_text, open_source, parse_box, read_ahead, write_boxes
from trackers.measured import load_run, measured, sha256_of
from trackers.onnx_runner import BACKENDS
from trackers.reference import REFERENCE_NAMES, create_reference
from trackers.stats import paired_by_name

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


MAX_WIDTH = 100  # list fits a 100-column terminal (narrower when the terminal is)


def _width() -> int:
    return min(MAX_WIDTH, shutil.get_terminal_size((MAX_WIDTH, 24)).columns)


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]], width: int) -> list[str]:
    """Columns padded to their widest cell; the last one wrapped to what is left of ``width``."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    indent = sum(widths) + 2 * len(widths)
    room = max(20, width - indent)
    lines = []
    for row in [header, *rows]:
        head = "  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  "
        wrapped = textwrap.wrap(row[-1], room, break_on_hyphens=False) or [""]
        lines.append((head + wrapped[0]).rstrip())
        lines += [" " * indent + more for more in wrapped[1:]]
    return lines


def _value(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _default_config(name: str):
    """The config ``track --tracker name`` runs with: its shipped weights' (their layout decides
    the preset), else the default preset's."""
    try:
        return registry.create(name, device="cpu", backend="torch").config
    except registry.NoWeightsError:
        return registry.get(name).config_cls.create()


def _list_one(name: str, run) -> int:
    info = registry.get(name)
    weights = info.default_weights()
    figures = measured(name, weights, run)
    width = _width()
    fields = [
        ("tracker", name + ("  (recommended)" if name == registry.recommended() else "")),
        ("description", info.description),
        ("presets", ", ".join(info.presets)),
        ("checkpoint layouts", ", ".join(info.architectures)),
        ("shipped weights", str(weights) if weights else "none: pass --weights FILE"),
        (
            "settings (--set)",
            ", ".join(f"{k}={_value(v)}" for k, v in _default_config(name).settings().items()),
        ),
    ]
    if figures:
        quality = (
            f"success AUC {figures.auc:.3f}, precision@20 {figures.precision:.3f}, {figures.fps:.1f} fps"
        )
        fields.append(("measured", f"{quality} ({_run_summary(run)})"))
    label = max(len(k) for k, _ in fields) + 2
    for key, value in fields:
        wrapped = textwrap.wrap(value, width - label, break_on_hyphens=False) or [""]
        print(f"{key + ':':<{label}}{wrapped[0]}")
        for more in wrapped[1:]:
            print(" " * label + more)
    return 0


def _run_summary(run) -> str:
    refs = [f"{label} {run.summary[m].auc:.3f}" for m, label in REFERENCE_LABELS.items() if m in run.summary]
    where = f"{len(run.sequences)} sequences, {run.frames} frames" + (f", {run.date}" if run.date else "")
    return where + ("; same run: " + ", ".join(refs) if refs else "")


REFERENCE_LABELS = {"csrt": "OpenCV CSRT", "opencv-nano": "NanoTrack v2 (OpenCV)"}


def cmd_list(args) -> int:
    run = load_run()
    if args.name:
        return _list_one(args.name, run)
    width = _width()

    def say(text: str) -> None:
        print("\n".join(textwrap.wrap(text, width, break_on_hyphens=False, subsequent_indent="  ")))

    shipped = registry.shipped()  # best first: its head is the recommended one
    best = shipped[0] if shipped else None
    if shipped:
        say("Trackers with shipped weights, best first (* = recommended, the app's default):")
        rows = []
        for name in shipped:
            info = registry.get(name)
            figures = measured(name, info.default_weights(), run)
            cells = (f"{figures.auc:.3f}", f"{figures.fps:.0f}") if figures else ("-", "-")
            rows.append(("*" if name == best else " ", name, *cells, info.description))
        print("\n".join(_table(("", "name", "AUC", "fps", "description"), rows, width)))
        if run:
            backends = sorted({run.backends[n] for n in shipped if n in run.backends})
            with_backend = f", backend {' / '.join(backends)}" if backends else ""
            note = (
                f"AUC = success AUC; one `bench` run on {_run_summary(run)} "
                f"(sequences: {', '.join(run.sequences)}; fps on {run.hardware or 'an unrecorded machine'}"
                f"{with_backend})."
            )
            say(note)
        print()
    others = [n for n in registry.names() if n not in shipped]
    if others:
        say("Trackers without shipped weights (pass --weights FILE, e.g. an official checkpoint):")
        rows = [(name, registry.get(name).description) for name in others]
        print("\n".join(_table(("name", "description"), rows, width)))
        print()
    if not registry.names():
        print("(no trackers registered)")
    say("Presets, checkpoint layouts and weights of one tracker: python -m trackers list NAME")
    say(f"Reference trackers for bench (OpenCV, not Siamese): {', '.join(REFERENCE_NAMES)}")
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


def _check_max_frames(args) -> None:
    if args.max_frames is not None and args.max_frames < 2:
        raise UsageError("--max-frames must be at least 2 (one init frame and one tracked frame)")


class _ReadFrames:
    """A frame source for ``track``, decoded ahead in its own thread (``read_ahead``): notes the
    (width, height) of the first frame, and ends at a frame that cannot be decoded (``error``
    says which) so the frames before it are kept."""

    def __init__(self, source):
        self.source, self.size, self.error = source, None, None

    def __len__(self) -> int:
        return len(self.source)

    def __iter__(self):
        frames = read_ahead(self.source)
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                return
            except SourceError as exc:
                self.error = str(exc)
                return
            if self.size is None:
                self.size = (frame.shape[1], frame.shape[0])
            yield frame


def write_scores(path, boxes, scores, frame_size, appearance=None) -> None:
    """``frame,score,flags`` per frame (1-based; flags: the drift monitor's reasons, ``;``-separated).
    ``appearance``: the tracker's ``extras["appearance"]`` per frame (row 0: the init frame)."""
    import csv
    import io

    from trackers.drift import DriftSettings, monitor_run

    looks = [math.nan] * len(boxes) if appearance is None else appearance
    results = ((f, tuple(boxes[f]), float(scores[f]), float(looks[f])) for f in range(1, len(boxes)))
    flags = monitor_run(DriftSettings(), 0, tuple(boxes[0]), results, frame_size)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow([1, "1.0000", ""])
    for f in range(1, len(boxes)):
        writer.writerow([f + 1, f"{scores[f]:.4f}", flags.get(f, "").replace("; ", ";")])
    atomic_write_text(path, text.getvalue())


def cmd_track(args) -> int:
    box = parse_box(args.init)
    _check_max_frames(args)
    if args.weights == registry.RANDOM:
        raise UsageError("--weights random is for speed measurements (bench) only; track needs a checkpoint")
    out = Path(args.out)
    for option, target in (("--out", out), ("--scores", Path(args.scores) if args.scores else None)):
        if target is not None and (target.is_dir() or not target.parent.is_dir()):
            raise UsageError(f"{option} {target}: must be a file in an existing folder")
    if args.tracker in REFERENCE_NAMES and args.tracker not in registry.names():
        raise UsageError(f"{args.tracker} is an OpenCV reference tracker, for bench only; see `list`")
    source = open_source(args.video or args.sequence)
    tracker = create_from_args(args, args.tracker)
    print(f"{args.tracker}: weights {getattr(tracker, 'weights_source', '?')}", file=sys.stderr)
    if args.scores and getattr(tracker, "calibration", None) is None:
        print(
            f"warning: no calibration for these weights: --scores gets {args.tracker}'s raw score, "
            "not P(IoU >= 0.5) (python -m trackers calibrate fits one)",
            file=sys.stderr,
        )
    # The drift flags of --scores compare each box with the first one through the template branch.
    appearance = [1.0]
    if args.scores:
        tracker.set_appearance(True)
    progress = _ProgressPrinter()
    frames = _ReadFrames(source)
    started = time.perf_counter()
    try:
        boxes, scores, seconds = run_sequence(
            tracker,
            frames,
            box,
            progress=progress,
            max_frames=args.max_frames,
            on_result=lambda r: appearance.append(r.extras.get("appearance", math.nan)),
        )
    finally:
        progress.finish()
    wall = time.perf_counter() - started
    if frames.error:
        print(f"warning: {frames.error}; keeping the {len(boxes)} frames tracked before it", file=sys.stderr)
    decoded = getattr(source, "decoded_frames", None)
    wanted = len(source) if args.max_frames is None else min(len(source), args.max_frames)
    if decoded is not None and decoded < wanted:
        print(
            f"warning: {source.path.name} says {len(source)} frames but only {decoded} could be decoded",
            file=sys.stderr,
        )
    write_boxes(out, boxes)
    if args.scores:
        write_scores(args.scores, boxes, scores, frames.size, appearance)
    fps = (len(boxes) - 1) / seconds if seconds > 0 else float("nan")
    # End to end: decoding (overlapped), the first frame's init and the tracking, all frames.
    e2e = len(boxes) / wall if wall > 0 else float("nan")
    print(
        f"tracked {len(boxes)} frames ({fps:.1f} fps tracking, {e2e:.1f} fps end to end) -> {out}",
        file=sys.stderr,
    )
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


def settings_from_args(args, name: str) -> dict:
    """--set NAME=VALUE ... as config overrides of tracker ``name`` (each value its field's type)."""
    specs = getattr(args, "settings", None) or []
    return registry.get(name).config_cls.parse_settings(specs) if specs else {}


def create_from_args(args, name: str, backend: str | None = None):
    """``registry.create`` with the common options (--weights, --device, --preset, --set, --half,
    --backend)."""
    return registry.create(
        name,
        weights=args.weights,
        device=args.device,
        preset=args.preset,
        half=args.half,
        backend=backend or args.backend,
        **settings_from_args(args, name),
    )


def settings_label(args) -> str:
    """How a run with --set is told apart in tables: ``{window_influence=0.4}``."""
    specs = getattr(args, "settings", None) or []
    return "{" + ",".join(spec.replace(" ", "") for spec in specs) + "}" if specs else ""


def bench_methods(args, name: str) -> list[tuple[str, object]]:
    """``name`` once per --backend (same-run comparison), labelled with the backend when several."""
    if name in REFERENCE_NAMES and name not in registry.names():
        # A reference tracker may be the subject too (e.g. --tracker kcf); it needs no weights.
        return [(name, create_reference(name, args.nano_onnx, args.vit_onnx))]
    methods = []
    for backend in args.backend:
        tracker = create_from_args(args, name, backend)
        random = args.weights == registry.RANDOM
        label = name + (f":{args.preset}" if args.preset else "") + settings_label(args)
        label += "[random]" if random else ""
        methods.append((label + (f"[{backend}]" if len(args.backend) > 1 else ""), tracker))
    return methods


def validation_sequences(root: Path) -> list[Path]:
    """The shipped manifest's validation sequences under ``root``; all of them must be there."""
    from trackers.training.manifest import shipped_validation

    names = shipped_validation()
    missing = [n for n in names if not (root / n / "groundtruth_rect.txt").is_file()]
    if missing:
        raise UsageError(
            f"--validation {root}: missing {', '.join(missing)}; write them with "
            f"python -m trackers.training.catalogue --mirror MIRROR --out {root} --validation"
        )
    return [root / n for n in names]


def _hardware(methods) -> str:
    cpu = f"{platform.machine()}, {os.cpu_count()} CPU cores"
    devices = {str(getattr(tracker, "device", "cpu")) for _, tracker in methods}
    if any(d.startswith("cuda") for d in devices):
        import torch

        return f"{cpu}, {torch.cuda.get_device_name()}"
    return cpu


def _weights_sha256(tracker) -> str | None:
    source = Path(str(getattr(tracker, "weights_source", "")))
    return sha256_of(source) if source.is_file() else None


def cmd_bench(args) -> int:
    random = args.weights == registry.RANDOM
    _check_max_frames(args)
    names = bench_names(args.tracker)
    if len(names) > 1 and (args.weights or args.preset or args.settings):
        raise UsageError(
            "--weights, --preset and --set apply to one tracker; bench several with their defaults"
        )
    methods = [m for name in names for m in bench_methods(args, name)]
    subjects = [method for method, _ in methods]
    if "csrt" not in subjects:
        methods.append(("csrt", create_reference("csrt")))
    if args.nano_onnx and "opencv-nano" not in subjects:
        methods.append(("opencv-nano", create_reference("opencv-nano", args.nano_onnx)))
    if args.vit_onnx and "opencv-vit" not in subjects:
        methods.append(("opencv-vit", create_reference("opencv-vit", vit_onnx=args.vit_onnx)))
    if random:
        print(RANDOM_NOTE, file=sys.stderr)

    sequences = args.sequences or validation_sequences(Path(args.validation))
    rows = run_bench(sequences, methods, args.max_frames, log=lambda m: print(m, file=sys.stderr))
    summary = summarize(rows)
    if random:
        print(RANDOM_NOTE)
    print(format_table(rows))
    if len(sequences) > 1:
        print()
        print(format_table(summary))
    ratios = {method: fps_ratio(summary, method) for method in subjects}
    lines = [f"fps ratio {m} / opencv-nano: {r:.2f}" for m, r in ratios.items() if r is not None]
    if lines:
        print("\n" + "\n".join(lines))
    references = [m for m, _ in methods if m not in subjects]
    comparisons = [
        (m, ref, d) for m in subjects for ref in references if (d := compare(rows, m, ref)) is not None
    ]
    if comparisons:
        print("\n" + "\n".join(format_comparison(*c) for c in comparisons))
    if args.json:
        meta = {
            "trackers": [
                {
                    "method": method,
                    "weights": getattr(tracker, "weights_source", None),
                    "weights_sha256": _weights_sha256(tracker),
                    "device": str(getattr(tracker, "device", "cpu")),
                    "backend": getattr(getattr(tracker, "net", None), "backend", None),
                    "fps_ratio_vs_opencv_nano": ratios[method],
                }
                for method, tracker in methods
                if method in subjects
            ],
            "preset": args.preset,
            "settings": settings_from_args(args, names[0]) if args.settings else {},
            "max_frames": args.max_frames,
            "command": "python -m trackers " + shlex.join(args.argv),
            "hardware": _hardware(methods),
            "date": datetime.date.today().isoformat(),
            "note": RANDOM_NOTE if random else "",
        }
        paired = [
            {"method": m, "reference": ref, **dataclasses.asdict(d), "resolved": d.resolved}
            for m, ref, d in comparisons
        ]
        write_json(args.json, rows, summary=summary, comparisons=paired, meta=meta)
    return 0


# ----------------------------------------------------------------------------------- calibrate


def cmd_calibrate(args) -> int:
    from trackers.bench import load_sequence
    from trackers.calibration import (
        CALIBRATION_FILE,
        best_held_out,
        calibrate_runs,
        drift_quality,
        run_uncalibrated,
    )

    _check_max_frames(args)
    names = bench_names(args.tracker)
    if len(names) > 1 and args.weights:
        raise UsageError("--weights applies to one tracker; calibrate several with their shipped weights")
    paths = args.sequences or validation_sequences(Path(args.validation))
    sequences = [load_sequence(p, args.max_frames) for p in paths]
    entries, records = {}, {}
    for name in names:
        tracker = create_from_args(args, name)
        runs = []
        for seq in sequences:
            runs.append(run_uncalibrated(tracker, seq))
            print(f"{seq.name}: {name} {len(seq.frames)} frames", file=sys.stderr, flush=True)
        held = best_held_out(runs)
        entry = calibrate_runs(runs, held)
        quality = drift_quality(runs, held[1])
        entry["drift_held_out"] = {
            "failures": quality.failures,
            "caught_within_5": quality.caught,
            "recall": round(quality.recall, 4),
            "false_flags_per_100": round(quality.false_per_100, 3),
        }
        entries[name] = entry | _weights_fields(tracker)
        records[name] = {r.name: r.to_dict() for r in runs}
        print(
            f"{name}: {entry['frames']} frames, {100 * entry['success_rate']:.0f}% with IoU >= 0.5; "
            f"AUROC {entry['auroc']:.3f} (held out {entry['auroc_held_out']:.3f}); "
            f"ECE raw {entry['ece_raw']:.3f} -> calibrated, held out {entry['ece_held_out']:.3f}; "
            f"drift flags: {quality.caught}/{quality.failures} failure starts within 5 frames, "
            f"{quality.false_per_100:.2f} false flags / 100 frames"
        )
        for b in entry["reliability_held_out"]:
            print(
                f"  predicted {b['low']:.1f}-{b['high']:.1f}: {b['frames']:5d} frames, "
                f"mean {b['predicted']:.2f}, observed {b['observed']:.2f}"
            )
    if args.json:
        target = Path(args.json)
        _write_entries(target, entries, args, sequences)
        if target.resolve() == CALIBRATION_FILE.resolve():
            print(f"wrote {target}: the shipped trackers now report calibrated scores", file=sys.stderr)
    if args.records:
        atomic_write_text(args.records, json.dumps(records) + "\n")
    return 0


# ------------------------------------------------------------------------------------ quantize


def cmd_quantize(args) -> int:
    from trackers.bench import load_sequence
    from trackers.quantization import QUANTIZATION_FILE, measure, user_file

    _check_max_frames(args)
    names = bench_names(args.tracker)
    if len(names) > 1 and args.weights:
        raise UsageError("--weights applies to one tracker; quantize several with their shipped weights")
    sequences = [load_sequence(p, args.max_frames) for p in args.sequences]
    frames = sum(len(s.frames) for s in sequences)
    entries = {}
    made = {name: create_from_args(args, name, "torch") for name in names}
    unknown = set(args.float) - set().union(*(_conv_names(t) for t in made.values()))
    if unknown:
        raise UsageError(f"--float: no tracker here has a convolution named {', '.join(sorted(unknown))}")
    for name, tracker in made.items():
        params = measure(tracker, sequences, args.float)
        entries[name] = params.to_dict() | _weights_fields(tracker)
        print(
            f"{name}: {len(params.ranges)} convolutions measured on {frames} frames of {len(sequences)} sequences"
        )
    target = Path(args.json) if args.json else user_file()
    if not args.json:  # the user's file keeps every checkpoint measured, one entry per file
        from trackers.calibration import entry_name

        entries = {entry_name(name, e["weights_sha256"]): e for name, e in entries.items()}
        target.parent.mkdir(parents=True, exist_ok=True)
    _write_entries(target, entries, args, sequences, indent=None)
    if target.resolve() == QUANTIZATION_FILE.resolve():
        note = ": --backend auto (where this CPU computes INT8 exactly) and openvino-int8 now run these weights in INT8"
    elif target.resolve() == user_file().resolve():
        note = (
            ": --backend openvino-int8 now runs these weights in INT8 (auto keeps f32 for weights"
            " that do not ship: compare both with bench --backend openvino openvino-int8)"
        )
    else:
        note = ""
    print(f"wrote {target}{note}", file=sys.stderr)
    return 0


def _weights_fields(tracker) -> dict[str, str | None]:
    """Which weights file a measured entry belongs to (its SHA-256 decides; the name is for people)."""
    return {"weights_sha256": _weights_sha256(tracker), "weights": Path(str(tracker.weights_source)).name}


def _write_entries(target: Path, entries: dict, args, sequences, indent: int | None = 2) -> None:
    """Per-tracker measured entries (calibration maps, INT8 parameters) with the command, date
    and sequences they were measured with."""
    from trackers.calibration import write_file

    write_file(
        target,
        entries,
        indent=indent,
        command="python -m trackers " + shlex.join(args.argv),
        date=datetime.date.today().isoformat(),
        sequences=[s.name for s in sequences],
        max_frames=args.max_frames,
    )


def _conv_names(tracker) -> set[str]:
    """The names of the convolutions of ``tracker``'s network (what --float can name)."""
    from trackers.ops.int8 import quantizable

    model = getattr(getattr(tracker, "net", None), "model", None)
    return {n for n, m in model.named_modules() if quantizable(m)} if model is not None else set()


# ---------------------------------------------------------------------------------------- tune


def _against_start(trial, start) -> str:
    """How sure a setting's difference to the start values is (paired bootstrap over sequences)."""
    d = None if trial is start else paired_by_name(trial.per_sequence, start.per_sequence)
    if d is None:
        return ""
    return f"  ({d.mean:+.4f} against the start, 95% interval {d.low:+.4f} to {d.high:+.4f})"


def cmd_tune(args) -> int:
    from trackers.bench import load_sequence
    from trackers.tune import coordinate_search, parse_grid

    _check_max_frames(args)
    grid = parse_grid(args.param)
    fixed = settings_from_args(args, args.tracker)
    if both := sorted(set(fixed) & set(grid)):
        raise UsageError(f"{', '.join(both)}: given by both --set and --param; searched or fixed, not both")
    paths = args.sequences or validation_sequences(Path(args.validation))
    sequences = [load_sequence(p, args.max_frames) for p in paths]
    result = coordinate_search(
        args.tracker,
        grid,
        sequences,
        log=lambda m: print(m, file=sys.stderr, flush=True),
        weights=args.weights,
        device=args.device,
        preset=args.preset,
        backend=args.backend,
        **fixed,
    )
    print(f"{args.tracker}: {len(result.trials)} settings on {len(sequences)} sequences")
    start = next(t for t in result.trials if t.values == result.start)
    for trial in sorted(result.trials, key=lambda t: -t.mean_auc):
        print(
            f"  {trial.mean_auc:.4f}  "
            + ", ".join(f"{k}={v:g}" for k, v in trial.values.items())
            + _against_start(trial, start)
        )
    print(f"best: {result.best.values} mean AUC {result.best.mean_auc:.4f} (start {start.mean_auc:.4f})")
    if args.json:
        doc = {
            "tracker": args.tracker,
            "command": "python -m trackers " + shlex.join(args.argv),
            "date": datetime.date.today().isoformat(),
            "sequences": [s.name for s in sequences],
            "start": result.start,
            "fixed": fixed,
            "best": result.best.values,
            "trials": [vars(t) for t in result.trials],
        }
        atomic_write_text(args.json, json.dumps(doc, indent=2) + "\n")
    return 0


# ---------------------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m trackers", description="Siamark tracking engine")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "list", help="trackers, the recommended one, shipped weights and their measured quality"
    )
    p.add_argument("name", nargs="?", help="one tracker: its presets, checkpoint layouts and weights")

    def sequences_args(p):
        which = p.add_mutually_exclusive_group(required=True)
        which.add_argument("--sequences", nargs="+", metavar="DIR", help="OTB-layout sequence folders")
        which.add_argument(
            "--validation",
            metavar="DIR",
            help="the training manifest's validation sequences, in DIR (python -m trackers.training.catalogue)",
        )
        p.add_argument(
            "--max-frames", type=int, metavar="N", help="use only the first N frames of each sequence"
        )

    def common(p, many=False, compare_backends=False, settings=True):
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
        if settings:
            p.add_argument(
                "--set",
                dest="settings",
                action="append",
                default=[],
                metavar="NAME=VALUE",
                help="one inference setting on top of the preset, e.g. window_influence=0.4 or "
                "near_instance_size=0 (repeatable; `list NAME` shows them)",
            )
        p.add_argument("--half", action="store_true", help="fp16 inference (CUDA only; ignored elsewhere)")
        p.add_argument(
            "--backend",
            nargs="+" if compare_backends else None,
            default=["auto"] if compare_backends else "auto",
            choices=BACKENDS,
            help="what runs the search branch on the CPU: auto (OpenVINO when installed: INT8 for "
            "weights whose INT8 parameters ship, on a CPU that computes INT8 exactly (VNNI / AMX), "
            "else f32), torch (the reference), openvino (f32), openvino-bf16 (faster, less "
            "accurate), openvino-int8 (faster; for weights with measured INT8 parameters)"
            + ("; several: compared in one run" if compare_backends else ""),
        )

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
    p.add_argument("--max-frames", type=int, metavar="N", help="track only the first N frames")
    p.add_argument(
        "--scores",
        metavar="FILE",
        help="also write frame,score,flags per frame (1-based; calibrated P(IoU >= 0.5); drift reasons, ;-separated)",
    )

    p = sub.add_parser("bench", help="success AUC / precision / fps on OTB-layout sequences")
    common(p, many=True, compare_backends=True)
    sequences_args(p)
    p.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    p.add_argument(
        "--nano-onnx",
        nargs=2,
        metavar=("BACKBONE", "HEAD"),
        help="add a cv2.TrackerNano reference row from these two ONNX files",
    )
    p.add_argument(
        "--vit-onnx", metavar="FILE", help="add a cv2.TrackerVit reference row (VitTrack's ONNX file)"
    )

    p = sub.add_parser(
        "calibrate", help="fit each model's score -> P(IoU >= 0.5) map on the validation sequences"
    )
    common(p, many=True, settings=False)  # the maps are for the settings the models ship with
    sequences_args(p)
    p.add_argument(
        "--json", metavar="FILE", help="write the maps here (resources/weights/calibration.json ships)"
    )
    p.add_argument("--records", metavar="FILE", help="also write every frame's box, raw score and IoU (JSON)")

    p = sub.add_parser(
        "quantize", help="measure the INT8 parameters of each model's convolutions (--backend openvino-int8)"
    )
    p.add_argument(
        "--tracker", required=True, nargs="+", metavar="NAME", help=f"tracker names; {SHIPPED!r}: all shipped"
    )
    p.add_argument("--weights", help="checkpoint file (default: the shipped one)")
    p.add_argument(
        "--sequences",
        required=True,
        nargs="+",
        metavar="DIR",
        help="OTB-layout sequence folders to measure on (training sequences, not the validation ones)",
    )
    p.add_argument("--max-frames", type=int, default=25, metavar="N", help="frames per sequence (default 25)")
    p.add_argument(
        "--float",
        nargs="+",
        default=[],
        metavar="LAYER",
        help="convolutions left in float32, by module name (the output layers), for every tracker that has them",
    )
    p.add_argument(
        "--json",
        metavar="FILE",
        help="write here (default: int8.json in your configuration folder, which --backend "
        "openvino-int8 reads after the shipped resources/weights/int8.json)",
    )
    p.set_defaults(device="cpu", preset=None, half=False, backend="torch")

    p = sub.add_parser("tune", help="search inference hyper-parameters on the validation sequences")
    common(p)
    sequences_args(p)
    p.add_argument(
        "--param",
        action="append",
        required=True,
        metavar="NAME=V1,V2,...",
        help="a hyper-parameter and its candidate values (repeat; searched in this order)",
    )
    p.add_argument("--json", metavar="FILE", help="also write every trial as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    # cv2.TrackerNano logs a "Targets are not supported" warning on every create: noise in a CLI.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    command = {
        "list": cmd_list,
        "track": cmd_track,
        "bench": cmd_bench,
        "calibrate": cmd_calibrate,
        "quantize": cmd_quantize,
        "tune": cmd_tune,
    }[args.command]
    try:
        return command(args)
    except (ValueError, OSError) as exc:  # SourceError, CheckpointError, NoWeightsError are ValueErrors
        _err(str(exc) or type(exc).__name__)
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("interrupted; nothing written")
        return 130
