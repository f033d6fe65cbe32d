"""Annotations built from real sequences for the format tests, and how to compare them.

``crossing_annotations`` loads otb_crossing's ground truth as track 1 ("person") with every kind
of entry a project holds: manual keyframes, tracked boxes with scores, interpolated boxes, absent
and occluded frames, reviewed marks; track 2 ("car") is a second object (the same boxes moved)
over part of the video, for the multi-object formats.
"""

from __future__ import annotations

from app.io.project import VideoRef
from app.model.annotations import Annotations, BoxSource, FrameBox
from tests.shared_data import SEQUENCES
from trackers.io import read_groundtruth

CROSSING = SEQUENCES / "otb_crossing"
ABSENT_FRAMES = (30, 31, 32)
OCCLUDED_FRAMES = (40, 41, 42, 43)


def crossing_annotations(second_track: bool = True) -> Annotations:
    boxes = read_groundtruth(CROSSING / "groundtruth_rect.txt")
    annotations = Annotations(len(boxes))
    person = {}
    for frame, box in enumerate(boxes):
        box = (float(box[0]) + 0.25, float(box[1]) - 0.5, float(box[2]), float(box[3]) + 0.75)  # not integers
        if frame in ABSENT_FRAMES:
            person[frame] = FrameBox(None, BoxSource.MANUAL, absent=True, reviewed=True)
        elif frame % 10 == 0:
            person[frame] = FrameBox(box, BoxSource.MANUAL, reviewed=True, occluded=frame in OCCLUDED_FRAMES)
        elif 50 < frame < 60:
            person[frame] = FrameBox(box, BoxSource.INTERPOLATED)
        else:
            person[frame] = FrameBox(
                box,
                BoxSource.TRACKED,
                score=0.5 + frame / 1000,
                occluded=frame in OCCLUDED_FRAMES,
                reviewed=frame % 3 == 0,
                flag="drift" if frame == 77 else "",
            )
    annotations.apply(annotations.add_track_edit("person", boxes=person))
    if second_track:
        car = {
            f: FrameBox(
                (float(b[0]) + 40.5, float(b[1]) + 10, float(b[2]) + 5, float(b[3]) - 7), BoxSource.MANUAL
            )
            for f, b in enumerate(boxes)
            if 10 <= f < 60
        }
        car[20] = FrameBox(None, BoxSource.MANUAL, absent=True)
        annotations.apply(annotations.add_track_edit("car", boxes=car))
    return annotations


def crossing_video() -> VideoRef:
    return VideoRef(str(CROSSING), "", 120, 360, 240, 30.0)


def box_error(a, b) -> float:
    return max(abs(p - q) for p, q in zip(a, b, strict=True))


def assert_same_tracks(
    expected: Annotations,
    actual: Annotations,
    *,
    tol: float = 1e-3,
    occluded: bool = True,
    source: bool = False,
    frames: set[int] | None = None,
) -> None:
    """Same track ids, labels, frames, absent marks and boxes (and occluded / source if asked);
    ``frames`` restricts the expected entries to those frames."""
    assert sorted(actual.tracks) == sorted(expected.tracks)
    for track in expected:
        got = actual.track(track.id)
        assert got.label == track.label, track.id
        want = {f: e for f, e in track.boxes.items() if frames is None or f in frames}
        assert sorted(got.boxes) == sorted(want), f"track {track.id}: frames differ"
        for frame, entry in want.items():
            other = got.boxes[frame]
            where = f"track {track.id}, frame {frame}"
            assert other.absent == entry.absent, where
            if not entry.absent:
                assert box_error(other.box, entry.box) <= tol, (where, other.box, entry.box)
                if occluded:
                    assert other.occluded == entry.occluded, where
            if source:
                assert other.source == entry.source, where
