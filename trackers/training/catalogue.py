"""Sequences from fetched public repository snapshots, by allowlist (``resources/recipes/sources.json``).

    python -m trackers.training.catalogue --mirror /work/.mirror --out ~/siamark-data [--validation]

Each allowlisted sequence is read from its repository at the pinned commit (a bare git snapshot:
``<mirror>/<owner>+<name>/repo``) and written in OTB layout, ``<out>/<name>/img/0001.jpg ...`` and
``groundtruth_rect.txt`` (x,y,w,h as the source writes them; DAVIS masks become the min/max box of
their non-zero pixels, VOT polygons their axis-aligned bounding box). Nothing outside the
allowlist is read. Which of them validate (and never train) is the training manifest's
``validation`` list (``resources/recipes/manifest.json``). A sequence already written is skipped; each is written to a temporary folder
and renamed, so an interrupted run leaves no half sequence.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from trackers.io import staged_folder
from trackers.training.recipe import RECIPES_DIR

SOURCES = RECIPES_DIR / "sources.json"
FORMATS = ("xywh", "polygon", "mask")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


class CatalogueError(ValueError):
    pass


@dataclass(frozen=True)
class Entry:
    name: str
    repo: str
    commit: str
    frames: str
    gt: str
    format: str
    content: str
    licence: str
    start: int = 1  # the folder's frame (1-based, in name order) that ground-truth line 1 describes


def load_entries(path: Path = SOURCES) -> list[Entry]:
    doc = json.loads(Path(path).read_text())
    repos = doc["repositories"]
    entries = []
    for raw in doc["sequences"]:
        if raw["repo"] not in repos:
            raise CatalogueError(f"{path}: {raw['name']}: repository {raw['repo']} is not listed")
        if raw["format"] not in FORMATS:
            raise CatalogueError(f"{path}: {raw['name']}: unknown format {raw['format']!r}")
        repo = repos[raw["repo"]]
        commit = raw.get("commit", repo["commit"])  # a sequence only in the repository's history
        entries.append(
            Entry(
                raw["name"],
                raw["repo"],
                commit,
                raw["frames"],
                raw["gt"],
                raw["format"],
                raw.get("content", ""),
                repo.get("licence", ""),
                int(raw.get("start", 1)),
            )
        )
    names = [e.name for e in entries]
    if len(set(names)) != len(names):
        raise CatalogueError(f"{path}: sequence names repeat")
    return entries


def git_dir(mirror: Path, repo: str) -> Path:
    base = Path(mirror) / repo.replace("/", "+") / "repo"
    for candidate in (base / ".git", base):
        if (candidate / "objects").is_dir():
            return candidate
    raise CatalogueError(f"{repo}: no snapshot under {base} (fetch github:{repo} first)")


def _tree(gitdir: Path, commit: str, path: str) -> dict[str, bytes]:
    """Every file under ``path`` at ``commit``: name relative to ``path`` -> bytes."""
    proc = subprocess.run(
        ["git", f"--git-dir={gitdir}", "archive", "--format=tar", commit, path],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise CatalogueError(f"{gitdir}: {commit}:{path}: {proc.stderr.decode().strip()}")
    files = {}
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
        for member in tar.getmembers():
            if member.isfile():
                files[member.name[len(path) :].lstrip("/")] = tar.extractfile(member).read()
    return files


def _images(files: dict[str, bytes]) -> list[bytes]:
    names = sorted(n for n in files if "/" not in n and n.lower().endswith(IMAGE_SUFFIXES))
    return [files[n] for n in names]


def mask_box(png: bytes) -> tuple[float, float, float, float] | None:
    mask = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return None  # the object is out of view
    return float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1), float(ys.max() - ys.min() + 1)


def boxes_from_text(text: str, fmt: str) -> list[tuple[float, ...] | None]:
    boxes = []
    for line in text.splitlines():
        tokens = line.replace("\t", ",").replace(" ", ",").split(",")
        values = [float(t) for t in tokens if t.strip()]
        if not values:
            continue
        if any(np.isnan(values)):
            boxes.append(None)
        elif fmt == "polygon" and len(values) == 8:
            xs, ys = values[0::2], values[1::2]
            boxes.append((min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)))
        elif len(values) == 4:
            boxes.append(tuple(values))
        else:
            raise CatalogueError(f"expected 4 ({fmt}) values per line, got {len(values)}: {line!r}")
    return boxes


def materialise(entry: Entry, mirror: Path, out: Path) -> Path:
    """Write ``entry`` in OTB layout under ``out``; returns its folder (kept if already there)."""
    target = Path(out) / entry.name
    if (target / "groundtruth_rect.txt").is_file():
        return target
    gitdir = git_dir(mirror, entry.repo)
    frames = _images(_tree(gitdir, entry.commit, entry.frames))
    if entry.format == "mask":
        boxes = [mask_box(png) for png in _images(_tree(gitdir, entry.commit, entry.gt))]
    else:
        gt = subprocess.run(
            ["git", f"--git-dir={gitdir}", "show", f"{entry.commit}:{entry.gt}"],
            capture_output=True,
            check=True,
        ).stdout.decode()
        boxes = boxes_from_text(gt, entry.format)
    # A sub-sequence (UAV123's name_k): its ground truth covers the frames from ``start`` on.
    frames = frames[entry.start - 1 :]
    if len(boxes) < 2 or len(boxes) > len(frames):
        raise CatalogueError(
            f"{entry.name}: {len(frames)} frames but {len(boxes)} boxes (from frame {entry.start})"
        )
    frames = frames[: len(boxes)]
    with staged_folder(target) as staging:
        (staging / "img").mkdir()
        for i, data in enumerate(frames, start=1):
            (staging / "img" / f"{i:04d}.jpg").write_bytes(data)  # OpenCV reads by content, not suffix
        lines = ["NaN,NaN,NaN,NaN" if b is None else ",".join(f"{v:g}" for v in b) for b in boxes]
        (staging / "groundtruth_rect.txt").write_text("\n".join(lines) + "\n")
        source = {
            "repo": entry.repo,
            "commit": entry.commit,
            "frames": entry.frames,
            "gt": entry.gt,
            "format": entry.format,
            "licence": entry.licence,
            "start": entry.start,
        }
        (staging / "source.json").write_text(json.dumps(source, indent=2) + "\n")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m trackers.training.catalogue", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--mirror", type=Path, required=True, help="folder of fetched snapshots (<owner>+<name>/repo)"
    )
    parser.add_argument("--out", type=Path, required=True, help="where the OTB-layout sequences go")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--validation", action="store_true", help="only the manifest's validation sequences")
    which.add_argument("--train", action="store_true", help="only the sequences that may train (the others)")
    args = parser.parse_args(argv)
    try:
        from trackers.training.manifest import shipped_validation

        validation = set(shipped_validation())
        for entry in load_entries():
            if (args.validation and entry.name not in validation) or (
                args.train and entry.name in validation
            ):
                continue
            folder = materialise(entry, args.mirror, args.out)
            print(f"{entry.name}: {len(list((folder / 'img').iterdir()))} frames -> {folder}")
    except (CatalogueError, OSError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
