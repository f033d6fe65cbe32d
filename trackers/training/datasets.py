"""Readers that turn training data folders into tracks: frame paths + one box per frame.

Layouts (``discover`` recognises them, recursing into folders that hold several):

* OTB / LaSOT: ``<seq>/img/*.jpg`` + ``groundtruth_rect.txt`` (or ``groundtruth.txt``); every
  further ``groundtruth_rect_2.txt`` / ``groundtruth_rect.2.txt`` is another target's track.
  LaSOT's ``full_occlusion.txt`` / ``out_of_view.txt`` mark frames absent.
* GOT-10k: ``<seq>/00000001.jpg ...`` + ``groundtruth.txt``, optional ``absence.label``.
* DAVIS: ``JPEGImages/<res>/<seq>/*.jpg`` + ``Annotations/<res>/<seq>/*.png``; each distinct
  non-zero mask value (grey) or colour (palette) is one object, its box the mask's extent.
* Still images: ``annotations.csv`` (``filename,width,height,class,xmin,ymin,xmax,ymax``, VOC
  inclusive 1-based corners) + ``images/``; each box is a one-frame track.
* Unlabelled videos (``.mp4``, ``.avi``, ...): decoded once into a frame cache; the track has no
  boxes (``boxes is None``) and the sampler makes self-supervised pairs from it.

Boxes are (x, y, w, h) float64 in 0-based continuous pixels (``trackers.base``); a NaN row means
the target is absent in that frame.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from trackers.io import IMAGE_EXTENSIONS, SourceError, VideoSource, list_images, read_groundtruth

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
KINDS = ("sequence", "davis", "detection", "video")
# Cached video frames are shrunk to this longest side: crops are 255 px, bigger frames only cost decoding.
VIDEO_MAX_SIDE = 640


class DatasetError(ValueError):
    """A data folder that cannot be used; the message names it."""


@dataclass
class Track:
    name: str  # unique within a dataset, e.g. "otb_jogging#2"
    sequence: str  # the sequence / video / image it comes from (what exclusion checks look at)
    kind: str  # one of KINDS
    frames: list[str]
    boxes: np.ndarray | None  # (N, 4) x, y, w, h; NaN rows = absent; None = unlabelled video

    def __post_init__(self) -> None:
        if self.boxes is not None:
            self.boxes = _clean(np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4))
            if len(self.boxes) != len(self.frames):
                raise DatasetError(f"{self.name}: {len(self.frames)} frames but {len(self.boxes)} boxes")

    @property
    def visible(self) -> np.ndarray:
        """Indices of the frames where the target is visible (every frame for unlabelled video)."""
        if self.boxes is None:
            return np.arange(len(self.frames))
        return np.flatnonzero(np.isfinite(self.boxes).all(axis=1))


def _clean(boxes: np.ndarray) -> np.ndarray:
    bad = ~np.isfinite(boxes).all(axis=1) | (boxes[:, 2] <= 1) | (boxes[:, 3] <= 1)
    boxes = boxes.copy()
    boxes[bad] = np.nan
    return boxes


def load_frame(path: str) -> np.ndarray:
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise SourceError(f"{path}: cannot read image")
    return image


def _fit(boxes: np.ndarray, n: int) -> np.ndarray:
    """Boxes for exactly ``n`` frames: extra lines dropped, missing lines absent."""
    out = np.full((n, 4), np.nan)
    m = min(n, len(boxes))
    out[:m] = boxes[:m]
    return out


def _flags(path: Path, n: int) -> np.ndarray:
    """0/1 per frame from a comma / newline separated label file (LaSOT, GOT-10k)."""
    values = [v for v in path.read_text().replace(",", "\n").split() if v]
    flags = np.zeros(n, dtype=bool)
    m = min(n, len(values))
    flags[:m] = np.asarray(values[:m], dtype=float) > 0
    return flags


# --- OTB / LaSOT -------------------------------------------------------------------------------


def _otb_gt_files(folder: Path) -> list[Path]:
    main = [folder / n for n in ("groundtruth_rect.txt", "groundtruth.txt") if (folder / n).is_file()][:1]
    extra = sorted(
        p
        for p in folder.glob("groundtruth_rect[._]*.txt")
        if p.stem.removeprefix("groundtruth_rect")[1:].isdigit()
    )
    return main + extra


def is_otb(folder: Path) -> bool:
    return (folder / "img").is_dir() and bool(_otb_gt_files(folder))


def read_otb(folder: str | Path) -> list[Track]:
    folder = Path(folder)
    frames = [str(p) for p in list_images(folder / "img")]
    if not frames:
        raise DatasetError(f"{folder}/img: no images")
    absent = np.zeros(len(frames), dtype=bool)
    for name in ("full_occlusion.txt", "out_of_view.txt"):
        if (folder / name).is_file():
            absent |= _flags(folder / name, len(frames))
    tracks = []
    for i, gt in enumerate(_otb_gt_files(folder)):
        boxes = _fit(read_groundtruth(gt), len(frames))
        boxes[absent] = np.nan
        suffix = "" if i == 0 else "#" + gt.stem.removeprefix("groundtruth_rect")[1:]
        tracks.append(Track(folder.name + suffix, folder.name, "sequence", frames, boxes))
    return tracks


# --- GOT-10k -----------------------------------------------------------------------------------


def is_got10k(folder: Path) -> bool:
    return (folder / "groundtruth.txt").is_file() and not (folder / "img").is_dir()


def read_got10k(folder: str | Path) -> list[Track]:
    folder = Path(folder)
    frames = [str(p) for p in list_images(folder)]
    if not frames:
        raise DatasetError(f"{folder}: groundtruth.txt but no images")
    boxes = _fit(read_groundtruth(folder / "groundtruth.txt"), len(frames))
    if (folder / "absence.label").is_file():
        boxes[_flags(folder / "absence.label", len(frames))] = np.nan
    return [Track(folder.name, folder.name, "sequence", frames, boxes)]


# --- DAVIS -------------------------------------------------------------------------------------


def _resolution_dir(folder: Path) -> Path:
    """``<folder>/480p`` (or the only resolution folder); ``folder`` itself if it holds sequences."""
    if (folder / "480p").is_dir():
        return folder / "480p"
    subs = [p for p in folder.iterdir() if p.is_dir()]
    if len(subs) == 1 and any(q.is_dir() for q in subs[0].iterdir()):
        return subs[0]
    return folder


def is_davis(folder: Path) -> bool:
    return (folder / "JPEGImages").is_dir() and (folder / "Annotations").is_dir()


def mask_ids(mask: np.ndarray) -> np.ndarray:
    """One integer id per pixel: the grey value, or the packed colour of a palette PNG read as BGR."""
    if mask.ndim == 3:
        m = mask[:, :, :3].astype(np.int64)
        return (m[:, :, 0] << 16) | (m[:, :, 1] << 8) | m[:, :, 2]
    return mask.astype(np.int64)


def mask_boxes(ids: np.ndarray) -> dict[int, tuple[float, float, float, float]]:
    """Box (x, y, w, h) of every non-zero id: the extent of its pixels (w = xmax - xmin + 1)."""
    out = {}
    for obj in np.unique(ids):
        if obj == 0:
            continue
        ys, xs = np.nonzero(ids == obj)
        out[int(obj)] = (
            float(xs.min()),
            float(ys.min()),
            float(xs.max() - xs.min() + 1),
            float(ys.max() - ys.min() + 1),
        )
    return out


def read_davis(root: str | Path) -> list[Track]:
    root = Path(root)
    images, annotations = _resolution_dir(root / "JPEGImages"), _resolution_dir(root / "Annotations")
    tracks = []
    for seq in sorted(p for p in images.iterdir() if p.is_dir()):
        frames = list_images(seq)
        per_frame = []
        for f in frames:
            png = annotations / seq.name / (f.stem + ".png")
            mask = cv2.imread(str(png), cv2.IMREAD_UNCHANGED) if png.is_file() else None
            per_frame.append({} if mask is None else mask_boxes(mask_ids(mask)))
        ids = sorted({k for boxes in per_frame for k in boxes})
        for n, obj in enumerate(ids):
            boxes = np.array([b.get(obj, (np.nan,) * 4) for b in per_frame], dtype=np.float64)
            suffix = "" if len(ids) == 1 else f"#{n + 1}"
            tracks.append(Track(seq.name + suffix, seq.name, "davis", [str(f) for f in frames], boxes))
    return tracks


# --- still images ------------------------------------------------------------------------------

DETECTION_COLUMNS = ("filename", "xmin", "ymin", "xmax", "ymax")


def is_detection(folder: Path) -> bool:
    return (folder / "annotations.csv").is_file()


def read_detection(folder: str | Path) -> list[Track]:
    """One one-frame track per box. VOC corners are 1-based and inclusive: x = xmin - 1,
    w = xmax - xmin + 1 (annotation-formats §3.3)."""
    folder = Path(folder)
    image_dir = folder / "images" if (folder / "images").is_dir() else folder
    with open(folder / "annotations.csv", newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in DETECTION_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DatasetError(f"{folder}/annotations.csv: missing column(s) {missing}")
        rows = list(reader)
    tracks, count = [], {}
    for row in rows:
        x1, y1, x2, y2 = (float(row[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
        stem = Path(row["filename"]).stem
        count[stem] = count.get(stem, 0) + 1
        box = np.array([[x1 - 1, y1 - 1, x2 - x1 + 1, y2 - y1 + 1]])
        path = str(image_dir / row["filename"])
        tracks.append(Track(f"{stem}#{count[stem]}", stem, "detection", [path], box))
    return tracks


# --- unlabelled videos -------------------------------------------------------------------------


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("siamark")) / "training"


def read_video(path: str | Path, cache_dir: str | Path | None = None) -> list[Track]:
    """Decode the video once into ``<cache>/frames/<stem>-<hash>/`` (JPEG, longest side <= 640) so
    pairs can be read at random, then one unlabelled track over its frames."""
    path = Path(path)
    stat = path.stat()
    key = hashlib.sha1(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:10]
    out = Path(cache_dir or default_cache_dir()) / "frames" / f"{path.stem}-{key}"
    done = out / "done.txt"
    if not done.is_file():
        out.mkdir(parents=True, exist_ok=True)
        n = 0
        for n, frame in enumerate(VideoSource(path), start=1):
            scale = VIDEO_MAX_SIDE / max(frame.shape[:2])
            if scale < 1:
                frame = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            cv2.imwrite(str(out / f"{n:06d}.jpg"), frame, [cv2.IMWRITE_JPEG_QUALITY, 92])
        done.write_text(f"{n}\n")
    frames = [str(p) for p in list_images(out)]
    if not frames:
        raise DatasetError(f"{path}: no decodable frames")
    return [Track(path.stem, path.stem, "video", frames, None)]


# --- discovery ---------------------------------------------------------------------------------


def discover(path: str | Path, cache_dir: str | Path | None = None, depth: int = 3) -> list[Track]:
    """Every track under ``path`` (one of the layouts above, or a folder holding several)."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path}: not found")
    if path.is_file():
        if path.suffix.lower() in VIDEO_EXTENSIONS:
            return read_video(path, cache_dir)
        if path.name == "annotations.csv":
            return read_detection(path.parent)
        return []
    for test, reader in ((is_davis, read_davis), (is_otb, read_otb), (is_detection, read_detection)):
        if test(path):
            return reader(path)
    if is_got10k(path) and any(p.suffix.lower() in IMAGE_EXTENSIONS for p in path.iterdir()):
        return read_got10k(path)
    if depth == 0:
        return []
    tracks = []
    for child in sorted(path.iterdir()):
        if child.is_dir() or child.suffix.lower() in VIDEO_EXTENSIONS:
            tracks += discover(child, cache_dir, depth - 1)
    return tracks
