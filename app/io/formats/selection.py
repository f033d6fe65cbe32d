"""Which (track, frame, box) rows an export writes: ``ExportOptions`` applied to ``Annotations``.

Every exporter goes through ``select`` so the options mean the same in every format:

* tracks / labels: ``None`` selects all; an id or label that no track has is an error (a typo
  would otherwise export silently less than asked);
* frames: ``first``..``last`` inclusive (0-based, cut to the video), then every ``step``-th;
* reviewed only: entries a person drew (manual) or accepted (reviewed); without flagged:
  entries not flagged for review (accepting or fixing one clears its flag);
* when the frame size is known, a box with nothing inside the frame is left out (counted in
  ``Selection.left_out``): no format can say what it means. Formats whose convention is the
  visible part cut the others to the frame (``cut=True``); the single-object benchmark formats
  keep the object's full extent (GOT-10k flags it ``cut_by_image``); the project format keeps
  every box as it is (no frame size).

Frames stay 0-based decoded indices here; each exporter converts to its format's numbering.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from app.io.formats.registry import ExportJob, ExportOptions
from app.model.annotations import Annotations, FrameBox, Track


class SelectionError(ValueError):
    """Export options that select nothing or name what does not exist."""


@dataclass(frozen=True)
class Row:
    track: Track
    frame: int
    entry: FrameBox


@dataclass(frozen=True)
class Selection:
    tracks: tuple[Track, ...]  # selected tracks, by id
    frames: tuple[int, ...]  # the frames the range and step cover, ascending
    rows: tuple[Row, ...]  # by frame, then track id
    #: what the selection changed on the way: boxes cut to the frame, boxes left out (nothing
    #: of them inside the frame), frames left out by an exporter (it adds to this)
    clipped: int = 0
    left_out: dict[str, int] = field(default_factory=dict)
    #: the selected tracks' classes in the project's class order (what category ids follow)
    classes: tuple[str, ...] = ()

    def describe(self) -> str:
        """What was cut or left out, for the person ("" when nothing was)."""
        parts = [f"{n} {what}" for what, n in self.left_out.items() if n]
        if self.clipped:
            parts.insert(0, f"{self.clipped} boxes cut to the frame")
        return "; ".join(parts)

    def by_frame(self) -> dict[int, list[Row]]:
        out: dict[int, list[Row]] = {}
        for row in self.rows:
            out.setdefault(row.frame, []).append(row)
        return out

    def by_track(self) -> dict[int, list[Row]]:
        """Track id -> its rows in frame order (tracks without rows are left out)."""
        out: dict[int, list[Row]] = {}
        for row in self.rows:
            out.setdefault(row.track.id, []).append(row)
        return out

    def annotated_frames(self) -> list[int]:
        return sorted({row.frame for row in self.rows})

    def span(self, rows: Iterable[Row] | None = None) -> list[int]:
        """The covered frames from the first to the last row (of ``rows``, default all): the
        frames a sequence format writes a line or an image for."""
        frames = [row.frame for row in (self.rows if rows is None else rows)]
        if not frames:
            return []
        lo, hi = min(frames), max(frames)
        return [f for f in self.frames if lo <= f <= hi]


def frame_count_of(annotations: Annotations, video_frame_count: int = 0) -> int:
    """The video's length: the annotations', the video's, else one past the last annotated frame."""
    if annotations.frame_count:
        return annotations.frame_count
    if video_frame_count:
        return video_frame_count
    return 1 + max((f for t in annotations for f in t.boxes), default=-1)


def is_reviewed(entry: FrameBox) -> bool:
    return entry.is_manual or entry.reviewed


def kept(entry: FrameBox, options: ExportOptions) -> bool:
    """Whether ``options`` let this entry into an export (its track and frame aside)."""
    if options.reviewed_only and not is_reviewed(entry):
        return False
    return not (options.skip_flagged and entry.flag)


def flagged_rows(annotations: Annotations, options: ExportOptions, frame_count: int = 0) -> tuple[int, int]:
    """(flagged, all): how many of the boxes the options choose, flags aside, are still flagged
    for review; (0, 0) when they choose none."""
    try:
        rows = select(annotations, replace(options, skip_flagged=False), frame_count).rows
    except SelectionError:
        return 0, 0
    boxes = [row for row in rows if row.entry.box is not None]
    return sum(1 for row in boxes if row.entry.flag), len(boxes)


