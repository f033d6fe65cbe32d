"""The one module that decides which torch device a tracker runs on."""

from __future__ import annotations

import torch

from trackers.io import available_cores

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(choice: str | torch.device = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple MPS, then the CPU; an explicit choice must be available."""
    if isinstance(choice, torch.device):
        choice = str(choice)
    choice = (choice or "auto").lower()
    if choice == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    kind = choice.split(":")[0]
    if kind not in DEVICE_CHOICES:
        raise ValueError(f"unknown device {choice!r}; choose from {', '.join(DEVICE_CHOICES)}")
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but no CUDA GPU is available")
    if kind == "mps" and not mps_available():
        raise ValueError("device 'mps' was asked for but Apple MPS is not available")
    return torch.device(choice)


def leave_cores_free(cores: int = 1) -> int:
    """Cap torch's CPU threads at (cores available - ``cores``), at least 1; returns the count.

    For callers that share the machine with other work, e.g. a GUI thread: torch's busy worker
    threads would otherwise take every core and starve it. Small trackers lose nothing by it
    (their per-layer work is too small to split well across threads).
    """
    threads = max(1, available_cores() - cores)
    torch.set_num_threads(threads)
    return threads


def prepare_for_inference(device: torch.device) -> None:
    """Numerics settings that keep GPU results comparable with the CPU / official code."""
    if device.type == "cuda":
        # TF32 would move outputs by ~1e-3 relative; Siamese heads are sensitive to that.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type
