"""COCO detection dataset with COCO-VID fields: ``images/`` and ``annotations.json``; and its importer.

Conventions written: ``bbox`` is [x, y, w, h] in 0-based continuous float pixels (a box over
only the first pixel is x = 0, w = 1), exactly the project's boxes (not cut to the image);
``area`` = w * h, ``iscrowd`` 0, ``segmentation`` []. Image ids count from 1 in frame order,
category ids from 1 in ``categories`` order (the project's class order). COCO-VID (mmtracking)
fields: one ``videos`` entry, each image's ``video_id`` and ``frame_id`` (the 0-based decoded frame index;
files are named by it too, ``frame_000000``), each annotation's ``instance_id`` (the track id).
Each annotation's ``attributes`` hold ``occluded``, ``source`` (manual / tracked /
interpolated), ``reviewed``, and ``score`` and ``flag`` where set. A top-level ``tracks`` list
(ignored by COCO readers) keeps each track's label, colour and absent frames, so export ->
import gives back the same tracks.

The importer reads those files and plain COCO / CVAT COCO exports: frames come from
``frame_id``, else from the images' order when sorted by file name (natural order); tracks from
``instance_id`` (or CVAT's ``attributes.track_id``), else one track per category. A malformed
file raises FormatError naming the file and line, and nothing is imported.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from app.io.formats.frames import DetectionExport, export_detection_dataset
from app.io.formats.output import write_text
from app.io.formats.registry import ExportJob, Format, FormatError, register
from app.io.formats.selection import Selection
from app.model.annotations import PALETTE, Annotations, BoxSource, FrameBox, Track

IMAGES_DIR = "images"
ANNOTATIONS_FILE = "annotations.json"


# -- export -------------------------------------------------------------------------------------


def _attributes(entry: FrameBox) -> dict:
    out: dict = {"occluded": entry.occluded, "source": entry.source.value, "reviewed": entry.reviewed}
    if math.isfinite(entry.score):
        out["score"] = entry.score
    if entry.flag:
        out["flag"] = entry.flag
    return out


def coco_document(export: DetectionExport) -> dict:
    job = export.job
    category_id = {name: i for i, name in enumerate(export.classes, start=1)}
    images, annotations = [], []
    for image_id, item in enumerate(export.frames, start=1):
        info = export.images[item.frame]
        images.append(
            {
                "id": image_id,
                "file_name": info.file_name,
                "width": info.width,
                "height": info.height,
                "video_id": 1,
                "frame_id": item.frame,
            }
        )
        for track, entry in item.objects:
            x, y, w, h = entry.box
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": category_id[track.label],
                    "bbox": [x, y, w, h],
                    "area": w * h,
                    "iscrowd": 0,
                    "segmentation": [],
                    "instance_id": track.id,
                    "attributes": _attributes(entry),
                }
            )
    # Every selected absent entry, whether or not its frame was written as an image.
    absent = [r for r in export.selection.rows if r.entry.absent]
    tracks = [
        {
            "instance_id": t.id,
            "label": t.label,
            "color": t.color,
            "absent_frames": [{"frame": r.frame, **_attributes(r.entry)} for r in absent if r.track.id == t.id],
        }
        for t in export.selection.tracks
    ]
    video = job.video
    return {
        "info": {"description": f"Exported by Siamark from {Path(video.path).name}", "version": "1.0"},
        "licenses": [],
        "videos": [
            {
                "id": 1,
                "name": Path(video.path).name,
                "frame_count": job.annotations.frame_count,
                "fps": video.fps,
            }
        ],
        "images": images,
        "annotations": annotations,
        "categories": [{"id": i, "name": n, "supercategory": ""} for n, i in category_id.items()],
        "tracks": tracks,
    }


def _write(root: Path, export: DetectionExport) -> None:
    text = json.dumps(coco_document(export), indent=1, ensure_ascii=False)
    write_text(root / ANNOTATIONS_FILE, text + "\n")


def export_coco(job: ExportJob) -> Selection:
    return export_detection_dataset(job, IMAGES_DIR, _write)


# -- import -------------------------------------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")


def element_line(text: str, key: str, index: int | None = None) -> int | None:
    """Line of the top-level ``key``'s value (or of its ``index``-th element) in a valid JSON
    document: json.loads keeps no positions, so an error is located by re-scanning."""
    decoder = json.JSONDecoder()

    def skip(pos: int) -> int:
        return _WS.match(text, pos).end()

    def line(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    pos = skip(0)
    if text[pos : pos + 1] != "{":
        return None
    pos = skip(pos + 1)
    while text[pos : pos + 1] == '"':
        name, pos = decoder.raw_decode(text, pos)
        pos = skip(skip(pos) + 1)  # past ':'
        if name == key:
            if index is None or text[pos] != "[":
                return line(pos)
            pos = skip(pos + 1)
            i = 0
            while text[pos] != "]":
                if i == index:
                    return line(pos)
                _, pos = decoder.raw_decode(text, pos)
                pos = skip(pos)
                pos = skip(pos + 1) if text[pos] == "," else pos
                i += 1
            return line(pos)
        _, pos = decoder.raw_decode(text, pos)
        pos = skip(pos)
        pos = skip(pos + 1) if text[pos] == "," else pos
    return None


_KIND_NAMES = {bool: "true / false", str: "text", float: "number"}


def _attributes_of(item: dict) -> dict:
    attributes = item.get("attributes")
    return attributes if isinstance(attributes, dict) else {}


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _natural_key(name: str) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


class _CocoReader:
    """Checks a parsed COCO document part by part; ``fail`` raises FormatError at the right line."""

    def __init__(self, path: Path, text: str, data, frame_count: int):
        self.path, self.text, self.data = path, text, data
        self.count = frame_count  # 0: unknown; the file's own video frame_count is used then

    def fail(self, message: str, key: str | None = None, index: int | None = None):
        line = element_line(self.text, key, index) if key is not None else None
        where = f"{key}[{index}]: " if index is not None else (f"{key}: " if key else "")
        raise FormatError(self.path, where + message, line)

    def objects(self, key: str, required: bool = True) -> list[dict]:
        value = self.data.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list):
            self.fail(f'expected a list (a COCO file has "{key}")', key)
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                self.fail("expected an object", key, i)
        return value

    def integer(self, item: dict, field: str, key: str, index: int, minimum: int | None = None) -> int:
        value = item.get(field)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f'"{field}" must be an integer, got {value!r}', key, index)
        if minimum is not None and value < minimum:
            self.fail(f'"{field}" must be {minimum} or more, got {value}', key, index)
        return value

    # -- parts

    def categories(self) -> dict[int, str]:
        names: dict[int, str] = {}
        for i, item in enumerate(self.objects("categories")):
            cid = self.integer(item, "id", "categories", i)
            if cid in names:
                self.fail(f"category id {cid} appears twice", "categories", i)
            name = item.get("name")
            if not isinstance(name, str) or not name:
                self.fail(f'"name" must be a non-empty text, got {name!r}', "categories", i)
            names[cid] = name
        return names

    def image_frames(self) -> dict[int, int]:
        images = self.objects("images")
        videos = {img.get("video_id") for img in images}
        if len(videos) > 1:
            self.fail(f"the file holds {len(videos)} videos (video_id); a project holds one", "images")
        with_frame_id = ["frame_id" in img for img in images]
        if any(with_frame_id) and not all(with_frame_id):
            self.fail('"frame_id" is missing (other images have one)', "images", with_frame_id.index(False))
        ids: dict[int, int] = {}  # image id -> position in the list
        for i, item in enumerate(images):
            image_id = self.integer(item, "id", "images", i)
            if image_id in ids:
                self.fail(f"image id {image_id} appears twice", "images", i)
            if not isinstance(item.get("file_name"), str):
                self.fail(f'"file_name" must be a text, got {item.get("file_name")!r}', "images", i)
            ids[image_id] = i
        if all(with_frame_id) and images:
            frames = {
                image_id: self.integer(images[i], "frame_id", "images", i, 0) for image_id, i in ids.items()
            }
        else:  # plain COCO: the i-th image in file-name order is frame i
            order = sorted(ids, key=lambda image_id: _natural_key(images[ids[image_id]]["file_name"]))
            frames = {image_id: frame for frame, image_id in enumerate(order)}
        seen: dict[int, int] = {}
        for image_id, frame in frames.items():
            if frame in seen:
                self.fail(
                    f"frame {frame} has two images (ids {seen[frame]} and {image_id})",
                    "images",
                    ids[image_id],
                )
            if self.count and frame >= self.count:
                self.fail(
                    f"frame {frame} is outside the video (0..{self.count - 1})", "images", ids[image_id]
                )
            seen[frame] = image_id
        return frames

    def entry(self, item: dict, i: int) -> FrameBox:
        bbox = item.get("bbox")
        if (
            not isinstance(bbox, list)
            or len(bbox) != 4
            or not all(_is_number(v) and math.isfinite(v) for v in bbox)
        ):
            self.fail(f'"bbox" must be four finite numbers [x, y, w, h], got {bbox!r}', "annotations", i)
        if bbox[2] <= 0 or bbox[3] <= 0:
            self.fail(f'"bbox" needs a width and height above 0, got {bbox!r}', "annotations", i)
        attributes = item.get("attributes", {})
        if not isinstance(attributes, dict):
            self.fail(f'"attributes" must be an object, got {attributes!r}', "annotations", i)
        return FrameBox(tuple(float(v) for v in bbox), **self.entry_fields(attributes, "annotations", i))

    def entry_fields(self, attributes: dict, key: str, i: int) -> dict:
        """FrameBox keyword arguments from Siamark's (or CVAT's) per-box attributes."""
        default_source = BoxSource.MANUAL
        if "keyframe" in attributes:  # CVAT: keyframes are drawn, the rest interpolated
            default_source = BoxSource.MANUAL if attributes["keyframe"] else BoxSource.INTERPOLATED
        checks = {
            "occluded": (bool, False),
            "reviewed": (bool, False),
            "source": (str, default_source.value),
            "flag": (str, ""),
            "score": (float, math.nan),
        }
        fields = {}
        for name, (kind, default) in checks.items():
            value = attributes.get(name, default)
            valid = _is_number(value) if kind is float else isinstance(value, kind)
            if not valid:
                self.fail(f'attribute "{name}" must be a {_KIND_NAMES[kind]}, got {value!r}', key, i)
            fields[name] = float(value) if kind is float else value
        if fields["source"] not in {s.value for s in BoxSource}:
            self.fail(f'"source" must be manual, tracked or interpolated, got {fields["source"]!r}', key, i)
        fields["source"] = BoxSource(fields["source"])
        return fields

    def annotations(self) -> Annotations:
        if not isinstance(self.data, dict):
            raise FormatError(self.path, "expected a JSON object with images, annotations and categories", 1)
        self.count = self.count or self.video_frame_count()
        categories = self.categories()
        frames = self.image_frames()
        items = self.objects("annotations")
        use_instances = any("instance_id" in a or "track_id" in _attributes_of(a) for a in items)
        tracks: dict[int, Track] = {}
        category_track = {cid: n for n, cid in enumerate(sorted(categories), start=1)}
        for i, item in enumerate(items):
            image_id = self.integer(item, "image_id", "annotations", i)
            if image_id not in frames:
                self.fail(f"image_id {image_id} is not in images", "annotations", i)
            cid = self.integer(item, "category_id", "annotations", i)
            if cid not in categories:
                self.fail(f"category_id {cid} is not in categories", "annotations", i)
            if use_instances:
                raw = item["instance_id"] if "instance_id" in item else _attributes_of(item).get("track_id")
                if isinstance(raw, bool) or not isinstance(raw, int):
                    self.fail(
                        f'"instance_id" must be an integer (other annotations have one), got {raw!r}',
                        "annotations",
                        i,
                    )
                track_id = raw
            else:
                track_id = category_track[cid]
            track = tracks.setdefault(
                track_id, Track(track_id, categories[cid], PALETTE[(track_id - 1) % len(PALETTE)])
            )
            if track.label != categories[cid]:
                self.fail(
                    f"track {track_id} is {track.label!r} elsewhere and {categories[cid]!r} here",
                    "annotations",
                    i,
                )
            frame = frames[image_id]
            if frame in track.boxes:
                what = (
                    f"instance {track_id}"
                    if use_instances
                    else f"category {categories[cid]!r} (no instance_id)"
                )
                self.fail(f"{what} has two boxes on frame {frame}", "annotations", i)
            track.boxes[frame] = self.entry(item, i)
        self.apply_track_extension(tracks)
        model = Annotations(self.count)
        model.tracks = dict(sorted(tracks.items()))
        return model

    def video_frame_count(self) -> int:
        videos = self.data.get("videos")
        if isinstance(videos, list) and len(videos) == 1 and isinstance(videos[0], dict):
            count = videos[0].get("frame_count")
            if isinstance(count, int) and not isinstance(count, bool) and count > 0:
                return count
        return 0

    def apply_track_extension(self, tracks: dict[int, Track]) -> None:
        """Siamark's ``tracks`` list: colours, labels of box-less tracks and absent frames."""
        for i, item in enumerate(self.objects("tracks", required=False)):
            track_id = self.integer(item, "instance_id", "tracks", i)
            label, color = item.get("label", "object"), item.get("color", PALETTE[0])
            absent = item.get("absent_frames", [])
            if not isinstance(label, str) or not isinstance(color, str):
                self.fail('"label" and "color" must be texts', "tracks", i)
            if not isinstance(absent, list) or not all(isinstance(a, dict) for a in absent):
                self.fail('"absent_frames" must be a list of objects with a "frame"', "tracks", i)
            track = tracks.setdefault(track_id, Track(track_id, label))
            track.color = color
            for raw in absent:
                frame = raw.get("frame")
                if not isinstance(frame, int) or isinstance(frame, bool) or frame < 0:
                    self.fail(f"absent frame {frame!r} is not a frame index", "tracks", i)
                if self.count and frame >= self.count:
                    self.fail(f"absent frame {frame} is outside the video (0..{self.count - 1})", "tracks", i)
                if frame in track.boxes:
                    self.fail(
                        f"frame {frame} of track {track_id} has a box and is also listed absent", "tracks", i
                    )
                fields = self.entry_fields(raw, "tracks", i)
                track.boxes[frame] = FrameBox(None, absent=True, **fields)


def load_coco(path: Path, frame_count: int = 0) -> Annotations:
    """A COCO file (or an exported folder holding ``annotations.json``) -> Annotations."""
    path = Path(path)
    file = path / ANNOTATIONS_FILE if path.is_dir() else path
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(file, f"cannot read it ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(file, f"not valid JSON ({exc.msg}, column {exc.colno})", exc.lineno) from None
    return _CocoReader(file, text, data, int(frame_count or 0)).annotations()


COCO = register(
    Format(
        name="coco",
        title="COCO JSON (images/, annotations.json, COCO-VID ids)",
        conventions=(
            "bbox [x, y, w, h] in 0-based float pixels (not cut to the image); image ids from 1 in "
            "frame order, category ids from 1; COCO-VID: frame_id = 0-based frame index (also the "
            "file name, frame_000000), instance_id = track id; occluded/source/score in attributes."
        ),
        target_kind="folder",
        export=export_coco,
        load=load_coco,
        needs_frames=True,
    )
)
