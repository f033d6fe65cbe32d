"""Square crops around the target with mean-colour padding.

One primitive, ``crop_square``, does the pixel work; the official trackers differ only in how
they round the crop window, which the small wrappers below reproduce exactly.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def crop_square(
    image: np.ndarray, xmin: int, ymin: int, size: int, out_size: int, pad_value, resize_always: bool = False
) -> np.ndarray:
    """Crop ``image[ymin:ymin+size, xmin:xmin+size]``, padding outside pixels with ``pad_value``.

    ``pad_value`` is a per-channel colour passed to ``cv2.copyMakeBorder`` (which rounds a
    float to the nearest integer, half to even). The patch is resized to ``out_size`` with
    bilinear interpolation unless it already has that size and ``resize_always`` is False.
    """
    size = int(size)
    if size < 1:
        raise ValueError(f"crop size must be at least 1 pixel, got {size}")
    img_h, img_w = image.shape[:2]
    x0, y0 = max(xmin, 0), max(ymin, 0)
    x1, y1 = min(xmin + size, img_w), min(ymin + size, img_h)
    value = [float(v) for v in pad_value] + [0.0] * (4 - len(pad_value))
    if x1 <= x0 or y1 <= y0:
        # The window misses the image entirely: the patch is all padding.
        # Border a 1x1 seed by ``size`` on two sides and drop the seed's row and column, so cv2
        # rounds the colour exactly as it does for partial pads (also right for size == 1).
        patch = cv2.copyMakeBorder(
            np.zeros((1, 1, image.shape[2]), np.uint8),
            0,
            size,
            0,
            size,
            cv2.BORDER_CONSTANT,
            value=value,
        )[1:, 1:]
    else:
        inside = image[y0:y1, x0:x1]
        top, left = y0 - ymin, x0 - xmin
        bottom, right = ymin + size - y1, xmin + size - x1
        if top or left or bottom or right:
            patch = cv2.copyMakeBorder(inside, top, bottom, left, right, cv2.BORDER_CONSTANT, value=value)
        else:
            patch = inside
    if resize_always or size != out_size:
        patch = cv2.resize(patch, (out_size, out_size), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(patch)


def pysot_pad_value(avg_chans: np.ndarray) -> list[float]:
    """pysot / DaSiamRPN assign the mean colour into a uint8 canvas: it is truncated, not rounded."""
    return [float(math.trunc(v)) for v in avg_chans]


def crop_pysot(image, center, out_size: int, crop_size: int, avg_chans) -> np.ndarray:
    """pysot / SiamBAN ``get_subwindow``: window start floor(c - (sz + 1)/2 + 0.5)."""
    c = (crop_size + 1) / 2
    xmin = math.floor(center[0] - c + 0.5)
    ymin = math.floor(center[1] - c + 0.5)
    return crop_square(image, xmin, ymin, crop_size, out_size, pysot_pad_value(avg_chans))


def crop_dasiamrpn(image, center, out_size: int, crop_size: int, avg_chans) -> np.ndarray:
    """DaSiamRPN ``get_subwindow_tracking``: Python 3 ``round`` (half to even) of c - (sz + 1)/2."""
    c = (crop_size + 1) / 2
    xmin = int(round(center[0] - c))  # noqa: RUF046 (numpy scalars)
    ymin = int(round(center[1] - c))  # noqa: RUF046
    return crop_square(image, xmin, ymin, crop_size, out_size, pysot_pad_value(avg_chans))


def crop_siamfc(image, center_yx, size: float, out_size: int, avg_color) -> np.ndarray:
    """siamfc-pytorch ``crop_and_resize``: banker's rounding of size and corners, always resized.

    ``center_yx`` is (y, x) as siamfc keeps it. The official code pads all four sides by the
    largest overshoot; only the pixels inside the window matter, so padding just the window's
    own overshoot gives the same patch.
    """
    size = round(size)
    corner = np.round(np.asarray(center_yx, dtype=np.float64) - (size - 1) / 2).astype(int)
    return crop_square(image, int(corner[1]), int(corner[0]), size, out_size, list(avg_color), True)


def to_tensor_layout(patch: np.ndarray) -> np.ndarray:
    """HWC uint8 -> CHW float32 with values 0..255 (no normalisation: the official convention)."""
    return np.ascontiguousarray(patch.transpose(2, 0, 1), dtype=np.float32)
