"""The main window's documents: opening videos and projects, saving, autosave and crash
recovery, import and export. A mixin of ``MainWindow`` (it uses the window's widgets and state).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QMessageBox,
)

from app import APP_NAME
from app.annotations import Annotations
from app.autosave import AutosaveStore, Recovery
from app.project import SUFFIX as PROJECT_SUFFIX
from app.project import (
    Project,
    ProjectError,
    VideoRef,
    check_video,
    load_project,
    save_project,
    video_fingerprint,
)
from trackers.drift import DriftSettings


class DocumentActions:
    # -- opening -------------------------------------------------------------------------------

    def choose_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open a video or a Siamark project",
            self._start_dir(),
            f"Videos and projects (*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.mpg *{PROJECT_SUFFIX});;"
            f"Siamark projects (*{PROJECT_SUFFIX});;All files (*)",
        )
        if path:
            self.open_path(path)

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a folder of images", self._start_dir())
        if path:
            self.open_path(path)

    def open_demo(self) -> bool:
        """Open the demo clip with the ball's box already drawn: press T to track it."""
        from app.demo import demo_boxes, demo_path

        clip = demo_path()
        if not self.open_path(clip):
            return False
        try:
            self.set_box(tuple(demo_boxes(clip)["ball"][0]), label="ball")
        except (OSError, KeyError, IndexError, ValueError):
            return True  # the clip is still usable without its boxes
        self.undo_stack.setClean()  # the demo's own box is not the user's unsaved work
        self.statusBar().showMessage("Demo clip: the ball's box is drawn — press T to track it.", 15000)
        return True

    def open_path(self, path: str | Path) -> bool:
        """Open a video file, image folder or project file; errors are shown, never raised."""
        if str(path).endswith(PROJECT_SUFFIX):
            return self.open_project(path)
        return self._open_video(path)

    def _open_video(self, path: str | Path, annotations: Annotations | None = None) -> bool:
        from app.video import open_video

        if not self.confirm_discard():
            return False
        self.stop_tracking(wait=True)
        self.pause()
        name = Path(path).name

        def indexing(done: int, total: int) -> None:
            # Opening a video decodes it once; keep the window painted meanwhile.
            self.statusBar().showMessage(f"Reading {name}: {done}/{total} frames…")
            QApplication.processEvents(QEventLoop.ExcludeUserInputEvents)

        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            source = open_video(path, progress=indexing)
        except Exception as exc:  # noqa: BLE001 - SourceError or any decoder trouble; the old video stays
            self.show_error("Cannot open", str(exc) or type(exc).__name__)
            return False
        finally:
            QApplication.restoreOverrideCursor()
        if annotations is not None and annotations.frame_count not in (0, source.frame_count):
            source.close()
            self.show_error(
                "Project does not fit the video",
                f"The project has {annotations.frame_count} frames but {name} has {source.frame_count}.",
            )
            return False
        if self.video is not None:
            self.video.close()
        self.video = source
        self.displayed_frame = None
        self._set_document(annotations or Annotations(source.frame_count), None)
        self.timeline.set_frame_count(source.frame_count)
        self._remember_recent(Path(path))
        note = getattr(source, "frame_rate_note", "") or ""
        if getattr(source, "variable_frame_rate", False) and note:
            self.statusBar().showMessage(note, 20000)
        else:
            self.statusBar().showMessage(
                f"Opened {source.name}: {source.frame_count} frames, {source.size[0]}x{source.size[1]}"
                + (f", {source.fps:g} fps" if source.fps else ""),
                8000,
            )
        self.go_to(0, now=True)
        self.view.fit()
        return True

    def confirm_discard(self) -> bool:
        """Before replacing unsaved work: save it, drop it, or stay (True: go ahead)."""
        if self.video is None or self.undo_stack.isClean():
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"Save the changes to {self.project_path.name if self.project_path else self.video.name} first?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel,
            QMessageBox.Save,
        )
        if answer == QMessageBox.Save:
            return self.save()
        return answer == QMessageBox.Discard

    def _set_document(self, annotations: Annotations, project_path: Path | None) -> None:
        annotations.frame_count = annotations.frame_count or self.frame_count
        self.annotations = annotations
        self.undo_stack.clear()
        self.maps = {}
        self.project_path = project_path
        self.autosave.discard()  # a new document: the old one's autosave was written just before
        self._autosaved_version = annotations.version
        self.selected_track = next(iter(annotations.tracks), None)
        self._new_track_pending = False
        self.view.set_box(None)
        self._tracks_dirty = self._scores_dirty = True
        self._update_title()

    def open_project(self, path: str | Path, recovered_from: Recovery | None = None) -> bool:
        try:
            project = load_project(path) if recovered_from is None else AutosaveStore.load(recovered_from)
        except ProjectError as exc:
            self.show_error("Cannot open the project", str(exc))
            return False
        problem = check_video(project)
        if problem:
            self.show_error("Cannot open the project's video", f"{problem}\n\nProject: {path}")
            return False
        if not self._open_video(project.video.path, project.annotations):
            return False
        self.drift_settings = DriftSettings.from_dict(project.settings.get("drift", {}))
        self.pause_on_flag_action.setChecked(self.drift_settings.pause_on_flag)
        self.fuse_action.setChecked(self.drift_settings.fuse_with_keyframes)
        self.project_path = (
            Path(path)
            if recovered_from is None
            else (Path(recovered_from.project_path) if recovered_from.project_path else None)
        )
        if recovered_from is not None:
            # Recovered work is unsaved until the user saves it: an undoable, dirty state.
            self.undo_stack.resetClean()
        self._remember_recent(Path(path))
        self._update_title()
        self._tracks_dirty = self._scores_dirty = True
        self.go_to(0, now=True)
        return True

    def _start_dir(self) -> str:
        recent = self._recent_files()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    # -- saving, autosave, recovery --------------------------------------------------------------

    def project(self) -> Project:
        video = self.video
        settings = {"drift": self.drift_settings.to_dict(), "tracker": self.tracker_panel.tracker_name()}
        if video is None:
            return Project(VideoRef(""), self.annotations, settings)
        try:
            fingerprint = video_fingerprint(video.path)
        except OSError:
            fingerprint = ""
        ref = VideoRef(
            str(Path(video.path).resolve()), fingerprint, video.frame_count, *video.size, video.fps
        )
        return Project(ref, self.annotations, settings)

    def save(self) -> bool:
        if self.project_path is None:
            return self.save_as()
        return self.save_project_to(self.project_path)

    def save_as(self) -> bool:
        if self.video is None:
            return False
        suggested = Path(self.video.path).with_name(Path(self.video.path).stem + PROJECT_SUFFIX)
        path, _ = QFileDialog.getSaveFileName(
            self, "Save project", str(suggested), f"Siamark projects (*{PROJECT_SUFFIX})"
        )
        if not path:
            return False
        if not path.endswith(PROJECT_SUFFIX):
            path = str(Path(path).with_suffix("")) + PROJECT_SUFFIX
        return self.save_project_to(path)

    def save_project_to(self, path: str | Path) -> bool:
        if self.video is None:
            self.show_error("Nothing to save", "Open a video first.")
            return False
        try:
            save_project(self.project(), path)
        except OSError as exc:
            self.show_error("Not saved", f"{exc}\n\nYour work is kept (and autosaved); save it elsewhere.")
            return False
        self.project_path = Path(path)
        self.undo_stack.setClean()
        self._remember_recent(Path(path))
        self._update_title()
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def autosave_now(self) -> None:
        """Write the autosave file if anything changed since the last one (timer, end of runs)."""
        if self.video is None or self.annotations.version == self._autosaved_version:
            return
        try:
            self.autosave.write(self.project(), self.project_path)
        except OSError as exc:
            self.statusBar().showMessage(f"Autosave failed: {exc}", 8000)
            return
        self._autosaved_version = self.annotations.version

    def offer_recovery(self) -> Recovery | None:
        """At start: if a crashed session left an autosave, ask (without blocking) to recover it."""
        orphans = self.autosave.orphans()
        if not orphans:
            return None
        newest = orphans[0]
        box = self._message(
            QMessageBox.Question,
            "Recover unsaved work?",
            "Siamark did not close normally last time. Recover its unsaved work?\n\n" + newest.describe(),
        )
        box.setStandardButtons(QMessageBox.Yes | QMessageBox.Discard)
        box.button(QMessageBox.Yes).setText("Recover")

        def answered(result: int) -> None:
            if result == QMessageBox.Yes:
                if self.recover(newest):
                    AutosaveStore.forget(newest)
            elif result == QMessageBox.Discard:
                AutosaveStore.forget(newest)

        # Later, not inside the box's own signal: opening may show (and close) message boxes.
        box.finished.connect(lambda result: QTimer.singleShot(0, lambda: answered(result)))
        return newest

    def recover(self, recovery: Recovery) -> bool:
        ok = self.open_project(recovery.path, recovered_from=recovery)
        if ok:
            self.statusBar().showMessage(f"Recovered {recovery.boxes} boxes — save to keep them.", 15000)
        return ok

    def _update_title(self, _clean: bool | None = None) -> None:
        if self.video is None:
            self.setWindowTitle(APP_NAME)
            return
        name = self.project_path.name if self.project_path else self.video.name
        dirty = "" if self.undo_stack.isClean() else " •"
        self.setWindowTitle(f"{name}{dirty} — {APP_NAME}")

    # -- import / export -------------------------------------------------------------------------

    def choose_import(self) -> None:
        from app.formats import FORMATS

        if self.video is None:
            self.show_error("Nothing to import into", "Open the video the annotations belong to first.")
            return
        names = sorted(n for n, f in FORMATS.items() if f.load is not None)
        filters = ";;".join(f"{FORMATS[n].title} ({n}) (*)" for n in names)
        path, chosen = QFileDialog.getOpenFileName(self, "Import annotations", self._start_dir(), filters)
        if not path:
            return
        name = chosen.rsplit("(", 2)[-2].strip(") ").strip() if "(" in chosen else names[0]
        self.import_annotations(name, path)

    def import_annotations(self, format_name: str, path: str | Path) -> bool:
        """Add the file's tracks as new tracks (one undo step); nothing changes on any error."""
        from app.formats import FORMATS, FormatError

        fmt = FORMATS.get(format_name)
        if fmt is None or fmt.load is None:
            self.show_error("Cannot import", f"{format_name}: not an importable format")
            return False
        try:
            loaded = fmt.load(Path(path), self.frame_count)
        except (FormatError, OSError, ValueError) as exc:
            self.show_error("Cannot import", str(exc))
            return False
        outside = [f for t in loaded for f in t.boxes if not 0 <= f < self.frame_count]
        if outside:
            self.show_error(
                "Cannot import",
                f"{path}: frame {outside[0]} is outside this video (0..{self.frame_count - 1})",
            )
            return False
        edit = self.annotations.import_edit(loaded, f"Import {Path(path).name}")
        self._push(edit)
        self.statusBar().showMessage(
            f"Imported {len(edit.tracks)} tracks, {len(edit.boxes)} boxes from {path}", 8000
        )
        return True

    def export(self) -> None:
        if self.video is None:
            self.show_error("Nothing to export", "Open a video and annotate it first.")
            return
        from app.export_dialog import export_with_dialog

        export_with_dialog(self, self.annotations, self.project().video, self.video.reader().frame)
