"""Training sets: pysot / SiamBAN crops + ``train.json``, and the OTB layout ``trackers.train`` reads.

One export folder holds both:

* ``crop511/<video>/<frame:06d>.<track:02d>.{z,x}.jpg`` and ``train.json`` — what pysot's (and
  SiamBAN's, which shares the loader) ``training_dataset/*/par_crop.py`` and ``gen_json.py``
  produce. ``train.json`` is ``{video: {"%02d" track id: {"%06d" frame: [x1, y1, x2, y2]}}}``
  with the 0-based decoded frame index and the box corners in the original frame's 0-based
  pixels (``x2 = x + w``). Each crop is par_crop's ``crop_like_SiamFC``: a square of side
  ``s_z = sqrt((w + p)(h + p))``, ``p = (w + h) / 2`` (context 0.5), scaled to 127 px (``z``), and
  ``s_z * 511 / 127`` scaled to 511 px (``x``, which pysot's loader reads for both template and
  search), centred on the box, padded with the frame's mean colour. Absent frames are left out
  (as gen_json does for GOT-10k absence); occluded boxes stay in (as for VID).
  ``pysot_dataset.yaml`` is the config block that points a pysot experiment at it.
* ``sequences/<video>/img/00000001.jpg`` + ``groundtruth_rect.txt`` (the first track) and
  ``groundtruth_rect.<id>.txt`` (the others): the OTB layout of ``trackers/training/datasets.py``,
  one ``x,y,w,h`` line per image, ``nan,nan,nan,nan`` where a track is absent or has no box, with
  ``frames.csv`` naming each image's video frame. ``python -m trackers.train --data <export>``
  finds it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from app.io.formats.output import (
    ProgressSteps,
    read_frame,
    staged_folder,
    video_name,
    write_image,
    write_manifest,
    write_text,
)
from app.io.formats.registry import ExportJob, Format, register
from app.io.formats.selection import Selection, select_job
from trackers.io import format_box

EXEMPLAR_SIZE, INSTANCE_SIZE, CONTEXT_AMOUNT = 127, 511, 0.5
CROP_DIR = f"crop{INSTANCE_SIZE}"


def crop_square(image: np.ndarray, centre: tuple[float, float], side: float, out_size: int) -> np.ndarray:
    """The square of ``side`` pixels centred on ``centre`` (pixel-index coordinates, as par_crop's
    affine map: its first and last output pixels land on the square's edges), resized to
    ``out_size``, outside the frame filled with the frame's mean colour."""
    import cv2

    scale = (out_size - 1) / side
    x0, y0 = centre[0] - side / 2, centre[1] - side / 2
    mapping = np.array([[scale, 0, -scale * x0], [0, scale, -scale * y0]], dtype=np.float64)
    padding = tuple(float(v) for v in image.reshape(-1, image.shape[-1]).mean(axis=0))
    return cv2.warpAffine(
        image, mapping, (out_size, out_size), borderMode=cv2.BORDER_CONSTANT, borderValue=padding
    )


def siamfc_crops(image: np.ndarray, box) -> tuple[np.ndarray, np.ndarray]:
    """(z 127 px, x 511 px) crops of ``box`` (x, y, w, h in 0-based continuous pixels)."""
    x, y, w, h = box
    # continuous -> pixel-index coordinates: the pixel whose left edge is at x has index x.
    centre = (x + w / 2 - 0.5, y + h / 2 - 0.5)
    context = CONTEXT_AMOUNT * (w + h)
    s_z = math.sqrt((w + context) * (h + context))
    s_x = s_z * INSTANCE_SIZE / EXEMPLAR_SIZE
    return crop_square(image, centre, s_z, EXEMPLAR_SIZE), crop_square(image, centre, s_x, INSTANCE_SIZE)


def export(job: ExportJob) -> Selection:
    if job.frames is None:
        raise ValueError("the pysot training set is made of crops of the video's frames: a video is needed")
    selection = select_job(job)
    video = video_name(job.video.path)
    rows_by_track = selection.by_track()
    tracks = [t for t in selection.tracks if t.id in rows_by_track]
    frames = selection.span()
    progress = ProgressSteps(job, len(frames))
    with staged_folder(job.target) as root:
        crops = root / CROP_DIR / video
        crops.mkdir(parents=True)
        sequence = root / "sequences" / video
        (sequence / "img").mkdir(parents=True)
        by_frame = selection.by_frame()
        labels: dict[str, dict[str, list[float]]] = {f"{t.id:02d}": {} for t in tracks}
        for number, frame in enumerate(frames, start=1):
            image = read_frame(job, frame)
            write_image(sequence / "img" / f"{number:08d}.jpg", image)
            for row in by_frame.get(frame, []):
                if row.entry.absent:
                    continue
                x, y, w, h = row.entry.box
                z_crop, x_crop = siamfc_crops(image, row.entry.box)
                stem = f"{frame:06d}.{row.track.id:02d}"
                write_image(crops / f"{stem}.z.jpg", z_crop)
                write_image(crops / f"{stem}.x.jpg", x_crop)
                labels[f"{row.track.id:02d}"][f"{frame:06d}"] = [round(v, 3) for v in (x, y, x + w, y + h)]
            progress.step()
        tracks_json = {key: value for key, value in labels.items() if value}
        write_text(
            root / "train.json",
            json.dumps({video: tracks_json} if tracks_json else {}, indent=4, sort_keys=True),
        )
        for i, track in enumerate(tracks):
            entries = {r.frame: r.entry for r in rows_by_track[track.id]}
            lines = [
                format_box(e.box)
                if (e := entries.get(f)) is not None and e.box is not None
                else "nan,nan,nan,nan"
                for f in frames
            ]
            name = "groundtruth_rect.txt" if i == 0 else f"groundtruth_rect.{track.id}.txt"
            write_text(sequence / name, "".join(line + "\n" for line in lines))
        write_manifest(sequence, [f"img/{n:08d}.jpg" for n in range(1, len(frames) + 1)], frames)
        final = Path(job.target).resolve()
        write_text(
            root / "pysot_dataset.yaml",
            "# Merge into a pysot / SiamBAN experiment config.yaml (VID is one of the set names its\n"
            "# config knows; any of them can point here). FRAME_RANGE counts exported frames.\n"
            "DATASET:\n"
            "  NAMES: ['VID']\n"
            "  VID:\n"
            f"    ROOT: '{final / CROP_DIR}'\n"
            f"    ANNO: '{final / 'train.json'}'\n"
            "    FRAME_RANGE: 100\n"
            "    NUM_USE: -1\n",
        )
    return selection


register(
    Format(
        "pysot",
        "pysot / SiamBAN training set (+ Siamark training layout)",
        "pysot: crop511/<video>/<frame:06d>.<track:02d>.{z,x}.jpg (0-based video frames) + train.json "
        "{video: {track: {frame: [x1,y1,x2,y2]}}} in 0-based pixels of the original frame, absent frames "
        "left out; plus sequences/<video>/ in the OTB layout for python -m trackers.train --data",
        "folder",
        export=export,
        needs_frames=True,
    )
)
