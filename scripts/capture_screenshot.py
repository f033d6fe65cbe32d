"""Drive the real app on a real screen and capture it mid-tracking (used for docs/ screenshots).

Run under a display, e.g. ``xvfb-run -s "-screen 0 1600x1000x24" python scripts/capture_screenshot.py
VIDEO x,y,w,h WEIGHTS OUT.png [--after N]``. The capture is taken with ``import -window root``
(ImageMagick) from outside Qt, so it shows what the screen shows.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("video")
    ap.add_argument("box", help="x,y,w,h on the first frame")
    ap.add_argument("weights")
    ap.add_argument("out")
    ap.add_argument("--tracker", default="nanotrack")
    ap.add_argument("--after", type=int, default=60, help="capture once this many frames are tracked")
    args = ap.parse_args()

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow
    from app.ui.theme import apply_dark_theme, configure_pyqtgraph
    from trackers.io import parse_box

    configure_pyqtgraph()
    app = QApplication(sys.argv[:1])
    apply_dark_theme(app)
    win = MainWindow()
    win.resize(1560, 960)
    win.move(20, 20)
    win.show()
    win.set_overlay_enabled(True)
    # As a user would: choose the tracker and import the checkpoint in the tracker panel.
    win.tracker_panel.set_tracker(args.tracker)
    win.tracker_panel.import_weights(args.weights)
    win.tracker_panel.set_device("cpu")
    win.start_tracking(args.video, parse_box(args.box), 0, win.tracker_panel.spec())

    def check():
        if (
            win.session.annotations.tracks
            and len(win.session.annotations.track(1).boxes) > args.after
            or not win.runs.tracking.running
        ):
            subprocess.run(["import", "-window", "root", args.out], check=True)
            win.runs.tracking.stop()
            win.undo_stack.setClean()  # a scripted run: nothing to save, no question on close
            win.close()
            app.quit()
        else:
            QTimer.singleShot(50, check)

    QTimer.singleShot(500, check)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
