"""File > Record view…: the view of a run (boxes, chips, response overlay, score strip) as an MP4
or GIF, one picture per frame at the video's frame rate; File > Save view as PNG…: the frame on
screen, rendered the same way.

The dialog picks the frames (the selected track's tracked frames, the range marked with
Shift+I / Shift+O, or the whole video; then adjustable), the format, the width and what to
draw, and records with a progress bar and Cancel. The output is written under a temporary name
and renamed at the end (``app.io.recording``), so Cancel, a failure or closing the dialog leaves
nothing; errors (a read-only folder, a full disk) are shown in the dialog, which stays open.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.io.recording import (
    RECORD_FORMATS,
    RecordingWriter,
    default_width,
    save_png,
    suggested_path,
    tracked_range,
)
from app.model.session import Session
from app.ui.job_footer import add_job_footer
from app.ui.view_renderer import DONE, FAILED, Recording, ViewOptions, ViewRenderer


class RecordDialog(QDialog):
    def __init__(self, parent: QWidget | None, session: Session, overlay: bool, overlay_opacity: float):
        super().__init__(parent)
        self.setWindowTitle("Record view")
        self.session = session
        self.overlay_opacity = overlay_opacity
        self.recording: Recording | None = None
        self.recorded_to: Path | None = None
        self.message = ""  # what the finished recording says
        self._default_target = ""
        self._close_when_done = False
        self._build(overlay)
        self._range_chosen()
        self._format_changed()

    # -- building ------------------------------------------------------------------------------

    def _build(self, overlay: bool) -> None:
        session = self.session
        video = session.video
        last = max(session.frame_count - 1, 0)
        layout = QVBoxLayout(self)
        form = QFormLayout()

        self.range_combo = QComboBox()
        self.range_combo.setToolTip("Which frames to record; adjust the first and last frame after")
        if session.selected_range is not None:
            first, end = session.selected_range
            self.range_combo.addItem(f"Marked range, frames {first}-{end} (Shift+I / Shift+O)", (first, end))
        track = session.annotations.tracks.get(session.selected_track)
        tracked = tracked_range(track.frames()) if track is not None else None
        if tracked is not None:
            self.range_combo.addItem(
                f"Tracked frames of #{track.id} {track.label}, {tracked[0]}-{tracked[1]}", tracked
            )
        self.range_combo.addItem(f"Whole video, frames 0-{last}", (0, last))
        self.range_combo.currentIndexChanged.connect(self._range_chosen)
        form.addRow("Frames:", self.range_combo)

        self.first_spin, self.last_spin = QSpinBox(), QSpinBox()
        for spin in (self.first_spin, self.last_spin):
            spin.setRange(0, last)
            spin.valueChanged.connect(self._frames_changed)
        frames_row = QHBoxLayout()
        for widget in (QLabel("from"), self.first_spin, QLabel("to"), self.last_spin):
            frames_row.addWidget(widget)
        self.count_label = QLabel()
        frames_row.addWidget(self.count_label, 1)
        form.addRow("", frames_row)

        self.format_combo = QComboBox()
        for name, title in RECORD_FORMATS.items():
            self.format_combo.addItem(title, name)
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        form.addRow("Format:", self.format_combo)

        self.width_spin = QSpinBox()
        self.width_spin.setRange(min(64, video.size[0]), video.size[0])
        self.width_spin.setSuffix(f" px wide (video: {video.size[0]}x{video.size[1]})")
        self.width_spin.setToolTip("The frame is scaled to this width; chips and lines keep their size")
        form.addRow("Size:", self.width_spin)

        self.overlay_check = QCheckBox("Response overlay (where a map is kept for the frame)")
        self.overlay_check.setChecked(overlay)
        self.strip_check = QCheckBox("Score strip under the frame, with the current-frame marker")
        self.strip_check.setChecked(True)
        form.addRow("Draw:", self.overlay_check)
        form.addRow("", self.strip_check)

        self.target_edit = QLineEdit()
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._browse)
        target_row = QHBoxLayout()
        target_row.addWidget(self.target_edit, 1)
        target_row.addWidget(self.browse_button)
        form.addRow("Save to:", target_row)
        self.options = [self.range_combo, self.first_spin, self.last_spin, self.format_combo]
        self.options += [self.width_spin, self.overlay_check, self.strip_check]
        self.options += [self.target_edit, self.browse_button]
        layout.addLayout(form)

        footer = add_job_footer(
            layout,
            "Record",
            self.start,
            self._close_clicked,
            f"{video.fps:.4g} fps, one picture per frame ({video.frame_rate_note}).",
        )
        self.progress_bar, self.status_label = footer.progress_bar, footer.status_label
        self.record_button, self.close_button = footer.start_button, footer.close_button
        self.setMinimumWidth(560)

    # -- reacting to the choices ---------------------------------------------------------------

    @property
    def format(self) -> str:
        return self.format_combo.currentData()

    def frames(self) -> range:
        return range(self.first_spin.value(), self.last_spin.value() + 1)

    def _range_chosen(self) -> None:
        first, last = self.range_combo.currentData()
        self.first_spin.setValue(first)
        self.last_spin.setValue(last)
        self._frames_changed()

    def _frames_changed(self) -> None:
        count = len(self.frames())
        seconds = count / self.session.video.fps
        self.count_label.setText(f"  {count} frames, {seconds:.1f} s" if count else "  (no frames)")
        self._suggest_target()

    def _format_changed(self) -> None:
        self.width_spin.setValue(default_width(self.format, self.session.video.size[0]))
        self._suggest_target()

    def _suggest_target(self) -> None:
        """Follow the choices with the suggested file unless the person typed their own."""
        if not hasattr(self, "target_edit") or self.target_edit.text() not in ("", self._default_target):
            return
        first, last = self.first_spin.value(), self.last_spin.value()
        self._default_target = str(suggested_path(self.session.video.path, self.format, (first, last)))
        self.target_edit.setText(self._default_target)

    def _browse(self) -> None:
        suffix = f".{self.format}"
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Record to file", self.target_edit.text(), f"{RECORD_FORMATS[self.format]} (*{suffix})"
        )
        if chosen:
            self.target_edit.setText(chosen if chosen.lower().endswith(suffix) else chosen + suffix)

    # -- recording -------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.recording is not None and self.recording.running

    def start(self) -> None:
        if self.running:
            return
        frames = self.frames()
        target = self.target_edit.text().strip()
        if not frames:
            self._show_status("The first frame is after the last one.", error=True)
            return
        if not target:
            self._show_status("Choose where to save the recording.", error=True)
            return
        options = ViewOptions(
            self.width_spin.value(),
            self.overlay_check.isChecked(),
            self.overlay_opacity,
            self.strip_check.isChecked(),
        )
        renderer = ViewRenderer(self.session, options)
        try:
            writer = RecordingWriter(
                Path(target).expanduser(), self.format, self.session.video.fps, renderer.image_size
            )
        except (OSError, ValueError) as exc:
            renderer.close()
            self._show_status(str(exc), error=True)
            return
        self.recording = Recording(renderer, writer, frames, self)
        self.recording.progressed.connect(self._on_progress)
        self.recording.finished.connect(self._on_finished)
        self._set_running(True)
        self.progress_bar.setRange(0, len(frames))
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("%v / %m frames")
        self._show_status(f"Recording {len(frames)} frames to {writer.path} …")
        self.recording.start()

    def cancel(self) -> None:
        if self.running:
            self.recording.cancel()

    def _close_clicked(self) -> None:
        """Cancel stops a recording and keeps the dialog open; otherwise it is Close."""
        if self.running:
            self.cancel()
        else:
            self.reject()

    def reject(self) -> None:
        """Esc / closing the window during a recording cancels it (nothing is left) and closes."""
        if self.running:
            self._close_when_done = True
            self.cancel()
            return
        super().reject()

    def _set_running(self, running: bool) -> None:
        for widget in self.options:
            widget.setEnabled(not running)
        self.record_button.setEnabled(not running)
        self.close_button.setText("Cancel" if running else "Close")

    def _on_progress(self, done: int, total: int) -> None:
        self.progress_bar.setValue(done)

    def _on_finished(self, outcome: str, message: str) -> None:
        self._set_running(False)
        self._show_status(message, error=outcome == FAILED)
        if outcome == DONE:
            self.recorded_to = self.recording.writer.path
            self.message = message
            if not self._close_when_done:
                self.accept()
                return
        else:
            self.progress_bar.setValue(0)
        if self._close_when_done:
            super().reject()

    def _show_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet("color: #ff6e6e;" if error else "")


def save_view_png(session: Session, path: str | Path, overlay: bool, overlay_opacity: float) -> Path:
    """The current frame as the view shows it (at the video's size, with the score strip) to a
    PNG; OSError with a message for the person."""
    options = ViewOptions(session.video.size[0], overlay, overlay_opacity, strip=True)
    renderer = ViewRenderer(session, options)
    try:
        picture = renderer.render_rgb(session.current_frame)
    finally:
        renderer.close()
    return save_png(path, picture)


def ask_png_path(parent: QWidget, session: Session) -> str:
    """Where to save the still: suggested beside the video, named after the frame."""
    frame = session.current_frame
    suggested = suggested_path(session.video.path, "png", (frame, frame))
    chosen, _ = QFileDialog.getSaveFileName(parent, "Save view as PNG", str(suggested), "PNG image (*.png)")
    if chosen and not chosen.lower().endswith(".png"):
        chosen += ".png"
    return chosen
