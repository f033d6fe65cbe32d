"""``python -m trackers`` -> trackers.cli."""

from trackers.cli import main

raise SystemExit(main())
