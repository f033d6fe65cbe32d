"""CVAT for video 1.1 XML (``annotations.xml``), export and import.

Conventions (annotation-formats §3.2): ``<box frame>`` is the 0-based decoded frame index of the
whole video (the task is the video: ``size`` = its frame count, ``start_frame`` 0); a frame range
or step only chooses which boxes are written. ``xtl ytl xbr ybr`` are float corner coordinates in
0-based pixels (``xbr = x + w``). CVAT track ids are 0-based: Siamark track N is CVAT track N-1.

* Manual boxes are keyframes, tracked and interpolated ones are not; the first box of a track and
  the first after a gap are keyframes too (CVAT starts a segment at a keyframe).
* An absent frame is an ``outside="1"`` box (at the last known position). A track's end, and a
  gap of frames without an entry, are closed with an ``outside="1"`` keyframe, as CVAT expects.
* Each label declares a ``source`` attribute (manual / tracked / interpolated) that every box
  except those closing markers carries, so an export reads back with its sources; ``occluded`` is
  CVAT's own flag.

Import: boxes only (a CVAT-for-images file, or tracks holding polygons or points, are refused).
A box's source is its ``source`` attribute, else manual for a keyframe and interpolated for the
rest. An outside box is an absent frame, except in a Siamark export (the label declares
``source``) where an outside box without it is a track-end marker and imports as nothing. Any
malformed element raises FormatError with the file and line, and nothing is imported.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from xml.parsers import expat

import numpy as np

from app.io.formats.output import ProgressSteps, os_reason, video_name
from app.io.formats.registry import ExportJob, Format, FormatError, register
from app.io.formats.selection import Row, Selection, frame_count_of, select_job
from app.model.annotations import PALETTE, Annotations, BoxSource, FrameBox, Track
from trackers.io import atomic_write_text

SOURCE_ATTRIBUTE = "source"


def _num(value: float) -> str:
    return np.format_float_positional(float(value), precision=3, trim="-")


# -- export -------------------------------------------------------------------------------------


def export(job: ExportJob) -> Selection:
    target = Path(job.target)
    if target.is_dir():
        raise OSError(f"{target}: is a folder; CVAT for video is one XML file (annotations.xml)")
    selection = select_job(job, cut=True)
    progress = ProgressSteps(job, 1)
    frame_count = frame_count_of(job.annotations, job.video.frame_count)
    rows_by_track = selection.by_track()
    tracks = [t for t in selection.tracks if t.id in rows_by_track]
    root = ET.Element("annotations")
    ET.SubElement(root, "version").text = "1.1"
    root.append(_meta(job, frame_count, tracks, selection.classes))
    for track in tracks:
        root.append(
            _track_element(
                track, rows_by_track[track.id], selection.span(rows_by_track[track.id]), frame_count
            )
        )
    ET.indent(root)
    text = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    try:
        atomic_write_text(target, text)
    except OSError as exc:
        raise OSError(f"cannot write {target}: {os_reason(exc)}") from exc
    progress.step()
    return selection


def _meta(job: ExportJob, frame_count: int, tracks: list[Track], classes: tuple[str, ...]) -> ET.Element:
    """The task's description; its labels are the tracks' classes, in the project's class order
    and colours."""
    now = datetime.now(UTC).isoformat()
    meta = ET.Element("meta")
    task = ET.SubElement(meta, "task")
    name = video_name(job.video.path)
    for key, value in (
        ("id", "1"),
        ("name", name),
        ("size", str(frame_count)),
        ("mode", "interpolation"),
        ("overlap", "0"),
        ("bugtracker", ""),
        ("created", now),
        ("updated", now),
        ("flipped", "False"),
        ("start_frame", "0"),
        ("stop_frame", str(max(frame_count - 1, 0))),
        ("frame_filter", ""),
    ):
        ET.SubElement(task, key).text = value
    labels = ET.SubElement(task, "labels")
    colors: dict[str, str] = {}
    for track in tracks:
        colors.setdefault(track.label, job.annotations.class_color(track.label) or track.color)
    for label_name in (name for name in classes if name in colors):
        label = ET.SubElement(labels, "label")
        ET.SubElement(label, "name").text = label_name
        ET.SubElement(label, "color").text = colors[label_name]
        ET.SubElement(label, "type").text = "rectangle"
        attributes = ET.SubElement(label, "attributes")
        attribute = ET.SubElement(attributes, "attribute")
        for key, value in (
            ("name", SOURCE_ATTRIBUTE),
            ("mutable", "True"),
            ("input_type", "select"),
            ("default_value", BoxSource.MANUAL.value),
            ("values", "\n".join(s.value for s in BoxSource)),
        ):
            ET.SubElement(attribute, key).text = value
    segments = ET.SubElement(task, "segments")
    segment = ET.SubElement(segments, "segment")
    for key, value in (("id", "0"), ("start", "0"), ("stop", str(max(frame_count - 1, 0))), ("url", "")):
        ET.SubElement(segment, key).text = value
    size = ET.SubElement(task, "original_size")
    ET.SubElement(size, "width").text = str(job.video.width)
    ET.SubElement(size, "height").text = str(job.video.height)
    ET.SubElement(meta, "dumped").text = now
    return meta


def _track_element(track: Track, rows: list[Row], frames: list[int], frame_count: int) -> ET.Element:
    element = ET.Element("track", id=str(track.id - 1), label=track.label, source="manual")
    by_frame = {r.frame: r.entry for r in rows}
    boxes = [r.entry.box for r in rows if r.entry.box is not None]
    last_box = boxes[0] if boxes else (0.0, 0.0, 1.0, 1.0)  # where an outside box is drawn
    outside = True  # before the first box: the next visible box must be a keyframe
    for frame in frames:
        entry = by_frame.get(frame)
        if entry is None:
            if not outside:
                _box(element, frame, last_box, outside=True, keyframe=True)
                outside = True
            continue
        if entry.absent:
            _box(element, frame, last_box, outside=True, keyframe=True, source=entry.source)
            outside = True
            continue
        _box(
            element,
            frame,
            entry.box,
            occluded=entry.occluded,
            keyframe=entry.is_manual or outside,
            source=entry.source,
        )
        last_box, outside = entry.box, False
    if not outside and frames[-1] + 1 < frame_count:
        _box(element, frames[-1] + 1, last_box, outside=True, keyframe=True)
    return element


def _box(parent, frame, box, *, outside=False, occluded=False, keyframe=False, source=None) -> None:
    x, y, w, h = box
    element = ET.SubElement(
        parent,
        "box",
        frame=str(frame),
        keyframe=str(int(keyframe)),
        outside=str(int(outside)),
        occluded=str(int(occluded)),
        xtl=_num(x),
        ytl=_num(y),
        xbr=_num(x + w),
        ybr=_num(y + h),
        z_order="0",
    )
    if source is not None:
        ET.SubElement(element, "attribute", name=SOURCE_ATTRIBUTE).text = BoxSource(source).value


# -- import -------------------------------------------------------------------------------------


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    line: int
    children: list[Node] = field(default_factory=list)
    text: str = ""

    def child(self, tag: str) -> Node | None:
        return next((c for c in self.children if c.tag == tag), None)


def parse_xml(path: Path) -> Node:
    """The document as Nodes that remember their line (ElementTree does not)."""
    parser = expat.ParserCreate()
    stack: list[Node] = []
    roots: list[Node] = []

    def start(tag, attrs):
        node = Node(tag, attrs, parser.CurrentLineNumber)
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(_tag):
        stack.pop()

    def text(data):
        if stack:
            stack[-1].text += data

    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    try:
        with path.open("rb") as f:
            parser.ParseFile(f)
    except OSError as exc:
        raise FormatError(path, f"cannot read it ({exc})") from None
    except expat.ExpatError as exc:
        raise FormatError(
            path, f"not well-formed XML ({expat.errors.messages[exc.code]})", exc.lineno
        ) from None
    return roots[0]


def load(path: str | Path, frame_count: int) -> Annotations:
    path = Path(path)
    if not path.is_file():
        raise FormatError(path, "not found (expected a CVAT for video annotations.xml)")
    root = parse_xml(path)
    if root.tag != "annotations":
        raise FormatError(path, f"the root element is <{root.tag}>, expected <annotations>", root.line)
    version = root.child("version")
    if version is not None and version.text.strip() != "1.1":
        raise FormatError(path, f"version {version.text.strip()!r}; this reads CVAT XML 1.1", version.line)
    declared, colors, size = _read_meta(root.child("meta"))
    if not frame_count:
        frame_count = size
    tracks: dict[int, Track] = {}
    for node in root.children:
        if node.tag in ("version", "meta"):
            continue
        if node.tag == "image":
            raise FormatError(
                path, "this is a 'CVAT for images' file: export 'CVAT for video 1.1' from CVAT", node.line
            )
        if node.tag != "track":
            raise FormatError(path, f"<{node.tag}> is not supported (Siamark imports box tracks)", node.line)
        track = _read_track(path, node, declared, colors, frame_count)
        if track.id in tracks:
            raise FormatError(path, f"track id {track.id - 1} appears twice", node.line)
        tracks[track.id] = track
    if not tracks:
        raise FormatError(path, "no <track> in the file")
    annotations = Annotations(frame_count or 1 + max(f for t in tracks.values() for f in t.boxes))
    for track_id in sorted(tracks):
        annotations.tracks[track_id] = tracks[track_id]
    return annotations


def _read_meta(meta: Node | None) -> tuple[set[str], dict[str, str], int]:
    """(labels declaring the source attribute, label colours, frame count or 0)."""
    declared, colors, size = set(), {}, 0
    task = meta and (meta.child("task") or meta.child("job"))
    if task is None:
        return declared, colors, size
    if (node := task.child("size")) is not None and node.text.strip().isdigit():
        size = int(node.text)
    labels = task.child("labels")
    for label in labels.children if labels else []:
        name = label.child("name")
        if name is None:
            continue
        if (color := label.child("color")) is not None and color.text.strip():
            colors[name.text.strip()] = color.text.strip()
        attributes = label.child("attributes")
        for attribute in attributes.children if attributes else []:
            if (a := attribute.child("name")) is not None and a.text.strip() == SOURCE_ATTRIBUTE:
                declared.add(name.text.strip())
    return declared, colors, size


def _read_track(
    path: Path, node: Node, declared: set[str], colors: dict[str, str], frame_count: int
) -> Track:
    try:
        cvat_id = int(node.attrs["id"])
        label = node.attrs["label"]
    except (KeyError, ValueError):
        raise FormatError(path, "a <track> needs an integer id and a label", node.line) from None
    if cvat_id < 0 or not label:
        raise FormatError(
            path, f"track id {cvat_id} / label {label!r}: expected an id >= 0 and a label", node.line
        )
    track_id = cvat_id + 1
    track = Track(track_id, label, colors.get(label, PALETTE[(track_id - 1) % len(PALETTE)]))
    for box in node.children:
        if box.tag != "box":
            raise FormatError(
                path, f"track {cvat_id} holds a <{box.tag}>; Siamark imports boxes only", box.line
            )
        frame, entry = _read_box(path, box, label in declared, frame_count)
        if frame in track.boxes:
            raise FormatError(path, f"track {cvat_id} has two boxes on frame {frame}", box.line)
        if entry is not None:
            track.boxes[frame] = entry
    return track


def _flag(path: Path, box: Node, name: str) -> bool:
    value = box.attrs.get(name, "0")
    if value not in ("0", "1"):
        raise FormatError(path, f"{name}={value!r}: expected 0 or 1", box.line)
    return value == "1"


def _read_box(path: Path, box: Node, siamark_export: bool, frame_count: int) -> tuple[int, FrameBox | None]:
    try:
        frame = int(box.attrs["frame"])
        xtl, ytl, xbr, ybr = (float(box.attrs[k]) for k in ("xtl", "ytl", "xbr", "ybr"))
    except KeyError as exc:
        raise FormatError(path, f"<box> lacks {exc.args[0]}", box.line) from None
    except ValueError:
        raise FormatError(path, "<box> frame / corners are not numbers", box.line) from None
    if frame < 0 or (frame_count and frame >= frame_count):
        raise FormatError(path, f"frame {frame} is outside the video (0..{frame_count - 1})", box.line)
    outside, occluded, keyframe = (_flag(path, box, k) for k in ("outside", "occluded", "keyframe"))
    source = None
    for attribute in box.children:
        if attribute.tag == "attribute" and attribute.attrs.get("name") == SOURCE_ATTRIBUTE:
            try:
                source = BoxSource(attribute.text.strip())
            except ValueError:
                raise FormatError(
                    path,
                    f"source {attribute.text.strip()!r}: expected one of manual, tracked, interpolated",
                    attribute.line,
                ) from None
    if outside:
        if siamark_export and source is None:
            return frame, None  # a track-end / gap marker
        return frame, FrameBox(None, source or BoxSource.MANUAL, absent=True)
    if not all(math.isfinite(v) for v in (xtl, ytl, xbr, ybr)) or xbr <= xtl or ybr <= ytl:
        raise FormatError(path, f"not a box: xtl={xtl:g} ytl={ytl:g} xbr={xbr:g} ybr={ybr:g}", box.line)
    if source is None:
        source = BoxSource.MANUAL if keyframe else BoxSource.INTERPOLATED
    return frame, FrameBox((xtl, ytl, xbr - xtl, ybr - ytl), source, occluded=occluded)


register(
    Format(
        "cvat",
        "CVAT for video 1.1 (annotations.xml)",
        "CVAT video: 0-based frame indices of the whole video; xtl,ytl,xbr,ybr float corners in 0-based "
        "pixels; CVAT track id = Siamark id - 1; manual boxes are keyframes; absent = outside=1; a track's "
        "end and gaps are closed by an outside=1 keyframe; per-box 'source' attribute",
        "file",
        export=export,
        load=load,
    )
)
