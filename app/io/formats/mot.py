"""MOTChallenge sequence: ``gt/gt.txt``, ``gt/labels.txt``, ``seqinfo.ini`` (+ ``img1/``), and its importer.

Conventions (annotation-formats §3.1): frame numbers, track ids and boxes are all 1-based.

* ``gt.txt`` rows: ``frame, id, bb_left, bb_top, bb_width, bb_height, flag, class, visibility``.
  ``frame`` = 1 + the frame's position in the export (the first exported frame is 1; without a
  range or step that is the 0-based video frame + 1; ``frames.csv`` maps each to its video frame).
  ``id`` = the Siamark track id (ids start at 1). ``bb_left, bb_top`` = Siamark's 0-based x, y + 1.
  ``flag`` = 1 (evaluated). ``class`` = 1-based line of ``gt/labels.txt`` (CVAT "MOT 1.1"), which
  lists the exported labels in the project's class order. ``visibility`` = 1 for a visible box,
  0.5 for an occluded one
  (Siamark marks occlusion, not how much is hidden). Absent frames have no row (MOT rows are boxes).
* ``seqinfo.ini`` ``[Sequence]``: name, imDir=img1 (only when the images are written), frameRate (the video's; 30 when unknown, as for
  image sequences), seqLength, imWidth, imHeight, imExt. ``img1/000001.jpg``… (6 digits, from 1)
  are written when the video's frames are available.

The importer reads that, MOT16/17/20 ground truth (9 columns) and MOT15 / result files (10
columns: ``conf, x, y, z`` instead of ``flag, class, visibility``). Labels come from
``labels.txt``, else MOTChallenge's class names. ``visibility`` below 1 marks a frame occluded.
A 0-based frame (0), a detection row (id -1), a repeated (frame, id) or any malformed line
raises FormatError with the file and line, and nothing is imported.
"""

from __future__ import annotations

import configparser
import math
import re
from pathlib import Path

import numpy as np

from app.io.formats.output import (
    ProgressSteps,
    image_format_suffix,
    read_frame,
    read_manifest,
    safe_name,
    staged_folder,
    write_image,
    write_manifest,
    write_text,
)
from app.io.formats.registry import ExportJob, Format, FormatError, register
from app.io.formats.selection import Selection, select_job
from app.model.annotations import PALETTE, Annotations, BoxSource, FrameBox, Track

VISIBILITY_OCCLUDED = 0.5
DEFAULT_FPS = 30.0
#: MOT16/17/20 ground-truth classes (used when there is no labels.txt).
MOT_CLASSES = (
    "pedestrian", "person_on_vehicle", "car", "bicycle", "motorbike", "non_motorized_vehicle",
    "static_person", "distractor", "occluder", "occluder_on_ground", "occluder_full", "reflection",
)  # fmt: skip


def _num(value: float) -> str:
    return np.format_float_positional(float(value), precision=3, trim="-")


# -- export -------------------------------------------------------------------------------------


def export(job: ExportJob) -> Selection:
    selection = select_job(job, cut=True)
    frames = selection.span()
    number = {frame: i for i, frame in enumerate(frames, start=1)}
    used = {row.track.label for row in selection.rows}
    labels = [c for c in selection.classes if c in used]
    class_id = {label: i for i, label in enumerate(labels, start=1)}
    lines = []
    for row in selection.rows:
        if row.entry.absent:
            continue
        if row.track.id < 1:
            raise ValueError(f"track {row.track.id}: MOT track ids start at 1")
        x, y, w, h = row.entry.box
        visibility = VISIBILITY_OCCLUDED if row.entry.occluded else 1
        cells = [number[row.frame], row.track.id, _num(x + 1), _num(y + 1), _num(w), _num(h)]
        lines.append(",".join(map(str, [*cells, 1, class_id[row.track.label], _num(visibility)])))
    suffix = image_format_suffix(job.options.image_format)
    images = [f"img1/{n:06d}{suffix}" for n in range(1, len(frames) + 1)]
    width, height = job.video.width, job.video.height
    progress = ProgressSteps(job, len(frames) if job.frames is not None else 1)
    with staged_folder(job.target) as root:
        (root / "gt").mkdir()
        write_text(root / "gt" / "gt.txt", "".join(line + "\n" for line in lines))
        write_text(root / "gt" / "labels.txt", "".join(label + "\n" for label in labels))
        write_manifest(root, images, frames)
        if job.frames is not None:
            (root / "img1").mkdir()
            for frame, name in zip(frames, images, strict=True):
                image = read_frame(job, frame)
                height, width = image.shape[:2]
                write_image(root / name, image)
                progress.step()
        info = [
            "[Sequence]",
            f"name={safe_name(Path(job.target).name)}",
            *(["imDir=img1"] if job.frames is not None else []),  # only when img1/ was written
            f"frameRate={_num(job.video.fps or DEFAULT_FPS)}",
            f"seqLength={len(frames)}",
            f"imWidth={width}",
            f"imHeight={height}",
            f"imExt={suffix}",
        ]
        write_text(root / "seqinfo.ini", "\n".join(info) + "\n")
    return selection


# -- import -------------------------------------------------------------------------------------


def _locate(path: Path) -> tuple[Path, Path]:
    """(sequence folder, gt.txt) for a sequence folder or a gt / results file."""
    if path.is_file():
        folder = path.parent.parent if path.parent.name == "gt" else path.parent
        return folder, path
    if (path / "gt" / "gt.txt").is_file():
        return path, path / "gt" / "gt.txt"
    if path.is_dir():
        raise FormatError(path, "no gt/gt.txt in this folder (a MOT sequence folder or a gt.txt file)")
    raise FormatError(path, "not found")


