"""Start-up failures an operator can act on, each turned into one sentence naming its cause."""

from __future__ import annotations

from pathlib import Path

import discord

from bot.storage import Database, DatabaseUnavailableError

#: What Discord's gateway close codes mean for an operator (discord.com/developers/docs/topics/
#: opcodes-and-status-codes#gateway-gateway-close-event-codes); discord.py reconnects on the others.
GATEWAY_CLOSE_CODES: dict[int, str] = {
    4004: "the token was rejected; copy a fresh one from the Bot page of the developer portal",
    4010: "an invalid shard was sent",
    4011: "the bot is in too many servers to run without sharding",
    4012: "an invalid gateway API version was asked for",
    4013: "invalid gateway intents were asked for",
    4014: (
        "the bot asks for a privileged intent that is not enabled; this bot needs none, so "
        "check that the token belongs to this bot"
    ),
}


class StartupError(Exception):
    """A failure to report as one line with its exit code (2: fix a setting; 1: other)."""

    def __init__(self, message: str, *, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


async def open_database(path: Path) -> Database:
    """The database at ``path``, or a :class:`StartupError` saying why it cannot be used."""
    try:
        return await Database.open(path)
    except DatabaseUnavailableError as exc:
        raise StartupError(
            f"DATABASE_PATH {exc.path}: {exc.reason}; point DATABASE_PATH at a writable file "
            "of this bot",
            exit_code=2,
        ) from exc


def describe_gateway_closure(error: discord.ConnectionClosed | None) -> str:
    """Why Discord closed the gateway for good; ``None`` for discord.py's own 4014 error."""
    code = 4014 if error is None else error.code
    reason = GATEWAY_CLOSE_CODES.get(code)
    if reason is None:
        detail = error.reason if error is not None and error.reason else "no reason given"
        reason = f"{detail}; try again later"
    return f"Discord closed the gateway connection (code {code}): {reason}"