def clip_box(box: Sequence[float], width: int, height: int) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) of the box cut to the image, or None when nothing of it is inside."""
    x, y, w, h = box
    x0, y0 = max(0.0, x), max(0.0, y)
    x1, y1 = min(float(width), x + w), min(float(height), y + h)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def select(
    annotations: Annotations,
    options: ExportOptions,
    frame_count: int = 0,
    frame_size: tuple[int, int] | None = None,
    cut: bool = False,
) -> Selection:
    """The rows to export; SelectionError when the options are inconsistent or select no row.
    With ``frame_size`` (w, h), boxes wholly outside the frame are left out, and with ``cut``
    the others are cut to it."""
    frame_count = frame_count_of(annotations, frame_count)
    tracks = _tracks(annotations, options)
    frames = _frames(options, frame_count)
    wanted = set(frames)
    rows = []
    clipped = outside = flagged = 0
    for track in tracks:
        for frame, entry in track.boxes.items():
            if frame not in wanted:
                continue
            if not kept(entry, options):
                flagged += bool(options.skip_flagged and entry.flag and entry.box is not None)
                continue
            if entry.box is not None and frame_size is not None:
                inside = clip_box(entry.box, *frame_size)
                if inside is None:
                    outside += 1
                    continue
                x, y, w, h = entry.box
                crosses = x < 0 or y < 0 or x + w > frame_size[0] or y + h > frame_size[1]
                if cut and crosses:  # (x + w) - x is not always w in floats: cut only what crosses
                    clipped += 1
                    entry = entry.with_(
                        box=(inside[0], inside[1], inside[2] - inside[0], inside[3] - inside[1])
                    )
            rows.append(Row(track, frame, entry))
    rows.sort(key=lambda r: (r.frame, r.track.id))
    if not rows:
        what = "reviewed " if options.reviewed_only else "unflagged " if options.skip_flagged else ""
        raise SelectionError(
            f"nothing to export: no {what}annotation of the chosen tracks in frames "
            f"{frames[0] if frames else '-'}..{frames[-1] if frames else '-'} (step {options.step})"
        )
    left_out = {
        "boxes outside the frame left out": outside,
        "boxes still flagged for review left out": flagged,
    }
    order = {name: i for i, name in enumerate(annotations.class_names())}
    classes = sorted({t.label for t in tracks}, key=lambda name: (order.get(name, len(order)), name))
    return Selection(tuple(tracks), tuple(frames), tuple(rows), clipped, left_out, tuple(classes))


def select_job(job: ExportJob, cut: bool = False, keep_all: bool = False) -> Selection:
    """The job's rows: boxes wholly outside the video's frame left out (when its size is known)
    unless ``keep_all``; the others cut to the frame with ``cut``."""
    size = (job.video.width, job.video.height)
    known = not keep_all and size[0] > 0 and size[1] > 0
    return select(job.annotations, job.options, job.video.frame_count, size if known else None, cut)


def _tracks(annotations: Annotations, options: ExportOptions) -> list[Track]:
    if options.tracks is not None:
        unknown = sorted(set(options.tracks) - set(annotations.tracks))
        if unknown:
            have = ", ".join(str(i) for i in sorted(annotations.tracks)) or "none"
            raise SelectionError(f"no track {', '.join(map(str, unknown))} (tracks: {have})")
    if options.labels is not None:
        unknown = sorted(set(options.labels) - set(annotations.labels()))
        if unknown:
            have = ", ".join(annotations.labels()) or "none"
            raise SelectionError(f"no track labelled {', '.join(unknown)} (labels: {have})")
    tracks = [
        t
        for t in annotations
        if (options.tracks is None or t.id in options.tracks)
        and (options.labels is None or t.label in options.labels)
    ]
    if not tracks:
        raise SelectionError("nothing to export: no track has both the chosen ids and labels")
    return tracks


def _frames(options: ExportOptions, frame_count: int) -> list[int]:
    if options.step < 1:
        raise SelectionError(f"every k-th frame: k must be 1 or more, got {options.step}")
    for name in ("first", "last"):
        value = getattr(options, name)
        if value is not None and value < 0:
            raise SelectionError(f"{name} frame {value}: frames are numbered from 0")
    first = 0 if options.first is None else options.first
    last = frame_count - 1 if options.last is None else min(options.last, frame_count - 1)
    if options.first is not None and options.last is not None and options.first > options.last:
        raise SelectionError(f"the frame range starts after it ends ({options.first} > {options.last})")
    return list(range(first, last + 1, options.step))
