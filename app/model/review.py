"""The review queue, Qt-free: every flagged entry of every track, in frame order, and how an
edit settles one.

A frame is flagged by the drift checks (``FrameBox.flag`` holds why) and stays in the queue
until a person decides: accepting it clears the flag (``ranges.accepted``), a corrected box
is a new manual keyframe without one, marking it absent or deleting it replaces the entry.
So the queue is exactly the flags the timeline marks and "next flagged frame" visits.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.model.annotations import Annotations, Edit
from app.model.ranges import FrameRange


@dataclass(frozen=True, order=True)
class ReviewItem:
    frame: int
    track: int
    reason: str

    @property
    def key(self) -> tuple[int, int]:
        return self.frame, self.track


def review_queue(annotations: Annotations) -> list[ReviewItem]:
    """Flagged entries of all tracks, by frame then track."""
    return sorted(
        ReviewItem(frame, track.id, entry.flag)
        for track in annotations
        for frame, entry in track.boxes.items()
        if entry.flag
    )


def step_item(
    items: list[ReviewItem], frame: int, track: int | None, direction: int = 1
) -> ReviewItem | None:
    """The item after (direction 1) or before (-1) position (frame, track) in queue order,
    wrapping around at either end; None for an empty queue."""
    if not items:
        return None
    here = (frame, -1 if track is None else track)
    if direction > 0:
        return next((item for item in items if item.key > here), items[0])
    return next((item for item in reversed(items) if item.key < here), items[-1])


def items_in(items: list[ReviewItem], selected: FrameRange | None) -> list[ReviewItem]:
    if selected is None:
        return []
    first, last = selected
    return [item for item in items if first <= item.frame <= last]


def settled_by(edit: Edit, track: int | None, frame: int) -> str:
    """How ``edit`` decided the flagged entry (track, frame): "accepted", "fixed" (a new box),
    "absent" or "deleted"; "" when it was not flagged before or is still flagged after."""
    for change in edit.boxes:
        if change.track != track or change.frame != frame:
            continue
        before, after = change.before, change.after
        if before is None or not before.flag:
            return ""
        if after is None:
            return "deleted"
        if after.flag:
            return ""
        if after.absent:
            return "absent"
        return "fixed" if after.box != before.box else "accepted"
    return ""
