"""Reading checkpoints safely, recognising their layout, and loading them strictly.

* Files are read with ``torch.load(weights_only=True)``: a pickle holding anything but
  tensors and plain containers is refused, never executed.
* ``{'state_dict': ...}`` / ``{'model': ...}`` wrappers and DataParallel ``module.`` prefixes
  are removed.
* The layout (which official architecture a checkpoint is) is recognised from its key names
  and tensor shapes alone, by comparing with the state_dict each known architecture builds.
"""

from __future__ import annotations

import io
import pickle
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from trackers.architectures import ARCHITECTURES

# Old (torch 0.3) checkpoints have no BatchNorm counters; modern BatchNorm fills them in.
_OPTIONAL_LEAF = "num_batches_tracked"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used, with the details a user needs to see why."""

    def __init__(
        self, message: str, *, missing=(), unexpected=(), wrong_shape=(), closest: str | None = None
    ):
        self.missing = list(missing)
        self.unexpected = list(unexpected)
        self.wrong_shape = list(wrong_shape)
        self.closest = closest
        super().__init__(message)


def read_state_dict(path: str | Path) -> OrderedDict[str, torch.Tensor]:
    """Load a checkpoint file as a flat state_dict of tensors (CPU)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        # Read the bytes first: Python file reads release the GIL, torch.load's own reader does
        # not, and a cold read of a large file would freeze a GUI thread waiting on the GIL.
        data = io.BytesIO(path.read_bytes())
        with torch.serialization.safe_globals(_numpy_scalar_globals()):
            obj = torch.load(data, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        refused = _refused_global(exc)
        if refused is None:  # not a pickle torch can read at all: a corrupt or foreign file
            raise CheckpointError(
                f"{path.name}: not a readable PyTorch checkpoint ({_unpickler_detail(exc)})"
            ) from None
        raise CheckpointError(
            f"{path.name}: refused — the file holds a Python object besides tensors ({refused}), and "
            f"Siamark only loads checkpoints with weights_only=True (safe loading). If you trust the "
            f"file, re-save just its state_dict with torch.save."
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path.name}: not a readable PyTorch checkpoint ({exc})") from None
    return unwrap_state_dict(obj, source=path.name)


def warm_up_loader() -> None:
    """Run the safe loader once on a tiny in-memory file.

    Its first call imports modules lazily while holding the GIL (~100 ms); a program that will
    load checkpoints in a worker thread calls this first in its main thread so the GIL is never
    held that long while, e.g., a GUI is painting.
    """
    buf = io.BytesIO()
    torch.save({"x": torch.zeros(1)}, buf)
    buf.seek(0)
    unwrap_state_dict(torch.load(buf, map_location="cpu", weights_only=True))
    with torch.device("meta"):  # layout detection builds networks there: same first-call cost
        nn.Conv2d(1, 1, 1)


def _numpy_scalar_globals() -> list:
    """numpy scalars / dtypes, which training snapshots carry (e.g. an optimizer's lr as float64).

    They are plain data, so allow-listing them keeps weights_only loading safe. Pickles name
    ``numpy.core`` even under numpy 2 (``numpy._core``), hence the explicit name.
    """
    core = getattr(np, "_core", None) or np.core
    allowed: list = [(core.multiarray.scalar, "numpy.core.multiarray.scalar"), np.dtype]
    allowed += [getattr(np.dtypes, n) for n in ("Float64DType", "Float32DType", "Int64DType")]
    return allowed


def _unpickler_detail(exc: Exception) -> str:
    """The weights-only unpickler's own reason, without torch's generic advice around it."""
    text = str(exc)
    _, marker, rest = text.partition("WeightsUnpickler error:")
    lines = [line.strip() for line in (rest if marker else text).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _refused_global(exc: Exception) -> str | None:
    """``module.name`` of the class / function a weights-only load refused; None for a corrupt file."""
    # torch words it two ways: "Unsupported global: GLOBAL x.y" and, for modules it blocks
    # outright (os / posix / subprocess ...), "unsupported GLOBAL x.y whose module x is blocked".
    match = re.search(r"[Uu]nsupported (?:global: )?GLOBAL (\S+)", str(exc))
    return match.group(1) if match else None


def unwrap_state_dict(obj, source: str = "checkpoint") -> OrderedDict[str, torch.Tensor]:
    if isinstance(obj, dict):
        for wrapper in ("state_dict", "model", "net"):
            if wrapper in obj and isinstance(obj[wrapper], dict):
                obj = obj[wrapper]
                break
    if not isinstance(obj, dict) or not obj:
        raise CheckpointError(f"{source}: no state_dict found (expected a dict of tensors)")
    out: OrderedDict[str, torch.Tensor] = OrderedDict()
    for key, value in obj.items():
        if not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{source}: entry {key!r} is a {type(value).__name__}, not a tensor")
        out[key.removeprefix("module.")] = value
    return out


@cache
def expected_layout(arch: str) -> dict[str, tuple[int, ...]]:
    """Key -> shape of the state_dict architecture ``arch`` builds (built on the meta device: no memory)."""
    with torch.device("meta"):
        model = ARCHITECTURES[arch]()
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def _compare(layout: dict, sd: dict):
    req = {k for k in layout if not k.endswith(_OPTIONAL_LEAF)}
    have = set(sd)
    missing = sorted(req - have)
    unexpected = sorted(have - set(layout))
    wrong = sorted(
        f"{k}: checkpoint {tuple(sd[k].shape)} vs expected {layout[k]}"
        for k in have & set(layout)
        if tuple(sd[k].shape) != layout[k]
    )
    return missing, unexpected, wrong


@dataclass
class Match:
    arch: str
    missing: list = field(default_factory=list)
    unexpected: list = field(default_factory=list)
    wrong_shape: list = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return not (self.missing or self.unexpected or self.wrong_shape)

    @property
    def distance(self) -> int:
        return len(self.missing) + len(self.unexpected) + len(self.wrong_shape)


def _agreement(layout: dict, sd: dict) -> float:
    """Share of the union of key names present in both with the same shape (1.0 = identical)."""
    same = sum(1 for k, v in sd.items() if layout.get(k) == tuple(v.shape))
    return same / len(set(layout) | set(sd))


def rank_architectures(sd: dict, candidates=None) -> list[Match]:
    """All candidate architectures, closest first: most keys in common with the right shape,
    then fewest differences (so a tiny unrelated model never looks 'closest' by count alone)."""
    names = list(candidates or ARCHITECTURES)
    agreement = {a: _agreement(expected_layout(a), sd) for a in names}
    matches = [Match(a, *_compare(expected_layout(a), sd)) for a in names]
    return sorted(matches, key=lambda m: (-agreement[m.arch], m.distance, m.arch))


def _summary(items: list, limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", … ({len(items)} in all)" if len(items) > limit else "")


def detect_architecture(sd: dict, candidates=None, source: str = "checkpoint", prefer=()) -> str:
    """The architecture whose keys and shapes equal the checkpoint's; CheckpointError otherwise.

    Some official variants share one layout (DaSiamRPN vot / otb, SiamBAN VOT / OTB): the
    weights alone cannot tell them apart, so the first of ``prefer`` that fits wins.
    """
    ranked = rank_architectures(sd, candidates)
    exact = [m.arch for m in ranked if m.exact]
    if exact:
        return next((a for a in prefer if a in exact), exact[0])
    best = ranked[0]
    if _agreement(expected_layout(best.arch), sd) == 0:
        sample = ", ".join(list(sd)[:3])
        raise CheckpointError(
            f"{source}: not a tracker checkpoint Siamark knows — none of its {len(sd)} keys "
            f"(e.g. {sample}) belongs to a known tracker layout",
            unexpected=sorted(sd),
            closest=best.arch,
        )
    raise CheckpointError(
        f"{source}: its keys and shapes match no known architecture. Closest: {best.arch} "
        f"({len(best.missing)} missing, {len(best.unexpected)} unexpected, "
        f"{len(best.wrong_shape)} wrong-shape keys)."
        + (f"\n  missing: {_summary(best.missing)}" if best.missing else "")
        + (f"\n  unexpected: {_summary(best.unexpected)}" if best.unexpected else "")
        + (f"\n  wrong shape: {_summary(best.wrong_shape, 4)}" if best.wrong_shape else ""),
        missing=best.missing,
        unexpected=best.unexpected,
        wrong_shape=best.wrong_shape,
        closest=best.arch,
    )


def load_strict(model: nn.Module, sd: dict, source: str = "checkpoint") -> None:
    """``load_state_dict(strict=True)`` with an error message that lists what differs."""
    layout = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing, unexpected, wrong = _compare(layout, sd)
    if missing or unexpected or wrong:
        raise CheckpointError(
            f"{source} does not fit {type(model).__name__}: "
            + "; ".join(
                part
                for part in (
                    f"missing {_summary(missing)}" if missing else "",
                    f"unexpected {_summary(unexpected)}" if unexpected else "",
                    f"wrong shape {_summary(wrong, 4)}" if wrong else "",
                )
                if part
            ),
            missing=missing,
            unexpected=unexpected,
            wrong_shape=wrong,
        )
    model.load_state_dict(sd, strict=True)
