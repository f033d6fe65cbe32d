"""The annotation model, Qt-free: tracks of per-frame boxes, and reversible edits of them.

Conventions (the same as ``trackers.base``): frame indices are 0-based; a box is
``(x, y, w, h)`` in pixels with (0, 0) the top-left corner of the top-left pixel.

Every change to the boxes goes through an ``Edit`` (``Annotations.apply``), which records the
state before and after, so undo is ``apply(edit.inverse())`` — the GUI's QUndoStack wraps
edits without knowing what is inside them, and a whole tracking run can be one edit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from itertools import pairwise

from trackers.base import Box, box_values


class BoxSource(StrEnum):
    MANUAL = "manual"  # drawn or corrected by a person: a keyframe, never overwritten by a tracker
    TRACKED = "tracked"
    INTERPOLATED = "interpolated"


# Distinct on a dark video and on the dark theme; a new track takes the next one.
PALETTE = (
    "#ff5252", "#40c4ff", "#69f0ae", "#ffd740", "#e040fb",
    "#ff6e40", "#64ffda", "#eeff41", "#7c4dff", "#ff4081",
)  # fmt: skip


#: no video frame is this large: a coordinate beyond it is a corrupt or hostile file, not a box
MAX_COORDINATE = 1e6


def check_box(box) -> Box:
    """A finite (x, y, w, h) with w, h > 0 and every value within +-MAX_COORDINATE, as floats;
    ValueError otherwise."""
    values = box_values(box)
    if max(abs(v) for v in values) > MAX_COORDINATE:
        raise ValueError(f"a box value is beyond {MAX_COORDINATE:g} pixels: {box!r}")
    return values


@dataclass(frozen=True)
class FrameBox:
    """One track on one frame. ``absent`` (out of view) frames carry no box, said explicitly."""

    box: Box | None
    source: BoxSource = BoxSource.MANUAL
    score: float = math.nan  # the tracker's confidence; NaN for manual / interpolated boxes
    occluded: bool = False
    absent: bool = False
    flag: str = ""  # why this frame needs a look ("" = fine); set by the drift checks
    reviewed: bool = False  # a person has looked at this frame and accepted it

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", BoxSource(self.source))
        if self.absent:
            if self.box is not None:
                object.__setattr__(self, "box", None)
        else:
            object.__setattr__(self, "box", check_box(self.box))

    @property
    def is_manual(self) -> bool:
        return self.source is BoxSource.MANUAL

    def with_(self, **changes) -> FrameBox:
        return replace(self, **changes)


def tracked_box(box: Box, score: float, flag: str = "") -> FrameBox:
    return FrameBox(box, BoxSource.TRACKED, score=float(score), flag=flag)


def absent_entry() -> FrameBox:
    """A person said the object is out of view on this frame: manual, so no run overwrites it."""
    return FrameBox(None, BoxSource.MANUAL, absent=True, reviewed=True)


def check_label(label) -> str:
    """A class label as exporters write it: one line (whitespace runs become one space), not empty."""
    if not isinstance(label, str):
        raise ValueError(f"a label is text; got {label!r}")  # noqa: TRY004 - file content: one error type
    clean = " ".join(label.split())
    if not clean:
        raise ValueError("a label cannot be empty")
    return clean


def check_color(color) -> str:
    """``#rrggbb``; ValueError otherwise (a project file's colour goes straight to Qt)."""
    if not (isinstance(color, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", color)):
        raise ValueError(f"a colour is #rrggbb; got {color!r}")
    return color.lower()


@dataclass(frozen=True)
class ObjectClass:
    """One entry of the project's class list: a track's class is its label; the colour marks
    the class on the frame (a track keeps its own colour, its identity)."""

    name: str
    color: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", check_label(self.name))
        object.__setattr__(self, "color", check_color(self.color))


@dataclass
class Track:
    id: int
    label: str = "object"
    color: str = PALETTE[0]
    boxes: dict[int, FrameBox] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.label = check_label(self.label)
        self.color = check_color(self.color)

    def get(self, frame: int) -> FrameBox | None:
        """The frame's entry; None means the frame is not annotated for this track at all."""
        return self.boxes.get(frame)

    def frames(self) -> list[int]:
        return sorted(self.boxes)

    def manual_frames(self) -> list[int]:
        return sorted(f for f, b in self.boxes.items() if b.is_manual)

    def flagged_frames(self) -> list[int]:
        return sorted(f for f, b in self.boxes.items() if b.flag)

    def next_manual(self, frame: int) -> int | None:
        later = [f for f, b in self.boxes.items() if b.is_manual and f > frame]
        return min(later) if later else None

    def previous_manual(self, frame: int) -> int | None:
        earlier = [f for f, b in self.boxes.items() if b.is_manual and f < frame]
        return max(earlier) if earlier else None

    def copy(self) -> Track:
        return Track(self.id, self.label, self.color, dict(self.boxes))


@dataclass(frozen=True)
class BoxChange:
    track: int
    frame: int
    before: FrameBox | None
    after: FrameBox | None


@dataclass(frozen=True)
class TrackChange:
    """A track appears (before None), disappears (after None) or is renamed / recoloured.
    Only the label and colour count when both sides are given; boxes move with BoxChange."""

    before: Track | None
    after: Track | None

    @property
    def track(self) -> int:
        return (self.after or self.before).id


@dataclass(frozen=True)
class ClassListChange:
    """The whole class list before and after (it is short; order is the classes' numbering)."""

    before: tuple[ObjectClass, ...]
    after: tuple[ObjectClass, ...]


@dataclass(frozen=True)
class Edit:
    text: str
    tracks: tuple[TrackChange, ...] = ()
    boxes: tuple[BoxChange, ...] = ()
    classes: ClassListChange | None = None

    def __bool__(self) -> bool:
        return bool(self.tracks or self.boxes or self.classes)

    def inverse(self) -> Edit:
        classes = self.classes
        return Edit(
            self.text,
            tuple(TrackChange(c.after, c.before) for c in reversed(self.tracks)),
            tuple(BoxChange(c.track, c.frame, c.after, c.before) for c in reversed(self.boxes)),
            None if classes is None else ClassListChange(classes.after, classes.before),
        )

    def frames(self) -> set[int]:
        return {c.frame for c in self.boxes}


class Annotations:
    """All tracks of one video. Mutate only through ``apply`` (or the helpers that build edits)."""

    def __init__(self, frame_count: int = 0):
        self.frame_count = int(frame_count)
        self.tracks: dict[int, Track] = {}
        #: the project's classes, in hotkey order; every track's label is one of them
        self.classes: tuple[ObjectClass, ...] = ()
        self.version = 0  # bumped on every applied edit: autosave and views compare it

    def __iter__(self) -> Iterator[Track]:
        return iter(self.tracks[i] for i in sorted(self.tracks))

    def __len__(self) -> int:
        return len(self.tracks)

    def track(self, track_id: int) -> Track:
        try:
            return self.tracks[track_id]
        except KeyError:
            raise KeyError(f"there is no track {track_id}") from None

    def next_id(self) -> int:
        return max(self.tracks, default=0) + 1

    def labels(self) -> list[str]:
        return sorted({t.label for t in self.tracks.values()})

    # -- applying edits --------------------------------------------------------------------------

    def apply(self, edit: Edit) -> None:
        """Tracks are added before boxes are set and removed after boxes are cleared, so an edit
        and its inverse both apply in one pass."""
        for change in edit.tracks:
            if change.before is None:
                self.tracks[change.after.id] = Track(change.after.id, change.after.label, change.after.color)
        for change in edit.boxes:
            track = self.track(change.track)
            if change.after is None:
                track.boxes.pop(change.frame, None)
            else:
                track.boxes[change.frame] = change.after
        for change in edit.tracks:
            if change.after is None:
                self.tracks.pop(change.before.id, None)
            elif change.before is not None:
                track = self.track(change.after.id)
                track.label, track.color = change.after.label, change.after.color
        if edit.classes is not None:
            self.classes = edit.classes.after
        self.version += 1

    # -- edits (built, not applied: the caller applies them, usually through the undo stack) -----

    def add_track_edit(self, label: str = "object", color: str | None = None, boxes=None) -> Edit:
        track_id = self.next_id()
        color = color or PALETTE[(track_id - 1) % len(PALETTE)]
        track = Track(track_id, label, color)
        changes = tuple(BoxChange(track_id, f, None, b) for f, b in sorted((boxes or {}).items()))
        return self._listing_labels(
            Edit(f"New track {track_id} ({track.label})", (TrackChange(None, track),), changes)
        )

    def import_edit(self, other: Annotations, text: str = "Import") -> Edit:
        """Add ``other``'s tracks as new tracks (new ids and colours, labels and boxes kept);
        labels that are not classes yet join the class list (with ``other``'s class colours)."""
        tracks, boxes = [], []
        for offset, track in enumerate(other):
            new_id = self.next_id() + offset
            tracks.append(TrackChange(None, Track(new_id, track.label, PALETTE[(new_id - 1) % len(PALETTE)])))
            boxes += [BoxChange(new_id, f, None, b) for f, b in sorted(track.boxes.items())]
        colours = {c.name: c.color for c in other.classes}
        return self._listing_labels(Edit(text, tuple(tracks), tuple(boxes)), colours)

    def remove_track_edit(self, track_id: int) -> Edit:
        track = self.track(track_id)
        changes = tuple(BoxChange(track_id, f, b, None) for f, b in sorted(track.boxes.items()))
        return Edit(f"Delete track {track_id}", (TrackChange(track.copy(), None),), changes)

    def relabel_edit(self, track_id: int, label: str | None = None, color: str | None = None) -> Edit:
        track = self.track(track_id)
        after = Track(track_id, label if label is not None else track.label, color or track.color)
        text = f"Track {track_id} is now '{after.label}'" if after.label != track.label else f"Recolour track {track_id}"
        return self._listing_labels(Edit(text, (TrackChange(track.copy(), after),)))

    # -- classes ---------------------------------------------------------------------------------

    def class_names(self) -> list[str]:
        return [c.name for c in self.classes]

    def class_color(self, name: str) -> str | None:
        return next((c.color for c in self.classes if c.name == name), None)

    def tracks_of_class(self, name: str) -> list[int]:
        return [t.id for t in self if t.label == name]

    def add_missing_classes(self) -> None:
        """Every label a track uses becomes a class, sorted (a project from before class lists,
        tracks a format loaded). Not an edit: done to a document before it is shown."""
        self.classes += self._new_classes(sorted(self.labels()))

    def add_class_edit(self, name: str, color: str | None = None) -> Edit:
        name = check_label(name)
        if name in self.class_names():
            raise ValueError(f"there is a class {name!r} already")
        added = ObjectClass(name, color or self._new_classes([name])[0].color)
        return Edit(f"Add class {name}", classes=ClassListChange(self.classes, (*self.classes, added)))

    def rename_class_edit(self, name: str, new_name: str) -> Edit:
        """Rename a class and relabel every track of it: one edit, one undo step."""
        self._check_class(name)
        new_name = check_label(new_name)
        if new_name == name:
            return Edit(f"Rename class {name}")
        if new_name in self.class_names():
            raise ValueError(f"there is a class {new_name!r} already")
        after = tuple(replace(c, name=new_name) if c.name == name else c for c in self.classes)
        tracks = tuple(TrackChange(t.copy(), Track(t.id, new_name, t.color)) for t in self if t.label == name)
        return Edit(f"Rename class {name} to {new_name}", tracks, (), ClassListChange(self.classes, after))

    def recolour_class_edit(self, name: str, color: str) -> Edit:
        self._check_class(name)
        color = check_color(color)
        after = tuple(replace(c, color=color) if c.name == name else c for c in self.classes)
        return Edit(f"Colour of class {name}", classes=ClassListChange(self.classes, after))

    def remove_class_edit(self, name: str) -> Edit:
        """Refused (ValueError) while a track has the class: removing it never loses boxes."""
        self._check_class(name)
        used = self.tracks_of_class(name)
        if used:
            tracks = ", ".join(f"#{i}" for i in used)
            raise ValueError(
                f"class {name!r} is used by track{'s' if len(used) > 1 else ''} {tracks}: "
                "give them another class or delete them first"
            )
        after = tuple(c for c in self.classes if c.name != name)
        return Edit(f"Remove class {name}", classes=ClassListChange(self.classes, after))

    def _check_class(self, name: str) -> None:
        if name not in self.class_names():
            raise ValueError(f"there is no class {name!r}")

    def _new_classes(
        self, labels: Iterable[str], colours: dict[str, str] | None = None
    ) -> tuple[ObjectClass, ...]:
        """Classes for the ``labels`` that are not classes yet, each coloured as ``colours``
        says or with the next palette colour no class has."""
        have, used = set(self.class_names()), {c.color for c in self.classes}
        added = []
        for label in labels:
            name = check_label(label)
            if name in have:
                continue
            color = (colours or {}).get(label) or next(
                (c for c in PALETTE if c not in used),
                PALETTE[(len(self.classes) + len(added)) % len(PALETTE)],
            )
            added.append(ObjectClass(name, color))
            have.add(name)
            used.add(added[-1].color)
        return tuple(added)

    def _listing_labels(self, edit: Edit, colours: dict[str, str] | None = None) -> Edit:
        """``edit``, adding to the class list the labels it gives tracks that are not classes yet."""
        added = self._new_classes([c.after.label for c in edit.tracks if c.after is not None], colours)
        if not added:
            return edit
        return replace(edit, classes=ClassListChange(self.classes, (*self.classes, *added)))

    def set_box_edit(self, track_id: int, frame: int, entry: FrameBox | None, text: str = "") -> Edit:
        self._check_frame(frame)
        before = self.track(track_id).get(frame)
        if before == entry:
            return Edit(text)
        return Edit(
            text or f"Edit box (track {track_id}, frame {frame})",
            (),
            ((BoxChange(track_id, frame, before, entry)),),
        )

    def manual_box_edit(self, track_id: int, frame: int, box: Box) -> Edit:
        """The person drew or moved a box: it becomes a keyframe, keeping the frame's flags."""
        old = self.track(track_id).get(frame)
        entry = FrameBox(check_box(box), BoxSource.MANUAL, occluded=bool(old and old.occluded), reviewed=True)
        return self.set_box_edit(track_id, frame, entry, f"Set box (track {track_id}, frame {frame})")

    def toggle_edit(self, track_id: int, frame: int, what: str) -> Edit:
        """Toggle ``occluded`` or ``absent`` on a frame. Marking a frame absent makes it manual
        (a person said so), and clearing it needs a box: the nearest one is reused."""
        track = self.track(track_id)
        old = track.get(frame)
        if what == "occluded":
            if old is None or old.absent:
                raise ValueError(f"frame {frame} has no box of track {track_id} to mark occluded")
            new = old.with_(occluded=not old.occluded)
        elif what == "absent":
            if old is not None and old.absent:
                box = self.nearest_box(track_id, frame)
                if box is None:
                    return self.set_box_edit(track_id, frame, None, f"Clear absent (frame {frame})")
                new = FrameBox(box, BoxSource.MANUAL, reviewed=True)
            else:
                new = absent_entry()
        else:
            raise ValueError(f"unknown flag {what!r}: occluded or absent")
        return self.set_box_edit(track_id, frame, new, f"Toggle {what} (track {track_id}, frame {frame})")

    def delete_box_edit(self, track_id: int, frame: int) -> Edit:
        return self.set_box_edit(track_id, frame, None, f"Delete box (track {track_id}, frame {frame})")

    def nearest_box(self, track_id: int, frame: int) -> Box | None:
        track = self.track(track_id)
        with_box = [f for f, b in track.boxes.items() if b.box is not None]
        if not with_box:
            return None
        return track.boxes[min(with_box, key=lambda f: (abs(f - frame), f))].box

    def _check_frame(self, frame: int) -> None:
        if frame < 0 or (self.frame_count and frame >= self.frame_count):
            raise IndexError(f"frame {frame} is outside the video (0..{self.frame_count - 1})")

    # -- re-tracking rules ---------------------------------------------------------------------

    def boxes_at(self, frame: int) -> dict[int, Box]:
        """track id -> its box on ``frame`` (tracks with none there left out)."""
        return {t.id: e.box for t in self if (e := t.get(frame)) is not None and e.box is not None}

    def tracking_span(self, track_id: int, start: int, direction: int = 1) -> range:
        """The frames a run from ``start`` may write, in tracking order: up to (not including)
        the next manual keyframe in ``direction``, or the end / start of the video."""
        if direction not in (1, -1):
            raise ValueError("direction is 1 (forward) or -1 (backward)")
        track = self.track(track_id)
        if direction == 1:
            stop = track.next_manual(start)
            return range(start + 1, self.frame_count if stop is None else stop)
        stop = track.previous_manual(start)
        return range(start - 1, -1 if stop is None else stop, -1)

    def tracked_changes(self, track_id: int, results: Iterable[tuple[int, FrameBox]]) -> list[BoxChange]:
        """Changes that store tracker results, skipping any frame holding a manual box (a run
        never overwrites what a person drew, even if the span was computed before an edit)."""
        track = self.track(track_id)
        changes = []
        for frame, entry in results:
            before = track.get(frame)
            if before is not None and before.is_manual:
                continue
            changes.append(BoxChange(track_id, frame, before, entry))
        return changes

    def clear_span_changes(self, track_id: int, span: range) -> list[BoxChange]:
        """Changes removing the non-manual boxes in ``span`` (stale once a run restarts there)."""
        track = self.track(track_id)
        return [
            BoxChange(track_id, f, track.boxes[f], None)
            for f in span
            if f in track.boxes and not track.boxes[f].is_manual
        ]

    # -- interpolation -------------------------------------------------------------------------

    def interpolate_edit(self, track_id: int, first: int | None = None, last: int | None = None) -> Edit:
        """Fill every frame between consecutive manual keyframes in [first, last] linearly.

        Frames holding manual boxes are kept; pairs where either keyframe is absent are skipped
        (the object is not there to interpolate)."""
        track = self.track(track_id)
        keys = [
            f for f in track.manual_frames() if (first is None or f >= first) and (last is None or f <= last)
        ]
        changes = []
        for a, b in pairwise(keys):
            box_a, box_b = track.boxes[a].box, track.boxes[b].box
            if box_a is None or box_b is None or b - a < 2:
                continue
            for f in range(a + 1, b):
                t = (f - a) / (b - a)
                box = tuple(float(p + (q - p) * t) for p, q in zip(box_a, box_b, strict=True))
                entry = FrameBox(box, BoxSource.INTERPOLATED)
                before = track.get(f)
                if before != entry:
                    changes.append(BoxChange(track_id, f, before, entry))
        return Edit(f"Interpolate track {track_id}", (), tuple(changes))

    # -- flags ---------------------------------------------------------------------------------

    def flagged_frames(self) -> list[int]:
        return sorted({f for t in self.tracks.values() for f in t.flagged_frames()})

    def flag_edit(self, flags: dict[tuple[int, int], str], text: str = "Flag frames for review") -> Edit:
        """Set the review flag of (track, frame) entries that exist; reasons replace old ones."""
        changes = []
        for (track_id, frame), reason in sorted(flags.items()):
            before = self.track(track_id).get(frame)
            if before is not None and before.flag != reason:
                changes.append(BoxChange(track_id, frame, before, before.with_(flag=reason)))
        return Edit(text, (), tuple(changes))

    # -- (de)serialisation ---------------------------------------------------------------------

    def to_dict(self) -> dict:
        return {
            "frame_count": self.frame_count,
            "classes": [{"name": c.name, "color": c.color} for c in self.classes],
            "tracks": [
                {
                    "id": t.id,
                    "label": t.label,
                    "color": t.color,
                    "frames": [_entry_to_dict(f, b) for f, b in sorted(t.boxes.items())],
                }
                for t in self
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Annotations:
        """Strict: any malformed part raises ValueError naming where it is."""
        require(isinstance(data, dict), "annotations: expected an object")
        model = cls(_int(data.get("frame_count", 0), "frame_count"))
        classes = data.get("classes", [])  # absent before class lists: the tracks' labels then
        require(isinstance(classes, list), "annotations.classes: expected a list")
        for i, raw in enumerate(classes):
            require(isinstance(raw, dict), f"classes[{i}]: expected an object")
            try:
                added = model._new_classes([raw.get("name")], {raw.get("name"): raw.get("color")})
                if not added:
                    raise ValueError(f"class {raw.get('name')!r} appears twice")
            except (TypeError, ValueError) as exc:
                raise ValueError(f"classes[{i}]: {exc}") from None
            model.classes += added
        tracks = data.get("tracks", [])
        require(isinstance(tracks, list), "annotations.tracks: expected a list")
        for i, raw in enumerate(tracks):
            where = f"tracks[{i}]"
            require(isinstance(raw, dict), f"{where}: expected an object")
            track_id = _int(raw.get("id"), f"{where}.id")
            if track_id in model.tracks:
                raise ValueError(f"{where}.id: track {track_id} appears twice")
            try:
                track = Track(track_id, raw.get("label", "object"), raw.get("color", PALETTE[0]))
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
            frames = raw.get("frames", [])
            require(isinstance(frames, list), f"{where}.frames: expected a list")
            for j, entry in enumerate(frames):
                frame, box = _entry_from_dict(entry, f"{where}.frames[{j}]")
                if model.frame_count and not 0 <= frame < model.frame_count:
                    raise ValueError(
                        f"{where}.frames[{j}]: frame {frame} is outside 0..{model.frame_count - 1}"
                    )
                track.boxes[frame] = box
            model.tracks[track_id] = track
        model.add_missing_classes()
        return model


def require(ok: bool, message: str) -> None:
    """Malformed input (a file's content, not a programming error) is a ValueError."""
    if not ok:
        raise ValueError(message)


def _int(value, where: str) -> int:
    require(
        isinstance(value, int) and not isinstance(value, bool), f"{where}: expected an integer, got {value!r}"
    )
    return value


def _entry_to_dict(frame: int, entry: FrameBox) -> dict:
    out: dict = {"frame": frame, "source": entry.source.value}
    if entry.absent:
        out["absent"] = True
    else:
        out["box"] = [round(v, 4) for v in entry.box]
    if math.isfinite(entry.score):
        out["score"] = round(entry.score, 6)
    if entry.occluded:
        out["occluded"] = True
    if entry.flag:
        out["flag"] = entry.flag
    if entry.reviewed:
        out["reviewed"] = True
    return out


def _entry_from_dict(raw, where: str) -> tuple[int, FrameBox]:
    require(isinstance(raw, dict), f"{where}: expected an object")
    frame = _int(raw.get("frame"), f"{where}.frame")
    try:
        score = raw.get("score")
        entry = FrameBox(
            None if raw.get("absent") else raw.get("box"),
            BoxSource(raw.get("source", "manual")),
            score=math.nan if score is None else float(score),
            occluded=bool(raw.get("occluded", False)),
            absent=bool(raw.get("absent", False)),
            flag=str(raw.get("flag", "")),
            reviewed=bool(raw.get("reviewed", False)),
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None
    return frame, entry
