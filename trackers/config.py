"""Per-instance tracker configuration.

Each tracker declares a frozen dataclass whose field defaults are the official
hyper-parameters of its default preset, plus named ``PRESETS`` (other official sets, e.g.
``otb``). There is no global config: every tracker instance owns its config, and unknown
keys are rejected so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
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

    def replace(self, **changes: Any) -> Self:
        self._check_keys(changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
