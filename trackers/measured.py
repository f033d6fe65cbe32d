"""What the shipped weights were measured to do: ``resources/weights/benchmark.json``.

That file is the ``--json`` output of one ``python -m trackers bench --tracker shipped`` run (with
CSRT and OpenCV's NanoTrack in the same run). A figure belongs to a weights file only while the
file's SHA-256 is the one the run recorded: weights replaced without a new run have no figure.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

BENCHMARK_FILE = Path(__file__).resolve().parents[1] / "resources" / "weights" / "benchmark.json"


@dataclass(frozen=True)
class Measured:
    method: str
    auc: float
    precision: float
    fps: float


@dataclass(frozen=True)
class BenchmarkRun:
    sequences: tuple[str, ...]
    frames: int
    command: str
    date: str
    hardware: str
    #: per bench method (tracker names, "csrt", "opencv-nano"): the figures over all sequences
    summary: dict[str, Measured]
    #: tracker name -> SHA-256 of the weights file it ran with
    weights_sha256: dict[str, str]
    #: tracker name -> the backend its fps were measured with ("openvino-int8", ...), where recorded
    backends: dict[str, str] = field(default_factory=dict)


def sha256_of(path: Path) -> str:
    return _sha256(Path(path).resolve(), Path(path).stat().st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _sha256(path: Path, _mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_run(path: Path = BENCHMARK_FILE) -> BenchmarkRun | None:
    """The recorded run, or None when there is none (or it cannot be read)."""
    try:
        doc = json.loads(Path(path).read_text())
        meta = doc["meta"]
        summary = {
            r["method"]: Measured(r["method"], float(r["auc"]), float(r["precision"]), float(r["fps"] or 0.0))
            for r in doc["summary"]
        }
        return BenchmarkRun(
            sequences=tuple(dict.fromkeys(r["sequence"] for r in doc["rows"])),
            frames=int(doc["summary"][0]["frames"]),  # every method ran on the same frames
            command=str(meta.get("command", "")),
            date=str(meta.get("date", "")),
            hardware=str(meta.get("hardware", "")),
            summary=summary,
            weights_sha256={
                t["method"]: t["weights_sha256"] for t in meta["trackers"] if t.get("weights_sha256")
            },
            backends={t["method"]: str(t["backend"]) for t in meta["trackers"] if t.get("backend")},
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def measured(tracker: str, weights: Path | None, run: BenchmarkRun | None) -> Measured | None:
    """The run's figures for ``tracker`` if they were measured with exactly this ``weights`` file."""
    if run is None or weights is None or tracker not in run.summary:
        return None
    if run.weights_sha256.get(tracker) != sha256_of(weights):
        return None
    return run.summary[tracker]
