"""Cutting text to Discord's limits, and naming providers as members know them: one way,
everywhere."""

from __future__ import annotations

from bot.models import Provider
from bot.providers import DESCRIPTIONS

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


def provider_name(provider: str) -> str:
    """The provider as members know it (the site they signed up on), not its id; an unknown id
    as it is."""
    try:
        return DESCRIPTIONS[Provider(provider)].name
    except (KeyError, ValueError):
        return provider
