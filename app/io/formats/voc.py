"""Pascal VOC detection dataset: ``JPEGImages/``, ``Annotations/*.xml`` (one per image) and
``ImageSets/Main/trainval.txt``.

Conventions written: the VOC devkit's pixel coordinates, 1-based with both corners inside the
box. A 0-based box x, y, w, h becomes xmin = x + 1, ymin = y + 1, xmax = x + w, ymax = y + h
(so converters that subtract 1 from xmin / ymin get the box back), after cutting it to the image;
a box wholly outside is dropped. Coordinates are written with up to 3 decimals (integers stay
integers). ``<truncated>`` is 1 when the box was cut by the image border; an occluded box gets
``<occluded>1`` (the VOC 2010+ field) and ``<difficult>1`` (VOC evaluation neither rewards nor
penalises it). Images are named by 0-based frame index (``frame_000000``). VOC holds no track ids.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from app.io.formats.frames import DetectionExport, ImageInfo, export_detection_dataset, frame_stem
from app.io.formats.output import write_text
from app.io.formats.registry import ExportJob, Format, register
from app.io.formats.selection import Selection, clip_box

IMAGES_DIR = "JPEGImages"  # the VOC name, whatever the image format
ANNOTATIONS_DIR = "Annotations"
IMAGE_SET = Path("ImageSets") / "Main" / "trainval.txt"


def voc_corners(box, width: int, height: int) -> tuple[tuple[float, float, float, float], bool] | None:
    """((xmin, ymin, xmax, ymax) 1-based inclusive, truncated) or None when outside the image."""
    clipped = clip_box(box, width, height)
    if clipped is None:
        return None
    x0, y0, x1, y1 = clipped
    # Boxes arrive cut to the frame (selection.select_job): one that reaches the border is
    # taken to extend past it.
    truncated = x0 <= 0 or y0 <= 0 or x1 >= width or y1 >= height
    return (x0 + 1, y0 + 1, x1, y1), truncated


def _number(value: float) -> str:
    return np.format_float_positional(float(value), precision=3, trim="-")


def _sub(parent: ET.Element, tag: str, text: str | int) -> ET.Element:
    node = ET.SubElement(parent, tag)
    node.text = str(text)
    return node


def annotation_xml(image: ImageInfo, objects, video_name: str) -> str:
    root = ET.Element("annotation")
    _sub(root, "folder", IMAGES_DIR)
    _sub(root, "filename", image.file_name)
    source = ET.SubElement(root, "source")
    _sub(source, "database", f"Siamark export of {video_name}")
    _sub(source, "frame", image.frame)  # 0-based decoded frame index
    size = ET.SubElement(root, "size")
    _sub(size, "width", image.width)
    _sub(size, "height", image.height)
    _sub(size, "depth", image.depth)
    _sub(root, "segmented", 0)
    for track, entry in objects:
        corners = voc_corners(entry.box, image.width, image.height)
        if corners is None:
            continue
        (xmin, ymin, xmax, ymax), truncated = corners
        obj = ET.SubElement(root, "object")
        _sub(obj, "name", track.label)
        _sub(obj, "pose", "Unspecified")
        _sub(obj, "truncated", int(truncated))
        _sub(obj, "occluded", int(entry.occluded))
        _sub(obj, "difficult", int(entry.occluded))
        bndbox = ET.SubElement(obj, "bndbox")
        for tag, value in (("xmin", xmin), ("ymin", ymin), ("xmax", xmax), ("ymax", ymax)):
            _sub(bndbox, tag, _number(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _write(root: Path, export: DetectionExport) -> None:
    folder = root / ANNOTATIONS_DIR
    folder.mkdir()
    video_name = Path(export.job.video.path).name
    for item in export.frames:
        xml = annotation_xml(export.images[item.frame], item.objects, video_name)
        write_text(folder / f"{frame_stem(item.frame)}.xml", xml)
    (root / IMAGE_SET).parent.mkdir(parents=True)
    write_text(root / IMAGE_SET, "".join(f"{frame_stem(f.frame)}\n" for f in export.frames))


def export_voc(job: ExportJob) -> Selection:
    return export_detection_dataset(job, IMAGES_DIR, _write)


VOC = register(
    Format(
        name="voc",
        title="Pascal VOC (JPEGImages/, Annotations/*.xml)",
        conventions=(
            "Images named by 0-based frame index (frame_000000); one XML per image; xmin ymin xmax "
            "ymax in VOC 1-based pixels, both corners inside (xmin = x + 1, xmax = x + w), boxes cut "
            "to the image; truncated = cut by the border, occluded -> occluded and difficult. No track ids."
        ),
        target_kind="folder",
        export=export_voc,
        needs_frames=True,
    )
)