def _seq_length(folder: Path) -> int | None:
    path = folder / "seqinfo.ini"
    if not path.is_file():
        return None
    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding="utf-8")
        return int(parser["Sequence"]["seqLength"])
    except (configparser.Error, KeyError, ValueError) as exc:
        raise FormatError(path, f"expected [Sequence] with an integer seqLength ({exc})") from None


def _labels(gt: Path) -> list[str] | None:
    path = gt.parent / "labels.txt"
    if not path.is_file():
        return None
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(path, f"cannot read it ({exc})") from None


def _int(text: str, what: str, gt: Path, lineno: int) -> int:
    try:
        value = float(text)
    except ValueError:
        raise FormatError(gt, f"{what} {text!r} is not a number", lineno) from None
    if not value.is_integer():
        raise FormatError(gt, f"{what} {text!r} is not a whole number", lineno)
    return int(value)


def load(path: str | Path, frame_count: int) -> Annotations:
    folder, gt = _locate(Path(path))
    labels = _labels(gt)
    frames = read_manifest(folder)
    seq_length = _seq_length(folder)
    try:
        text = gt.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(gt, f"cannot read it ({exc})") from None
    tracks: dict[int, Track] = {}
    seen: dict[tuple[int, int], int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = [c.strip() for c in re.split(r",|\s+", line.strip()) if c.strip()]
        if len(cells) not in (9, 10):
            raise FormatError(
                gt, f"expected 9 (ground truth) or 10 (MOT15 / results) values, got {len(cells)}", lineno
            )
        number = _int(cells[0], "frame", gt, lineno)
        track_id = _int(cells[1], "id", gt, lineno)
        if number < 1:
            raise FormatError(
                gt, f"frame {number}: MOT frames start at 1 (a 0-based variant such as DarkLabel's?)", lineno
            )
        if track_id == -1:
            raise FormatError(
                gt, "id -1 is a detection, not a track: detections cannot be imported as tracks", lineno
            )
        if track_id < 1:
            raise FormatError(gt, f"id {track_id}: MOT track ids start at 1", lineno)
        try:
            x, y, w, h = (float(c) for c in cells[2:6])
        except ValueError:
            raise FormatError(gt, f"the box is not numbers: {line.strip()!r}", lineno) from None
        if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
            raise FormatError(gt, f"not a box (finite, width and height above 0): {line.strip()!r}", lineno)
        label, occluded = "object", False
        if len(cells) == 9:
            class_number = _int(cells[7], "class", gt, lineno)
            try:
                visibility = float(cells[8])
            except ValueError:
                visibility = math.nan
            if not 0 <= visibility <= 1:
                raise FormatError(gt, f"visibility {cells[8]!r} is not in 0..1", lineno)
            occluded = visibility < 1
            label = _label(class_number, labels, gt, lineno)
        if frames is not None:
            if number > len(frames):
                raise FormatError(
                    gt, f"frame {number} is past the {len(frames)} frames of frames.csv", lineno
                )
            frame = frames[number - 1]
        else:
            if seq_length is not None and number > seq_length:
                raise FormatError(gt, f"frame {number} is past seqLength {seq_length} (seqinfo.ini)", lineno)
            frame = number - 1
        if frame_count and frame >= frame_count:
            raise FormatError(gt, f"frame {number} is past the video's {frame_count} frames", lineno)
        if (number, track_id) in seen:
            raise FormatError(
                gt,
                f"track {track_id} already has a box on frame {number} (line {seen[number, track_id]})",
                lineno,
            )
        seen[number, track_id] = lineno
        track = tracks.get(track_id)
        if track is None:
            track = tracks[track_id] = Track(track_id, label, PALETTE[(track_id - 1) % len(PALETTE)])
        track.boxes[frame] = FrameBox((x - 1, y - 1, w, h), BoxSource.MANUAL, occluded=occluded)
    if not tracks:
        raise FormatError(gt, "no rows")
    if not frame_count:  # the video's length is unknown: what the files say, at least
        frame_count = (
            max(frames) + 1 if frames else seq_length or 1 + max(f for t in tracks.values() for f in t.boxes)
        )
    annotations = Annotations(frame_count)
    for track_id in sorted(tracks):
        annotations.tracks[track_id] = tracks[track_id]
    return annotations


def _label(class_number: int, labels: list[str] | None, gt: Path, lineno: int) -> str:
    if labels is not None:
        if not 1 <= class_number <= len(labels):
            raise FormatError(
                gt, f"class {class_number} is not a line of labels.txt (1..{len(labels)})", lineno
            )
        return labels[class_number - 1]
    if 1 <= class_number <= len(MOT_CLASSES):
        return MOT_CLASSES[class_number - 1]
    return f"class {class_number}"


register(
    Format(
        "mot",
        "MOTChallenge (gt/gt.txt, seqinfo.ini)",
        "MOT: 1-based frames (1 = first exported frame; frames.csv: its 0-based video frame), 1-based ids "
        "(= track ids) and boxes (bb_left = x + 1); rows frame,id,left,top,w,h,1,class,visibility; class = "
        "line of gt/labels.txt; visibility 1, or 0.5 when occluded; absent frames have no row; frames "
        "img1/000001.jpg",
        "folder",
        export=export,
        load=load,
        frames_optional=True,
    )
)
