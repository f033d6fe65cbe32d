"""``siamark convert``: read annotations in one format and write them in another, headless.

    python main.py convert --from mot:seq/MOT17-02 --to cvat:annotations.xml --video MOT17-02.mp4
    python main.py convert --from project:clip.siamark.json --to got10k:out/ --tracks 1 --step 2

The same ``app.io.formats`` exporters and importers as the GUI. The video gives the frame count and
frame size, and the frames for formats that write images; a project input names its own video.
Bad input prints one ``error: ...`` line on stderr and exits with code 2; a failed write exits 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from app.cli.commands import Command, register_command

FORMAT_NAMES = ("project", "otb", "got10k", "lasot", "mot", "yolo", "coco", "voc", "cvat", "pysot")


def _spec(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition(":")
    if not sep or not path:
        raise argparse.ArgumentTypeError(f"{text!r}: expected FORMAT:PATH, e.g. mot:out/seq")
    if name not in FORMAT_NAMES:
        raise argparse.ArgumentTypeError(f"unknown format {name!r}: one of {', '.join(FORMAT_NAMES)}")
    return name, Path(path)


def _id_list(text: str) -> frozenset[int]:
    try:
        return frozenset(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected track ids like 1,3,4") from None


def _label_list(text: str) -> frozenset[str]:
    return frozenset(t.strip() for t in text.split(",") if t.strip())


def configure(parser: argparse.ArgumentParser) -> None:
    formats = ", ".join(FORMAT_NAMES)
    parser.add_argument(
        "--from", dest="source", required=True, type=_spec, metavar="FORMAT:PATH", help=f"input ({formats})"
    )
    parser.add_argument(
        "--to", dest="target", required=True, type=_spec, metavar="FORMAT:PATH", help="output"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--video", metavar="FILE", help="the annotated video (frame count, size, frames)")
    where.add_argument("--images", metavar="DIR", help="the annotated video as a folder of images")
    parser.add_argument(
        "--tracks", type=_id_list, metavar="IDS", help="only these track ids (comma-separated)"
    )
    parser.add_argument("--labels", type=_label_list, metavar="NAMES", help="only tracks with these labels")
    parser.add_argument("--first", type=int, metavar="N", help="first frame to export (0-based)")
    parser.add_argument("--last", type=int, metavar="N", help="last frame to export (0-based, inclusive)")
    parser.add_argument("--step", type=int, default=1, metavar="K", help="every K-th frame of the range")
    parser.add_argument(
        "--reviewed-only", action="store_true", help="only boxes drawn or accepted by a person"
    )
    parser.add_argument(
        "--skip-flagged",
        action="store_true",
        help="leave out boxes still flagged for review (detection formats leave out their frames)",
    )
    parser.add_argument(
        "--absent-frames",
        action="store_true",
        help="detection formats: also write frames where every object is absent (images without boxes)",
    )
    parser.add_argument(
        "--image-format", default="jpg", choices=("jpg", "png"), help="for formats that write frames"
    )
    parser.add_argument(
        "--no-frames", action="store_true", help="write annotations only where frames are optional"
    )


class InputError(Exception):
    pass


def _open_video(path: str):
    from app.io.video import SourceError, open_video

    try:
        return open_video(path)
    except (SourceError, OSError) as exc:
        raise InputError(str(exc)) from None


def _progress(label: str):
    state = {"last": 0.0}

    def report(done: int, total: int) -> bool:
        now = time.monotonic()
        if total > 1 and (done == total or now - state["last"] > 2):
            state["last"] = now
            print(f"  {label}: {done}/{total}", file=sys.stderr, flush=True)
        return True

    return report


def convert(args: argparse.Namespace) -> str:
    """Do the conversion; returns the summary line. InputError / FormatError / ValueError on bad input."""
    from app.io.formats import FORMATS, ExportJob, ExportOptions
    from app.io.formats.project_format import load_full
    from app.io.project import VideoRef, check_video

    (source_name, source_path), (target_name, target_path) = args.source, args.target
    source, target = FORMATS[source_name], FORMATS[target_name]
    if source.load is None:
        raise InputError(f"{source_name} can be written but not read")
    if target.export is None:
        raise InputError(f"{target_name} can be read but not written")
    video = None
    if args.video or args.images:
        video = _open_video(args.video or args.images)
    if source_name == "project":
        project = load_full(source_path)
        annotations, ref = project.annotations, project.video
        if video is None and Path(ref.path).exists() and (target.needs_frames or target.frames_optional):
            problem = check_video(project)
            if problem:
                raise InputError(f"{problem} Pass the video with --video / --images.")
            video = _open_video(ref.path)
    else:
        annotations = source.load(source_path, video.frame_count if video else 0)
        ref = VideoRef("", frame_count=annotations.frame_count)
    if video is not None:
        if source_name == "project" and annotations.frame_count not in (0, video.frame_count):
            raise InputError(
                f"the annotations cover {annotations.frame_count} frames "
                f"but {video.path} has {video.frame_count}"
            )
        width, height = video.size
        ref = VideoRef(str(video.path), ref.fingerprint, video.frame_count, width, height, video.fps)
        annotations.frame_count = video.frame_count
    if target.needs_frames and video is None:
        raise InputError(f"{target_name} writes the video's frames: pass --video FILE or --images DIR")
    options = ExportOptions(
        tracks=args.tracks,
        labels=args.labels,
        first=args.first,
        last=args.last,
        step=args.step,
        reviewed_only=args.reviewed_only,
        skip_flagged=args.skip_flagged,
        absent_frames=args.absent_frames,
        image_format=args.image_format,
    )
    with_frames = video is not None and (
        target.needs_frames or (target.frames_optional and not args.no_frames)
    )
    job = ExportJob(
        annotations,
        ref,
        target_path,
        options,
        frames=video.frame if with_frames else None,
        progress=_progress(target_name),
    )
    try:
        selection = target.export(job)
    except OSError as exc:
        raise OSError(f"{target_path}: {exc}") from exc
    boxes = sum(len(t.boxes) for t in annotations)
    summary = f"{len(annotations)} tracks, {boxes} entries read from {source_name}"
    note = selection.describe()
    return f"wrote {target_name} to {target_path} ({summary})" + (f"; {note}" if note else "")


def run(args: argparse.Namespace) -> int:
    from app.io.formats import FormatError

    try:
        print(convert(args), file=sys.stderr)
    except (InputError, FormatError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


register_command(
    "convert",
    Command("convert annotations between formats (project, MOT, CVAT, COCO, GOT-10k, ...)", configure, run),
)
