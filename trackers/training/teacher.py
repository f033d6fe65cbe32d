"""A response-map teacher: NanoTrack v2 (Apache-2.0 weights, trained on millions of frames)
scores every cell of a training pair's search crop, and the student's classification map learns
those soft labels beside the ground truth's hard ones (``distill_weight`` of the family's loss).

Our labelled tracks say where the target is; they say little about what else in a crop looks
like it. The teacher's map does: a look-alike it scores 0.3 is a softer negative than empty
background. Only the map is used, never the teacher's boxes. The teacher's map is read at the
student's score points (both in search-crop pixels) by bilinear interpolation: the grids differ
(NanoTrack's 16x16 padded map against SiamCross's 9x9 valid one at 255 px, half a cell apart).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from trackers.training import targets

TEACHER = "nanotrack"


class ResponseTeacher:
    def __init__(
        self,
        weights: str | Path,
        student_points: np.ndarray,
        search_size: int,
        device: torch.device | str = "cpu",
    ):
        import trackers

        # on the trainer's device: the crops are there already
        tracker = trackers.create(TEACHER, weights=str(weights), device=str(device), backend="torch")
        config = tracker.config
        size = config.score_size(search_size)
        first = targets.grid_points(size, config.stride, search_size)[0]
        # the student's points as positions on the teacher's map, in grid_sample's [-1, 1]
        where = (np.asarray(student_points, np.float32) - first) / config.stride / (size - 1) * 2 - 1
        side = round(len(where) ** 0.5)
        self.grid = torch.from_numpy(where.reshape(1, side, side, 2)).to(tracker.net.device)
        self.model = tracker.net.model.eval()
        self.source = f"{TEACHER} ({Path(weights).name}, {size}x{size} map read at {side}x{side} points)"

    @torch.no_grad()
    def __call__(self, template: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        """(N, s, s) foreground probabilities at the student's points, for NCHW float BGR crops
        in 0..255."""
        cls, _loc = self.model(template.float(), search.float())
        prob = torch.softmax(cls.float(), dim=1)[:, 1:]
        grid = self.grid.expand(len(prob), -1, -1, -1)
        return F.grid_sample(prob, grid, mode="bilinear", padding_mode="border", align_corners=True)[:, 0]
