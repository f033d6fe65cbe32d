"""Which (track, frame, box) rows an export writes: ``ExportOptions`` applied to ``Annotations``.

Every exporter goes through ``select`` so the options mean the same in every format:

* tracks / labels: ``None`` selects all; an id or label that no track has is an error (a typo
  would otherwise export silently less than asked);
* frames: ``first``..``last`` inclusive (0-based, cut to the video), then every ``step``-th;
* reviewed only: entries a person drew (manual) or accepted (reviewed).

Frames stay 0-based decoded indices here; each exporter converts to its format's numbering.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.annotations import Annotations, FrameBox, Track
from app.formats.registry import ExportJob, ExportOptions


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


def select(annotations: Annotations, options: ExportOptions, frame_count: int = 0) -> Selection:
    """The rows to export; SelectionError when the options are inconsistent or select no row."""
    frame_count = frame_count_of(annotations, frame_count)
    tracks = _tracks(annotations, options)
    frames = _frames(options, frame_count)
    wanted = set(frames)
    rows = [
        Row(track, frame, entry)
        for track in tracks
        for frame, entry in track.boxes.items()
        if frame in wanted and (not options.reviewed_only or is_reviewed(entry))
    ]
    rows.sort(key=lambda r: (r.frame, r.track.id))
    if not rows:
        what = "reviewed " if options.reviewed_only else ""
        raise SelectionError(
            f"nothing to export: no {what}annotation of the chosen tracks in frames "
            f"{frames[0] if frames else '-'}..{frames[-1] if frames else '-'} (step {options.step})"
        )
    return Selection(tuple(tracks), tuple(frames), tuple(rows))


def select_job(job: ExportJob) -> Selection:
    return select(job.annotations, job.options, job.video.frame_count)


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
