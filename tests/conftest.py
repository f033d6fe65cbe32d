import os

# Qt tests run without a display; deterministic CPU numerics for fidelity checks.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
