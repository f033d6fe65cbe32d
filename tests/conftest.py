import os

# Qt tests run without a display; deterministic CPU numerics for fidelity checks.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture(autouse=True)
def _nobody_answers_questions(monkeypatch):
    """No person answers modal questions in tests: "save first?" drops the work (a test that
    checks the question replaces this answer)."""
    from app.ui import dialogs

    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: "discard")
