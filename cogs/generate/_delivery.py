"""The engine's delivery port: status-card edits, results in the thread, and their fallbacks.

Everything here talks to Discord with the bot token (channel and thread messages, message
edits), never with an interaction's webhook: a result may arrive hours after the command, long
after the interaction token has expired. The one exception is a failure only its owner may see,
answered privately under their command while its token lives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import mimetypes
import tempfile
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiohttp
import discord

from bot.i18n import LocaleLike, t
from bot.jobs import DeliveryOutcome, Progress, ProgressKind
from bot.models import endpoint, endpoint_for
from bot.net import Downloader, DownloadOutcome
from bot.providers import CostEstimate
from bot.storage import Destination, Job
from cogs.generate._card import (
    PRIVATE_FAILURES,
    LinkReason,
    Media,
    media_kind,
    message_texts,
    result_embed,
    result_job_id,
    result_text,
    status_embed,
)

if TYPE_CHECKING:
    from bot.app import SeedanceBot

log = logging.getLogger(__name__)

#: Seconds between two edits of one job's status card.
CARD_EDIT_INTERVAL = 5.0
#: Discord lets a bot edit about this many messages per this many seconds in one channel: the
#: status cards of one channel share it, their edits spread out over the windows.
CHANNEL_EDITS = (5, 5.0)
#: How many recent messages a repeated delivery searches for the parts of a result already posted.
HISTORY_DEPTH = 50
#: Discord takes at most this many files in one message.
MAX_FILES = 10
_FINAL = frozenset({ProgressKind.FINISHED, ProgressKind.UNCERTAIN, ProgressKind.CANCELLED})
_MEDIA_SUFFIXES = frozenset({".mp4", ".mov", ".webm", ".png", ".jpg", ".jpeg", ".webp", ".gif"})

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


def upload_limit(
    *, interaction: discord.Interaction | None = None, guild: discord.Guild | None = None
) -> int:
    """The largest file the bot may upload: the limit Discord sent with the interaction where
    there is one, else the guild's, else Discord's default (DMs, guilds not in the cache)."""
    if interaction is not None:
        return interaction.filesize_limit  # the interaction's ``attachment_size_limit``
    if guild is not None:
        return guild.filesize_limit
    return discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES


def delivery_outcome(error: discord.HTTPException) -> DeliveryOutcome:
    """RETRY for what may pass (429, 5xx), else UNDELIVERABLE.

    Among the latter: 403 Missing Access (50001), Missing Permissions (50013), Cannot send
    messages to this user (50007); 404 Unknown Channel (10003); 400 Thread is archived (50083).
    """
    if error.status == 429 or error.status >= 500:
        return DeliveryOutcome.RETRY
    # 403 (Missing Access/Permissions, DMs closed), 404 (channel or thread deleted), 400 (an
    # archived thread, or a body Discord refuses): trying the same thing again cannot help.
    return DeliveryOutcome.UNDELIVERABLE


class ChannelPace:
    """At most ``limit`` card edits per ``window`` seconds in one channel, spread out rather than
    refused by Discord: an edit that would go over waits until the oldest leaves the window, and
    edits to final states go before the others waiting in the channel."""

    #: How often an edit that is not final lets a waiting final one go first.
    _YIELDS = 20

    def __init__(self, limit: int, window: float, *, clock: Clock, sleep: Sleep) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._sleep = sleep
        self._sent: dict[int, deque[float]] = {}
        self._finals_waiting = Counter[int]()

    async def take(self, channel_id: int | None, final: Callable[[], bool]) -> None:
        """Wait for a slot in ``channel_id``'s window and take it; ``final`` says (each time it
        is asked) whether the edit waiting is to a final state."""
        if channel_id is None:
            return
        waiting_final, yields = False, 0
        try:
            while True:
                now = self._clock()
                sent = self._sent.setdefault(channel_id, deque())
                while sent and now - sent[0] >= self._window:
                    sent.popleft()
                if final() and not waiting_final:
                    waiting_final = True
                    self._finals_waiting[channel_id] += 1
                if len(sent) < self._limit:
                    others_final = self._finals_waiting[channel_id] - waiting_final
                    if waiting_final or others_final <= 0 or yields >= self._YIELDS:
                        sent.append(now)
                        return
                    yields += 1
                    await asyncio.sleep(0)  # a final edit waiting in the channel goes first
                    continue
                await self._sleep(sent[0] + self._window - now)
        finally:
            if waiting_final:
                self._finals_waiting[channel_id] -= 1
                if self._finals_waiting[channel_id] <= 0:
                    del self._finals_waiting[channel_id]

    def forget_idle(self) -> None:
        """Drop the windows of channels with no edit in them any more."""
        now = self._clock()
        for channel_id, sent in list(self._sent.items()):
            if not sent or now - sent[-1] >= self._window:
                del self._sent[channel_id]


class CardThrottle:
    """At most one status-card edit per job every ``interval`` seconds; final states at once.
    The cards of one channel also share its edit limit (``channel_edits``: edits per seconds),
    so many cards in a channel have their edits spread out, final ones first.

    Updates arriving inside the window replace each other, so only the latest is sent when the
    window opens. ``publish`` never waits for Discord: each job's edits run in its own task.
    """

    def __init__(
        self,
        edit: Callable[[Progress], Awaitable[None]],
        *,
        interval: float = CARD_EDIT_INTERVAL,
        channel_edits: tuple[int, float] = CHANNEL_EDITS,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._edit = edit
        self._interval = interval
        self._clock = clock
        self._sleep = sleep
        self._pace = ChannelPace(*channel_edits, clock=clock, sleep=sleep)
        self._pending: dict[int, Progress] = {}
        self._wake: dict[int, asyncio.Event] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}

    def submit(self, progress: Progress) -> None:
        job_id = progress.job.id
        self._pending[job_id] = progress
        if job_id in self._workers:
            if progress.kind in _FINAL:
                self._wake[job_id].set()
            return
        self._wake[job_id] = asyncio.Event()
        task = asyncio.create_task(self._run(job_id), name=f"status-card-{job_id}")
        self._workers[job_id] = task
        task.add_done_callback(_log_crash)

    @property
    def busy(self) -> bool:
        """Whether any edit is waiting or running (for tests and shutdown)."""
        return bool(self._workers)

    async def aclose(self) -> None:
        """Drop updates not sent yet; called when the bot shuts down."""
        self._pending.clear()
        tasks = list(self._workers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, job_id: int) -> None:
        # The worker lives until the window after its last edit has passed, so the time of that
        # edit needs no bookkeeping outside it.
        last = -math.inf
        try:
            while True:
                progress = self._pending.get(job_id)
                now = self._clock()
                opens = last + self._interval
                if progress is None:
                    if now >= opens:
                        return
                    await self._wait(job_id, opens - now)
                    continue
                if progress.kind not in _FINAL and now < opens:
                    await self._wait(job_id, opens - now)
                    continue
                channel = progress.job.destination.channel_id
                await self._pace.take(channel, lambda: self._final_pending(job_id))
                # The latest update, which may have come while waiting for the channel.
                progress = self._pending.pop(job_id, progress)
                last = self._clock()
                try:
                    await self._edit(progress)
                except Exception:
                    log.exception("Editing the status card of job %d failed", job_id)
                if progress.kind in _FINAL and job_id not in self._pending:
                    return
        finally:
            self._workers.pop(job_id, None)
            self._wake.pop(job_id, None)
            self._pace.forget_idle()

    def _final_pending(self, job_id: int) -> bool:
        pending = self._pending.get(job_id)
        return pending is not None and pending.kind in _FINAL

    async def _wait(self, job_id: int, seconds: float) -> None:
        """Sleep ``seconds``, or less if a final update arrives meanwhile."""
        wake = self._wake[job_id]
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        woken = asyncio.ensure_future(wake.wait())
        try:
            await asyncio.wait({sleeper, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            woken.cancel()
            await asyncio.gather(sleeper, woken, return_exceptions=True)
        wake.clear()


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("Status card task %s crashed", task.get_name(), exc_info=task.exception())


class DiscordDelivery:
    """The engine's :class:`~bot.jobs.DeliveryPort` for Discord, over the bot token only."""

    def __init__(
        self,
        bot: SeedanceBot,
        *,
        views: Callable[[Job, LocaleLike], discord.ui.View | None] | None = None,
        card_views: Callable[[Job, LocaleLike], discord.ui.View | None] | None = None,
        card_interval: float = CARD_EDIT_INTERVAL,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        downloader: Downloader | None = None,
    ) -> None:
        self._bot = bot
        #: The buttons under a result (persistent views), if any, labelled in a language.
        self.views = views
        #: The buttons on the status card of a job still waiting to be sent (Cancel), if any;
        #: every other edit of a card takes them off. Labelled in the card's language.
        self.card_views = card_views
        #: Fetches result files: public https hosts only (tests put in one that admits loopback).
        #: Closed with this port.
        self.downloader = downloader or Downloader.from_settings(bot.settings)
        self.cards = CardThrottle(self._edit_card, interval=card_interval, clock=clock, sleep=sleep)
        #: Jobs whose card can no longer be edited (deleted, or no access): not tried again.
        self._lost_cards: set[int] = set()
        #: The command interaction each recent job came from, to answer its owner privately
        #: (ephemeral) while its token lives; dropped when the job is delivered or it expires.
        self._interactions: dict[int, discord.Interaction] = {}

    async def aclose(self) -> None:
        """Stop the status-card tasks and close the download session (when the bot shuts down)."""
        await self.cards.aclose()
        await self.downloader.aclose()

    # -- the status card -----------------------------------------------------------------------

    def estimate(self, job: Job) -> CostEstimate | None:
        """The documented price of the job's request, or None (unknown, or not published)."""
        try:
            request = endpoint(job.endpoint).request_model.parse(job.request)
            client = self._bot.clients.get(endpoint_for(request).provider)
            return client.estimate_cost(request) if client is not None else None
        except Exception:  # a card must never fail because of its price line
            log.debug("No cost estimate for job %d", job.id, exc_info=True)
            return None

    def status_card(self, job: Job, progress: Progress | None = None) -> discord.Embed:
        """The status card of ``job``: prompt, model, parameters, cost, state, in the language
        the job keeps for it (the server's for a public card, the owner's for a private one)."""
        return status_embed(job, progress, self.estimate(job), job.destination.locale)

    async def publish(self, event: Progress) -> None:
        destination = event.job.destination
        if destination.message_id is None or destination.channel_id is None:
            return
        try:
            self.cards.submit(event)
        except Exception:  # never into the engine
            log.exception("Could not queue a card update for job %d", event.job.id)

    async def _edit_card(self, progress: Progress) -> None:
        job = progress.job
        destination = job.destination
        if job.id in self._lost_cards:
            if progress.kind in _FINAL:
                self._lost_cards.discard(job.id)
            return
        assert destination.channel_id is not None
        assert destination.message_id is not None
        channel = self._bot.get_partial_messageable(
            destination.channel_id, guild_id=_guild_of(destination)
        )
        message = channel.get_partial_message(destination.message_id)
        try:
            if self.card_views is None:
                await message.edit(embed=self.status_card(job, progress))
            else:
                await message.edit(embed=self.status_card(job, progress), view=self._card_view(job))
        except (discord.Forbidden, discord.NotFound) as error:
            if progress.kind not in _FINAL:
                self._lost_cards.add(job.id)
            log.warning("Status card of job %d cannot be edited: %s", job.id, error)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
            log.warning("Status card of job %d not edited this time: %s", job.id, error)

    def _card_view(self, job: Job) -> discord.ui.View | None:
        """The card's buttons now: only while the job waits its turn in its owner's queue
        (looked at when the edit is made, so a job picked to be sent meanwhile gets none)."""
        if self.card_views is None or not self._bot.engine.waiting_turn(job.id):
            return None
        return self.card_views(job, job.destination.locale)

    # -- results -------------------------------------------------------------------------------

    def follow(self, job_id: int, interaction: discord.Interaction) -> None:
        """Remember the interaction ``job_id`` was asked with, for a private answer later."""
        for known, earlier in list(self._interactions.items()):
            if earlier.is_expired():
                del self._interactions[known]
        self._interactions[job_id] = interaction

    async def deliver(self, job: Job, *, repeat: bool) -> DeliveryOutcome:
        interaction = self._interactions.pop(job.id, None)
        if job.error_code in PRIVATE_FAILURES:
            # Only its owner can act on it (top up, link the key again), and it is about their
            # account: said privately; the public card only says it could not be started.
            if interaction is not None and not repeat and await self._tell(interaction, job):
                return DeliveryOutcome.DELIVERED
            return await self.deliver_fallback(job)
        destination = job.destination
        # The thread first; if it is gone, locked or closed to the bot, the channel it grew from.
        targets = list(
            dict.fromkeys(t for t in (destination.thread_id, destination.channel_id) if t)
        )
        outcome = DeliveryOutcome.UNDELIVERABLE
        for target in targets:
            channel = self._channel(target, _guild_of(destination))
            try:
                shown = await self._shown(channel, job) if repeat else Shown()
                if shown.complete:
                    log.info("Job %d was already posted in %d", job.id, target)
                    return DeliveryOutcome.DELIVERED
                if shown.header or shown.items:
                    log.info(
                        "Job %d was posted in part in %d (%d of %d results): posting the rest",
                        job.id, target, len(shown.items), shown.count,
                    )  # fmt: skip
                guild_id = _guild_of(destination)
                guild = self._bot.get_guild(guild_id) if guild_id else None
                limit = upload_limit(interaction=interaction, guild=guild)
                await self.send_result(channel, job, limit=limit, shown=shown)
            except discord.HTTPException as error:
                outcome = delivery_outcome(error)
                log.warning(
                    "Job %d not delivered in %d (HTTP %d, code %d): %s",
                    job.id, target, error.status, error.code, error.text,
                )  # fmt: skip
                if outcome is DeliveryOutcome.RETRY:
                    return outcome
                continue
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                log.warning("Job %d not delivered in %d: %r", job.id, target, error)
                return DeliveryOutcome.RETRY
            log.info("Job %d delivered in %d", job.id, target)
            return DeliveryOutcome.DELIVERED
        return outcome

    async def _tell(self, interaction: discord.Interaction, job: Job) -> bool:
        """Answer the job's own command privately (ephemeral); False when that is not possible."""
        if interaction.is_expired():
            return False
        locale = interaction.locale
        limit = upload_limit(interaction=interaction)
        text = message_texts(result_text(job, [], limit, mention=False, locale=locale))[0]
        try:
            await interaction.followup.send(text, embed=result_embed(job, locale), ephemeral=True)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError, OSError) as error:
            log.info("Job %d: no private answer to its command (%r); trying DMs", job.id, error)
            return False
        log.info("Job %d told to its owner privately", job.id)
        return True

    async def deliver_fallback(self, job: Job) -> DeliveryOutcome:
        """DM the owner the result, saying it could not be posted where it was asked for."""
        where = job.destination.thread_id or job.destination.channel_id
        # Only the owner reads a DM: in their own language.
        locale = job.destination.owner_locale
        note: str | None
        if job.error_code in PRIVATE_FAILURES:
            note = None  # meant for the owner alone: it says so itself
        elif where:
            mention = f"<#{where}>"
            note = t(
                locale,
                "I could not post this in {channel} (it is gone, or I may not post there), so "
                "here it is.",
                channel=mention,
            )
        else:
            note = t(locale, "I could not post this where you asked for it, so here it is.")
        try:
            user = self._bot.get_user(job.owner_id) or await self._bot.fetch_user(job.owner_id)
            dm = user.dm_channel or await user.create_dm()
            shown = await self._shown(dm, job)
            if shown.complete:
                return DeliveryOutcome.DELIVERED
            await self.send_result(
                dm,
                job,
                mention=False,
                note=note,
                limit=upload_limit(),
                shown=shown,
                locale=locale,
            )
        except discord.HTTPException as error:
            # Closed DMs (50007) and an unknown user stay that way: the job is kept for /jobs show.
            log.warning(
                "Job %d not delivered by DM (HTTP %d, code %d): %s",
                job.id, error.status, error.code, error.text,
            )  # fmt: skip
            return delivery_outcome(error)
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            log.warning("Job %d not delivered by DM: %r", job.id, error)
            return DeliveryOutcome.RETRY
        log.info("Job %d delivered to its owner by DM", job.id)
        return DeliveryOutcome.DELIVERED

    async def send_result(
        self,
        channel: discord.abc.Messageable,
        job: Job,
        *,
        mention: bool = True,
        note: str | None = None,
        limit: int,
        shown: Shown | None = None,
        locale: LocaleLike = None,
    ) -> None:
        """Post ``job``'s result in ``channel``: the message with the embed (the text, the
        buttons, the first 10 files), then the other files 10 a message; links for the rest.
        In ``locale``; None: the language the job keeps for its messages.

        ``shown`` is what an earlier attempt already posted there (see :meth:`_shown`): only
        what is missing is downloaded and posted, so nothing appears twice and nothing is left
        out when an attempt stopped between two messages. Raises what Discord raises; used by
        ``deliver`` and ``deliver_fallback``.
        """
        shown = shown or Shown()
        if locale is None:
            locale = job.destination.locale
        async with self._downloads(job, limit, skip=shown.items) as media:
            if shown.header:
                await self._send_rest(channel, job, media, limit, locale)
                return
            mentions = (
                discord.AllowedMentions(
                    users=[discord.Object(job.owner_id)], everyone=False, roles=False
                )
                if mention
                else discord.AllowedMentions.none()
            )
            embed = result_embed(job, locale)
            view = self.views(job, locale) if self.views is not None else None
            text = result_text(job, media, limit, mention=mention, locale=locale)
            lines = [*([note] if note else []), *text]
            files = [m for m in media if m.path is not None]
            uploads, more = files[:MAX_FILES], files[MAX_FILES:]
            try:
                await self._send(channel, lines, embed, uploads, mentions, view)
            except discord.HTTPException as error:
                if error.status != 413 or not uploads:
                    raise
            else:
                # Discord takes 10 files a message: the rest follow, 10 at a time.
                for start in range(0, len(more), MAX_FILES):
                    await self._send_more(
                        channel, job, media, more[start : start + MAX_FILES], limit, locale
                    )
                return
            # Discord refused the upload as a whole (the files together are too large).
            links = [
                replace(m, path=None, link_reason=LinkReason.TOGETHER_TOO_LARGE)
                if m.path is not None
                else m
                for m in media
            ]
            text = result_text(job, links, limit, mention=mention, locale=locale)
            lines = [*([note] if note else []), *text]
            await self._send(channel, lines, embed, [], mentions, view)

    async def _send_rest(
        self,
        channel: discord.abc.Messageable,
        job: Job,
        media: Sequence[Media],
        limit: int,
        locale: LocaleLike,
    ) -> None:
        """What is missing after the message with the embed: files 10 a message, then links."""
        files = [m for m in media if m.path is not None]
        for start in range(0, len(files), MAX_FILES):
            chunk = files[start : start + MAX_FILES]
            await self._send_more(channel, job, media, chunk, limit, locale)
        if any(m.link_reason is not None for m in media):
            # Only results missing here carry a link reason (those shown are placeholders).
            quiet = discord.AllowedMentions.none()
            lines = result_text(job, media, limit, mention=False, locale=locale)
            for text in message_texts(lines[1:]):
                await channel.send(text, allowed_mentions=quiet)

    async def _send(
        self,
        channel: discord.abc.Messageable,
        lines: Sequence[str],
        embed: discord.Embed,
        uploads: Sequence[Media],
        mentions: discord.AllowedMentions,
        view: discord.ui.View | None,
    ) -> discord.Message:
        first, *rest = message_texts(lines)
        files = [discord.File(m.path, filename=m.filename) for m in uploads if m.path]
        if view is None:
            message = await channel.send(first, embed=embed, files=files, allowed_mentions=mentions)
        else:
            message = await channel.send(
                first, embed=embed, files=files, allowed_mentions=mentions, view=view
            )
        for text in rest:  # links too long for one message
            await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
        return message

    async def _send_more(
        self,
        channel: discord.abc.Messageable,
        job: Job,
        media: Sequence[Media],
        chunk: Sequence[Media],
        limit: int,
        locale: LocaleLike,
    ) -> None:
        """Files beyond the first message's 10; links instead if Discord refuses them together."""
        files = [discord.File(m.path, filename=m.filename) for m in chunk if m.path]
        quiet = discord.AllowedMentions.none()
        try:
            await channel.send(files=files, allowed_mentions=quiet)
            return
        except discord.HTTPException as error:
            if error.status != 413:
                raise
        in_chunk = {id(m) for m in chunk}
        links = [
            replace(m, path=None, link_reason=LinkReason.TOGETHER_TOO_LARGE)
            if id(m) in in_chunk
            else replace(m, link_reason=None)
            for m in media
        ]
        lines = result_text(job, links, limit, mention=False, locale=locale)
        for text in message_texts(lines[1:]):
            await channel.send(text, allowed_mentions=quiet)

    async def _shown(self, channel: discord.abc.Messageable, job: Job) -> Shown:
        """What of ``job``'s result the bot's recent messages in ``channel`` already show.

        Every message of a result says what it holds: the first one carries the result embed
        (footer ``Job #<id>``), each uploaded file is named after the job and its place in the
        result (``job-12-11.png``, see :func:`result_stem`), and a link is the result's URL in
        the text. So a repeat finds the parts posted before a crash or a refused message, also
        those posted by an earlier version of the bot.
        """
        urls = paid_result_urls(job)
        stems = {result_stem(job.id, index, len(urls)): index for index in range(len(urls))}
        header = False
        items: set[int] = set()
        me = self._bot.user
        try:
            async for message in channel.history(limit=HISTORY_DEPTH):
                if message.id == job.destination.message_id:
                    continue  # the status card
                if me is not None and message.author.id != me.id:
                    continue
                if any(result_job_id(embed) == job.id for embed in message.embeds):
                    header = True
                for attachment in message.attachments:
                    index = stems.get(Path(attachment.filename).stem)
                    if index is not None:
                        items.add(index)
                words = set(message.content.split())
                items.update(index for index, url in enumerate(urls) if url in words)
        except discord.Forbidden:
            # Without Read Message History the check is impossible; a duplicate beats a loss.
            log.warning("Cannot read history of %s to check job %d", channel, job.id)
            return Shown(count=len(urls))
        return Shown(header=header, items=frozenset(items), count=len(urls))

    def _channel(self, channel_id: int, guild_id: int | None) -> discord.abc.Messageable:
        cached = self._bot.get_channel(channel_id)
        if isinstance(cached, discord.abc.Messageable):
            return cached
        return self._bot.get_partial_messageable(channel_id, guild_id=guild_id)

    # -- media ---------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _downloads(
        self, job: Job, limit: int, *, skip: frozenset[int] = frozenset()
    ) -> AsyncIterator[list[Media]]:
        """Every paid result, in order; those in ``skip`` (already posted) are neither fetched
        nor posted again: placeholders without a file or a link reason."""
        urls = paid_result_urls(job)
        with tempfile.TemporaryDirectory(prefix=f"job-{job.id}-") as directory:
            media = []
            for index, url in enumerate(urls):
                stem = result_stem(job.id, index, len(urls))
                if index in skip:
                    media.append(Media(url, stem))
                else:
                    media.append(await self._download(url, Path(directory), stem, job, limit))
            yield media

    async def _download(self, url: str, directory: Path, stem: str, job: Job, limit: int) -> Media:
        """Stream ``url`` to a file in ``directory`` (public https hosts only, at most ``limit``
        bytes); a link, with the reason, when that cannot be done."""
        kind = media_kind(job)

        def place(content_type: str | None) -> Path:
            return directory / _filename(stem, url, content_type, kind)

        got = await self.downloader.fetch(url, limit=limit, place=place)
        name = _filename(stem, url, got.content_type, kind)
        if got.outcome is DownloadOutcome.SAVED and got.path is not None:
            return Media(url, got.path.name, path=got.path, size=got.size)
        if got.outcome is DownloadOutcome.TOO_LARGE:
            return Media(url, name, size=got.size, link_reason=LinkReason.TOO_LARGE)
        log.warning("Job %d: media not downloaded (%s): %s", job.id, got.outcome, got.detail)
        return Media(url, name, link_reason=LinkReason.UNREACHABLE)


