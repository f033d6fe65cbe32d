"""Live comparisons of 2-4 trackers: start one from the current frame, swap a tracker, restart,
stop, and keep one tracker's boxes as a track.

A comparison's results live in ``session.comparison`` (not in the annotations: they are not
the user's work and are not undoable); only "keep as track" changes the annotations, as one
undoable edit. The trackers run in the worker thread of ``CompareRunner``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from app.controllers.feedback import Feedback
from app.controllers.undo import push_edit
from app.engine.compare import CompareJob
from app.engine.jobs import TrackerSpec, has_shipped_weights, no_weights_message
from app.model.annotations import BoxSource, FrameBox
from app.model.comparison import MAX_SLOTS
from app.model.groundtruth import is_ground_truth
from app.model.session import Session
from app.services.compare_worker import CompareRunner
from trackers.base import Box

_RECENT_FRAMES = 16  # frames the worker sent lately, shown without decoding them again


def spec_title(spec: TrackerSpec) -> str:
    """How a compared tracker is named on screen: its name, and its weights file if not shipped."""
    return spec.name if spec.weights is None else f"{spec.name} · {Path(spec.weights).name}"


class ComparisonController(QObject):
    #: a comparison run started (True) or ended (False)
    running_changed = Signal(bool)
    progress = Signal(int, int)  # frames done, frames to do

    def __init__(
        self,
        session: Session,
        undo_stack: QUndoStack,
        feedback: Feedback,
        busy: Callable[[], bool],
        new_track_label: Callable[[], str],
        runner: CompareRunner | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.session = session
        self.undo_stack = undo_stack
        self.feedback = feedback
        self._busy = busy  # a tracking run is going: no comparison meanwhile
        self._new_track_label = new_track_label
        self.runner = runner if runner is not None else CompareRunner(self)
        #: while a comparison runs, the view follows its newest frame (until the user moves)
        self.follow = False
        self._frames: OrderedDict[int, np.ndarray] = OrderedDict()
        #: the slots whose results the running worker sends (empty: drop what still arrives)
        self._slots: tuple[int, ...] = ()
        self._complete = self._failed = False
        self._then: Callable[[], None] | None = None  # started once the stopped run has ended
        self._video = None  # the video the comparison runs on
        self.runner.stepped.connect(self._on_stepped)
        self.runner.ready.connect(lambda text: self.feedback.show_status(f"Comparing {text}", 0))
        self.runner.failed.connect(self._on_failed)
        self.runner.finished.connect(self._on_finished)
        session.document_changed.connect(self._on_document)

    @property
    def comparison(self):
        return self.session.comparison

    @property
    def running(self) -> bool:
        return self.runner.running

    def recent_frame(self, index: int) -> np.ndarray | None:
        """A frame the worker sent with its results lately (read-only), or None."""
        return self._frames.get(index)

    # -- starting --------------------------------------------------------------------------------

    def start_box(self) -> Box | None:
        """Where a comparison starts on the current frame: the selected track's box, else the
        box of the (one) ground-truth track there."""
        session, frame = self.session, self.session.current_frame
        track = session.annotations.tracks.get(session.selected_track)
        if track is not None and (entry := track.get(frame)) is not None and entry.box is not None:
            return entry.box
        truths = [
            e.box
            for t in session.annotations
            if is_ground_truth(t) and (e := t.get(frame)) is not None and e.box is not None
        ]
        return truths[0] if len(truths) == 1 else None

    def start(self, specs: list[TrackerSpec]) -> bool:
        """Compare ``specs`` (2-4 trackers) from the current frame, all from the same box."""
        session = self.session
        if session.video is None:
            self.feedback.show_error("Nothing to compare on", "Open a video or a folder of images first.")
            return False
        if not 2 <= len(specs) <= MAX_SLOTS:
            self.feedback.show_error("Compare trackers", f"Choose 2 to {MAX_SLOTS} trackers to compare.")
            return False
        if self._busy():
            self.feedback.show_status("A tracking run is going: stop it first (Esc).", 6000)
            return False
        box = self.start_box()
        if box is None:
            self.feedback.show_error(
                "No start box",
                f"Select a track with a box on frame {session.current_frame} (or draw one): every "
                "tracker starts from that box.",
            )
            return False
        if not all(self._has_weights(spec) for spec in specs):
            return False
        start = session.current_frame
        trackers = [(spec, spec_title(spec)) for spec in specs]

        def begin() -> None:
            self.comparison.begin(start, box, trackers, session.frame_count)
            self._run(tuple(range(len(specs))))

        self._after_run(begin)
        return True

    def restart(self) -> bool:
        """Run every slot again from the comparison's start frame and box."""
        comparison = self.comparison
        if not comparison.active or self._busy():
            return False

        def again() -> None:
            comparison.reset(range(len(comparison.slots)))
            self._run(tuple(range(len(comparison.slots))))

        self._after_run(again)
        return True

    def swap(self, slot: int, spec: TrackerSpec) -> bool:
        """Slot ``slot`` runs ``spec`` instead, from the start frame: alone over the frames the
        others covered when no run is going, else the whole comparison restarts."""
        comparison = self.comparison
        if not 0 <= slot < len(comparison.slots) or self._busy() or not self._has_weights(spec):
            return False
        if self.running:
            comparison.replace(slot, spec, spec_title(spec))
            self.feedback.show_status(f"Slot {slot + 1} now runs {spec.name}: restarting the comparison.")
            self._after_run(lambda: self._run(tuple(range(len(comparison.slots))), reset=True))
            return True
        reached = comparison.reached()
        comparison.replace(slot, spec, spec_title(spec))
        end = None if reached is None or reached <= comparison.start else reached + 1
        self._run((slot,), end)
        return True

    def _has_weights(self, spec: TrackerSpec) -> bool:
        if spec.weights is None and not has_shipped_weights(spec.name):
            self.feedback.show_error("No weights for this tracker", no_weights_message(spec.name))
            return False
        return True

    def _after_run(self, then: Callable[[], None]) -> None:
        """Do ``then`` now, or once the running comparison has stopped."""
        if not self.running:
            then()
            return
        self._then = then
        self._slots = ()  # what the stopped run still sends belongs to the old line-up
        self.runner.stop()

    def _run(self, slots: tuple[int, ...], end: int | None = None, reset: bool = False) -> None:
        comparison = self.comparison
        if reset:
            comparison.reset(slots)
        job = CompareJob(
            self.session.video.reader(),
            comparison.start,
            comparison.box,
            tuple((slot, comparison.slots[slot].spec) for slot in slots),
            end,
        )
        self._slots, self._complete, self._failed = slots, False, False
        self._video = self.session.video
        self._frames.clear()
        comparison.set_status(slots, "running")
        self.runner.start(job)
        self.follow = True
        self.session.go_to(comparison.start)
        self.running_changed.emit(True)
        names = ", ".join(comparison.slots[s].title for s in slots)
        self.feedback.show_status(f"Loading {names}…", 0)

    # -- stopping --------------------------------------------------------------------------------

    def stop(self, wait: bool = False) -> None:
        self._then = None
        if wait:
            self.runner.shutdown()
        else:
            self.runner.stop()

    def clear(self) -> None:
        """Stop and forget the comparison (its boxes leave the screen)."""
        self.stop()
        self._slots = ()
        self.comparison.clear()

    def _on_document(self) -> None:
        # Another video (the session dropped the comparison): the run on the old one stops.
        if self.running and self.session.video is not self._video:
            self.stop()
            self._slots = ()

    # -- results ---------------------------------------------------------------------------------

    def _on_stepped(self, index: int, frame: np.ndarray, results: dict, done: int, total: int) -> None:
        if not self._slots:
            return
        self._frames[index] = frame
        while len(self._frames) > _RECENT_FRAMES:
            self._frames.popitem(last=False)
        self.comparison.put(
            index,
            {
                slot: (
                    tuple(float(v) for v in r.result.box),
                    r.result.score,
                    r.fps,
                    r.result.response,
                    r.result.geometry,
                )
                for slot, r in results.items()
                if slot in self._slots
            },
        )
        self._complete = done == total
        self.progress.emit(done, total)
        if self.follow:
            self.session.go_to(index)

    def _on_failed(self, message: str) -> None:
        self._failed = True
        self.feedback.show_error("Comparison failed", message)

    def _on_finished(self) -> None:
        slots, self._slots = self._slots, ()
        self.follow = False
        comparison = self.comparison
        if slots and comparison.active:
            status = "failed" if self._failed else "done" if self._complete else "stopped"
            comparison.set_status(slots, status)
        then, self._then = self._then, None
        if then is not None:
            then()
            return
        self.running_changed.emit(False)
        if slots and comparison.active and not self._failed:
            rates = ", ".join(f"{comparison.slots[s].title} {comparison.slots[s].fps:.1f} fps" for s in slots)
            word = "finished" if self._complete else "stopped"
            self.feedback.show_status(f"Comparison {word}: {rates}", 15000)

    # -- keeping a result ------------------------------------------------------------------------

    def keep_as_track(self, slot: int) -> bool:
        """Slot ``slot``'s boxes as a new track (one undoable edit): the start box as its
        keyframe, the tracker's boxes as tracked boxes with their scores."""
        comparison = self.comparison
        if self._busy() or not 0 <= slot < len(comparison.slots):
            return False
        tracked = comparison.slots[slot]
        boxes = {}
        for frame in np.flatnonzero(~np.isnan(tracked.boxes[:, 0])):
            frame = int(frame)
            box = tracked.box_at(frame)
            if frame == comparison.start:
                boxes[frame] = FrameBox(box)
            else:
                boxes[frame] = FrameBox(box, BoxSource.TRACKED, score=tracked.score_at(frame))
        if len(boxes) < 2:
            self.feedback.show_status(f"{tracked.title} has no results to keep yet.", 6000)
            return False
        annotations = self.session.annotations
        edit = annotations.add_track_edit(self._new_track_label(), tracked.colour, boxes)
        track_id = edit.tracks[0].after.id
        edit = replace(edit, text=f"Keep {tracked.title}'s boxes as track {track_id}")
        push_edit(self.undo_stack, self.session, edit)
        self.feedback.show_status(f"{tracked.title}: {len(boxes)} boxes kept as track #{track_id}.", 6000)
        return True
