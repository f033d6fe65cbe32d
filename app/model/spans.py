"""A track as runs of frames in the same state, for the all-tracks timeline (Qt-free).

A long video has one entry per frame and track; the lanes draw one rectangle per run of equal
state instead, so painting costs what the track's structure costs, not its length.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import NamedTuple

from app.model.annotations import BoxSource, FrameBox, Track


class FrameState(StrEnum):
    MANUAL = "manual keyframe"
    TRACKED = "tracked"
    INTERPOLATED = "interpolated"
    OCCLUDED = "occluded"
    ABSENT = "absent"


class Span(NamedTuple):
    """Frames ``start`` to ``end`` (both included) in ``state``."""

    start: int
    end: int
    state: object


def frame_state(entry: FrameBox) -> FrameState:
    """Absent and occluded say more than where the box came from, so they win."""
    if entry.absent:
        return FrameState.ABSENT
    if entry.occluded:
        return FrameState.OCCLUDED
    return {
        BoxSource.MANUAL: FrameState.MANUAL,
        BoxSource.TRACKED: FrameState.TRACKED,
        BoxSource.INTERPOLATED: FrameState.INTERPOLATED,
    }[entry.source]


def runs(states: Iterable[tuple[int, object]]) -> list[Span]:
    """Consecutive frames (in increasing order) with equal states merged into spans."""
    spans: list[Span] = []
    start = end = state = None
    for frame, value in states:
        if state is not None and frame == end + 1 and value == state:
            end = frame
            continue
        if state is not None:
            spans.append(Span(start, end, state))
        start = end = frame
        state = value
    if state is not None:
        spans.append(Span(start, end, state))
    return spans


def track_spans(track: Track) -> list[Span]:
    """The annotated frames of ``track`` as spans of FrameState; frames not annotated are gaps."""
    return runs((f, frame_state(entry)) for f, entry in sorted(track.boxes.items()))


def keyframe_marks(track: Track) -> list[int]:
    """Frames where a person drew the box (absent frames are manual too, but shown as absent)."""
    return sorted(f for f, entry in track.boxes.items() if entry.is_manual and not entry.absent)


def flagged_spans(track: Track) -> list[Span]:
    """Runs of frames flagged for review (state True)."""
    return runs((f, True) for f in track.flagged_frames())
