"""Registers the slash commands with Discord at start-up, only when they changed.

Discord shows a bot's commands only after they were registered (``PUT .../commands``), and it
limits how many commands an application may create per day. So the payload discord.py would send
is hashed and compared with the hash of what was last registered for this application and scope
(kept in SQLite): a restart with an unchanged tree sends nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import discord
from discord import app_commands

from bot.storage import CommandRegistrationStore

log = logging.getLogger(__name__)


async def command_payload(
    tree: app_commands.CommandTree[Any], guild: discord.abc.Snowflake | None
) -> list[dict[str, Any]]:
    """The JSON ``CommandTree.sync`` would send for ``guild`` (``None``: global), translated."""
    commands = tree.get_commands(guild=guild)
    translator = tree.translator
    if translator is not None:
        return [await command.get_translated_payload(tree, translator) for command in commands]
    return [command.to_dict(tree) for command in commands]


def payload_digest(payload: list[dict[str, Any]]) -> str:
    """A stable digest: same commands, options and texts → same digest, whatever the order."""
    ordered = sorted(payload, key=lambda command: (command.get("type", 1), command["name"]))
    canonical = json.dumps(ordered, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def register_commands(
    tree: app_commands.CommandTree[Any],
    store: CommandRegistrationStore,
    *,
    application_id: int,
    guild_id: int | None = None,
) -> bool:
    """Sync the tree globally, or to ``guild_id`` only; returns whether anything was sent."""
    guild = discord.Object(id=guild_id) if guild_id is not None else None
    if guild is not None:
        # One server only: the same commands, registered where they show up at once.
        tree.copy_global_to(guild=guild)
    payload = await command_payload(tree, guild)
    digest = payload_digest(payload)
    scope = f"{application_id}:global" if guild_id is None else f"{application_id}:guild:{guild_id}"
    where = "globally" if guild_id is None else f"to server {guild_id}"
    if await store.digest(scope) == digest:
        log.info("Slash commands up to date (%d registered %s)", len(payload), where)
        return False
    synced = await tree.sync(guild=guild)
    await store.record(scope, digest, len(synced))
    log.info(
        "Registered %d slash command(s) %s: %s%s",
        len(synced),
        where,
        ", ".join(f"/{command.name}" for command in synced),
        " (new global commands can take a few minutes to appear in clients)"
        if guild_id is None
        else "",
    )
    return True
