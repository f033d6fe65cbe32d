"""Paints the session: the frame, every track's box, the response map and overlay, the score
strip, the tracks list and the timeline. Subscribes to the session's events; holds no state of
the document, only what it last painted.

The screen is repainted from a single-shot QTimer at most ~30 times a second, so a fast
tracker never floods the GUI; every result is in the session, so nothing is lost by skipping
a repaint. An edit made by hand repaints at once (it must show under the hand).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer

from app.controllers.feedback import Feedback
from app.model.annotations import BoxSource, FrameBox
from app.model.groundtruth import ground_truth_iou
from app.model.session import Session
from app.ui.compare_overlays import comparison_overlays
from app.ui.confidence_plot import ConfidencePlot
from app.ui.flag_text import short_flag
from app.ui.response_panel import ResponsePanel
from app.ui.timeline import Timeline
from app.ui.track_panel import TrackPanel
from app.ui.video_view import BoxOverlay, VideoView

REPAINT_INTERVAL_MS = 33  # at most ~30 repaints per second, however fast the tracker is
ABSENT_CHIP = "#5f5f5f"  # an absent track's label: greyed


def outline_style(entry: FrameBox) -> str:
    """How a box is outlined (``BoxOverlay.style``): dashed when occluded, dotted when
    interpolated, else solid."""
    if entry.occluded:
        return "dashed"
    return "dotted" if entry.source is BoxSource.INTERPOLATED else "solid"


def box_overlays(session: Session, index: int) -> list[BoxOverlay]:
    """Every track on frame ``index`` as the view draws it: its box (dashed when occluded, dotted
    when interpolated) and a chip in its class colour saying id, class and state; an absent track
    gets a grey chip where it was last seen; then a live comparison's boxes. (The view and the
    recordings of it share this.)"""
    overlays = []
    annotations = session.annotations
    for track in annotations:
        entry = track.get(index)
        if entry is None:
            continue
        selected = track.id == session.selected_track
        name = f"#{track.id} {track.label}"
        if entry.box is None:
            seen = annotations.nearest_box(track.id, index)
            if seen is not None:
                text = f"{name} · absent"
                overlays.append(BoxOverlay(track.id, seen, track.color, text, ABSENT_CHIP, "none", selected))
            continue
        tags = [entry.source.value if not entry.is_manual else "key"]
        if math.isfinite(entry.score):
            tags.append(f"{entry.score:.2f}")
        if entry.occluded:
            tags.append("occluded")
        if entry.flag:
            tags.append("⚑ " + short_flag(entry.flag))
        overlays.append(
            BoxOverlay(
                track.id,
                entry.box,
                track.color,
                f"{name} · " + " · ".join(tags),
                annotations.class_color(track.label) or track.color,
                outline_style(entry),
                selected,
                flagged=bool(entry.flag),
            )
        )
    return overlays + comparison_overlays(session.comparison, index)  # a live comparison's boxes


def show_scores(plot: ConfidencePlot, session: Session) -> None:
    """The selected track's scores, flagged frames, keyframes and IoU with the ground truth on
    the score strip ``plot`` (the window's, or a recording's)."""
    count = session.frame_count
    scores = np.full(count, np.nan, dtype=np.float32)
    flagged: list[int] = []
    keys: list[int] = []
    track = session.annotations.tracks.get(session.selected_track)
    if track is not None:
        for f, entry in track.boxes.items():
            if 0 <= f < count:
                scores[f] = entry.score if math.isfinite(entry.score) else np.nan
                if entry.is_manual:
                    keys.append(f)
        flagged = track.flagged_frames()
        plot.set_colour(track.color)
    plot.set_scores(scores, flagged, keys)
    plot.set_iou(ground_truth_iou(session.annotations, session.selected_track, count))


class FramePresenter(QObject):
    def __init__(
        self,
        session: Session,
        view: VideoView,
        timeline: Timeline,
        track_panel: TrackPanel,
        response_panel: ResponsePanel,
        feedback: Feedback,
        running: Callable[[], bool],
        recent_frame: Callable[[int], np.ndarray | None],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.session = session
        self.view, self.timeline = view, timeline
        self.track_panel, self.response_panel = track_panel, response_panel
        self.feedback = feedback
        self._running = running
        self._recent_frame = recent_frame  # frames the tracker decoded already
        self.displayed_frame: int | None = None
        self.repaint_count = 0
        #: more views of what the response panel shows (``show_result(frame, entry, kept)``)
        self.result_views: list = []
        self._last_repaint = 0.0
        self._pending = False
        self._tracks_dirty = self._scores_dirty = True
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(REPAINT_INTERVAL_MS)
        self.timer.timeout.connect(self.repaint)
        session.document_changed.connect(self._on_document)
        session.frame_changed.connect(lambda _frame: self.schedule())
        session.selection_changed.connect(lambda _track: self.refresh(now=not self._running()))
        session.active_class_changed.connect(lambda _name: self.refresh(now=not self._running()))
        # The lanes keep each track's runs until an edit touches that track (first, then repaint).
        session.annotations_changed.connect(timeline.lanes.forget)
        session.annotations_changed.connect(lambda _edit: self.refresh(now=not self._running()))
        session.response_track_changed.connect(lambda _track: self.refresh(now=True))
        session.comparison.advanced.connect(lambda _frame: self.schedule())
        session.comparison.changed.connect(lambda: self.schedule(now=not self._running()))

    def _on_document(self) -> None:
        video = self.session.video
        if video is not None and self.timeline.slider.maximum() != max(video.frame_count - 1, 0):
            self.timeline.set_frame_count(video.frame_count)
            self.displayed_frame = None
            self.view.set_box(None)
        self.refresh(now=True)

    def refresh(self, now: bool = True) -> None:
        """Repaint after an edit: tracks list and score strip too."""
        self._tracks_dirty = self._scores_dirty = True
        self.schedule(now)

    def schedule(self, now: bool = False) -> None:
        self._pending = True
        if now:
            self.timer.stop()
            self.repaint()
        elif not self.timer.isActive():
            # Paced from the previous repaint, not from now: a fixed delay after each new result
            # would add to the paint time and halve the refresh rate.
            since = (time.perf_counter() - self._last_repaint) * 1000.0
            self.timer.start(int(max(0.0, REPAINT_INTERVAL_MS - since)))

    def repaint(self) -> None:
        self._last_repaint = time.perf_counter()
        session = self.session
        if not self._pending or session.video is None:
            return
        self._pending = False
        index = session.current_frame
        self.repaint_count += 1
        if index != self.displayed_frame:
            self.view.set_frame(self.frame_image(index))
        self.displayed_frame = index
        self._show_boxes(index)
        selected = session.selected_track
        mapped = session.shown_response_track()  # whose response map is on screen
        track = session.annotations.tracks.get(mapped)
        entry = track.get(index) if track is not None else None
        kept = session.maps.get(mapped, index) if mapped is not None else None
        self.view.set_overlay(kept.response if kept else None, kept.geometry if kept else None)
        for shown in (self.response_panel, *self.result_views):
            shown.show_result(index, entry, kept)
        if self._tracks_dirty:
            self._tracks_dirty = False
            self.track_panel.refresh(session.annotations, selected, session.active_class)
            self.timeline.lanes.show_tracks(session.annotations, selected, session.frame_count)
            self.response_panel.set_tracks(session.annotations, session.response_track)
        if self._scores_dirty:
            self._scores_dirty = False
            self._show_scores()
        self.timeline.set_current(index, session.frame_count, self._timestamp(index))

    def frame_image(self, index: int) -> np.ndarray | None:
        """Frame ``index`` (BGR, read-only), or None when it cannot be read (said on the status bar)."""
        frame = self._recent_frame(index)
        if frame is not None:
            return frame
        try:
            return self.session.video.frame(index)
        except Exception as exc:  # noqa: BLE001 - a bad frame is reported, the app goes on
            self.feedback.show_status(f"Cannot show frame {index}: {exc}", 8000)
            return None

    def _show_boxes(self, index: int) -> None:
        overlays = box_overlays(self.session, index)
        self.view.set_track_boxes(overlays)
        # The selected track's box is the editable one too, unless a run is moving it.
        running = self._running()
        editable = [o for o in overlays if o.selected and o.style != "none" and not running]
        if editable:
            self.view.set_box(editable[0].box, editable[0].colour)
        else:
            self.view.set_box(None)

    def _show_scores(self) -> None:
        show_scores(self.timeline.plot, self.session)

    def _timestamp(self, index: int) -> float | None:
        try:
            return self.session.video.timestamp(index)
        except (IndexError, ValueError, AttributeError):
            return None
