"""The review queue, Qt-free: every flagged entry of every track, in frame order, and how an
edit settles one.

A frame is flagged by the drift checks (``FrameBox.flag`` holds why) and stays in the queue
until a person decides: accepting it clears the flag (``ranges.accepted``), a corrected box
is a new manual keyframe without one, marking it absent or deleting it replaces the entry.
The queue is the flags the timeline marks, one item per run of consecutive flagged frames of a
track: a failure flags the frames after it too, and J goes from one run to the next.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.model.annotations import Annotations, Edit
from app.model.ranges import FrameRange


@dataclass(frozen=True, order=True)
class ReviewItem:
    """One track's flagged frames ``frame``..``last`` in a row: one item, since a failure
    flags the frames after it too and a fix at its first frame, re-tracked, settles the rest."""

    frame: int  # the first flagged frame
    track: int
    reason: str  # why the first frame is flagged
    last: int

    @property
    def key(self) -> tuple[int, int]:
        return self.frame, self.track

    @property
    def frames(self) -> int:
        return self.last - self.frame + 1

    def holds(self, frame: int, track: int | None) -> bool:
        return track == self.track and self.frame <= frame <= self.last

    @property
    def span(self) -> str:
        return str(self.frame) if self.frames == 1 else f"{self.frame}–{self.last}"

    def where(self) -> str:
        return f"frame {self.span}" if self.frames == 1 else f"frames {self.span}"


def review_queue(annotations: Annotations) -> list[ReviewItem]:
    """Each track's runs of consecutive flagged frames, by first frame then track."""
    items = []
    for track in annotations:
        flagged = sorted(frame for frame, entry in track.boxes.items() if entry.flag)
        start = 0
        for i, frame in enumerate(flagged):
            if i + 1 == len(flagged) or flagged[i + 1] != frame + 1:
                first = flagged[start]
                items.append(ReviewItem(first, track.id, track.boxes[first].flag, frame))
                start = i + 1
    return sorted(items)


def step_item(
    items: list[ReviewItem], frame: int, track: int | None, direction: int = 1
) -> ReviewItem | None:
    """The item starting after (direction 1) or before (-1) position (frame, track) in queue
    order, wrapping around at either end; None for an empty queue. From inside an item, -1
    goes back to where it starts."""
    if not items:
        return None
    here = (frame, -1 if track is None else track)
    if direction > 0:
        return next((item for item in items if item.key > here), items[0])
    return next((item for item in reversed(items) if item.key < here), items[-1])


def frames_in(items: list[ReviewItem], selected: FrameRange | None) -> list[tuple[int, int]]:
    """(track, frame) of every flagged frame inside the range."""
    if selected is None:
        return []
    first, last = selected
    return [
        (item.track, frame)
        for item in items
        for frame in range(max(item.frame, first), min(item.last, last) + 1)
    ]


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
