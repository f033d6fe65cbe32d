"""The built-in demo clip: a synthetic scene rendered with numpy + cv2 only, with exact boxes.

Three textured objects (checker ball, striped crate, noise blob) move along smooth curves over
a textured background; the ball grows and shrinks, the blob passes behind a pillar (partial
occlusion). Boxes are the full object extent, x, y, w, h in 0-based pixels, also while partly
hidden. ``python -m app.io.demo [folder]`` re-renders resources/demo.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import cv2
import numpy as np
import platformdirs

from trackers.io import atomic_write_text

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "resources" / "demo"
CLIP_NAME, BOXES_NAME = "demo.mp4", "demo_boxes.json"
# MPEG-4 part 2: the codec every OpenCV-FFmpeg build here both writes and reads back.
FOURCC = "mp4v"

Box = list[int]


def _texture_noise(rng: np.random.Generator, w: int, h: int, cell: int, lo: int, hi: int) -> np.ndarray:
    """Smooth colour noise: random cells upsampled bicubically (compresses well, yet textured)."""
    small = rng.uniform(lo, hi, (max(h // cell, 2), max(w // cell, 2), 3)).astype(np.float32)
    return np.clip(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), 0, 255).astype(np.uint8)


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    # Muted: grey noise with a slow colour tint and faint stripes, so the objects stand out.
    grey = _texture_noise(rng, w, h, 20, 80, 170).astype(np.int16).mean(axis=2, keepdims=True)
    tint = _texture_noise(rng, w, h, 90, 0, 60).astype(np.int16) - 30
    yy, xx = np.mgrid[0:h, 0:w]
    stripes = (np.sin((xx + 0.5 * yy) / 9.0) * 10)[..., None]
    bg = np.clip(grey + tint + stripes, 0, 255).astype(np.uint8)
    for _ in range(14):  # static distractor discs
        c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        colour = tuple(int(v) for v in rng.integers(40, 220, 3))
        cv2.circle(bg, c, int(rng.integers(6, 18)), colour, -1, cv2.LINE_AA)
    return bg


def _sprites(rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (BGR texture, uint8 mask) at base size."""
    # Checker ball, 72 x 72.
    yy, xx = np.mgrid[0:72, 0:72]
    checker = ((xx // 9 + yy // 9) % 2).astype(bool)
    ball = np.where(checker[..., None], np.uint8([30, 60, 230]), np.uint8([240, 240, 250])).astype(np.uint8)
    ball_mask = np.zeros((72, 72), np.uint8)
    cv2.circle(ball_mask, (36, 36), 35, 255, -1, cv2.LINE_AA)
    # Striped crate, 96 x 64, with a dark frame.
    yy, xx = np.mgrid[0:64, 0:96]
    stripes = ((xx + yy) // 8 % 2).astype(bool)
    crate = np.where(stripes[..., None], np.uint8([40, 170, 240]), np.uint8([20, 90, 140])).astype(np.uint8)
    cv2.rectangle(crate, (0, 0), (95, 63), (10, 30, 50), 5)
    cv2.line(crate, (0, 0), (95, 63), (10, 30, 50), 4)
    crate_mask = np.full((64, 96), 255, np.uint8)
    # Noise blob, 88 x 60 ellipse, green-purple noise with spots.
    blob = _texture_noise(rng, 88, 60, 6, 0, 255)
    blob[..., 1] = np.maximum(blob[..., 1], 150)
    for _ in range(6):
        cv2.circle(blob, (int(rng.integers(8, 80)), int(rng.integers(8, 52))), 5, (120, 0, 120), -1)
    blob_mask = np.zeros((60, 88), np.uint8)
    cv2.ellipse(blob_mask, (44, 30), (43, 29), 0, 0, 360, 255, -1, cv2.LINE_AA)
    # Drawing order: crate under ball under blob.
    return {"crate": (crate, crate_mask), "ball": (ball, ball_mask), "blob": (blob, blob_mask)}


def _pose(name: str, t: float, w: int, h: int) -> tuple[float, float, float]:
    """Centre x, y and scale of an object at time t (s): smooth closed or crossing curves."""
    if name == "ball":  # Lissajous figure, scale 0.75..1.45
        return (
            w * (0.5 + 0.33 * math.sin(0.55 * t + 0.4)),
            h * (0.5 + 0.28 * math.sin(0.9 * t)),
            1.1 + 0.35 * math.sin(0.7 * t),
        )
    if name == "crate":  # slow ellipse in the lower left
        return w * (0.3 + 0.16 * math.cos(0.6 * t)), h * (0.66 + 0.12 * math.sin(0.6 * t)), 1.0
    # blob: left to right on a gentle wave, behind the pillar halfway
    return w * (0.12 + 0.1 * t), h * (0.3 + 0.08 * math.sin(1.3 * t)), 0.9 + 0.04 * t


def _paste(frame: np.ndarray, tex: np.ndarray, mask: np.ndarray, box: Box) -> None:
    x, y, bw, bh = box
    tex = cv2.resize(tex, (bw, bh), interpolation=cv2.INTER_LINEAR)
    alpha = cv2.resize(mask, (bw, bh), interpolation=cv2.INTER_LINEAR)[..., None] / 255.0
    roi = frame[y : y + bh, x : x + bw]
    roi[:] = (alpha * tex + (1 - alpha) * roi).astype(np.uint8)


def render_demo(
    seconds: float = 8, fps: int = 25, size: tuple[int, int] = (640, 360), seed: int = 0
) -> tuple[list[np.ndarray], dict[str, list[Box]]]:
    """The frames (BGR) and per-object boxes, without writing anything."""
    w, h = size
    rng = np.random.default_rng(seed)
    bg = _background(rng, w, h)
    sprites = _sprites(rng)
    pillar = _texture_noise(rng, 46, h, 4, 90, 140)
    pillar[:, :, 2] = np.maximum(pillar[:, :, 2], 160)  # reddish brick-like pillar
    for y in range(0, h, 18):
        cv2.line(pillar, (0, y), (45, y), (60, 60, 90), 2)
    px = int(w * 0.55)
    frames, boxes = [], {name: [] for name in sprites}
    for k in range(round(seconds * fps)):
        t = k / fps
        frame = bg.copy()
        for name, (tex, mask) in sprites.items():
            cx, cy, s = _pose(name, t, w, h)
            bw, bh = max(2, round(tex.shape[1] * s)), max(2, round(tex.shape[0] * s))
            x = min(max(round(cx - bw / 2), 0), w - bw)
            y = min(max(round(cy - bh / 2), 0), h - bh)
            _paste(frame, tex, mask, [x, y, bw, bh])
            boxes[name].append([x, y, bw, bh])
        frame[:, px : px + pillar.shape[1]] = pillar
        frames.append(frame)
    return frames, boxes


def make_demo_clip(
    path: str | Path, seconds: float = 8, fps: int = 25, size: tuple[int, int] = (640, 360), seed: int = 0
) -> dict[str, list[Box]]:
    """Render the clip to ``path`` (mp4v) and return ``{object name: [[x, y, w, h] per frame]}``."""
    path = Path(path)
    frames, boxes = render_demo(seconds, fps, size, seed)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")  # keep the suffix: it picks the container
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*FOURCC), fps, size)
    if not writer.isOpened():
        raise OSError(f"{path}: OpenCV cannot write {FOURCC} video here")
    try:
        for frame in frames:
            writer.write(frame)
    finally:
        writer.release()
    os.replace(tmp, path)
    return boxes


def write_demo(folder: str | Path, seed: int = 0) -> Path:
    """Clip + boxes json into ``folder``; returns the clip's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    clip = folder / CLIP_NAME
    seconds, fps, size = 8, 25, (640, 360)
    boxes = make_demo_clip(clip, seconds, fps, size, seed)
    header = {
        "generator": f"app/io/demo.py make_demo_clip(seconds={seconds}, fps={fps}, size={list(size)}, seed={seed})",
        "fps": fps,
        "size": list(size),
        "frame_count": len(next(iter(boxes.values()))),
        "box_format": "x, y, w, h in 0-based pixels; the full object extent, also while partly occluded",
    }
    # One object per line: readable, and small diffs if the scene changes.
    objects = ",\n".join(
        f"  {json.dumps({'name': n, 'boxes': b}, separators=(',', ':'))}" for n, b in boxes.items()
    )
    atomic_write_text(
        folder / BOXES_NAME, json.dumps(header, indent=1)[:-2] + f',\n "objects": [\n{objects}\n ]\n}}\n'
    )
    return clip


def _usable(clip: Path) -> bool:
    if not (clip.is_file() and (clip.parent / BOXES_NAME).is_file()):
        return False
    cap = cv2.VideoCapture(str(clip))
    try:
        return bool(cap.isOpened() and cap.read()[0])
    finally:
        cap.release()


def demo_path() -> Path:
    """The shipped demo clip, or a copy rendered once into the user cache if that is missing."""
    shipped = SHIPPED_DIR / CLIP_NAME
    if _usable(shipped):
        return shipped
    cached = Path(platformdirs.user_cache_dir("siamark")) / "demo" / CLIP_NAME
    return cached if _usable(cached) else write_demo(cached.parent)


def demo_boxes(clip: str | Path | None = None) -> dict[str, list[Box]]:
    """``{object name: boxes}`` from the json beside ``clip`` (default: ``demo_path()``)."""
    clip = Path(clip) if clip is not None else demo_path()
    doc = json.loads((clip.parent / BOXES_NAME).read_text(encoding="utf-8"))
    return {o["name"]: o["boxes"] for o in doc["objects"]}


if __name__ == "__main__":
    print(write_demo(sys.argv[1] if len(sys.argv) > 1 else SHIPPED_DIR))
