"""Single-object benchmark layouts: OTB, GOT-10k and LaSOT (export one track; import one track).

Conventions (annotation-formats §3.6), the same in all three:

* One ``x,y,w,h`` line per frame, comma-separated, ``x,y`` the top-left corner, in Siamark's
  0-based pixel coordinates written as they are (OTB's own files never say whether they are 0- or
  1-based; trackers and the toolkits read them as given). LaSOT's are integers (rounded).
* Line *i* belongs to the *i*-th frame of the export, and frame files are numbered from 1:
  ``img/0001.jpg`` (OTB, 4 digits), ``00000001.jpg`` (GOT-10k, 8 digits, no ``img/``),
  ``img/00000001.jpg`` (LaSOT). A track is written from its first to its last selected frame;
  ``frames.csv`` gives each line's 0-based frame in the source video (a range or a step renumbers).
* Absent frames (and frames inside the span the track has no box on): OTB ``nan,nan,nan,nan``
  (its only way to say it); GOT-10k ``0,0,0,0`` with ``absence.label`` 1 and ``cover.label`` 0;
  LaSOT ``0,0,0,0`` with ``out_of_view.txt`` 1. Occluded frames: GOT-10k ``cover.label`` 4 (a
  partial-visibility level; Siamark does not measure how much is hidden), visible 8; OTB and
  LaSOT cannot say it (LaSOT's ``full_occlusion`` marks a fully hidden target and is written 0;
  on import it makes the frame absent, as Siamark's training reader does).
* GOT-10k also gets ``cut_by_image.label`` (box crosses the image border; needs the frame size)
  and ``meta_info.ini``; LaSOT ``nlp.txt`` (the label).
* The video's frames are written too when they are available (JPEG: the readers look for ``*.jpg``),
  so the folder is a sequence that the toolkits and ``python -m trackers.train --data`` read.
* Several tracks: one folder per track, ``<label>-<id>`` (LaSOT's ``<class>-<k>``), and for
  GOT-10k a ``list.txt`` naming them, so the target folder is a GOT-10k split.

Import reads a sequence folder (or its ground-truth file), or a folder of such folders (one track
each; ``<label>-<id>`` names give the label and id back). OTB's ``groundtruth_rect.<n>.txt`` are
further targets. Boxes come in as manual (ground truth). Lines may be separated by commas or
whitespace; a NaN or all-zero line is an absent frame. Anything else malformed raises FormatError
with the file and line, and nothing is imported.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from app.io.formats.output import (
    ProgressSteps,
    read_frame,
    read_manifest,
    staged_folder,
    track_folder_name,
    track_from_folder_name,
    write_image,
    write_manifest,
    write_text,
)
from app.io.formats.registry import ExportJob, Format, FormatError, register
from app.io.formats.selection import Row, Selection, select_job
from app.model.annotations import PALETTE, Annotations, BoxSource, FrameBox, Track
from trackers.io import format_box

COVER_VISIBLE, COVER_OCCLUDED, COVER_ABSENT = 8, 4, 0


@dataclass(frozen=True)
class Layout:
    name: str
    groundtruth: str  # file name
    image_dir: str  # "" = images beside the ground truth
    digits: int  # frame file name width (1-based numbers)
    absent_line: str

    def image_name(self, number: int) -> str:
        name = f"{number:0{self.digits}d}.jpg"
        return f"{self.image_dir}/{name}" if self.image_dir else name


OTB = Layout("otb", "groundtruth_rect.txt", "img", 4, "nan,nan,nan,nan")
GOT10K = Layout("got10k", "groundtruth.txt", "", 8, "0,0,0,0")
LASOT = Layout("lasot", "groundtruth.txt", "img", 8, "0,0,0,0")


# -- export -------------------------------------------------------------------------------------


def export(job: ExportJob, layout: Layout) -> Selection:
    selection = select_job(job)
    rows_by_track = selection.by_track()
    tracks = [t for t in selection.tracks if t.id in rows_by_track]
    spans = {t.id: selection.span(rows_by_track[t.id]) for t in tracks}
    images = job.frames is not None
    progress = ProgressSteps(job, sum(len(s) for s in spans.values()) if images else len(tracks))
    with staged_folder(job.target) as root:
        names = []
        for track in tracks:
            folder = root
            if len(tracks) > 1:
                names.append(track_folder_name(track.id, track.label))
                folder = root / names[-1]
                folder.mkdir()
            rows = {r.frame: r for r in rows_by_track[track.id]}
            _write_sequence(job, layout, folder, track, spans[track.id], rows, progress)
        if layout is GOT10K and names:
            write_text(root / "list.txt", "".join(n + "\n" for n in names))
    return selection


def _write_sequence(
    job: ExportJob,
    layout: Layout,
    folder: Path,
    track: Track,
    frames: list[int],
    rows: dict[int, Row],
    progress: ProgressSteps,
) -> None:
    entries = [rows[f].entry if f in rows else None for f in frames]
    absent = [e is None or e.absent for e in entries]
    lines = [
        layout.absent_line if gone else _box_text(e.box, integer=layout is LASOT)
        for e, gone in zip(entries, absent, strict=True)
    ]
    write_text(folder / layout.groundtruth, "".join(line + "\n" for line in lines))
    image_names = [layout.image_name(i) for i in range(1, len(frames) + 1)]
    write_manifest(folder, image_names, frames)
    width, height = job.video.width, job.video.height
    if job.frames is not None:
        if layout.image_dir:
            (folder / layout.image_dir).mkdir()
        for frame, name in zip(frames, image_names, strict=True):
            image = read_frame(job, frame)
            height, width = image.shape[:2]
            write_image(folder / name, image)
            progress.step()
    else:
        progress.step()
    if layout is GOT10K:
        cover = [
            COVER_ABSENT if gone else COVER_OCCLUDED if e.occluded else COVER_VISIBLE
            for e, gone in zip(entries, absent, strict=True)
        ]
        cut = [0 if gone else int(_crosses_border(e.box, width, height)) for e, gone in zip(entries, absent)]
        write_text(folder / "absence.label", "".join(f"{int(a)}\n" for a in absent))
        write_text(folder / "cover.label", "".join(f"{c}\n" for c in cover))
        write_text(folder / "cut_by_image.label", "".join(f"{c}\n" for c in cut))
        meta = ["[METAINFO]", f"object_class: {track.label}"]
        if job.video.fps:
            meta.append(f"anno_fps: {job.video.fps:g}Hz")
        if width and height:
            meta.append(f"resolution: ({width}, {height})")
        write_text(folder / "meta_info.ini", "\n".join(meta) + "\n")
    elif layout is LASOT:
        write_text(folder / "full_occlusion.txt", ",".join("0" for _ in frames) + "\n")
        write_text(folder / "out_of_view.txt", ",".join(str(int(a)) for a in absent) + "\n")
        write_text(folder / "nlp.txt", track.label + "\n")


def _box_text(box, integer: bool) -> str:
    if integer:
        x, y, w, h = (round(v) for v in box)
        return f"{x},{y},{max(w, 1)},{max(h, 1)}"
    return format_box(box)


def _crosses_border(box, width: int, height: int) -> bool:
    if not (width and height):
        return False
    x, y, w, h = box
    return x < 0 or y < 0 or x + w > width or y + h > height


# -- import -------------------------------------------------------------------------------------


def load(path: str | Path, frame_count: int, layout: Layout) -> Annotations:
    path = Path(path)
    if path.is_file():
        sequences = [(path.parent, path)]
    elif (path / layout.groundtruth).is_file():
        sequences = [(path, path / layout.groundtruth)]
    elif path.is_dir():
        sequences = [
            (d, d / layout.groundtruth) for d in sorted(path.iterdir()) if (d / layout.groundtruth).is_file()
        ]
        if not sequences:
            raise FormatError(path, f"no {layout.groundtruth} in this folder or its subfolders")
    else:
        raise FormatError(path, "not found")
    # <label>-<id> folder names (Siamark's, LaSOT's) give the tracks' labels and ids when unique.
    named = [track_from_folder_name(d.name) for d, _ in sequences]
    if not all(named) or len({n[1] for n in named}) < len(named):
        named = [("object", i) for i in range(1, len(sequences) + 1)]
    tracks = [_read_track(folder, gt, layout, n[1], n[0]) for (folder, gt), n in zip(sequences, named)]
    if layout is OTB and len(sequences) == 1:
        for extra in _otb_extra_targets(sequences[0][0]):
            tracks.append(
                _read_track(sequences[0][0], extra, layout, max(t.id for t in tracks) + 1, "object")
            )
    return _annotations(tracks, frame_count, path)


def find_sequence(folder: str | Path) -> tuple[str, Path] | None:
    """(format name, sequence folder) when ``folder`` — a benchmark sequence or its ``img/``
    subfolder — has its ground truth with it: OTB ``img/`` + ``groundtruth_rect.txt``, LaSOT
    ``img/`` + ``groundtruth.txt``, GOT-10k frames beside ``groundtruth.txt``; else None."""
    folder = Path(folder)
    candidates = [folder]
    if folder.name == OTB.image_dir:
        candidates.append(folder.parent)
    for sequence in candidates:
        for name, layout in (("otb", OTB), ("lasot", LASOT), ("got10k", GOT10K)):
            frames = sequence / layout.image_dir if layout.image_dir else sequence
            if (sequence / layout.groundtruth).is_file() and frames.is_dir():
                return name, sequence
    return None


def _otb_extra_targets(folder: Path) -> list[Path]:
    found = [
        (int(m.group(1)), p)
        for p in folder.iterdir()
        if (m := re.fullmatch(r"groundtruth_rect[._](\d+)\.txt", p.name))
    ]
    return [p for _, p in sorted(found)]


def _read_track(folder: Path, gt: Path, layout: Layout, track_id: int, label: str) -> Track:
    boxes = read_boxes(gt)
    n = len(boxes)
    absent = [b is None for b in boxes]
    occluded = [False] * n
    if layout is GOT10K:
        if (folder / "absence.label").is_file():
            flags = _read_label_column(folder / "absence.label", n, 1)
            absent = [a or bool(f) for a, f in zip(absent, flags, strict=True)]
        if (folder / "cover.label").is_file():
            cover = _read_label_column(folder / "cover.label", n, 8)
            occluded = [c < COVER_VISIBLE for c in cover]
    elif layout is LASOT:
        for name in ("full_occlusion.txt", "out_of_view.txt"):
            if (folder / name).is_file():
                flags = _read_flag_row(folder / name, n)
                absent = [a or bool(f) for a, f in zip(absent, flags, strict=True)]
    frames = read_manifest(folder)
    if frames is None:
        frames = list(range(n))
    elif len(frames) != n:
        raise FormatError(folder / "frames.csv", f"lists {len(frames)} frames but {gt.name} has {n} lines")
    track = Track(track_id, label, PALETTE[(track_id - 1) % len(PALETTE)])
    for i, frame in enumerate(frames):
        if absent[i]:
            track.boxes[frame] = FrameBox(None, BoxSource.MANUAL, absent=True)
        else:
            track.boxes[frame] = FrameBox(boxes[i], BoxSource.MANUAL, occluded=occluded[i])
    return track


def read_boxes(path: Path) -> list[tuple[float, float, float, float] | None]:
    """One box per line (None = absent: a NaN or all-zero line); FormatError names the line."""
    lines = _read_lines(path)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise FormatError(path, "no boxes in the file")
    boxes = []
    for lineno, line in enumerate(lines, start=1):
        tokens = [t for t in re.split(r"[,\s]+", line.strip()) if t]
        if not tokens:
            raise FormatError(path, "blank line inside the file (each line is one frame)", lineno)
        try:
            values = [float(t) for t in tokens]
        except ValueError:
            raise FormatError(path, f"not numbers: {line.strip()!r}", lineno) from None
        if len(values) == 1 and math.isnan(values[0]):
            values *= 4
        if len(values) != 4:
            raise FormatError(path, f"expected 4 values x,y,w,h, got {len(values)}: {line.strip()!r}", lineno)
        if all(math.isnan(v) for v in values) or values[2:] == [0.0, 0.0]:
            boxes.append(None)
            continue
        if not all(math.isfinite(v) for v in values) or values[2] <= 0 or values[3] <= 0:
            raise FormatError(
                path,
                f"not a box: {line.strip()!r} (w and h above 0; "
                "a NaN or all-zero line marks an absent target)",
                lineno,
            )
        boxes.append(tuple(values))
    return boxes


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(path, f"cannot read it ({exc})") from None


def _read_label_column(path: Path, n: int, top: int) -> list[int]:
    """GOT-10k ``.label``: one integer 0..top per line, one line per frame."""
    lines = _read_lines(path)
    while lines and not lines[-1].strip():
        lines.pop()
    values = []
    for lineno, line in enumerate(lines, start=1):
        text = line.strip()
        if not re.fullmatch(r"\d+(\.0*)?", text) or int(float(text)) > top:
            raise FormatError(path, f"expected an integer 0..{top}, got {text!r}", lineno)
        values.append(int(float(text)))
    if len(values) != n:
        raise FormatError(path, f"has {len(values)} lines but the ground truth has {n}")
    return values


def _read_flag_row(path: Path, n: int) -> list[int]:
    """LaSOT flags: 0/1 per frame, comma-separated on one line (newlines accepted too)."""
    values = []
    for lineno, line in enumerate(_read_lines(path), start=1):
        for position, token in enumerate((t.strip() for t in line.split(",")), start=1):
            if not token:
                continue
            if token not in ("0", "1"):
                raise FormatError(path, f"value {position} is {token!r}; expected 0 or 1", lineno)
            values.append(int(token))
    if len(values) != n:
        raise FormatError(path, f"has {len(values)} values but the ground truth has {n} lines")
    return values


def _annotations(tracks: list[Track], frame_count: int, path: Path) -> Annotations:
    last = max((f for t in tracks for f in t.boxes), default=-1)
    if frame_count and last >= frame_count:
        raise FormatError(path, f"annotates frame {last} (0-based) but the video has {frame_count} frames")
    annotations = Annotations(frame_count or last + 1)
    for track in tracks:
        annotations.tracks[track.id] = track
    return annotations


# -- registration -------------------------------------------------------------------------------

_COMMON = (
    "line i = frame i of the export (frames.csv: its 0-based video frame); "
    "x,y,w,h with x,y the top-left corner in 0-based pixels as Siamark stores them"
)

register(
    Format(
        "otb",
        "OTB (groundtruth_rect.txt)",
        f"OTB: {_COMMON}; comma-separated floats; absent = nan,nan,nan,nan; frames img/0001.jpg (1-based); "
        "one folder per track when several",
        "folder",
        frames_optional=True,
        export=lambda job: export(job, OTB),
        load=lambda path, frame_count: load(path, frame_count, OTB),
    )
)
register(
    Format(
        "got10k",
        "GOT-10k (groundtruth.txt, absence.label, cover.label)",
        f"GOT-10k: {_COMMON}; comma-separated floats; absent = 0,0,0,0 + absence.label 1 + cover 0; "
        "occluded = cover 4, visible = cover 8; frames 00000001.jpg (1-based); several tracks: a folder "
        "each + list.txt",
        "folder",
        frames_optional=True,
        export=lambda job: export(job, GOT10K),
        load=lambda path, frame_count: load(path, frame_count, GOT10K),
    )
)
register(
    Format(
        "lasot",
        "LaSOT (groundtruth.txt, full_occlusion.txt, out_of_view.txt)",
        f"LaSOT: {_COMMON}; comma-separated integers (rounded); absent = 0,0,0,0 + out_of_view 1; "
        "flags on one comma-separated line; frames img/00000001.jpg (1-based); partial occlusion not carried",
        "folder",
        frames_optional=True,
        export=lambda job: export(job, LASOT),
        load=lambda path, frame_count: load(path, frame_count, LASOT),
    )
)
