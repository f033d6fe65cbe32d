"""``siamark convert`` through ``app.main.main``: real sequences in, every route through the same
exporters and importers, clear errors with exit code 2."""

from __future__ import annotations

import json

import pytest

from app.io.formats import FORMATS
from app.io.project import Project, save_project, video_fingerprint
from app.main import main
from tests.formats_sequences import CROSSING, assert_same_tracks, crossing_annotations, crossing_video
from tests.shared_data import needs_shared


@needs_shared
def test_otb_to_mot_to_cvat_to_project(tmp_path, capsys):
    images = str(CROSSING / "img")
    assert (
        main(["convert", "--from", f"otb:{CROSSING}", "--to", f"mot:{tmp_path / 'mot'}", "--images", images])
        == 0
    )
    assert len(list((tmp_path / "mot" / "img1").iterdir())) == 120
    assert main(["convert", "--from", f"mot:{tmp_path / 'mot'}", "--to", f"cvat:{tmp_path / 'a.xml'}"]) == 0
    assert (
        main(
            [
                "convert",
                "--from",
                f"cvat:{tmp_path / 'a.xml'}",
                "--to",
                f"project:{tmp_path / 'p.siamark.json'}",
            ]
        )
        == 0
    )
    assert "wrote project" in capsys.readouterr().err
    original = FORMATS["otb"].load(CROSSING, 120)
    assert_same_tracks(original, FORMATS["project"].load(tmp_path / "p.siamark.json", 120))


@needs_shared
def test_project_input_brings_its_video(tmp_path):
    project = Project(crossing_video(), crossing_annotations())
    project.video.fingerprint = video_fingerprint(CROSSING)
    save_project(project, tmp_path / "p.siamark.json")
    argv = [
        "convert",
        "--from",
        f"project:{tmp_path / 'p.siamark.json'}",
        "--to",
        f"got10k:{tmp_path / 'got'}",
    ]
    assert main([*argv, "--tracks", "2", "--first", "10", "--last", "29", "--step", "2"]) == 0
    assert sorted(p.name for p in (tmp_path / "got").glob("*.jpg"))[:1] == [
        "00000001.jpg"
    ]  # frames from the project's video
    assert len(list((tmp_path / "got").glob("*.jpg"))) == 10
    back = FORMATS["got10k"].load(tmp_path / "got", 120)
    assert sorted(back.track(1).boxes) == list(range(10, 30, 2))
    pysot = ["--to", f"pysot:{tmp_path / 'ps'}", "--reviewed-only", "--labels", "person", "--last", "9"]
    assert main(["convert", "--from", f"project:{tmp_path / 'p.siamark.json'}", *pysot]) == 0
    assert (tmp_path / "ps" / "train.json").is_file()
    got = ["--to", f"got10k:{tmp_path / 'unflagged'}", "--tracks", "1", "--skip-flagged"]
    assert main(["convert", "--from", f"project:{tmp_path / 'p.siamark.json'}", *got]) == 0
    flagged = {f for f, e in crossing_annotations().track(1).boxes.items() if e.flag}
    back = FORMATS["got10k"].load(tmp_path / "unflagged", 120).track(1)
    assert flagged and all(back.get(f).box is None for f in flagged)  # written as "no box" (absent)
    assert back.get(min(flagged) - 1).box is not None


def test_bad_input_exits_2_with_file_and_line(tmp_path, capsys):
    bad = tmp_path / "seq"
    bad.mkdir()
    (bad / "groundtruth.txt").write_text("1,2,3,4\n1,2,three,4\n")
    code = main(["convert", "--from", f"got10k:{bad}", "--to", f"cvat:{tmp_path / 'a.xml'}"])
    assert code == 2
    assert f"{bad / 'groundtruth.txt'}:2: not numbers" in capsys.readouterr().err
    assert not (tmp_path / "a.xml").exists()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--to", "pysot:{tmp}/ps"], "pass --video FILE or --images DIR"),
        (["--to", "mot:{tmp}/m", "--tracks", "9"], "no track 9"),
        (["--to", "mot:{tmp}/m", "--step", "0"], "k must be 1 or more"),
        (["--to", "mot:{tmp}/m", "--video", "{tmp}/missing.mp4"], "missing.mp4: not found"),
    ],
)
def test_usage_errors_exit_2(tmp_path, capsys, argv, words):
    source = tmp_path / "seq"
    source.mkdir()
    (source / "groundtruth.txt").write_text("1,2,3,4\n")
    argv = [a.format(tmp=tmp_path) for a in argv]
    assert main(["convert", "--from", f"got10k:{source}", *argv]) == 2
    assert words in capsys.readouterr().err


def test_unknown_format_is_an_argument_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["convert", "--from", "kitti:x", "--to", "mot:y"])
    assert exit_.value.code == 2 and "unknown format 'kitti'" in capsys.readouterr().err


@needs_shared
def test_a_sequence_image_folder_names_the_video(tmp_path):
    argv = ["convert", "--from", f"otb:{CROSSING}", "--images", str(CROSSING / "img"), "--last", "3"]
    assert main([*argv, "--to", f"pysot:{tmp_path / 'ps'}"]) == 0
    assert json.loads((tmp_path / "ps" / "train.json").read_text()).keys() == {"otb_crossing"}
    assert main([*argv, "--to", f"cvat:{tmp_path / 'a.xml'}"]) == 0
    assert "<name>otb_crossing</name>" in (tmp_path / "a.xml").read_text()
