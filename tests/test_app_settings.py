"""User settings: QSettings INI in the user config folder, never in the repository."""

import subprocess
import time
from pathlib import Path

import platformdirs
import pytest

from app.services.settings import MAX_RECENT, Settings, config_dir

from .shared_data import REPO


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("SIAMARK_CONFIG_DIR", str(tmp_path / "config"))
    return Settings()


def touch(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"x")
    return folder / name


def test_defaults(settings, tmp_path):
    assert settings.path == tmp_path / "config" / "siamark.ini"
    assert settings.recent_files() == [] and settings.device == "auto" and settings.precision == "auto"
    assert (
        settings.last_tracker is None and settings.window_geometry is None and settings.window_state is None
    )


def test_values_round_trip_through_the_file(settings):
    settings.last_tracker, settings.device, settings.precision = "nanotrack", "cuda", "float32"
    settings.window_geometry, settings.window_state = b"\x00\x01geometry\xff", b"state"
    settings.sync()
    again = Settings()
    assert again.last_tracker == "nanotrack" and again.device == "cuda" and again.precision == "float32"
    assert again.window_geometry == b"\x00\x01geometry\xff" and again.window_state == b"state"


def test_recent_files_most_recent_first_deduplicated_capped(settings, tmp_path):
    files = [touch(tmp_path / "videos", f"clip {i}, take.mp4").resolve() for i in range(MAX_RECENT + 2)]
    for f in files:
        settings.add_recent(f)
    assert settings.recent_files() == files[::-1][:MAX_RECENT]
    settings.add_recent(tmp_path / "videos" / ".." / "videos" / files[5].name)  # same file, other spelling
    recent = settings.recent_files()
    assert recent[0] == files[5] and len(recent) == MAX_RECENT and len(set(recent)) == MAX_RECENT
    folder = (tmp_path / "sequence").resolve()
    folder.mkdir()
    settings.add_recent(folder)  # image-sequence folders are recent "files" too
    settings.sync()
    assert Settings().recent_files()[:2] == [folder, files[5]]


def test_missing_files_are_pruned_on_read(settings, tmp_path):
    a, b = touch(tmp_path, "a.mp4").resolve(), touch(tmp_path, "b.mp4").resolve()
    settings.add_recent(a)
    settings.add_recent(b)
    b.unlink()
    assert settings.recent_files() == [a]
    settings.sync()
    assert Settings().recent_files() == [a]
    settings.clear_recent()
    assert settings.recent_files() == []


def git_status() -> str:
    cmd = ["git", "status", "--porcelain", "--ignored"]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False).stdout


def test_nothing_is_written_inside_the_repository(settings, tmp_path):
    before = git_status()
    start = time.time()
    settings.add_recent(touch(tmp_path, "a.mp4"))
    settings.window_state = b"state"
    settings.sync()
    assert settings.path.is_file() and settings.path.is_relative_to(tmp_path)
    after = git_status()
    new_lines = set(after.splitlines()) - set(before.splitlines())
    assert not [line for line in new_lines if "siamark" in line or line.endswith((".ini", ".lock"))]
    assert not [p for p in REPO.rglob("*.ini") if p.stat().st_mtime >= start]


def test_default_folder_is_the_user_config_dir(monkeypatch):
    monkeypatch.delenv("SIAMARK_CONFIG_DIR", raising=False)
    assert config_dir() == Path(platformdirs.user_config_dir("siamark", appauthor=False))
    assert not config_dir().resolve().is_relative_to(REPO)
