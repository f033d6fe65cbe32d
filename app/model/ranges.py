"""Edits over many frames at once, Qt-free: a marked frame range or "the rest of the span",
and moving frames between tracks (split / merge). Each builder returns one ``Edit`` (one undo
step); nothing here applies it.

A marked range is ``(first, last)``, both included, set by the person (in / out points): an
action over it touches every frame in it, manual keyframes included. Without one, an action
runs "from here to the end of the span": the consecutive annotated frames of the track from
the current frame on, stopping before the next manual keyframe or gap. Keyframes are what a
person drew, so the implicit span never touches one (not even on the current frame).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from app.model.annotations import Annotations, BoxChange, Edit, FrameBox, Track, absent_entry

FrameRange = tuple[int, int]  # (first, last), both included


def with_in_point(selected: FrameRange | None, frame: int) -> FrameRange:
    """The range after marking ``frame`` as its start: the end stays unless it is now before it."""
    if selected is None or selected[1] < frame:
        return frame, frame
    return frame, selected[1]


def with_out_point(selected: FrameRange | None, frame: int) -> FrameRange:
    """The range after marking ``frame`` as its end: the start stays unless it is now after it."""
    if selected is None or selected[0] > frame:
        return frame, frame
    return selected[0], frame


def span_from(track: Track, frame: int) -> range:
    """The frames from ``frame`` to the end of its tracked span: consecutive annotated frames,
    none of them manual (a keyframe on ``frame`` itself is skipped). Empty when there are none."""
    start = frame + 1 if (entry := track.get(frame)) is not None and entry.is_manual else frame
    stop = start
    while (entry := track.get(stop)) is not None and not entry.is_manual:
        stop += 1
    return range(start, stop)


def describe(frames: range) -> str:
    """ "frames 12–40" / "frame 12", as the status bar and undo texts say it."""
    if len(frames) == 1:
        return f"frame {frames[0]}"
    return f"frames {frames[0]}–{frames[-1]}"


def accepted(entry: FrameBox) -> FrameBox:
    """A person looked at the entry and accepts it: reviewed, and its flag is done with."""
    return entry.with_(flag="", reviewed=True)


def _each_edit(
    annotations: Annotations,
    targets: Iterable[tuple[int, int]],
    change: Callable[[FrameBox | None], FrameBox | None],
    text: str,
) -> Edit:
    """One edit changing each (track, frame) of ``targets`` as ``change`` says (unchanged ones
    left out; a frame outside the video raises IndexError)."""
    boxes: list[BoxChange] = []
    for track_id, frame in targets:
        after = change(annotations.track(track_id).get(frame))
        boxes += annotations.set_box_edit(track_id, frame, after).boxes
    return Edit(text, (), tuple(boxes))


def absent_edit(annotations: Annotations, track_id: int, frames: range) -> Edit:
    """Every frame of ``frames`` says the object is out of view (annotated or not before)."""
    return _each_edit(
        annotations,
        ((track_id, f) for f in frames),
        lambda before: before if before is not None and before.absent else absent_entry(),
        f"Mark absent {describe(frames)} (track {track_id})",
    )


def delete_edit(annotations: Annotations, track_id: int, frames: range) -> Edit:
    return _each_edit(
        annotations,
        ((track_id, f) for f in frames),
        lambda _before: None,
        f"Delete {describe(frames)} (track {track_id})",
    )


def accept_edit(annotations: Annotations, entries: Iterable[tuple[int, int]], text: str) -> Edit:
    """Accept the (track, frame) entries that exist, whatever their tracks."""
    return _each_edit(annotations, entries, lambda before: before and accepted(before), text)


def accept_frames_edit(annotations: Annotations, track_id: int, frames: range) -> Edit:
    return accept_edit(
        annotations, ((track_id, f) for f in frames), f"Accept {describe(frames)} (track {track_id})"
    )


# -- moving frames between tracks ----------------------------------------------------------------


def split_edit(annotations: Annotations, track_id: int, frame: int) -> Edit:
    """Frames from ``frame`` on move to a new track (next id and colour, same label).
    ValueError when either part would be empty."""
    track = annotations.track(track_id)
    later = {f: e for f, e in track.boxes.items() if f >= frame}
    if not later:
        raise ValueError(f"track {track_id} has nothing on or after frame {frame} to split off")
    if len(later) == len(track.boxes):
        raise ValueError(f"track {track_id} has nothing before frame {frame}: there is nothing to split")
    added = annotations.add_track_edit(track.label, boxes=later)
    removed = tuple(BoxChange(track_id, f, e, None) for f, e in sorted(later.items()))
    return replace(added, text=f"Split track {track_id} at frame {frame}", boxes=removed + added.boxes)


def box_overlap(annotations: Annotations, first: int, second: int) -> list[int]:
    """Frames where both tracks have a box (not an absent mark): they cannot be merged there."""
    a, b = annotations.track(first), annotations.track(second)
    return sorted(
        f
        for f, e in a.boxes.items()
        if e.box is not None and (o := b.get(f)) is not None and o.box is not None
    )


def merge_edit(annotations: Annotations, keep_id: int, other_id: int) -> Edit:
    """Track ``other_id``'s frames move into ``keep_id`` (its id, label and colour stay) and
    ``other_id`` is deleted. Where one track is absent and the other has a box, the box wins.
    ValueError when both have a box on a frame (which one is right is the person's call)."""
    if keep_id == other_id:
        raise ValueError("a track cannot be merged with itself")
    clash = box_overlap(annotations, keep_id, other_id)
    if clash:
        where = f"frame {clash[0]}" if len(clash) == 1 else f"{len(clash)} frames ({clash[0]}–{clash[-1]})"
        raise ValueError(
            f"tracks {keep_id} and {other_id} both have a box on {where}: delete one of them there first"
        )
    keep, other = annotations.track(keep_id), annotations.track(other_id)
    moved = tuple(
        BoxChange(keep_id, f, keep.get(f), e)
        for f, e in sorted(other.boxes.items())
        if keep.get(f) is None or (keep.get(f).absent and e.box is not None)
    )
    removed = annotations.remove_track_edit(other_id)
    return replace(removed, text=f"Merge track {other_id} into track {keep_id}", boxes=moved + removed.boxes)
