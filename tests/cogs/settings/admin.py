"""Driving /settings as a server admin, and /video as a member somewhere in the server, through
the Discord fake."""

from __future__ import annotations

from typing import Any

import discord

from bot.app import SeedanceBot
from tests.cogs.bots import ephemeral_texts
from tests.discord.fake import FakeDiscord
from tests.discord.harness import dispatch
from tests.discord.payloads import (
    MEMBER_PERMISSIONS,
    OptionValue,
    Payload,
    member_payload,
    role_payload,
    slash_command_interaction,
    text_channel_payload,
)
from tests.discord.world import EPHEMERAL

#: What the server's owner may do: manage the server, which /settings asks for.
ADMIN_PERMISSIONS = MEMBER_PERMISSIONS | discord.Permissions(manage_guild=True)


def settings_command(
    fake: FakeDiscord, subcommand: str, *, group: str | None = None, **options: Any
) -> Payload:
    """``/settings [group] subcommand options...``, asked by the server's owner."""
    return slash_command_interaction(
        "settings",
        subcommand=subcommand,
        group=group,
        options=options,
        channel=fake.text_channel,
        user=fake.owner_user,
        member_permissions=ADMIN_PERMISSIONS,
    )


async def admin(
    bot: SeedanceBot,
    fake: FakeDiscord,
    subcommand: str,
    *,
    group: str | None = None,
    **options: Any,
) -> str:
    """Run a /settings command as the owner; the private answer they saw."""
    ask = settings_command(fake, subcommand, group=group, **options)
    await dispatch(bot, ask)
    [text] = ephemeral_texts(fake, ask)
    return text


def member_command(
    fake: FakeDiscord,
    name: str,
    *,
    channel: Payload | None = None,
    user: Payload | None = None,
    roles: tuple[str, ...] = (),
    **options: Any,
) -> Payload:
    """``/name options...`` asked by a member (``fake.member_user`` by default, with ``roles``)
    in ``channel`` (the text channel by default)."""
    who = user or fake.member_user
    return slash_command_interaction(
        name,
        options=options,
        channel=channel or fake.text_channel,
        user=who,
        member=member_payload(who, roles=roles, permissions=MEMBER_PERMISSIONS),
    )


def private_texts(fake: FakeDiscord, interaction: Payload) -> list[str]:
    return ephemeral_texts(fake, interaction)


def public_messages(fake: FakeDiscord, channel: Payload | None = None) -> list[Payload]:
    """What everyone sees in ``channel`` (the text channel by default)."""
    return [m for m in fake.messages_in(channel or fake.text_channel) if not m["flags"] & EPHEMERAL]


def add_text_channel(fake: FakeDiscord, name: str) -> Payload:
    return fake.add_channel(text_channel_payload(name, guild_id=fake.guild["id"]))


def add_role(fake: FakeDiscord, name: str) -> Payload:
    """A role of the server, known to the bots attached (as GUILD_ROLE_CREATE tells them)."""
    role = role_payload(name, permissions=MEMBER_PERMISSIONS, position=1)
    fake.guild.setdefault("roles", []).append(role)
    fake.emit("GUILD_ROLE_CREATE", {"guild_id": fake.guild["id"], "role": role})
    return role


def role_option(role: Payload) -> OptionValue:
    return OptionValue(discord.AppCommandOptionType.role, role["id"], {"roles": {role["id"]: role}})
