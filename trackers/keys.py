"""One check for settings read from files and command lines: unknown keys are errors, so a typo
never falls back silently to a default."""

from __future__ import annotations

from collections.abc import Iterable


def check_keys(given: Iterable, valid: Iterable, what: str, error: type[Exception] = ValueError) -> None:
    """Raise ``error`` naming the unknown keys of ``given`` (``what``: e.g. "recipe key(s)",
    optionally prefixed "where: ") and the valid ones."""
    valid = sorted(set(valid), key=str)
    unknown = sorted(set(given) - set(valid), key=str)
    if unknown:
        where, _, noun = what.rpartition(": ")
        raise error(f"{where + ': ' if where else ''}unknown {noun} {unknown}; valid: {valid}")
