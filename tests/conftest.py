import os

# Qt tests run without a display; deterministic CPU numerics for fidelity checks.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture(autouse=True, scope="session")
def _cache_of_this_session(tmp_path_factory):
    """Exported search graphs (trackers/onnx_runner.py) go to a folder of this test session,
    never to the user's cache."""
    os.environ["SIAMARK_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(autouse=True)
def _nobody_answers_questions(monkeypatch):
    """No person answers modal questions in tests: "save first?" drops the work (a test that
    checks the question replaces this answer)."""
    from app.ui import dialogs

    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: "discard")
