"""Training pairs as pysot samples them: a template and a search crop of one target, frames up to
``frame_range`` apart, with shift / scale jitter; with probability ``neg`` the search shows
another target instead (a negative pair).

Crops go through the engine's ``crop_square`` (mean-colour padding, bilinear resize) with context
0.5: the template is ``s_z = context_side(w, h)`` pixels resized to 127, the search
``s_z * 255 / 127`` resized to 255, so one target pixel has the same size in both, as in
tracking. Boxes come back in continuous crop coordinates (pixel (0, 0) covers [0, 1)), computed
from the integer window actually cut, so labels are exact. Scale jitter is isotropic
(``scale``); ``stretch`` adds pysot's independent x / y jitter on top (the search window's
sides scaled separately, so the target's aspect in the crop changes): without it a regression
trained on few tracks learns each training target's aspect instead of reading it from the
image (measured: square boxes on an unseen pedestrian).

Negatives attack distractor switches (DaSiamRPN's distractor-aware pairs): with probability
``distractor`` a negative's search shows another object of the template's own video or image
(another DAVIS object, another box of a still image, another annotated target) in the same frame
when it is annotated there; otherwise, with probability ``background``, a textured region of the
search frame away from the target (the clutter next to it); otherwise a target of another track.

Unlabelled video gives self-supervised pairs: a random textured box in frame t is the target,
and the search is the same place in frame t or a frame up to ``frame_range['video']`` away,
with stronger photometric jitter.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import cv2
import numpy as np

from trackers.keys import check_keys
from trackers.ops.crop import crop_square
from trackers.ops.geometry import context_side
from trackers.training.augment import clutter_box, color_jitter, grayscale, motion_blur, textured_box
from trackers.training.datasets import KINDS, Track, load_frame


@dataclass(frozen=True)
class SamplingConfig:
    template_size: int = 127
    search_size: int = 255
    context: float = 0.5
    shift: float = 64.0  # search window shift, +- search-crop pixels (pysot SEARCH.SHIFT)
    scale: float = 0.18  # search scale jitter +- (pysot SEARCH.SCALE)
    stretch: float = 0.0  # extra independent x / y search scale jitter +- (0: aspect kept)
    template_shift: float = 4.0
    template_scale: float = 0.05
    blur: float = 0.2  # probability of motion blur on the search crop
    color: float = 1.0  # probability of colour jitter (each crop)
    gray: float = 0.1  # probability that both crops turn grey
    neg: float = 0.2  # probability of a negative pair
    distractor: float = 0.5  # of negatives: another object of the same video / image, if any
    background: float = 0.0  # of the other negatives: textured clutter of the search frame itself
    strong: float = 2.0  # colour jitter strength (and blur / grey odds x2) for self-supervised pairs
    video_same_frame: float = 0.5  # self-supervised pairs: search from the very same frame
    frame_range: dict[str, int] = field(
        default_factory=lambda: {"sequence": 100, "davis": 100, "detection": 0, "video": 3}
    )

    @classmethod
    def from_dict(cls, data: dict) -> SamplingConfig:
        check_keys(data, [f.name for f in fields(cls)], "sampling key(s)")
        data = dict(data)
        if "frame_range" in data:
            data["frame_range"] = {**cls().frame_range, **data["frame_range"]}
        return cls(**data)


@dataclass
class Pair:
    template: np.ndarray  # (T, T, 3) uint8 BGR
    search: np.ndarray  # (S, S, 3) uint8 BGR
    box: (
        np.ndarray
    )  # (4,) float32 x1, y1, x2, y2 of the target (negatives: the other object) in the search crop
    template_box: np.ndarray  # (4,) float32 x1, y1, x2, y2 of the target in the template crop
    negative: bool = False
    strong: bool = False  # self-supervised pair: stronger photometric jitter


def cut(
    image: np.ndarray, box, out_size: int, side: float, shift_px, pad, stretch=(1.0, 1.0)
) -> tuple[np.ndarray, np.ndarray]:
    """Crop of ``side`` x ``side`` image pixels (each side times its ``stretch``), centred on the
    box centre moved by ``shift_px`` (image pixels), resized to ``out_size`` square; returns the
    crop and the box (x1, y1, x2, y2) in it."""
    x, y, w, h = (float(v) for v in box)
    width = max(round(float(side) * stretch[0]), 1)
    height = max(round(float(side) * stretch[1]), 1)
    xmin = round(x + w / 2 + float(shift_px[0]) - width / 2)
    ymin = round(y + h / 2 + float(shift_px[1]) - height / 2)
    big = max(width, height)  # a square window covering the rectangle, then its top-left part
    patch = crop_square(image, xmin, ymin, big, big, pad)[:height, :width]
    crop = cv2.resize(patch, (out_size, out_size), interpolation=cv2.INTER_LINEAR)
    kx, ky = out_size / width, out_size / height
    inside = np.array(
        [(x - xmin) * kx, (y - ymin) * ky, (x + w - xmin) * kx, (y + h - ymin) * ky], np.float32
    )
    return crop, inside


def _mean_colour(image: np.ndarray) -> list[float]:
    return list(cv2.mean(image)[:3])


class PairSampler:
    """Draws ``Pair`` s from tracks; ``sample(rng)`` is a pure function of the generator state."""

    def __init__(self, tracks: list[Track], config: SamplingConfig | None = None, kind_weights=None) -> None:
        self.config = config or SamplingConfig()
        tracks = [t for t in tracks if len(t.visible)]
        if not tracks:
            raise ValueError("no track with a visible target to sample pairs from")
        self.by_kind = {k: [t for t in tracks if t.kind == k] for k in KINDS}
        by_sequence: dict[str, list[Track]] = {}
        for t in tracks:
            if t.boxes is not None:
                by_sequence.setdefault(t.sequence, []).append(t)
        self.by_sequence = {k: v for k, v in by_sequence.items() if len(v) > 1}
        weights = kind_weights or {k: 1.0 for k in KINDS}
        self.kinds = [k for k in KINDS if self.by_kind[k] and weights.get(k, 0) > 0]
        if not self.kinds:
            raise ValueError("every data kind with tracks has weight 0")
        w = np.array([weights[k] for k in self.kinds], dtype=np.float64)
        self.kind_p = w / w.sum()

    # --- picking -------------------------------------------------------------------------------
    def _track(self, rng: np.random.Generator) -> Track:
        kind = self.kinds[rng.choice(len(self.kinds), p=self.kind_p)]
        group = self.by_kind[kind]
        return group[rng.integers(len(group))]

    def _frames(self, track: Track, rng: np.random.Generator) -> tuple[int, int]:
        """(template, search) frame indices: both visible, at most frame_range apart."""
        visible = track.visible
        t = int(visible[rng.integers(len(visible))])
        r = self.config.frame_range.get(track.kind, 0)
        if track.kind == "video" and rng.random() < self.config.video_same_frame:
            r = 0
        near = visible[(visible >= t - r) & (visible <= t + r)]
        return t, int(near[rng.integers(len(near))])

    def _target(self, track: Track, index: int, rng):
        """(image, box) of a track's target in one frame; video boxes are picked from texture."""
        image = load_frame(track.frames[index])
        box = textured_box(image, rng) if track.boxes is None else track.boxes[index]
        return image, box

    def _negative(self, track: Track, s: int, rng) -> tuple[np.ndarray, np.ndarray]:
        """(image, box) the search of a negative pair is centred on (see the module doc)."""
        c = self.config
        if track.sequence in self.by_sequence and rng.random() < c.distractor:
            others = [o for o in self.by_sequence[track.sequence] if o is not track]
            other = others[rng.integers(len(others))]
            # The same frame when the other object is annotated in it: the distractor in context.
            frame = track.frames[s]
            index = other.frames.index(frame) if frame in other.frames else -1
            if index < 0 or not np.isfinite(other.boxes[index]).all():
                index = int(other.visible[rng.integers(len(other.visible))])
            return load_frame(other.frames[index]), other.boxes[index]
        if track.boxes is not None and rng.random() < c.background:
            image = load_frame(track.frames[s])
            return image, clutter_box(image, track.boxes[s], rng)
        other = self._track(rng)
        for _ in range(4):  # another target, not the template's own track if there is a choice
            if other is not track:
                break
            other = self._track(rng)
        return self._target(other, int(other.visible[rng.integers(len(other.visible))]), rng)

    # --- cropping ------------------------------------------------------------------------------
    def _template(self, image, box, rng):
        c = self.config
        s_z = context_side(box[2], box[3], c.context) * (1 + rng.uniform(-c.template_scale, c.template_scale))
        shift = rng.uniform(-c.template_shift, c.template_shift, 2) * s_z / c.template_size
        return cut(image, box, c.template_size, s_z, shift, _mean_colour(image))

    def _search(self, image, box, rng):
        c = self.config
        s_x = context_side(box[2], box[3], c.context) * c.search_size / c.template_size
        s_x *= 1 + rng.uniform(-c.scale, c.scale)
        shift = rng.uniform(-c.shift, c.shift, 2) * s_x / c.search_size
        # Drawn only when on, so recipes without stretch keep their exact pairs.
        stretch = 1 + rng.uniform(-c.stretch, c.stretch, 2) if c.stretch > 0 else (1.0, 1.0)
        return cut(image, box, c.search_size, s_x, shift, _mean_colour(image), stretch)

    def sample(self, rng: np.random.Generator) -> Pair:
        """Geometry only (crops, jitter, blur); ``photometric`` adds colour / grey afterwards."""
        c = self.config
        track = self._track(rng)
        t, s = self._frames(track, rng)
        z_img, z_box = self._target(track, t, rng)
        negative = rng.random() < c.neg
        strong = track.kind == "video"
        if negative:
            x_img, x_box = self._negative(track, s, rng)
        elif s == t:
            x_img, x_box = z_img, z_box
        elif track.boxes is None:
            # Self-supervised: the same place in a nearby frame.
            x_img, x_box = load_frame(track.frames[s]), z_box
        else:
            x_img, x_box = self._target(track, s, rng)
        template, template_box = self._template(z_img, z_box, rng)
        search, box = self._search(x_img, x_box, rng)
        if rng.random() < c.blur * (2 if strong else 1):
            search = motion_blur(search, rng)
        return Pair(template, search, box, template_box, bool(negative), strong)

    def photometric(self, pair: Pair, rng: np.random.Generator) -> Pair:
        c = self.config
        strength = c.strong if pair.strong else 1.0
        z, x = pair.template, pair.search
        if rng.random() < c.color:
            z = color_jitter(z, rng, strength)
        if rng.random() < c.color:
            x = color_jitter(x, rng, strength)
        if rng.random() < c.gray * (2 if pair.strong else 1):
            z, x = grayscale(z), grayscale(x)
        return Pair(z, x, pair.box, pair.template_box, pair.negative, pair.strong)
