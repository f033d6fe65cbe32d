"""Per-instance tracker configuration.

Each tracker declares a frozen dataclass whose field defaults are the official
hyper-parameters of its default preset, plus named ``PRESETS`` (other official sets, e.g.
``otb``). There is no global config: every tracker instance owns its config, and unknown
keys are rejected so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from trackers.keys import check_keys


@dataclass(frozen=True)
class TrackerConfig:
    #: preset name -> field overrides relative to the field defaults.
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {"default": {}}

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def create(cls, preset: str | None = None, **overrides: Any) -> Self:
        """Build a config from a preset (default: ``"default"``) plus explicit overrides."""
        preset = preset or "default"
        if preset not in cls.PRESETS:
            raise ValueError(
                f"unknown preset {preset!r} for {cls.__name__}; choose from {sorted(cls.PRESETS)}"
            )
        cls._check_keys(overrides)
        values = {**cls.PRESETS[preset], **overrides}
        return cls(**values)

    #: fields that describe the network layout (they follow a checkpoint, whatever the preset).
    LAYOUT_FIELDS: ClassVar[tuple[str, ...]] = ("architecture",)

    @classmethod
    def layout_for_architecture(cls, arch: str) -> dict[str, Any]:
        """The layout fields (``LAYOUT_FIELDS``) that go with network layout ``arch``: those of the
        preset that uses it (field defaults where that preset says nothing), else just ``arch``."""
        preset = cls.preset_for_architecture(arch)
        if preset is None:
            return {"architecture": arch}
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        values = cls.PRESETS[preset]
        return {k: values.get(k, defaults[k]) for k in cls.LAYOUT_FIELDS if k in defaults}

    @classmethod
    def preset_for_architecture(cls, arch: str) -> str | None:
        """The first preset whose network layout is ``arch`` (None when no preset uses it)."""
        default = {f.name: f.default for f in dataclasses.fields(cls)}.get("architecture")
        for name, values in cls.PRESETS.items():
            if values.get("architecture", default) == arch:
                return name
        return None

    @classmethod
    def _check_keys(cls, values: dict[str, Any]) -> None:
        check_keys(values, cls.field_names(), f"{cls.__name__}: config key(s)")

    def settings(self) -> dict[str, Any]:
        """The fields ``--set`` can change (int, float, bool and str ones that are not part of the
        network layout) and their values."""
        hints = typing.get_type_hints(type(self))
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if hints[f.name] in _SCALARS and f.name not in self.LAYOUT_FIELDS
        }

    @classmethod
    def parse_settings(cls, specs: Sequence[str]) -> dict[str, Any]:
        """``["window_influence=0.4", "near_instance_size=0"]`` -> overrides for ``create``, each
        value read as its field's type (int, float, bool or str). Raises ValueError naming the
        setting: an unknown key, a value that is not of the field's type, a non-scalar field."""
        hints = typing.get_type_hints(cls)
        out: dict[str, Any] = {}
        for spec in specs:
            name, sep, text = (part.strip() for part in spec.partition("="))
            if not sep or not name or not text:
                raise ValueError(f"--set {spec!r}: expected NAME=VALUE, e.g. window_influence=0.4")
            cls._check_keys({name: None})
            if name in cls.LAYOUT_FIELDS:
                raise ValueError(f"--set {spec!r}: {name} follows the checkpoint's network layout")
            kind = hints[name]
            try:
                out[name] = _parse_scalar(text, kind)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"--set {spec!r}: {exc}") from None
        return out

    def replace(self, **changes: Any) -> Self:
        self._check_keys(changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_SCALARS = (int, float, bool, str)
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def _parse_scalar(text: str, kind: Any) -> Any:
    """``text`` as a value of type ``kind`` (int, float, bool, str)."""
    if kind is bool:
        if text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
        raise ValueError(f"expected true or false, got {text!r}")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"expected a whole number, got {text!r}") from None
    if kind is float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {text!r}")
        return value
    if kind is str:
        return text
    raise TypeError(f"a {kind} setting cannot be given on the command line")
