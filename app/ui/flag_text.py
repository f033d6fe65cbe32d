"""How a flag's reasons are shortened where one line has room for one of them."""

from __future__ import annotations


def short_flag(flag: str) -> str:
    """The first reason and how many more there are. Three reasons ran across the whole view
    and off its edge; the lane's tooltip and the Review panel give them all."""
    reasons = [r for r in flag.split("; ") if r]
    if len(reasons) < 2:
        return flag
    return f"{reasons[0]} (+{len(reasons) - 1} more)"
