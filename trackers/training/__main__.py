"""``python -m trackers.training`` = ``python -m trackers.train``."""

from trackers.training.cli import main

raise SystemExit(main())
