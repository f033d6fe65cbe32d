"""Project files: versioned JSON, atomic saves, strict loading, video fingerprints."""

import json
import os

import pytest

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


def sample_project(tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(os.urandom(10_000))
    model = Annotations(50)
    model.apply(model.add_track_edit("dog"))
    model.apply(model.manual_box_edit(1, 3, (1, 2, 30, 40)))
    return Project(
        VideoRef(str(video), video_fingerprint(video), 50, 640, 480, 25.0), model, {"tracker": "x"}
    )


def test_save_and_load_round_trip_with_a_relative_video_path(tmp_path):
    project = sample_project(tmp_path)
    path = tmp_path / "work.siamark.json"
    save_project(project, path)
    data = json.loads(path.read_text())
    assert data["format"] == "siamark-project" and data["version"] == 1
    assert data["video"]["path"] == "clip.mp4"  # next to the project: stored relative
    loaded = load_project(path)
    assert loaded.annotations.to_dict() == project.annotations.to_dict()
    assert loaded.settings == {"tracker": "x"}
    assert check_video(loaded) == ""


def test_a_different_video_under_the_same_name_is_noticed(tmp_path):
    project = sample_project(tmp_path)
    (tmp_path / "clip.mp4").write_bytes(os.urandom(10_000))
    assert "not the video" in check_video(project)
    (tmp_path / "clip.mp4").unlink()
    assert "not there" in check_video(project)


def test_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    project = sample_project(tmp_path)
    path = tmp_path / "work.siamark.json"
    save_project(project, path)
    old = path.read_text()
    project.annotations.apply(project.annotations.manual_box_edit(1, 4, (5, 5, 5, 5)))

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="Cannot save"):
        save_project(project, path)
    assert path.read_text() == old
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_read_only_folder_gives_a_clear_error(tmp_path):
    project = sample_project(tmp_path)
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OSError, match="Cannot save"):
            save_project(project, folder / "p.siamark.json")
    finally:
        folder.chmod(0o700)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "line 1"),
        ('{"format": "other"}', "not a Siamark project"),
        ('{"format": "siamark-project", "version": 99, "video": {"path": "x"}}', "newer Siamark"),
        ('{"format": "siamark-project", "version": 1}', "video"),
        (
            (
                '{"format": "siamark-project", "version": 1, "video": {"path": "x"},'
                ' "annotations": {"tracks": [{"id": "a"}]}}'
            ),
            r"tracks\[0\]\.id",
        ),
        (
            (
                '{"format": "siamark-project", "version": 1, "video": {"path": "x"}, "annotations": '
                '{"frame_count": 5, "tracks": [{"id": 1, "frames": [{"frame": 0, "source": "manual",'
                ' "box": [1e300, 0, 1e300, 1e300]}]}]}}'
            ),
            "beyond",
        ),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"format": "siamark-project", "version": 1, "video": {"path": "x", "fps": "fast"}}', "video.fps"),
        ('{"format": "siamark-project", "version": 1, "video": {"path": "x", "fps": -3}}', "video.fps"),
        ('{"format": "siamark-project", "version": 1, "video": {"path": "x", "width": "wide"}}', "video.width"),
    ],
)
def test_malformed_projects_name_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.siamark.json"
    path.write_text(text)
    with pytest.raises(ProjectError, match=message):
        load_project(path)


def test_a_deeply_nested_autosave_file_does_not_stop_the_app_from_starting(tmp_path):
    from app.io.autosave import AutosaveStore

    (tmp_path / "session-999999999.siamark.json").write_text("[" * 100_000 + "]" * 100_000)
    assert AutosaveStore(tmp_path, pid=2).orphans() == []


def test_an_unreadable_autosave_is_set_aside_not_read_at_every_start(tmp_path):
    import os

    from app.io.autosave import AutosaveStore

    dead = tmp_path / "session-999999999.siamark.json"  # no such process
    dead.write_text('{"truncated": ')
    live = tmp_path / f"session-{os.getpid()}.siamark.json"  # a running app's: left alone
    live.write_text("{}")
    assert AutosaveStore(tmp_path, pid=2).orphans() == []
    assert not dead.exists() and (tmp_path / (dead.name + ".unreadable")).read_text() == '{"truncated": '
    assert live.exists()
