"""``python -m trackers.train``: the training CLI (trackers/training/cli.py)."""

from trackers.training.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
