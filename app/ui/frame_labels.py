"""The tracks' label chips on the frame: where each goes so that none covers another, and which
text colour reads on a chip's fill. Qt-free, so the placement rule is tested on its own.

Rectangles are ``(x, y, w, h)`` in image pixels with y pointing down, as the frame view draws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Rect = tuple[float, float, float, float]


def overlaps(a: Rect, b: Rect) -> bool:
    """Whether two rectangles share area (touching edges do not)."""
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def place_labels(
    boxes: Sequence[Rect], sizes: Sequence[tuple[float, float]], frame: tuple[float, float] | None = None
) -> list[Rect]:
    """Each chip's rectangle, in order, none overlapping one placed before it: above its box,
    else below it, else moved down from below past the chips in the way (or, when that leaves
    the frame at the bottom, up from above). With the ``frame`` size (w, h) a chip stays within
    its width, and above / below count only when inside it."""
    width, height = frame if frame is not None else (math.inf, math.inf)
    placed: list[Rect] = []

    def blocking(spot: Rect) -> list[Rect]:
        return [p for p in placed if overlaps(spot, p)]

    for (bx, by, _bw, bh), (cw, ch) in zip(boxes, sizes, strict=True):
        x = max(0.0, min(bx, width - cw))
        above, below = (x, by - ch, cw, ch), (x, by + bh, cw, ch)
        inside = [c for c in (above, below) if c[1] >= 0 and c[1] + ch <= height]
        spot = next((c for c in inside if not blocking(c)), None)
        if spot is None:
            # y only moves one way, past each blocking chip: at most len(placed) moves
            spot = below
            while chips := blocking(spot):
                spot = (x, max(p[1] + p[3] for p in chips), cw, ch)
            if spot[1] + ch > height:
                up = above
                while chips := blocking(up):
                    up = (x, min(p[1] for p in chips) - ch, cw, ch)
                spot = up if up[1] >= 0 else spot
        placed.append(spot)
    return placed


def readable_text_colour(fill: str) -> str:
    """Black or white, whichever contrasts more with ``fill`` (``#rrggbb``; WCAG luminance)."""
    channels = [int(fill[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if luminance > 0.179 else "#ffffff"


def label_scale(screen_height: int) -> float:
    """How much larger than normal the on-frame chips and outlines are drawn for a room (demo
    mode): 2x on a 1080-line projector, never under 1.5x (720 lines), growing with the screen."""
    return max(1.5, screen_height / 540)
