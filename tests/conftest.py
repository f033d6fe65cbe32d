import os

# Qt tests run without a display; deterministic CPU numerics for fidelity checks.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture(autouse=True, scope="session")
def _cache_of_this_session(tmp_path_factory):
    """Exported search graphs (trackers/onnx_runner.py) go to a folder of this test session,
    never to the user's cache; nothing reads the user's configuration folder (the INT8
    parameters measured there, trackers/quantization.py) unless a test points it elsewhere."""
    os.environ["SIAMARK_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    os.environ["SIAMARK_CONFIG_DIR"] = str(tmp_path_factory.mktemp("config"))


@pytest.fixture(autouse=True)
def _nobody_answers_questions(monkeypatch):
    """No person answers modal questions in tests: "save first?" drops the work (a test that
    checks the question replaces this answer)."""
    from app.ui import dialogs

    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: "discard")


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    """Settings go to a folder of this test, never to the user's."""
    folder = tmp_path / "config"
    monkeypatch.setenv("SIAMARK_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture
def window(qtbot, config_dir):
    """The main window, shown; a test file that needs more (a folder open, a stand-in tracker)
    overrides this fixture and asks for it."""
    import threading

    from app.ui.main_window import MainWindow

    baseline = threading.active_count()
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    # No tracking thread outlives the window.
    assert not win.runs.tracking.running
    if win.runs.tracking.last_thread is not None:
        assert win.runs.tracking.last_thread.isFinished()
    assert threading.active_count() <= baseline


@pytest.fixture
def image_folder(tmp_path):
    """6 small frames: a red square moving right."""
    import cv2
    import numpy as np

    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(6):
        frame = np.full((48, 64, 3), 20 * i, np.uint8)
        frame[10:30, 5 + 5 * i : 25 + 5 * i] = (0, 0, 255)  # a red square moving right
        cv2.imwrite(str(folder / f"{i + 1:04d}.png"), frame)
    return folder


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread: the machine running the suite is small and busy; more threads thrash."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
