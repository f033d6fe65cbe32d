"""The window's file commands: open (file, folder, demo, recent), save, import, export, crash
recovery. They ask the questions (``app.ui.dialogs``) and leave the work to
``DocumentsController`` and ``EditingController``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

import trackers
from app.controllers.documents import DocumentsController
from app.io.autosave import AutosaveStore, Recovery
from app.model.groundtruth import GROUND_TRUTH_LABEL
from app.model.session import Session
from app.services.settings import Settings
from app.ui import dialogs


class FileActions(QObject):
    def __init__(self, window, session: Session, documents: DocumentsController, settings: Settings):
        super().__init__(window)
        self.window = window  # the parent of dialogs and the place of messages
        self.session = session
        self.documents = documents
        self.settings = settings

    def choose_video(self) -> None:
        path = dialogs.ask_open_path(self.window, self.start_dir())
        if path:
            self.open_path(path)

    def choose_folder(self) -> None:
        path = dialogs.ask_folder(self.window, self.start_dir())
        if path:
            self.open_path(path)

    def open_demo(self) -> bool:
        """Open the demo clip with the ball's box already drawn: press T to track it."""
        from app.io.demo import demo_boxes, demo_path

        clip = demo_path()
        if not self.open_path(clip):
            return False
        try:
            self.window.set_box(tuple(demo_boxes(clip)["ball"][0]), label="ball")
        except (OSError, KeyError, IndexError, ValueError):
            return True  # the clip is still usable without its boxes
        self.window.undo_stack.setClean()  # the demo's own box is not the user's unsaved work
        self.window.show_status(
            "Demo clip: the ball's box is drawn — press T to track it (F11 for demo mode, then Space).", 15000
        )
        return True

    def open_path(self, path: str | Path, recovery: Recovery | None = None) -> bool:
        """Open a video file, image folder or project file (or recover a crashed session's work);
        unsaved work is offered for saving first; errors are shown, never raised."""
        if not self.confirm_discard():
            return False
        self.window.runs.stop(wait=True)
        self.window.playback.pause()
        name = Path(path).name

        def indexing(done: int, total: int) -> None:
            # Opening a video decodes it once; keep the window painted meanwhile.
            self.window.show_status(f"Reading {name}: {done}/{total} frames…", 0)
            QApplication.processEvents(QEventLoop.ExcludeUserInputEvents)

        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            if recovery is not None:
                ok = self.documents.recover(recovery)
            else:
                ok = self.documents.open_path(path, progress=indexing)
        finally:
            QApplication.restoreOverrideCursor()
        if ok:
            self.window.presenter.schedule(now=True)
            self.window.view.fit()
            # Re-tracking a corrected frame uses the tracker the project was made with (a batch
            # project's, say), when this install has it.
            if self.documents.project_tracker in trackers.names():
                self.window.tracker_panel.set_tracker(self.documents.project_tracker)
            if recovery is None:
                self.offer_groundtruth()
        return ok

    def offer_groundtruth(self) -> QMessageBox | None:
        """A benchmark folder (OTB, GOT-10k, LaSOT) was opened: ask, without blocking, whether
        to load its ground truth as tracks (one undo step), to compare the tracker with it."""
        found = self.documents.groundtruth_offer()
        if found is None:
            return None
        from app.io.formats import FORMATS

        format_name, folder = found
        video = self.session.video
        box = self.window.message(
            QMessageBox.Question,
            "Load the ground truth?",
            f"{folder.name} is a {FORMATS[format_name].title.split(' (')[0]} sequence with its ground truth."
            "\n\nLoad its ground truth as tracks? They are labelled "
            f'"{GROUND_TRUTH_LABEL}", and the confidence strip then shows how well a tracked '
            "track overlaps them (IoU).",
        )
        box.setStandardButtons(QMessageBox.Yes | QMessageBox.No)
        box.button(QMessageBox.Yes).setText("Load ground truth")
        box.button(QMessageBox.No).setText("Not now")

        def answered(result: int) -> None:
            if result != QMessageBox.Yes or self.session.video is not video:
                return  # declined, or another video was opened meanwhile
            if self.window.editing.import_annotations(format_name, folder, label=GROUND_TRUTH_LABEL):
                self.session.select(None)  # the next box drawn starts a track of its own
                self.window.show_status(
                    f'Ground truth loaded as "{GROUND_TRUTH_LABEL}" tracks: draw a box and press T '
                    "to compare a tracker with it (IoU on the strip).",
                    15000,
                )

        # Later, not inside the box's own signal: importing may show a message box of its own.
        box.finished.connect(lambda result: QTimer.singleShot(0, lambda: answered(result)))
        return box

    def confirm_discard(self) -> bool:
        """Before replacing or closing unsaved work: save it, drop it, or stay (True: go ahead)."""
        if not self.documents.unsaved:
            return True
        answer = dialogs.ask_save_changes(self.window, self.documents.display_name())
        if answer == "save":
            return self.save()
        return answer == "discard"

    def save(self) -> bool:
        if self.session.project_path is None:
            return self.save_as()
        return self.save_project_to(self.session.project_path)

    def save_as(self) -> bool:
        suggested = self.documents.suggested_project_path()
        if suggested is None:
            return False
        path = dialogs.ask_project_path(self.window, suggested)
        return bool(path) and self.save_project_to(path)

    def save_project_to(self, path: str | Path) -> bool:
        return self.documents.save_to(path)

    def choose_import(self) -> None:
        if self.session.video is None:
            self.window.show_error(
                "Nothing to import into", "Open the video the annotations belong to first."
            )
            return
        name, path = dialogs.ask_import(self.window, self.start_dir())
        if path:
            self.window.editing.import_annotations(name, path)

    def export(self) -> None:
        video = self.session.video
        if video is None:
            self.window.show_error("Nothing to export", "Open a video and annotate it first.")
            return
        from app.ui.export_dialog import export_with_dialog

        exported = export_with_dialog(
            self.window,
            self.session.annotations,
            self.documents.project().video,
            video.reader().frame,
            self.export_folder(),
            self.settings,
        )
        if exported is not None:  # say where it went: the folder is not always the video's
            target, message = exported
            self.settings.export_folder = target.parent
            self.window.show_status(message, 30000)
            self.window.message(QMessageBox.Information, "Exported", message)

    def export_folder(self) -> Path:
        """Where an export is suggested: the last export's folder, else the project's, else the
        home folder; never by default the video's (a dataset or the app's own folder)."""
        last = self.settings.export_folder
        if last is not None and last.is_dir():
            return last
        project = self.session.project_path
        return project.parent if project is not None else Path.home()

    def offer_recovery(self) -> Recovery | None:
        """At start: if a crashed session left an autosave, ask (without blocking) to recover it."""
        orphans = self.documents.autosave.orphans()
        if not orphans:
            return None
        newest = orphans[0]
        box = self.window.message(
            QMessageBox.Question,
            "Recover unsaved work?",
            "Siamark did not close normally last time. Recover its unsaved work?\n\n" + newest.describe(),
        )
        box.setStandardButtons(QMessageBox.Yes | QMessageBox.Discard | QMessageBox.Cancel)
        box.button(QMessageBox.Yes).setText("Recover")
        box.button(QMessageBox.Cancel).setText("Later")

        def answered(result: int) -> None:
            if result == QMessageBox.Yes:
                self.recover(newest)
            elif result == QMessageBox.Discard:
                AutosaveStore.forget(newest)
            # Later: the file stays and is offered at the next start.

        # Later, not inside the box's own signal: opening may show (and close) message boxes.
        box.finished.connect(lambda result: QTimer.singleShot(0, lambda: answered(result)))
        return newest

    def recover(self, recovery: Recovery) -> bool:
        """Open a crashed session's work; when another video is open, only if the person agrees."""
        video = self.session.video
        other = video is not None and Path(video.path).resolve() != Path(recovery.video_path).resolve()
        if other and not dialogs.ask_replace_video(self.window, video.name, Path(recovery.video_path).name):
            return False
        return self.open_path(recovery.path, recovery=recovery)

    def start_dir(self) -> str:
        recent = self.settings.recent_files()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def remember_recent(self, path: Path) -> None:
        self.settings.add_recent(path)
        self.refresh_recent_menu()

    def refresh_recent_menu(self) -> None:
        self.window.recent_menu.clear()
        recent = [str(p) for p in self.settings.recent_files()]
        for path in recent:
            action = self.window.recent_menu.addAction(Path(path).name)
            action.setToolTip(str(path))
            action.setStatusTip(str(path))
            action.triggered.connect(lambda _checked=False, p=path: self.open_path(p))
        self.window.recent_menu.setEnabled(bool(recent))

    # -- batch results ---------------------------------------------------------------------------

    def choose_batch(self) -> None:
        path = dialogs.ask_folder(self.window, self.start_dir())
        if path:
            self.open_batch(path)

    def open_batch(self, folder: str | Path) -> bool:
        """Show a ``siamark batch`` output folder as a review queue and open its most flagged
        project."""
        from app.io.batch_results import read_batch

        try:
            entries = read_batch(folder)
        except ValueError as exc:
            self.window.show_error("Not batch results", str(exc))
            return False
        panel = self.window.batch_panel
        panel.show_batch(Path(folder), entries)
        self.window.batch_dock.show()
        self.window.batch_dock.raise_()
        first = panel.next_project()
        if first is None:
            self.window.show_status(f"{Path(folder).name}: no project to review (every video failed)", 8000)
            return True
        return self.open_batch_project(first)

    def open_batch_project(self, project: Path) -> bool:
        ok = self.open_path(project)
        self.window.batch_panel.mark_open(self.session.project_path if ok else None)
        return ok

    def next_batch_project(self) -> bool:
        following = self.window.batch_panel.next_project()
        if following is None:
            self.window.show_status("No further project in this batch.", 5000)
            return False
        return self.open_batch_project(following)
