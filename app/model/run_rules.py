"""The rules of a tracking run, as pure functions of the annotations (no Qt, no tracker).

- A run from frame ``start`` tracks each object that has a box there, in one direction, up to
  (not including) its next manual keyframe; manual boxes are never replaced.
- A run of one object that ends at a manual keyframe at least two frames away is followed by a
  run back from that keyframe, and the two are fused frame by frame (``fuse_keyframe``).
- The forward / backward consistency check runs back from a correct box to the previous manual
  keyframe (``check_range``).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.model.annotations import Annotations, Track
from trackers.base import Box


@dataclass(frozen=True)
class Target:
    """One object of a run: its track, its box on the start frame, and where it stops."""

    track_id: int
    box: Box
    #: the first frame, in the run's direction, this target must not write (its next manual
    #: keyframe, or one past the end / -1); None: the end of the video in that direction.
    stop: int | None = None
    #: (frame, box) of other manual keyframes of the track: the appearance check compares the
    #: tracked boxes with these too
    references: tuple[tuple[int, Box], ...] = ()


@dataclass(frozen=True)
class Targets:
    targets: tuple[Target, ...]
    #: some object has a box on the start frame (when there are no targets: nothing is left to
    #: track that way, rather than no box to start from)
    any_box: bool


def run_targets(
    annotations: Annotations, track_ids, start: int, direction: int, end: int | None = None
) -> Targets:
    """The objects a run from ``start`` tracks, each with the frame it stops before (``end``,
    when given, caps every object's span)."""
    targets = []
    any_box = False
    for track_id in track_ids:
        track = annotations.tracks.get(track_id)
        entry = track.get(start) if track is not None else None
        if entry is None or entry.box is None:
            continue
        any_box = True
        span = annotations.tracking_span(track_id, start, direction)
        stop = span.stop
        if end is not None:
            stop = min(stop, end) if direction == 1 else max(stop, end)
        if (stop - span.start) * direction > 0:
            targets.append(Target(track_id, entry.box, stop, keyframe_references(track, start)))
    return Targets(tuple(targets), any_box)


#: keyframes a run's appearance check compares with besides its start box: each costs a frame
#: read at the start of the run and a little per tracked frame
MAX_KEYFRAME_REFERENCES = 3


def keyframe_references(track: Track, start: int) -> tuple[tuple[int, Box], ...]:
    """The track's manual boxes nearest to ``start`` (not ``start`` itself), nearest first."""
    manual = [f for f in track.manual_frames() if f != start and track.get(f).box is not None]
    nearest = sorted(manual, key=lambda f: (abs(f - start), f))[:MAX_KEYFRAME_REFERENCES]
    return tuple((f, track.get(f).box) for f in nearest)


def fuse_keyframe(annotations: Annotations, targets: tuple[Target, ...], start: int) -> int | None:
    """The manual keyframe a run of one object ends at, when a run back from it should follow
    and be fused with it (at least one frame between the two); else None."""
    if len(targets) != 1:
        return None
    target = targets[0]
    keyframe = target.stop
    track = annotations.tracks.get(target.track_id)
    if keyframe is None or track is None:
        return None
    entry = track.get(keyframe)
    if entry is None or not entry.is_manual or entry.box is None or abs(keyframe - start) < 2:
        return None
    return keyframe


def fuse_span(start: int, keyframe: int) -> range:
    """The frames strictly between a run's start and the keyframe it ran to."""
    return range(min(start, keyframe) + 1, max(start, keyframe))


def check_range(track: Track, here: int, frame_count: int) -> tuple[int, int] | None:
    """(first, last) frames of a consistency check asked for on frame ``here``: back from here
    to the previous manual keyframe; on a keyframe with no tracked frames before it, the tracked
    stretch after it, checked from its end. None: no manual keyframe to run back to. The caller
    checks that at least one frame lies strictly between the two."""
    entry = track.get(here)
    first = track.previous_manual(here)
    if entry is not None and entry.box is not None and first is not None and here - first >= 2:
        return first, here
    first = track.previous_manual(here + 1)
    if first is None:
        return None
    last = first
    while last + 1 < frame_count and (e := track.get(last + 1)) is not None and e.box is not None:
        last += 1
        if e.is_manual:
            break
    return first, last
