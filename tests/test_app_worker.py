"""The tracking worker and its controller, in a real QThread with the real NanoTrack weights."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

import trackers
from app.engine.jobs import TrackerSpec, TrackJob
from app.model.run_rules import Target
from app.services.tracking_controller import TrackingController
from tests.shared_data import SEQUENCES, WEIGHTS, needs_shared
from tests.stand_ins import StandIn
from trackers.io import list_images, read_groundtruth

NANOTRACK_V2 = WEIGHTS / "nanotrack_v2" / "nanotrackv2.pth"
SEQUENCE = SEQUENCES / "vot_bag"
N_FRAMES = 24
# Generous: the CPU may be shared with other jobs.
RUN_TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def bag_frames():
    if not (SEQUENCE / "img").is_dir() or not NANOTRACK_V2.is_file():
        pytest.skip(f"needs {SEQUENCE} and {NANOTRACK_V2}")
    files = list_images(SEQUENCE / "img")[:N_FRAMES]
    frames = [cv2.imread(str(f)) for f in files]
    gt = read_groundtruth(SEQUENCE / "groundtruth_rect.txt")
    return frames, tuple(gt[0])


@pytest.fixture
def controller(qtbot):
    baseline = threading.active_count()
    ctl = TrackingController()
    yield ctl
    ctl.shutdown()
    assert not ctl.running
    if ctl.last_thread is not None:
        assert ctl.last_thread.isFinished()
    assert threading.active_count() <= baseline, threading.enumerate()


def nano_job(frames, box, **kwargs) -> TrackJob:
    spec = TrackerSpec("nanotrack", weights=str(NANOTRACK_V2), device="cpu")
    return TrackJob(lambda i: frames[i], 0, (Target(1, box),), spec, frame_count=len(frames), **kwargs)


def job(frames, targets, start=0, direction=1, name="nanotrack") -> TrackJob:
    return TrackJob(
        lambda i: frames[i], start, targets, TrackerSpec(name), direction, frame_count=len(frames)
    )


def fake_result(box=(1, 1, 2, 2)):
    return trackers.TrackResult(
        box, 0.5, np.zeros((3, 3), np.float32), trackers.MapGeometry(0, 0, 1), (0, 0, 4, 4)
    )


class FakeMulti(StandIn):
    """Stands in for trackers.multi.MultiTracker: records what the worker asks of it."""

    device = "cpu"
    calls: list
    delay = None  # a threading.Event to wait on in each track()

    def __init__(self, *args, **kwargs):
        self.objects = {}
        FakeMulti.calls = []
        FakeMulti.created_with = kwargs

    def add(self, object_id, frame, box):
        self.objects[object_id] = box
        FakeMulti.calls.append(("add", object_id))

    def remove(self, object_id):
        del self.objects[object_id]
        FakeMulti.calls.append(("remove", object_id))

    def track(self, frame):
        if FakeMulti.delay is not None:
            FakeMulti.delay.wait(5)
        FakeMulti.calls.append(("track", int(frame[0, 0, 0])))
        return {i: fake_result() for i in self.objects}


def collect(ctl):
    got = {"tracked": {}, "frames": {}, "progress": [], "failed": [], "ready": []}

    def tracked(index, frame, results):
        got["tracked"][index] = results
        got["frames"][index] = frame

    ctl.tracked.connect(tracked)
    ctl.progress.connect(lambda d, t, f: got["progress"].append((d, t, f)))
    ctl.failed.connect(got["failed"].append)
    ctl.ready.connect(got["ready"].append)
    return got


@needs_shared
def test_tracks_every_frame_in_a_worker_thread(qtbot, controller, bag_frames):
    frames, box = bag_frames
    got = collect(controller)
    main_thread = threading.get_ident()
    seen_threads = set()
    controller.tracked.connect(lambda *_: seen_threads.add(threading.get_ident()))
    with qtbot.waitSignal(controller.finished, timeout=RUN_TIMEOUT_MS):
        controller.start(nano_job(frames, box))
        assert controller.running
    assert not controller.running and controller.last_thread.isFinished()
    assert got["failed"] == []
    assert got["ready"] and "nanotrack" in got["ready"][0]
    assert sorted(got["tracked"]) == list(range(1, N_FRAMES))  # every frame, in order, none skipped
    assert all(list(r) == [1] for r in got["tracked"].values())  # results per track id
    got["tracked"] = {i: r[1] for i, r in got["tracked"].items()}
    assert seen_threads == {main_thread}  # results are delivered to the GUI thread
    done, total, fps = got["progress"][-1]
    assert (done, total) == (N_FRAMES - 1, N_FRAMES - 1) and fps > 0
    for index, result in got["tracked"].items():
        assert np.isfinite(result.score)
        assert (
            result.response.dtype == np.float32 and 0 <= result.response.min() <= result.response.max() <= 1
        )
        # The frame comes with its result (the GUI shows it without decoding it again), read-only.
        frame = got["frames"][index]
        assert not frame.flags.writeable
        np.testing.assert_array_equal(frame, frames[index])
    # The bag stays in view over these frames: the tracker follows it.
    gt = read_groundtruth(SEQUENCE / "groundtruth_rect.txt")
    x, y, w, h = got["tracked"][N_FRAMES - 1].box
    gx, gy, gw, gh = gt[N_FRAMES - 1]
    assert abs((x + w / 2) - (gx + gw / 2)) < gw / 2 and abs((y + h / 2) - (gy + gh / 2)) < gh / 2


@needs_shared
def test_stop_mid_run_ends_soon_with_fewer_frames(qtbot, controller, bag_frames):
    frames, box = bag_frames
    got = collect(controller)

    def stop_after_three(index, _frame, _result):
        if index == 3:
            controller.stop()

    controller.tracked.connect(stop_after_three)
    with qtbot.waitSignal(controller.finished, timeout=RUN_TIMEOUT_MS):
        controller.start(nano_job(frames, box))
    tracked = sorted(got["tracked"])
    assert tracked[:3] == [1, 2, 3]
    assert list(got["tracked"][1]) == [1]
    assert len(tracked) < N_FRAMES - 1  # stopped between frames, well before the end
    assert got["failed"] == []


def test_tracker_error_becomes_a_message(qtbot, controller, monkeypatch):
    def broken_create(*_args, **_kwargs):
        raise RuntimeError("model exploded")

    monkeypatch.setattr(trackers.multi, "MultiTracker", broken_create)
    got = collect(controller)
    frames = [np.zeros((64, 64, 3), np.uint8)] * 5
    with qtbot.waitSignal(controller.finished, timeout=30_000):
        controller.start(job(frames, (Target(1, (10, 10, 20, 20)),)))
    assert got["failed"] == ["model exploded"]
    assert got["tracked"] == {}


def test_missing_weights_message_says_import(qtbot, controller, monkeypatch, tmp_path):
    monkeypatch.setattr(trackers.registry, "WEIGHTS_DIR", tmp_path)  # nothing shipped
    got = collect(controller)
    frames = [np.zeros((64, 64, 3), np.uint8)] * 3
    with qtbot.waitSignal(controller.finished, timeout=30_000):
        controller.start(job(frames, (Target(1, (10, 10, 20, 20)),), name="siamfc"))
    assert len(got["failed"]) == 1 and "Import" in got["failed"][0] and "random" in got["failed"][0]


def test_second_start_while_running_is_refused(qtbot, controller, monkeypatch):
    gate = threading.Event()
    monkeypatch.setattr(trackers.multi, "MultiTracker", FakeMulti)
    monkeypatch.setattr(FakeMulti, "delay", gate)
    frames = [np.zeros((8, 8, 3), np.uint8)] * 4
    run = job(frames, (Target(1, (1, 1, 2, 2)),))
    controller.start(run)
    with pytest.raises(RuntimeError, match="already"):
        controller.start(run)
    with qtbot.waitSignal(controller.finished, timeout=30_000):
        gate.set()
    assert not controller.running


def test_shutdown_waits_for_the_thread(qtbot, controller, monkeypatch):
    gate = threading.Event()  # never set: each frame waits its full timeout unless stopped

    class Slow(FakeMulti):
        def track(self, frame):
            gate.wait(0.05)
            return super().track(frame)

    monkeypatch.setattr(trackers.multi, "MultiTracker", Slow)
    frames = [np.zeros((8, 8, 3), np.uint8)] * 1000
    controller.start(job(frames, (Target(1, (1, 1, 2, 2)),)))
    qtbot.wait(100)
    assert controller.shutdown(5000)
    assert not controller.running and controller.last_thread.isFinished()


def numbered_frames(n):
    return [np.full((8, 8, 3), i, np.uint8) for i in range(n)]


def test_each_target_stops_before_its_own_next_keyframe(qtbot, controller, monkeypatch):
    monkeypatch.setattr(trackers.multi, "MultiTracker", FakeMulti)
    got = collect(controller)
    frames = numbered_frames(12)
    targets = (Target(1, (1, 1, 2, 2), stop=5), Target(2, (3, 3, 2, 2)))  # 2 runs to the end
    with qtbot.waitSignal(controller.finished, timeout=30_000):
        controller.start(job(frames, targets, start=2))
    assert sorted(got["tracked"]) == list(range(3, 12))
    assert all(set(got["tracked"][f]) == {1, 2} for f in (3, 4))
    assert all(set(got["tracked"][f]) == {2} for f in range(5, 12))
    assert ("remove", 1) in FakeMulti.calls


@pytest.mark.parametrize(("precision", "backend"), [("float32", None), ("int8", "openvino-int8")])
def test_the_runs_precision_reaches_the_tracker(qtbot, controller, monkeypatch, precision, backend):
    monkeypatch.setattr(trackers.multi, "MultiTracker", FakeMulti)
    frames = numbered_frames(4)
    spec = TrackerSpec("siamfc", device="cpu", precision=precision)
    assert backend is None or spec.backend() == backend
    run = TrackJob(lambda i: frames[i], 0, (Target(1, (1, 1, 2, 2)),), spec, frame_count=4)
    with qtbot.waitSignal(controller.finished, timeout=30_000):
        controller.start(run)
    assert FakeMulti.created_with["backend"] == spec.backend()
    assert FakeMulti.created_with["device"] == "cpu"


def test_backward_run_visits_frames_in_reverse_and_ends_when_all_targets_stop(qtbot, controller, monkeypatch):
    monkeypatch.setattr(trackers.multi, "MultiTracker", FakeMulti)
    got = collect(controller)
    frames = numbered_frames(12)
    targets = (Target(1, (1, 1, 2, 2), stop=6), Target(2, (3, 3, 2, 2), stop=3))
    order = []
    controller.tracked.connect(lambda i, _frame, _r: order.append(i))
    with qtbot.waitSignal(controller.finished, timeout=30_000):
        controller.start(job(frames, targets, start=9, direction=-1))
    assert order == [8, 7, 6, 5, 4]
    assert set(got["tracked"][7]) == {1, 2} and set(got["tracked"][5]) == {2}
    assert [c[1] for c in FakeMulti.calls if c[0] == "track"] == [
        8,
        7,
        6,
        5,
        4,
    ]  # frames really read backward
    assert got["progress"][-1][:2] == (5, 5)
