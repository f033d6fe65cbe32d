"""Drive the real app like an annotator and capture the screen (docs/ screenshots, manual checks).

Opens a sequence, draws one box per ground-truth file on its first frame (each a track), tracks
all of them forward in one pass with drift flags on, then jumps to the first flagged frame and
captures the screen with ``import -window root`` (ImageMagick) from outside Qt.

Run under a display: ``xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/capture_annotation.py
SEQUENCE OUT.png [--tracker NAME] [--weights FILE] [--frames N]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("sequence", help="OTB-layout folder (groundtruth_rect.txt, groundtruth_rect_2.txt, img/)")
    ap.add_argument("out")
    ap.add_argument("--tracker", default="siamban-mobilev2")
    ap.add_argument("--weights", help="checkpoint to import in the tracker panel (default: shipped)")
    ap.add_argument("--frames", type=int, default=120, help="track this many frames")
    ap.add_argument("--project", help="also save the project here")
    ap.add_argument(
        "--check",
        action="store_true",
        help="then correct track 1 ten frames before the end and check back from there",
    )
    args = ap.parse_args()

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow
    from app.ui.theme import apply_dark_theme, configure_pyqtgraph
    from trackers.io import read_groundtruth

    configure_pyqtgraph()
    app = QApplication(sys.argv[:1])
    apply_dark_theme(app)
    win = MainWindow()
    win.resize(1560, 960)
    win.move(20, 20)
    win.show()
    win.tracker_panel.set_tracker(args.tracker)
    if args.weights:
        win.tracker_panel.import_weights(args.weights)
    win.tracker_panel.set_device("cpu")
    sequence = Path(args.sequence)
    if not win.files.open_path(sequence):
        return 1
    files = sorted(sequence.glob("groundtruth_rect*.txt"))
    for i, gt in enumerate(files):
        if i:
            win.new_track()
        win.set_box(tuple(float(v) for v in read_groundtruth(gt)[0]), label="person")
    end = min(args.frames, win.session.frame_count)
    win.track(1, all_tracks=True)

    state: dict = {}

    def check():
        if win.runs.tracking.running and (state.get("checks") or win.session.current_frame < end - 1):
            QTimer.singleShot(100, check)
            return
        win.stop_tracking()
        if win.runs.tracking.running:
            QTimer.singleShot(100, check)
            return
        if args.check and state.setdefault("checks", 0) == 0:
            state["checks"] = 1
            # As an annotator would: correct track 1 near the end to the ground truth, then
            # check back from there: the flags show where the forward run went wrong.
            win.editing.select(1)
            fix = end - 10
            win.go_to(fix, now=True)
            win.set_box(tuple(float(v) for v in read_groundtruth(files[0])[fix]))
            win.check_consistency()
            QTimer.singleShot(100, check)
            return
        flagged = win.session.annotations.flagged_frames()
        win.go_to(flagged[len(flagged) // 2] if flagged else end // 2, now=True)
        if args.project:
            win.files.save_project_to(args.project)
        QTimer.singleShot(800, capture)

    def capture():
        subprocess.run(["import", "-window", "root", args.out], check=True)
        print(f"tracks {len(win.session.annotations)}, flagged frames {win.session.annotations.flagged_frames()[:20]}")
        win.undo_stack.setClean()  # a scripted run: nothing to save, no question on close
        win.close()
        app.quit()

    QTimer.singleShot(500, check)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
