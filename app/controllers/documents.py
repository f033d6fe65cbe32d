"""Documents: opening videos and projects, saving, autosave and crash recovery.

No dialogs here: the window asks the questions (which file, save first?) and calls these.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QUndoStack

from app.controllers.feedback import Feedback
from app.io.autosave import AutosaveStore, Recovery
from app.io.project import SUFFIX as PROJECT_SUFFIX
from app.io.project import (
    Project,
    ProjectError,
    VideoRef,
    check_video,
    load_project,
    save_project,
    video_fingerprint,
)
from app.model.annotations import Annotations
from app.model.session import Session
from trackers.drift import DriftSettings

Progress = Callable[[int, int], object]


class DocumentsController:
    def __init__(
        self,
        session: Session,
        undo_stack: QUndoStack,
        autosave: AutosaveStore,
        feedback: Feedback,
        tracker_name: Callable[[], str],
        remember: Callable[[Path], None],
    ):
        self.session = session
        self.undo_stack = undo_stack
        self.autosave = autosave
        self.feedback = feedback
        self._tracker_name = tracker_name  # saved in the project's settings
        #: the tracker the open project was saved with (None: a plain video, or not named)
        self.project_tracker: str | None = None
        self._remember = remember  # the recent-files list
        self._autosaved_version = 0
        self._fingerprinted: tuple[object, str] = (None, "")  # (video path, its fingerprint)

    @property
    def unsaved(self) -> bool:
        return self.session.video is not None and not self.undo_stack.isClean()

    def display_name(self) -> str:
        session = self.session
        if session.video is None:
            return ""
        return session.project_path.name if session.project_path else session.video.name

    # -- opening -------------------------------------------------------------------------------

    def open_path(self, path: str | Path, progress: Progress | None = None) -> bool:
        """A video file, image folder or project file; errors are shown, never raised."""
        self.project_tracker = None
        if str(path).endswith(PROJECT_SUFFIX):
            return self.open_project(path, progress=progress)
        return self.open_video(path, progress=progress)

    def open_video(
        self, path: str | Path, annotations: Annotations | None = None, progress: Progress | None = None
    ) -> bool:
        from app.io.video import open_video

        name = Path(path).name
        try:
            source = open_video(path, progress=progress)
        except Exception as exc:  # noqa: BLE001 - SourceError or any decoder trouble; the old video stays
            self.feedback.show_error("Cannot open", str(exc) or type(exc).__name__)
            return False
        if annotations is not None and annotations.frame_count not in (0, source.frame_count):
            source.close()
            self.feedback.show_error(
                "Project does not fit the video",
                f"The project has {annotations.frame_count} frames but {name} has {source.frame_count}.",
            )
            return False
        self.close_video()
        self._fingerprinted = (None, "")  # the file at this path may have changed since
        annotations = annotations or Annotations(source.frame_count)
        self.undo_stack.clear()
        self.autosave.discard()  # a new document: the old one's autosave was written just before
        self._autosaved_version = annotations.version
        self.session.set_document(source, annotations, None)
        self._remember(Path(path))
        note = getattr(source, "frame_rate_note", "") or ""
        if getattr(source, "variable_frame_rate", False) and note:
            self.feedback.show_status(note, 20000)
        else:
            self.feedback.show_status(
                f"Opened {source.name}: {source.frame_count} frames, {source.size[0]}x{source.size[1]}"
                + (f", {source.fps:g} fps" if source.fps else ""),
                8000,
            )
        return True

    def open_project(
        self, path: str | Path, recovered_from: Recovery | None = None, progress: Progress | None = None
    ) -> bool:
        try:
            project = load_project(path) if recovered_from is None else AutosaveStore.load(recovered_from)
        except ProjectError as exc:
            self.feedback.show_error("Cannot open the project", str(exc))
            return False
        problem = check_video(project)
        if problem:
            self.feedback.show_error("Cannot open the project's video", f"{problem}\n\nProject: {path}")
            return False
        if not self.open_video(project.video.path, project.annotations, progress):
            return False
        session = self.session
        session.set_drift_settings(DriftSettings.from_dict(project.settings.get("drift", {})))
        tracker = project.settings.get("tracker")
        self.project_tracker = tracker if isinstance(tracker, str) else None
        if recovered_from is None:
            session.set_project_path(Path(path))
            self._remember(Path(path))
        else:
            session.set_project_path(
                Path(recovered_from.project_path) if recovered_from.project_path else None
            )
            # Recovered work is unsaved until the user saves it: an undoable, dirty state.
            self.undo_stack.resetClean()
        return True

    def groundtruth_offer(self) -> tuple[str, Path] | None:
        """(format name, sequence folder) of the benchmark ground truth that came with the
        folder just opened, while nothing is annotated yet (a project keeps its own tracks)."""
        from app.io.formats.single_object import find_sequence

        session = self.session
        if session.video is None or session.project_path is not None or len(session.annotations):
            return None
        return find_sequence(session.video.path) if Path(session.video.path).is_dir() else None

    def close_video(self) -> None:
        if self.session.video is not None:
            self.session.video.close()

    # -- saving --------------------------------------------------------------------------------

    def project(self) -> Project:
        session = self.session
        video = session.video
        settings = {"drift": session.drift_settings.to_dict(), "tracker": self._tracker_name()}
        if video is None:
            return Project(VideoRef(""), session.annotations, settings)
        ref = VideoRef(
            str(Path(video.path).resolve()),
            self._fingerprint(video.path),
            video.frame_count,
            *video.size,
            video.fps,
        )
        return Project(ref, session.annotations, settings)

    def _fingerprint(self, path) -> str:
        """The open video's fingerprint, computed once: it reads up to 8 MB of the file, and
        every autosave (each few seconds while editing) writes it."""
        if self._fingerprinted[0] != path:
            try:
                self._fingerprinted = (path, video_fingerprint(path))
            except OSError:
                return ""
        return self._fingerprinted[1]

    def suggested_project_path(self) -> Path | None:
        video = self.session.video
        if video is None:
            return None
        return self.session.project_path or Path(video.path).with_name(Path(video.path).stem + PROJECT_SUFFIX)

    def save_to(self, path: str | Path) -> bool:
        if self.session.video is None:
            self.feedback.show_error("Nothing to save", "Open a video first.")
            return False
        path = Path(path)
        if not path.name.endswith(PROJECT_SUFFIX):
            path = path.with_name(path.name.removesuffix(".json") + PROJECT_SUFFIX)
        try:
            save_project(self.project(), path)
        except OSError as exc:
            self.feedback.show_error(
                "Not saved", f"{exc}\n\nYour work is kept (and autosaved); save it elsewhere."
            )
            return False
        self.undo_stack.setClean()
        self.session.set_project_path(path)
        self._remember(path)
        self.feedback.show_status(f"Saved {path}", 5000)
        return True

    # -- autosave and recovery -----------------------------------------------------------------

    def autosave_now(self, force: bool = False) -> bool:
        """Write the autosave file if anything changed since the last one (timer, end of runs,
        ``force``: whatever changed). False if it could not be written."""
        session = self.session
        if session.video is None or (not force and session.annotations.version == self._autosaved_version):
            return True
        try:
            self.autosave.write(self.project(), session.project_path)
        except OSError as exc:
            self.feedback.show_status(f"Autosave failed: {exc}", 8000)
            return False
        self._autosaved_version = session.annotations.version
        return True

    def recover(self, recovery: Recovery) -> bool:
        """Open a crashed session's work. It is autosaved again at once, under this process,
        before the crashed session's file is deleted: a second crash loses nothing."""
        if not self.open_project(recovery.path, recovered_from=recovery):
            return False
        if self.autosave_now(force=True):
            AutosaveStore.forget(recovery)
        self.feedback.show_status(f"Recovered {recovery.boxes} boxes — save to keep them.", 15000)
        return True

    def finish(self) -> None:
        """The window closes after the person saved or dropped their work: no autosave is left,
        so the next start does not offer a recovery."""
        self.autosave.discard()
        self.close_video()
