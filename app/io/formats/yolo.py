"""YOLO detection dataset, Ultralytics layout: ``images/``, ``labels/`` and ``data.yaml``.

Conventions written: one ``labels/<stem>.txt`` per image (same stem; empty when the frame has
no box), each line ``class_id cx cy w h`` with ``class_id`` the 0-based index into
``data.yaml``'s ``names`` and the box centre and size divided by the image width and height
(0..1). Boxes are cut to the image first (YOLO values must stay in 0..1); a box wholly outside
is dropped. Images are named by 0-based frame index (``frame_000000``). YOLO holds no track ids,
occlusion or scores.
"""

from __future__ import annotations

import json
from pathlib import Path

from app.io.formats.frames import DetectionExport, export_detection_dataset, frame_stem
from app.io.formats.output import write_text
from app.io.formats.registry import ExportJob, Format, register
from app.io.formats.selection import Selection, clip_box

IMAGES_DIR = "images"
LABELS_DIR = "labels"
DATA_YAML = "data.yaml"
_DECIMALS = 6


def yolo_line(class_id: int, box, width: int, height: int) -> str | None:
    clipped = clip_box(box, width, height)
    if clipped is None:
        return None
    x0, y0, x1, y1 = clipped
    values = ((x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height)
    return f"{class_id} " + " ".join(f"{v:.{_DECIMALS}f}" for v in values)


def data_yaml(classes: list[str], video_path: str) -> str:
    # No "path" key: Ultralytics then resolves train/val against this file's folder, so the
    # dataset can be moved. Names are JSON strings, which YAML reads as double-quoted scalars.
    lines = [
        f"# YOLO dataset exported by Siamark from {json.dumps(video_path)}.",
        "# Class ids are 0-based indices into names; images are named by 0-based frame index",
        "# (frames.csv maps them). All images are listed as train and val: split them as you need.",
        f"train: {IMAGES_DIR}",
        f"val: {IMAGES_DIR}",
        f"nc: {len(classes)}",
        "names:",
    ]
    lines += [f"  {i}: {json.dumps(name, ensure_ascii=False)}" for i, name in enumerate(classes)]
    return "\n".join(lines) + "\n"


def _write(root: Path, export: DetectionExport) -> None:
    class_id = {name: i for i, name in enumerate(export.classes)}
    labels = root / LABELS_DIR
    labels.mkdir()
    for item in export.frames:
        image = export.images[item.frame]
        rows = (yolo_line(class_id[t.label], e.box, image.width, image.height) for t, e in item.objects)
        text = "".join(row + "\n" for row in rows if row is not None)
        write_text(labels / f"{frame_stem(item.frame)}.txt", text)
    write_text(root / DATA_YAML, data_yaml(export.classes, export.job.video.path))


def export_yolo(job: ExportJob) -> Selection:
    return export_detection_dataset(job, IMAGES_DIR, _write)


YOLO = register(
    Format(
        name="yolo",
        title="YOLO (Ultralytics: images/, labels/, data.yaml)",
        conventions=(
            "Images named by 0-based frame index (frame_000000); one labels/*.txt per image: "
            "class_id cx cy w h, class_id 0-based in data.yaml names order, centre and size "
            "divided by image width/height (0..1), boxes cut to the image. No track ids."
        ),
        target_kind="folder",
        export=export_yolo,
        needs_frames=True,
    )
)
