"""Every network layout Siamark can build, keyed by the official model's name.

The names are those of the fidelity fixtures / official key lists
(``<repository>__<config>``), so a checkpoint's layout has one unambiguous name.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from trackers.models.builders import ARCHITECTURES as _PYSOT
from trackers.models.dasiamrpn import DASIAMRPN_ARCHITECTURES
from trackers.models.nanotrack import NANOTRACK_ARCHITECTURES
from trackers.models.siamcross import SIAMCROSS_ARCHITECTURES
from trackers.models.siamfc_net import SIAMARK_SIAMFC_ARCHITECTURES, SIAMFC_ARCHITECTURES

ARCHITECTURES: dict[str, Callable[[], nn.Module]] = {
    **SIAMFC_ARCHITECTURES,
    **SIAMARK_SIAMFC_ARCHITECTURES,
    **_PYSOT,
    **DASIAMRPN_ARCHITECTURES,
    **NANOTRACK_ARCHITECTURES,
    **SIAMCROSS_ARCHITECTURES,
}


def build(arch: str) -> nn.Module:
    try:
        return ARCHITECTURES[arch]()
    except KeyError:
        raise ValueError(f"unknown architecture {arch!r}; known: {sorted(ARCHITECTURES)}") from None
