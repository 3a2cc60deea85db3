"""Cutting text to Discord's limits: one way, everywhere."""

from __future__ import annotations

#: Discord refuses message content over this many characters.
MAX_CONTENT = 2000


def clip(text: str, limit: int = MAX_CONTENT) -> str:
    """``text`` if it fits in ``limit`` characters, else cut to fit, ending in "…"."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def excerpt(text: str, limit: int) -> str:
    """``text`` on one line (runs of whitespace made one space), clipped to ``limit``."""
    return clip(" ".join(text.split()), limit)
