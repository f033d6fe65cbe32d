"""Loss curves as a PNG, drawn with cv2 (no plotting library needed)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

COLOURS = [(200, 80, 30), (40, 140, 230), (60, 170, 60), (40, 40, 200), (150, 60, 150), (120, 120, 120)]


def _smooth(values: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    out = np.empty_like(values)
    acc = values[0]
    for i, v in enumerate(values):
        acc = alpha * v + (1 - alpha) * acc
        out[i] = acc
    return out


def plot_losses(records: list[dict], path: str | Path, width: int = 900, height: int = 500) -> None:
    """One curve per loss term (light: raw per step, dark: smoothed) against the step."""
    img = np.full((height, width, 3), 255, np.uint8)
    left, right, top, bottom = 70, 20, 30, 50
    keys = [k for k in (records[0] if records else {}) if k not in ("step", "epoch", "lr")]
    if not records or not keys:
        cv2.imwrite(str(path), img)
        return
    steps = np.array([r["step"] for r in records], dtype=np.float64)
    series = {k: np.array([r[k] for r in records], dtype=np.float64) for k in keys}
    finite = np.concatenate([v[np.isfinite(v)] for v in series.values()] or [np.zeros(1)])
    y_max = float(np.percentile(finite, 99)) * 1.05 if finite.size else 1.0
    y_max = y_max if y_max > 0 else 1.0
    x0, x1 = steps.min(), max(steps.max(), steps.min() + 1)

    def px(s, v):
        x = left + (s - x0) / (x1 - x0) * (width - left - right)
        y = height - bottom - np.clip(v / y_max, 0, 1) * (height - top - bottom)
        return np.stack([x, y], -1).astype(np.int32)

    cv2.rectangle(img, (left, top), (width - right, height - bottom), (0, 0, 0), 1)
    for i in range(6):
        v = y_max * i / 5
        y = int(height - bottom - i / 5 * (height - top - bottom))
        cv2.line(img, (left - 4, y), (left, y), (0, 0, 0), 1)
        cv2.putText(img, f"{v:.3g}", (5, y + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    for i in range(6):
        s = x0 + (x1 - x0) * i / 5
        x = int(left + i / 5 * (width - left - right))
        cv2.putText(
            img, f"{s:.0f}", (x - 10, height - bottom + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1
        )
    cv2.putText(img, "step", (width // 2, height - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)
    for n, k in enumerate(keys):
        colour = COLOURS[n % len(COLOURS)]
        light = tuple(int(255 - (255 - c) * 0.3) for c in colour)
        values = np.nan_to_num(series[k], nan=0.0, posinf=y_max)
        cv2.polylines(img, [px(steps, values)], False, light, 1, cv2.LINE_AA)
        cv2.polylines(img, [px(steps, _smooth(values))], False, colour, 2, cv2.LINE_AA)
        cv2.putText(
            img, k, (width - right - 120, top + 20 + 18 * n), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1
        )
    cv2.imwrite(str(path), img)
