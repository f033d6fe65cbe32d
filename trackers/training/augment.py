"""Photometric augmentation of crops, and the textured-region picker for unlabelled video.

All functions take a ``numpy.random.Generator`` so a pair is reproducible from its seed.
Crops are BGR uint8 (H, W, 3).
"""

from __future__ import annotations

import cv2
import numpy as np

from trackers.metrics import iou

# pysot's ImageNet colour PCA (eigenvectors scaled by sqrt(eigenvalue)), rows/cols in RGB order.
RGB_PCA = np.array(
    [
        [-0.55919361, 0.98062831, -0.41940627],
        [1.72091413, 0.19879334, -1.82968581],
        [4.64467907, 4.73710203, 4.88324118],
    ],
    dtype=np.float32,
)


def color_jitter(img: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """pysot's PCA colour shift plus brightness (+-20 levels) and contrast (x0.8..1.2), scaled by
    ``strength`` (1 = normal, 2 = the strong jitter of self-supervised pairs)."""
    offset = (RGB_PCA @ rng.standard_normal(3).astype(np.float32))[::-1]  # RGB -> BGR
    brightness = rng.uniform(-20, 20) * strength
    contrast = 1.0 + rng.uniform(-0.2, 0.2) * strength
    out = img.astype(np.float32)
    mean = out.mean()
    out = (out - mean) * contrast + mean + brightness - offset * strength
    return np.clip(out, 0, 255).astype(np.uint8)


def grayscale(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


def motion_blur(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """pysot's blur: a cross of a horizontal and a vertical line kernel, odd size 5..45, random mix."""
    size = int(rng.choice(np.arange(5, 46, 2)))
    kernel = np.zeros((size, size), dtype=np.float32)
    c, wx = size // 2, rng.random()
    kernel[:, c] += wx / size
    kernel[c, :] += (1 - wx) / size
    return cv2.filter2D(img, -1, kernel)


def _gradient_integral(image: np.ndarray) -> np.ndarray:
    """Integral image of the gradient magnitude (|d/dx| + |d/dy| of the grey image)."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    grad = np.abs(cv2.Sobel(gray, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    return cv2.integral(grad)


def _mean_texture(integral: np.ndarray, box) -> float:
    """Mean gradient magnitude inside ``box`` (x, y, w, h; at least one pixel)."""
    x, y, w, h = box
    x0, y0 = int(x), int(y)
    x1, y1 = max(int(x + w), x0 + 1), max(int(y + h), y0 + 1)
    total = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
    return float(total / ((x1 - x0) * (y1 - y0)))


def textured_box(
    image: np.ndarray,
    rng: np.random.Generator,
    tries: int = 24,
    side: tuple[float, float] = (0.08, 0.35),
    aspect: tuple[float, float] = (0.5, 2.0),
) -> np.ndarray:
    """(x, y, w, h) of the most textured of ``tries`` random boxes (mean gradient magnitude):
    a self-supervised "target" that has something to track."""
    h_img, w_img = image.shape[:2]
    small = cv2.resize(image, (w_img // 2 or 1, h_img // 2 or 1), interpolation=cv2.INTER_AREA)
    integral = _gradient_integral(small)
    best, best_score = None, -1.0
    short = min(h_img, w_img)
    for _ in range(tries):
        s = rng.uniform(*side) * short
        a = np.exp(rng.uniform(np.log(aspect[0]), np.log(aspect[1])))
        w, h = min(s * np.sqrt(a), w_img - 2), min(s / np.sqrt(a), h_img - 2)
        x, y = rng.uniform(0, w_img - w), rng.uniform(0, h_img - h)
        score = _mean_texture(integral, (x / 2, y / 2, w / 2, h / 2))
        if score > best_score:
            best, best_score = (x, y, w, h), score
    return np.asarray(best, dtype=np.float64)


def clutter_box(image: np.ndarray, target, rng: np.random.Generator, tries: int = 16) -> np.ndarray:
    """(x, y, w, h) of the most textured of ``tries`` target-sized boxes 1-3 target sizes away from
    ``target`` that overlap it by IoU < 0.2: the background a tracker drifts to. Falls back to
    ``textured_box`` when the target fills the frame."""
    h_img, w_img = image.shape[:2]
    tx, ty, tw, th = (float(v) for v in target)
    integral = _gradient_integral(image)
    best, best_score = None, -1.0
    for _ in range(tries):
        k = rng.uniform(0.7, 1.4)
        w, h = min(tw * k, w_img - 2), min(th * k, h_img - 2)
        angle, dist = rng.uniform(0, 2 * np.pi), rng.uniform(1.0, 3.0) * max(tw, th)
        x = np.clip(tx + tw / 2 + dist * np.cos(angle) - w / 2, 0, w_img - w)
        y = np.clip(ty + th / 2 + dist * np.sin(angle) - h / 2, 0, h_img - h)
        box = np.array([x, y, w, h])
        if w < 2 or h < 2 or iou(box, (tx, ty, tw, th))[0] >= 0.2:
            continue
        score = _mean_texture(integral, box)
        if score > best_score:
            best, best_score = box, score
    return textured_box(image, rng) if best is None else best.astype(np.float64)
