"""Keep a job's Discord attachment inputs usable for days, not just the CDN link's lifetime.

Discord attachment links carry a signature that expires after about a day. A job's input files
are re-attached to its status card, and the request points at the card's copies; when a
re-roll needs them later, fetching the card again yields freshly signed links to the same files.
A re-roll and "Send again" refresh every link this way before anything is sent (refusing an
input that is gone), and a re-roll copies the files onto its own card, so a chain of re-rolls
keeps them however old its first card is. The engine does the same (:class:`DiscordInputs`)
right before it sends a job that waited long in the queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import discord

from bot.i18n import Text
from bot.jobs import INPUT_EXPIRED, InputUnavailableError
from bot.storage import Destination, Job
from cogs._errors import (
    ANY_INPUT,
    CARD_GONE,
    INPUT_GONE,
    INPUT_LABELS,
    NO_CARD,
    NO_FRESH_LINK,
    NOT_ON_CARD,
    START_OVER,
    TRY_AGAIN_SOON,
    UserFacingError,
)

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


def _filename(url: str) -> str:
    return _path(url).rsplit("/", 1)[-1]


def _discord_inputs(request: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, url) of every Discord link among the request's inputs, in field order."""
    found: list[tuple[str, str]] = []
    for name in URL_FIELDS:
        value = request.get(name)
        values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        found += [(name, v) for v in values if isinstance(v, str) and is_discord_cdn(v)]
    return found


_START_OVER = Text(START_OVER)


class InputGoneError(UserFacingError):
    """An input of a job cannot be signed afresh; the message names it and says what to do.

    ``retryable`` when Discord only failed to answer this time (the file may still be there).
    """

    error_code = INPUT_EXPIRED

    def __init__(self, message: str, /, *, retryable: bool = False, **values: object) -> None:
        super().__init__(message, **values)
        self.retryable = retryable


async def _card_files(
    client: discord.Client, destination: Destination
) -> tuple[list[discord.Attachment], Text, Text, bool]:
    """The job card's files, freshly signed; and, for a file not among them, why, what next,
    and whether trying again later may help."""
    if destination.channel_id is None or destination.message_id is None:
        why = Text(NO_CARD)
        return [], why, _START_OVER, False
    try:
        channel = client.get_partial_messageable(destination.channel_id)
        card = await channel.fetch_message(destination.message_id)
    except (discord.NotFound, discord.Forbidden):
        why = Text(CARD_GONE)
        return [], why, _START_OVER, False
    except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
        log.warning("Could not fetch the status card %s: %s", destination.message_id, exc)
        why, advice = Text(NO_FRESH_LINK), Text(TRY_AGAIN_SOON)
        return [], why, advice, True
    # Files over the upload limit (or that could not be copied) were never kept on the card.
    why = Text(NOT_ON_CARD)
    return list(card.attachments), why, _START_OVER, False


async def refresh_inputs(
    client: discord.Client, job: Job
) -> tuple[dict[str, Any], list[discord.Attachment]]:
    """``job.request`` with every Discord input link freshly signed, and the card files used.

    Discord's links expire about a day after they are signed; a job keeps its input files on
    its status card (see :func:`keep_on_card`), and fetching the card signs them again. An
    input that cannot be found there is refused with :class:`InputGoneError` naming it,
    before anything is sent or charged.
    """
    wanted = _discord_inputs(job.request)
    if not wanted:
        return dict(job.request), []
    attachments, why, advice, retryable = await _card_files(client, job.destination)
    # The same file keeps its path whatever the signature (matching by name could pick
    # another file of the same name).
    by_path = {_path(a.url): a for a in attachments}
    fresh: dict[str, discord.Attachment] = {}
    gone: list[Text] = []
    for name, url in wanted:
        found = by_path.get(_path(url))
        if found is None:
            gone.append(Text(INPUT_LABELS.get(name, ANY_INPUT), {"file": _filename(url)}))
        else:
            fresh[url] = found
    if gone:
        raise InputGoneError(
            INPUT_GONE,
            retryable=retryable,
            inputs=tuple(dict.fromkeys(gone)),
            job_id=job.id,
            why=why,
            advice=advice,
        )
    used = list({a.id: a for a in fresh.values()}.values())
    return map_urls(job.request, lambda url: fresh[url].url if url in fresh else url), used


class DiscordInputs:
    """The engine's input refresher (:class:`bot.jobs.InputRefresher`): right before a job that
    waited is sent, its Discord links are signed afresh from its status card; an input that is
    gone fails the job, with a message naming it, before anything is sent."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def refresh(self, job: Job) -> dict[str, Any]:
        try:
            request, _ = await refresh_inputs(self._client, job)
        except InputGoneError as error:
            raise InputUnavailableError(str(error), retryable=error.retryable) from error
        return request


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
