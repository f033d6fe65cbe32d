"""Keyframes for batch pre-annotation: which boxes a person drew on which videos.

Two sources, both giving {video path: Annotations of manual boxes}:

- a CSV with the header ``video,frame,track,label,x,y,w,h`` (video: a video file or a folder of
  images, relative to the CSV's folder; frame: 1-based; track: any name, one object per
  (video, track); box: 0-based pixels, as everywhere in Siamark);
- any importable annotation file (``app.io.formats``) given with its video; single-object
  benchmark ground truth (OTB, GOT-10k, LaSOT) gives its first box only, as a benchmark's
  initialisation does.

Errors name the file and the line, and nothing is read partially.
"""

from __future__ import annotations

import csv
from pathlib import Path

from app.io.formats.registry import FORMATS, FormatError
from app.model.annotations import Annotations, FrameBox, check_box, check_label

HEADER = ["video", "frame", "track", "label", "x", "y", "w", "h"]
#: formats whose boxes are a benchmark's ground truth: only the first one initialises
FIRST_BOX_ONLY = ("otb", "got10k", "lasot")


def read_keyframes_csv(path: str | Path) -> dict[str, Annotations]:
    """{video path (resolved): its keyframes}, videos in the order the CSV names them."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(path, f"cannot read it ({exc})") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or [c.strip().lower() for c in rows[0]] != HEADER:
        raise FormatError(path, f"the first line must be the header {','.join(HEADER)}", 1)
    # video -> track name -> (label, {frame: box})
    videos: dict[str, dict[str, tuple[str, dict[int, tuple]]]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(HEADER):
            raise FormatError(path, f"expected {len(HEADER)} values, got {len(row)}", line)
        video, frame, track, label, *box = (c.strip() for c in row)
        if not video or not track:
            raise FormatError(path, "video and track must not be empty", line)
        try:
            number = int(frame)
            if number < 1:
                raise ValueError
        except ValueError:
            raise FormatError(
                path, f"frame {frame!r}: expected a whole number >= 1 (1-based)", line
            ) from None
        try:
            values = check_box(tuple(float(v) for v in box))
            label = check_label(label or "object")
        except ValueError as exc:
            raise FormatError(path, str(exc), line) from None
        key = str((path.parent / video).resolve())
        tracks = videos.setdefault(key, {})
        known_label, boxes = tracks.setdefault(track, (label, {}))
        if known_label != label:
            raise FormatError(
                path, f"track {track!r} is {known_label!r} on an earlier line, {label!r} here", line
            )
        if number - 1 in boxes:
            raise FormatError(path, f"track {track!r} has two boxes on frame {number}", line)
        boxes[number - 1] = values
    if not videos:
        raise FormatError(path, "no keyframes in it")
    return {video: _annotations(tracks) for video, tracks in videos.items()}


def _annotations(tracks: dict[str, tuple[str, dict[int, tuple]]]) -> Annotations:
    """Tracks numbered 1, 2, ... in the order given (the names were the file's)."""
    model = Annotations()
    for label, boxes in tracks.values():
        entries = {f: FrameBox(b, reviewed=True) for f, b in sorted(boxes.items())}
        model.apply(model.add_track_edit(label, boxes=entries))
    return model


def keyframes_from_file(fmt: str, path: str | Path, frame_count: int) -> Annotations:
    """The manual boxes of an importable annotation file (``fmt`` as in ``app.io.formats``);
    for benchmark ground truth, each track's first box only."""
    if fmt not in FORMATS or FORMATS[fmt].load is None:
        readable = ", ".join(n for n, f in FORMATS.items() if f.load is not None)
        raise ValueError(f"{fmt!r} cannot be read; readable formats: {readable}")
    loaded = FORMATS[fmt].load(Path(path), frame_count)
    keep = {}
    for track in loaded:
        frames = [f for f in track.manual_frames() if track.get(f).box is not None]
        if fmt in FIRST_BOX_ONLY:
            frames = frames[:1]
        keep[track.id] = (track.label, {f: track.get(f).box for f in frames})
    model = _annotations({str(k): v for k, v in keep.items() if v[1]})
    model.frame_count = frame_count
    return model
