"""Drive a bot the way the gateway would: log it in against the fake, feed it interactions.

No gateway connection is ever made. :func:`start_bot` runs the real ``Client.login`` (which asks
the fake for ``/users/@me`` and the application, then runs ``setup_hook``) and fills the cache
with the fake's guilds. :func:`dispatch` hands an INTERACTION_CREATE payload to discord.py's own
``ConnectionState.parse_interaction_create``, so the command tree, views, dynamic items and
modals pick it up exactly as in production, and waits until their handlers are done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import discord
from discord.ext import commands

from bot.app import INTERACTION_TASK_PREFIXES
from tests.discord.fake import FakeDiscord
from tests.discord.payloads import Payload

#: Names discord.py gives the tasks that run interaction handlers: the list a stop waits for.
HANDLER_TASK_PREFIXES = INTERACTION_TASK_PREFIXES


def plain_bot(**options: object) -> commands.Bot:
    """A bare ``commands.Bot`` for tests that bring their own commands."""
    return commands.Bot(
        command_prefix=commands.when_mentioned,
        intents=discord.Intents.default(),
        help_command=None,
        **options,  # type: ignore[arg-type]
    )


async def start_bot(
    fake: FakeDiscord, bot: commands.Bot | None = None, *, extensions: Iterable[str] = ()
) -> commands.Bot:
    """Log ``bot`` in against ``fake``, run its ``setup_hook``, load ``extensions``, fill its cache."""
    bot = bot or plain_bot()
    try:
        await bot.login(fake.token)
        for name in extensions:
            await bot.load_extension(name)
    except BaseException:
        await bot.close()
        raise
    fake.attach(bot)
    # READY would set this; without it ``wait_until_ready()`` (e.g. in a tasks.loop) never returns.
    bot._ready.set()
    return bot


async def stop_bot(fake: FakeDiscord, bot: commands.Bot) -> None:
    """Close ``bot`` as shutdown would: extensions unloaded, HTTP session closed."""
    fake.detach(bot)
    await bot.close()


@dataclass
class Dispatched:
    """What came of one dispatched interaction."""

    payload: Payload
    #: The :class:`discord.Interaction` discord.py built from the payload.
    interaction: discord.Interaction | None
    #: Errors discord.py logged meanwhile ("Ignoring exception in command ...").
    errors: list[logging.LogRecord] = field(default_factory=list)


class _ErrorCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def dispatch(
    bot: commands.Bot,
    payload: Payload,
    *,
    fake: FakeDiscord | None = None,
    within: float = 5.0,
    raise_errors: bool = True,
    expect_handler: bool = True,
) -> Dispatched:
    """Feed an INTERACTION_CREATE payload to ``bot`` and wait for its handlers to finish.

    The fake learns the interaction's token first, so callbacks and follow-ups are accepted.
    Work a handler leaves to background tasks is not waited for: use ``fake.wait_for``.

    Raises ``AssertionError`` when discord.py logged an exception from a handler (unless
    ``raise_errors`` is false), when no command, view, dynamic item or modal took the
    interaction (unless ``expect_handler`` is false), or when handlers run past ``within``.
    """
    fake = fake or FakeDiscord.active()
    fake.register_interaction(payload)
    seen: list[discord.Interaction] = []

    async def remember(interaction: discord.Interaction) -> None:
        seen.append(interaction)

    collector = _ErrorCollector()
    discord_log = logging.getLogger("discord")
    discord_log.addHandler(collector)
    bot.add_listener(remember, "on_interaction")
    try:
        before = asyncio.all_tasks()
        bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        started = asyncio.all_tasks() - before
    finally:
        bot.remove_listener(remember, "on_interaction")
    try:
        if started:
            _, pending = await asyncio.wait(started, timeout=within)
            if pending:
                names = sorted(t.get_name() for t in pending)
                raise AssertionError(f"interaction handlers still running after {within}s: {names}")
    finally:
        discord_log.removeHandler(collector)

    result = Dispatched(payload, seen[0] if seen else None, collector.records)
    if expect_handler and not any(t.get_name().startswith(HANDLER_TASK_PREFIXES) for t in started):
        data = payload.get("data", {})
        what = data.get("name") or data.get("custom_id")
        raise AssertionError(
            f"nothing in the bot handles interaction type {payload['type']} {what!r}"
        )
    if raise_errors and result.errors:
        first = result.errors[0]
        cause = first.exc_info[1] if first.exc_info else None
        raise AssertionError(f"discord.py logged: {first.getMessage()}") from cause
    return result