@dataclass(frozen=True)
class Shown:
    """What of a job's result a channel already shows, as a repeated delivery found it."""

    #: The message with the result embed (the text, the buttons and the first files).
    header: bool = False
    #: Paid results already there, uploaded or linked (0-based, as in :func:`paid_result_urls`).
    items: frozenset[int] = frozenset()
    #: How many results were paid for.
    count: int = 0

    @property
    def complete(self) -> bool:
        return self.header and self.items >= frozenset(range(self.count))


def _guild_of(destination: Destination) -> int | None:
    """The server the job's messages are in: none for a private job, whose card and result are
    in its owner's DMs (with a DM's upload limit), though the job belongs to a server."""
    return None if destination.private else destination.guild_id


def result_stem(job_id: int, index: int, count: int) -> str:
    """The file name (without suffix) of result ``index`` (0-based) of ``count``; it says which
    job and which result a file posted in Discord is."""
    return f"job-{job_id}" if count == 1 else f"job-{job_id}-{index + 1}"


def paid_result_urls(job: Job) -> list[str]:
    """The result URLs the member paid for, in order: one video, or at most ``batch_count``
    images (1 when the request has none). More in a provider's answer are ignored."""
    if job.video_url:
        return [job.video_url]
    count = job.request.get("batch_count", 1)
    paid = count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 1
    return list(dict.fromkeys(job.image_urls))[:paid]


def _filename(stem: str, url: str, content_type: str | None, kind: str) -> str:
    suffix = Path(urlsplit(url).path).suffix.lower()
    if suffix not in _MEDIA_SUFFIXES:
        guessed = mimetypes.guess_extension(content_type or "") if content_type else None
        suffix = guessed if guessed in _MEDIA_SUFFIXES else (".mp4" if kind == "video" else ".png")
    return f"{stem}{suffix}"
