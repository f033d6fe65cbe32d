"""The fidelity fixtures' deterministic weight rule (shared/fixtures/fidelity/README.md §1).

Every weight is a pure function of its official key name and shape, so our modules can load
exactly the tensors the official code was run with. Test-only: these weights are random and
never track anything.
"""

from __future__ import annotations

import json
import re
import zlib
from collections import OrderedDict

import numpy as np
import torch

from tests.shared_data import OFFICIAL_KEYS

_RES_LAST = re.compile(r"(^|\.)layer\d+\.\d+\.conv3\.weight$")
_UPCHANNEL = re.compile(r"(^|\.)(conv_r1|conv_cls1|template_cls_conv|template_loc_conv)\.weight$")


def official_keys(stem: str) -> OrderedDict[str, tuple[int, ...]]:
    data = json.loads((OFFICIAL_KEYS / f"{stem}.json").read_text())
    return OrderedDict((k, tuple(int(s) for s in v)) for k, v in data["keys"].items())


def formula_state_dict(keys_and_shapes) -> OrderedDict[str, torch.Tensor]:
    items = list(keys_and_shapes.items())
    norm = {k[: -len(".running_mean")] for k, _ in items if k.endswith(".running_mean")}
    out: OrderedDict[str, torch.Tensor] = OrderedDict()
    for key, shape in items:
        shape = tuple(int(s) for s in shape)
        module, _, leaf = key.rpartition(".")
        if leaf == "num_batches_tracked":
            out[key] = torch.zeros(shape, dtype=torch.int64)
            continue
        n = np.random.default_rng(zlib.crc32(key.encode("utf-8"))).standard_normal(shape)
        if leaf == "running_mean":
            v = 0.1 * n
        elif leaf == "running_var":
            v = 1.0 + 0.1 * np.abs(n)
        elif module in norm and leaf == "weight":
            v = 1.0 + 0.1 * n
        elif module in norm and leaf == "bias":
            v = 0.1 * n
        elif leaf == "weight" and len(shape) >= 2:
            gain = 1.0
            if shape[1] == 3:
                gain *= 1.0 / 128.0
            if _RES_LAST.search(key):
                gain *= 0.5
            if _UPCHANNEL.search(key):
                gain *= 1.0 / 64.0
            v = n * np.sqrt(1.0 / int(np.prod(shape[1:]))) * gain
        elif leaf == "bias":
            v = 0.01 * n
        else:
            v = 1.0 + 0.1 * n
        out[key] = torch.from_numpy(np.asarray(v, dtype=np.float32).reshape(shape))
    return out


def formula_weights(stem: str) -> OrderedDict[str, torch.Tensor]:
    return formula_state_dict(official_keys(stem))
