"""Teacher pseudo-labels on unlabelled frames: two independent trackers, kept only where they agree.

    python -m trackers.training.pseudo --data ../shared/data/videos --out DIR \\
        --nano-onnx BACKBONE HEAD --vit-onnx vitTracker.onnx

Teachers: OpenCV's NanoTrack v2 (``cv2.TrackerNano``) and VitTrack (``cv2.TrackerVit``), both
Apache-2.0 (../shared/data/weights); they differ in design (Siamese CNN vs one-stream ViT), so
their agreement is evidence. For each unlabelled track (a video ``discover`` finds, decoded into the
frame cache) a span starts every ``--every`` frames on the most textured box of that frame
(``textured_box``: what the self-supervised pairs use) and both teachers follow it forward:

* a frame is kept when the two boxes overlap by IoU >= ``--agree``; the label is their mean;
* the span ends at the first ``--patience`` frames in a row that disagree, or after ``--length``;
* forward / backward check: NanoTrack tracks the kept span backwards from its last label; the
  span is dropped unless it comes back to the start box (IoU >= ``--agree``);
* spans shorter than ``--min-length`` kept frames are dropped.

Videos that are an evaluation sequence in disguise (``pysot_bag.avi`` = vot_bag) are skipped.

Each span is written in OTB layout (``<out>/<video>_p<start>/img/0001.jpg`` + groundtruth_rect.txt,
NaN where the teachers disagreed, ``source.json`` naming the frames and the teachers), so the
training readers take it as a sequence; the training manifest decides whether it trains.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from trackers.io import staged_folder
from trackers.metrics import box_iou
from trackers.reference import OpenCVNanoReference, OpenCVVitReference
from trackers.training.augment import textured_box
from trackers.training.datasets import DatasetError, Track, discover, load_frame
from trackers.training.manifest import excluded_name

TEACHERS = "NanoTrack v2 (cv2.TrackerNano) + VitTrack (cv2.TrackerVit), both Apache-2.0"


@dataclass(frozen=True)
class PseudoConfig:
    every: int = 60  # a span starts every N frames
    length: int = 120  # at most this many frames per span
    agree: float = 0.6  # IoU of the two teachers for a frame to count
    patience: int = 3  # consecutive disagreeing frames that end a span
    min_length: int = 20  # kept frames a span needs


@dataclass
class Span:
    start: int  # index into the track's frames
    boxes: np.ndarray  # (n, 4) x, y, w, h; NaN where the teachers disagreed

    @property
    def kept(self) -> int:
        return int(np.isfinite(self.boxes).all(axis=1).sum())


def follow(frames: list[np.ndarray], box, nano, vit, config: PseudoConfig) -> np.ndarray:
    """Labels of ``frames`` (frame 0 = ``box``) while NanoTrack and VitTrack agree (NaN rows where
    they did not), cut at the last agreeing frame."""
    nano.init(frames[0], box)
    vit.init(frames[0], box)
    rows, misses = [np.asarray(box, float)], 0
    for frame in frames[1:]:
        a = np.asarray(nano.track(frame).box, float)
        b = np.asarray(vit.track(frame).box, float)
        if box_iou(a, b) >= config.agree:
            rows.append((a + b) / 2)
            misses = 0
        else:
            rows.append(np.full(4, np.nan))
            misses += 1
            if misses >= config.patience:
                break
    boxes = np.array(rows)
    last = int(np.flatnonzero(np.isfinite(boxes).all(axis=1))[-1])
    return boxes[: last + 1]


def returns_to_start(frames: list[np.ndarray], boxes: np.ndarray, nano, config: PseudoConfig) -> bool:
    """NanoTrack, run backwards from the span's last label, ends on its start box."""
    nano.init(frames[len(boxes) - 1], boxes[-1])
    back = boxes[-1]
    for frame in reversed(frames[: len(boxes) - 1]):
        back = nano.track(frame).box
    return box_iou(np.asarray(back, float), boxes[0]) >= config.agree


def label_track(track: Track, nano, vit, config: PseudoConfig, rng: np.random.Generator) -> list[Span]:
    spans = []
    for start in range(0, max(len(track.frames) - config.min_length, 0), config.every):
        frames = [load_frame(p) for p in track.frames[start : start + config.length]]
        box = textured_box(frames[0], rng)
        boxes = follow(frames, box, nano, vit, config)
        span = Span(start, boxes)
        if span.kept >= config.min_length and returns_to_start(frames, boxes, nano, config):
            spans.append(span)
    return spans


def write_span(track: Track, span: Span, out: Path, teachers: str = TEACHERS) -> Path:
    """The span as an OTB sequence (written to a temporary folder, then renamed)."""
    name = f"{track.sequence}_p{span.start + 1:05d}"
    target = out / name
    with staged_folder(target) as staging:
        (staging / "img").mkdir()
        for i, path in enumerate(track.frames[span.start : span.start + len(span.boxes)], start=1):
            shutil.copyfile(path, staging / "img" / f"{i:04d}{Path(path).suffix}")
        lines = [",".join("NaN" if not np.isfinite(v) else f"{v:.2f}" for v in row) for row in span.boxes]
        (staging / "groundtruth_rect.txt").write_text("\n".join(lines) + "\n")
        source = {
            "pseudo_labels": teachers,
            "from": track.sequence,
            "first_frame": span.start + 1,
            "frames": len(span.boxes),
            "kept": span.kept,
        }
        (staging / "source.json").write_text(json.dumps(source, indent=2) + "\n")
    return target


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m trackers.training.pseudo", description=__doc__.split("\n\n")[0]
    )
    p.add_argument(
        "--data", nargs="+", required=True, metavar="PATH", help="unlabelled videos or folders of them"
    )
    p.add_argument("--out", type=Path, required=True, help="where the pseudo-labelled sequences go")
    p.add_argument("--nano-onnx", nargs=2, required=True, metavar=("BACKBONE", "HEAD"))
    p.add_argument("--vit-onnx", required=True, metavar="FILE", help="VitTrack's vitTracker.onnx")
    p.add_argument("--cache-dir", metavar="DIR", help="decoded video frames (default: user cache)")
    p.add_argument("--seed", type=int, default=0)
    defaults = PseudoConfig()
    for name in ("every", "length", "agree", "patience", "min_length"):
        value = getattr(defaults, name)
        p.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    args = p.parse_args(argv)
    config = PseudoConfig(args.every, args.length, args.agree, args.patience, args.min_length)
    try:
        nano = OpenCVNanoReference(*args.nano_onnx)
        vit = OpenCVVitReference(args.vit_onnx)
        # Never the evaluation sequences (pysot_bag.avi is vot_bag re-encoded).
        found = [t for d in args.data for t in discover(d, args.cache_dir) if t.boxes is None]
        tracks = [t for t in found if excluded_name(t) is None]
    except (ValueError, DatasetError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not tracks:
        print("error: no unlabelled video found in --data", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    cv2.setRNGSeed(args.seed)
    total = 0
    for track in tracks:
        spans = label_track(track, nano, vit, config, rng)
        for span in spans:
            write_span(track, span, args.out)
        kept = sum(s.kept for s in spans)
        total += kept
        print(
            f"{track.sequence}: {len(spans)} spans, {kept} labelled frames of {len(track.frames)}", flush=True
        )
    print(f"{total} pseudo-labelled frames -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
