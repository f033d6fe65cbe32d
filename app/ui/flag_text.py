"""How a flag's reasons are shortened where one line has room for one of them."""

from __future__ import annotations


def short_flag(flag: str) -> str:
    """The first reason without its figures after a colon, and how many more reasons there are.
    Three reasons ran across the whole view and off its edge; the lane's tooltip and the Review
    panel give them all."""
    reasons = [r for r in flag.split("; ") if r]
    if not reasons:
        return flag
    first = reasons[0].split(": ", 1)[0]
    return first if len(reasons) == 1 else f"{first} (+{len(reasons) - 1} more)"
