"""Keep a job's Discord attachment inputs usable for days, not just the CDN link's lifetime.

Discord attachment links carry a signature that expires after about a day. A job's input files
are re-attached to its status card, and the request points at the card's copies; when a
re-roll needs them later, fetching the card again yields freshly signed links to the same files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import discord

log = logging.getLogger(__name__)

_DISCORD_CDN = ("cdn.discordapp.com", "media.discordapp.net")
#: Request fields (Python names) that hold input URLs, single or lists.
URL_FIELDS = (
    "image_url", "end_image_url", "media_urls", "image_urls", "image_files", "video_files",
    "audio_files",
)  # fmt: skip


def is_discord_cdn(url: str) -> bool:
    return urlsplit(url).hostname in _DISCORD_CDN


def _path(url: str) -> str:
    return urlsplit(url).path


def map_urls(request: Mapping[str, Any], change: Callable[[str], str]) -> dict[str, Any]:
    """A copy of ``request`` with every input URL passed through ``change``."""
    updated = dict(request)
    for name in URL_FIELDS:
        value = updated.get(name)
        if isinstance(value, str):
            updated[name] = change(value)
        elif isinstance(value, list):
            updated[name] = [change(v) if isinstance(v, str) else v for v in value]
    return updated


def input_urls(request: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    map_urls(request, lambda url: found.append(url) or url)  # type: ignore[func-returns-value]
    return found


def fresh_links(
    request: Mapping[str, Any], attachments: list[discord.Attachment]
) -> dict[str, Any]:
    """``request`` with Discord links replaced by the newly signed ones of the same files."""
    by_name = {a.filename: a.url for a in attachments}
    by_path = {_path(a.url): a.url for a in attachments}

    def refresh(url: str) -> str:
        if not is_discord_cdn(url):
            return url
        return by_path.get(_path(url)) or by_name.get(_path(url).rsplit("/", 1)[-1], url)

    return map_urls(request, refresh)


async def keep_on_card(
    card: discord.Message, given: list[discord.Attachment], limit: int
) -> dict[str, str]:
    """Re-attach the member's input files to the card; returns old link -> card copy link.

    Files over the upload limit stay where they are (a later re-roll may then find them gone).
    """
    files = []
    kept: list[discord.Attachment] = []
    for attachment in given:
        if attachment.size > limit:
            continue
        try:
            files.append(await attachment.to_file())
            kept.append(attachment)
        except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
            log.warning("Could not copy input %s to the card: %s", attachment.filename, exc)
    if not files:
        return {}
    edited = await card.edit(attachments=files)
    return {
        original.url: copy.url for original, copy in zip(kept, edited.attachments, strict=False)
    }
