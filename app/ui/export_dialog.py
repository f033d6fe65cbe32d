"""The export dialog: pick a format (its frame and coordinate conventions shown), a target and
the options, then export in a worker QThread with a progress bar and Cancel.

Every format of ``app.io.formats.FORMATS`` that can export is offered. The export itself is the
format's Qt-free exporter: it builds its output in a staged folder (or a temporary file) and
renames it into place at the end, so Cancel, a failure or closing the dialog mid-way leaves
nothing half-written; errors (read-only or non-empty target, full disk, unreadable frame) are
shown in the dialog, which stays open to pick another target.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.io.formats import FORMATS, ExportJob, ExportOptions, Format
from app.io.formats.registry import ExportCancelled, FrameReader
from app.io.formats.selection import flagged_rows
from app.io.project import VideoRef
from app.model.annotations import Annotations
from app.services.settings import ExportDefaults, Settings
from app.services.worker_thread import WorkerThread
from app.ui.job_footer import add_job_footer

IMAGE_FORMATS = ("jpg", "png")
DONE, CANCELLED, FAILED = "done", "cancelled", "failed"


class ExportWorker(QObject):
    """Runs one export in the worker thread; ``cancel`` (any thread) stops it at the next frame."""

    progressed = Signal(int, int)
    finished = Signal(str, str)  # DONE / CANCELLED / FAILED, message

    def __init__(self, fmt: Format, job: ExportJob):
        super().__init__()
        self.fmt, self.job = fmt, job
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def _progress(self, done: int, total: int) -> bool:
        self.progressed.emit(done, total)
        return not self._cancel.is_set()

    @Slot()
    def run(self) -> None:
        try:
            selection = self.fmt.export(replace(self.job, progress=self._progress))
        except ExportCancelled:
            self.finished.emit(CANCELLED, "Export cancelled; nothing was written.")
        except Exception as exc:  # noqa: BLE001 - any failure is shown in the dialog, never lost in a thread
            self.finished.emit(FAILED, str(exc) or type(exc).__name__)
        else:
            self.finished.emit(DONE, export_message(self.fmt, self.job.target, selection))


def export_message(fmt: Format, target: Path, selection) -> str:
    """Where the export went, what it holds and what it cut or left out."""
    boxes = sum(1 for row in selection.rows if row.entry.box is not None)
    tracks = len(selection.tracks)
    text = f"Exported {boxes} boxes of {tracks} track{'s' * (tracks != 1)} as {fmt.title} to {target}"
    note = selection.describe()
    return f"{text}. {note[0].upper()}{note[1:]}." if note else text + "."


def exportable_formats() -> list[Format]:
    return [f for f in FORMATS.values() if f.export is not None]


class ExportDialog(QDialog):
    def __init__(
        self,
        parent: QWidget | None,
        annotations: Annotations,
        video: VideoRef,
        frame_reader: FrameReader | None,
        folder: Path | None = None,
        defaults: ExportDefaults | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("Export annotations")
        self.annotations, self.video, self.frame_reader = annotations, video, frame_reader
        #: where a new export is suggested: the last export's folder, else the video's
        self.folder = folder
        self.frame_count = (
            annotations.frame_count
            or video.frame_count
            or 1 + max((f for t in annotations for f in t.boxes), default=0)
        )
        self.exported_to: Path | None = None
        self.message = ""  # what the finished export says (where it went, what it left out)
        self._runner = WorkerThread("siamark-export", self)
        self._runner.ended.connect(self._on_thread_finished)
        self._close_when_done = False
        self._outcome = (FAILED, "The export stopped without a result.")
        self._default_target = ""
        self._build()
        self._format_changed()
        if defaults is not None:
            self.apply_defaults(defaults)
        self._update_flagged()

    # -- building ------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)

        self.format_combo = QComboBox()
        for fmt in exportable_formats():
            self.format_combo.addItem(fmt.title, fmt.name)
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self.conventions_label = QLabel()
        self.conventions_label.setWordWrap(True)
        self.conventions_label.setTextInteractionFlags(Qt.TextSelectableByMouse)

        self.target_edit = QLineEdit()
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._browse)
        target_row = QHBoxLayout()
        target_row.addWidget(self.target_edit, 1)
        target_row.addWidget(self.browse_button)
        self.target_hint = QLabel()
        self.target_hint.setWordWrap(True)

        top = QFormLayout()
        top.addRow("Format:", self.format_combo)
        top.addRow("Conventions:", self.conventions_label)
        top.addRow("Export to:", target_row)
        top.addRow("", self.target_hint)
        layout.addLayout(top)

        self.options_box = QGroupBox("What to export")
        options = QFormLayout(self.options_box)
        self.tracks_list = self._check_list(
            [(f"#{t.id} {t.label}  ({len(t.boxes)} frames)", t.id) for t in self.annotations]
        )
        self.classes_list = self._check_list([(label, label) for label in self.annotations.labels()])
        lists = QHBoxLayout()
        lists.addWidget(self.tracks_list)
        lists.addWidget(self.classes_list)
        options.addRow("Tracks / classes:", lists)

        last = max(self.frame_count - 1, 0)
        self.first_spin, self.last_spin = QSpinBox(), QSpinBox()
        for spin, value in ((self.first_spin, 0), (self.last_spin, last)):
            spin.setRange(0, last)
            spin.setValue(value)
        self.step_spin = QSpinBox()
        self.step_spin.setRange(1, max(self.frame_count, 1))
        self.step_spin.setValue(1)
        frames_row = QHBoxLayout()
        for widget in (
            QLabel("from"),
            self.first_spin,
            QLabel("to"),
            self.last_spin,
            QLabel("  every k-th frame, k ="),
            self.step_spin,
        ):
            frames_row.addWidget(widget)
        frames_row.addStretch(1)
        options.addRow("Frames (0-based):", frames_row)

        self.reviewed_check = QCheckBox("Only reviewed frames (drawn or accepted by a person)")
        options.addRow("", self.reviewed_check)
        self.flagged_check = QCheckBox("Leave out boxes still flagged for review")
        self.flagged_check.setToolTip(
            "Boxes the drift checks flagged and nobody accepted or fixed yet. Detection datasets "
            "leave out their whole frames (an unlabelled object would teach a detector background)."
        )
        options.addRow("", self.flagged_check)
        self.flagged_label = QLabel()  # how many of the chosen boxes are still flagged
        self.flagged_label.setWordWrap(True)
        options.addRow("", self.flagged_label)
        self.absent_check = QCheckBox("Also frames where every object is absent (images without boxes)")
        self.absent_check.setToolTip(
            "Detection datasets only. Off: such frames are left out, since nothing says what else is on them."
        )
        options.addRow("", self.absent_check)

        self.frames_check = QCheckBox("Write the video frames as images too")
        self.frames_check.toggled.connect(self._update_image_format)
        self.image_combo = QComboBox()
        self.image_combo.addItems(IMAGE_FORMATS)
        images_row = QHBoxLayout()
        images_row.addWidget(self.frames_check)
        images_row.addWidget(QLabel("format:"))
        images_row.addWidget(self.image_combo)
        images_row.addStretch(1)
        options.addRow("Images:", images_row)
        layout.addWidget(self.options_box)
        for widget in (self.tracks_list, self.classes_list):
            widget.itemChanged.connect(self._update_flagged)
        for spin in (self.first_spin, self.last_spin, self.step_spin):
            spin.valueChanged.connect(self._update_flagged)
        for check in (self.reviewed_check, self.flagged_check):
            check.toggled.connect(self._update_flagged)

        footer = add_job_footer(layout, "Export", self.start_export, self._cancel_clicked)
        self.progress_bar, self.status_label = footer.progress_bar, footer.status_label
        self.export_button, self.cancel_button = footer.start_button, footer.close_button

        if not len(self.annotations):
            self.export_button.setEnabled(False)
            self._show_status("Nothing to export: there is no track yet.", error=True)

    def _check_list(self, items: list[tuple[str, object]]) -> QListWidget:
        widget = QListWidget()
        for text, value in items:
            item = QListWidgetItem(text)
            item.setData(Qt.UserRole, value)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked)
            widget.addItem(item)
        widget.setMinimumHeight(70)
        return widget

    # -- reacting to the choices ---------------------------------------------------------------

    @property
    def format(self) -> Format:
        return FORMATS[self.format_combo.currentData()]

    def _format_changed(self) -> None:
        fmt = self.format
        self.conventions_label.setText(fmt.conventions)
        # Formats that need the frames always write them; for the others it is a choice, off by
        # default (the images are most of an export's size).
        self.frames_check.setChecked(fmt.needs_frames)
        self.frames_check.setEnabled(fmt.frames_optional and not fmt.needs_frames)
        self._update_image_format()
        # Follow the format with the suggested target unless the person typed their own.
        if self.target_edit.text() in ("", self._default_target):
            self._default_target = str(self._suggested_target(fmt))
            self.target_edit.setText(self._default_target)
        if fmt.target_kind == "folder":
            self.target_hint.setText("A new folder, or an empty one: nothing is overwritten.")
        else:
            self.target_hint.setText("A file; an existing one is replaced only when the export succeeds.")

    def apply_defaults(self, defaults: ExportDefaults) -> None:
        """Start from the remembered choices (a format no longer offered is skipped)."""
        index = self.format_combo.findData(defaults.format)
        if index >= 0:
            self.format_combo.setCurrentIndex(index)
        if self.frames_check.isEnabled():
            self.frames_check.setChecked(defaults.write_frames)
        if defaults.image_format in IMAGE_FORMATS:
            self.image_combo.setCurrentText(defaults.image_format)
        self.reviewed_check.setChecked(defaults.reviewed_only)
        self.flagged_check.setChecked(defaults.skip_flagged)

    def chosen_defaults(self) -> ExportDefaults:
        """The choices to start the next export with."""
        return ExportDefaults(
            self.format.name,
            self.frames_check.isChecked() if self.frames_check.isEnabled() else False,
            self.image_combo.currentText(),
            self.reviewed_check.isChecked(),
            self.flagged_check.isChecked(),
        )

    def _update_flagged(self) -> None:
        """Say how many of the chosen boxes nobody has checked though the drift checks flagged them."""
        try:
            flagged, boxes = flagged_rows(self.annotations, self.options(), self.frame_count)
        except ValueError:  # nothing chosen: the export says so when asked
            flagged = boxes = 0
        if not flagged:
            self.flagged_label.setText("")
        elif self.flagged_check.isChecked():
            self.flagged_label.setText(
                f"{flagged} of the {boxes} boxes chosen are flagged and will be left out."
            )
        else:
            self.flagged_label.setText(
                f"<span style='color:#e8a33d'>⚑ {flagged} of the {boxes} boxes chosen are still "
                "flagged for review</span> (the Review dock lists them)."
            )

    def _update_image_format(self) -> None:
        self.image_combo.setEnabled(self.frames_check.isChecked())

    def _suggested_target(self, fmt: Format) -> Path:
        video = Path(self.video.path)
        stem = video.name if video.is_dir() else video.stem
        name = f"{stem}_{fmt.name}"
        folder = self.folder if self.folder is not None and self.folder.is_dir() else video.parent
        return folder / (name if fmt.target_kind == "folder" else name + fmt.file_suffix)

    def _browse(self) -> None:
        fmt, current = self.format, self.target_edit.text()
        if fmt.target_kind == "folder":
            start = str(Path(current).parent) if current else ""
            chosen = QFileDialog.getExistingDirectory(self, "Export into folder", start)
            if not chosen:
                return
            folder = Path(chosen)
            # An empty folder is used as is; otherwise the export goes into a new folder inside it.
            if any(folder.iterdir()):
                folder = folder / self._suggested_target(fmt).name
            self.target_edit.setText(str(folder))
        else:
            chosen, _ = QFileDialog.getSaveFileName(self, "Export to file", current)
            if chosen:
                self.target_edit.setText(chosen)

    # -- the export ----------------------------------------------------------------------------

    @staticmethod
    def _checked(widget: QListWidget) -> tuple[set, int]:
        items = [widget.item(i) for i in range(widget.count())]
        return {it.data(Qt.UserRole) for it in items if it.checkState() == Qt.Checked}, len(items)

    def options(self) -> ExportOptions:
        """The options as set in the dialog (None where everything is selected); ValueError with
        a message for the person when they select nothing."""
        tracks, n_tracks = self._checked(self.tracks_list)
        labels, n_labels = self._checked(self.classes_list)
        if not tracks:
            raise ValueError("Choose at least one track.")
        if not labels:
            raise ValueError("Choose at least one class.")
        first, last = self.first_spin.value(), self.last_spin.value()
        if first > last:
            raise ValueError(f"The frame range starts after it ends ({first} > {last}).")
        return ExportOptions(
            tracks=None if len(tracks) == n_tracks else frozenset(tracks),
            labels=None if len(labels) == n_labels else frozenset(labels),
            first=None if first == 0 else first,
            last=None if last == self.frame_count - 1 else last,
            step=self.step_spin.value(),
            reviewed_only=self.reviewed_check.isChecked(),
            skip_flagged=self.flagged_check.isChecked(),
            absent_frames=self.absent_check.isChecked(),
            image_format=self.image_combo.currentText(),
        )

    @property
    def running(self) -> bool:
        return self._runner.running

    def start_export(self) -> None:
        if self.running:
            return
        fmt = self.format
        target = self.target_edit.text().strip()
        try:
            if not target:
                raise ValueError("Choose where to export.")
            options = self.options()
            frames = self.frame_reader if self.frames_check.isChecked() else None
            if fmt.needs_frames and frames is None:
                raise ValueError(f"{fmt.title} needs the video's frames, and no video is open.")
        except ValueError as exc:
            self._show_status(str(exc), error=True)
            return
        job = ExportJob(self.annotations, self.video, Path(target).expanduser(), options, frames)
        worker = ExportWorker(fmt, job)
        worker.progressed.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        self._outcome = (FAILED, "The export stopped without a result.")
        self._set_running(True)
        self.progress_bar.setRange(0, 0)  # busy until the first progress report
        self._show_status(f"Exporting {fmt.title} to {target} …")
        self._runner.start(worker)

    def _cancel_clicked(self) -> None:
        """Cancel stops a running export and keeps the dialog open; otherwise it is Close."""
        if self.running:
            self.cancel_export()
        else:
            self.reject()

    def cancel_export(self) -> None:
        if self.running:
            self._runner.cancel()
            self._show_status("Cancelling…")

    def _set_running(self, running: bool) -> None:
        for widget in (self.format_combo, self.target_edit, self.browse_button, self.options_box):
            widget.setEnabled(not running)
        self.export_button.setEnabled(not running)
        self.cancel_button.setText("Cancel" if running else "Close")

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done)
        self.progress_bar.setFormat("%v / %m frames")

    @Slot(str, str)
    def _on_finished(self, outcome: str, message: str) -> None:
        self._outcome = (outcome, message)

    def _on_thread_finished(self) -> None:
        self._set_running(False)
        outcome, message = self._outcome
        if self.progress_bar.maximum() == 0:
            self.progress_bar.setRange(0, 1)
        if outcome == DONE:
            self.progress_bar.setValue(self.progress_bar.maximum())
            self.exported_to = Path(self.target_edit.text().strip()).expanduser()
            self.message = message
            self._show_status(message)
            if not self._close_when_done:
                self.accept()
                return
        else:
            self.progress_bar.setValue(0)
            self._show_status(message, error=outcome == FAILED)
        if self._close_when_done:
            super().reject()

    def _show_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet("color: #ff6e6e;" if error else "")

    def reject(self) -> None:
        """Esc / closing the window: during an export, cancel it and close once the worker has
        removed what it wrote (the dialog never goes away under a running thread)."""
        if self.running:
            self._close_when_done = True
            self.cancel_export()
            return
        super().reject()


def export_with_dialog(
    parent: QWidget | None,
    annotations: Annotations,
    video_ref: VideoRef,
    frame_reader: FrameReader | None,
    folder: Path | None = None,
    settings: Settings | None = None,
) -> tuple[Path, str] | None:
    """Show the export dialog (modal): (the path exported to, what the export says), or None
    if nothing was exported. ``folder``: where to suggest the export (default: the video's).

    ``frame_reader(i)`` returns frame ``i`` (0-based, BGR) and is called from the export thread:
    pass a reader of its own (``app.io.video.SeekableVideo.reader().frame``) so the GUI's decoder is
    not shared; None when no video is open (formats that need frames then say so).
    ``settings``: the dialog starts with their export defaults and remembers a successful
    export's choices there.
    """
    defaults = settings.export_defaults if settings is not None else None
    dialog = ExportDialog(parent, annotations, video_ref, frame_reader, folder, defaults)
    dialog.exec()
    if dialog.exported_to is None:
        return None
    if settings is not None:
        settings.export_defaults = dialog.chosen_defaults()
    return dialog.exported_to, dialog.message
