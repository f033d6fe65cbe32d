"""The questions the window asks: which file, save first?, recover? Module-level functions so a
test can answer them (monkeypatch) instead of a person."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from app.io.project import SUFFIX as PROJECT_SUFFIX
from app.model.annotations import Annotations
from app.model.ranges import box_overlap

VIDEO_FILTER = (
    f"Videos and projects (*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.mpg *{PROJECT_SUFFIX});;"
    f"Siamark projects (*{PROJECT_SUFFIX});;All files (*)"
)


def ask_save_changes(parent: QWidget, name: str) -> str:
    """ "save", "discard" or "cancel" for unsaved work about to be replaced or closed."""
    answer = QMessageBox.question(
        parent,
        "Unsaved changes",
        f"Save the changes to {name} first?",
        QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel,
        QMessageBox.Save,
    )
    return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(answer, "cancel")


def ask_replace_video(parent: QWidget, current: str, recovered: str) -> bool:
    """Recovering work on another video closes the one open: only when the person says so."""
    box = QMessageBox(
        QMessageBox.Question,
        "Recover work on another video?",
        f"The unsaved work belongs to {recovered}. Recovering it closes {current}.",
        QMessageBox.Yes | QMessageBox.Cancel,
        parent,
    )
    box.button(QMessageBox.Yes).setText(f"Recover and open {recovered}")
    box.button(QMessageBox.Cancel).setText(f"Keep {current} (offer it next time)")
    box.setDefaultButton(QMessageBox.Cancel)
    return box.exec() == QMessageBox.Yes


def ask_open_path(parent: QWidget, start: str) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, "Open a video or a Siamark project", start, VIDEO_FILTER)
    return path


def ask_folder(parent: QWidget, start: str) -> str:
    return QFileDialog.getExistingDirectory(parent, "Open a folder of images", start)


def ask_project_path(parent: QWidget, suggested: Path) -> str:
    path, _ = QFileDialog.getSaveFileName(
        parent, "Save project", str(suggested), f"Siamark projects (*{PROJECT_SUFFIX})"
    )
    return path


def ask_import(parent: QWidget, start: str) -> tuple[str, str]:
    """(format name, path) of annotations to import, or ("", "")."""
    from app.io.formats import FORMATS

    names = sorted(n for n, f in FORMATS.items() if f.load is not None)
    filters = ";;".join(f"{FORMATS[n].title} ({n}) (*)" for n in names)
    path, chosen = QFileDialog.getOpenFileName(parent, "Import annotations", start, filters)
    if not path:
        return "", ""
    name = chosen.rsplit("(", 2)[-2].strip(") ").strip() if "(" in chosen else names[0]
    return name, path


def ask_merge_track(parent: QWidget, annotations: Annotations, keep_id: int, others: list[int]) -> int | None:
    """The track to merge into track ``keep_id`` (one of ``others``), or None."""
    items = []
    for other in others:
        track = annotations.track(other)
        frames = track.frames()
        text = f"#{other}  {track.label}"
        if frames:
            text += f"   frames {frames[0]}–{frames[-1]}"
        if clash := box_overlap(annotations, keep_id, other):
            text += f"   (cannot merge: both have boxes on {len(clash)} frame{'s' if len(clash) > 1 else ''})"
        items.append(text)
    chosen, ok = QInputDialog.getItem(
        parent,
        "Merge tracks",
        f"Merge into track #{keep_id}: it keeps its id, class and colour; the chosen track goes.\n"
        "Where one of them is absent and the other has a box, the box is kept.",
        items,
        0,
        False,
    )
    return others[items.index(chosen)] if ok and chosen in items else None
