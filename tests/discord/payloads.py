"""Builders for the JSON Discord really sends: users, guilds, channels, messages and interactions.

Shapes follow Discord's docs and discord.py's ``discord/types``; every id is a snowflake string
whose timestamp is "now". The interaction builders make INTERACTION_CREATE payloads to feed
through :func:`tests.discord.harness.dispatch`; channels and users come from the fake's world
(``fake.text_channel``, ``fake.member_user``) or from the builders here.
"""

from __future__ import annotations

import base64
import itertools
import mimetypes
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import discord

Payload = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000
#: Since 2016 a bot's user id and its application id are the same snowflake.
APPLICATION_ID = "1180000000000000001"
BOT_TOKEN = "MTE4MDAwMDAwMDAwMDAwMDAwMQ.GfAkEx.fake-token-for-tests-only-0000000000000"
#: What the README's invite link grants: the bot's permissions in an ordinary channel.
INVITE_PERMISSIONS = discord.Permissions(309237763072)
#: What a plain member may do in an ordinary channel.
MEMBER_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    add_reactions=True,
    use_external_emojis=True,
    use_application_commands=True,
)
#: Discord's upload limit for an interaction in a server without boosts (10 MiB).
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

_sequence = itertools.count(1)


def snowflake() -> str:
    """A fresh, unique snowflake whose timestamp is now."""
    now_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return str((now_ms << 22) | (next(_sequence) & 0x3FFFFF))


def iso_timestamp(of: str | None = None) -> str:
    """Discord's timestamp format; the creation time of snowflake ``of``, or now."""
    if of is not None:
        when = datetime.fromtimestamp(((int(of) >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)
    else:
        when = datetime.now(UTC)
    return when.isoformat(timespec="microseconds")


# -- users, guilds and channels --------------------------------------------------------------


def user_payload(
    username: str = "alice",
    *,
    id: str | None = None,
    global_name: str | None = None,
    bot: bool = False,
) -> Payload:
    user: Payload = {
        "id": id or snowflake(),
        "username": username,
        "global_name": global_name,
        "discriminator": "0",
        "avatar": None,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
        "collectibles": None,
        "primary_guild": None,
    }
    if bot:
        user["bot"] = True
    return user


def member_payload(
    user: Payload,
    *,
    roles: Iterable[str] = (),
    nick: str | None = None,
    permissions: discord.Permissions | None = None,
) -> Payload:
    """A guild member; ``permissions`` (their rights in the channel) only inside interactions."""
    member: Payload = {
        "user": user,
        "nick": nick,
        "avatar": None,
        "banner": None,
        "roles": list(roles),
        "joined_at": iso_timestamp(),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": None,
        "unusual_dm_activity_until": None,
    }
    if permissions is not None:
        member["permissions"] = str(permissions.value)
    return member


def role_payload(
    name: str, *, id: str | None = None, permissions: discord.Permissions, position: int = 0
) -> Payload:
    return {
        "id": id or snowflake(),
        "name": name,
        "description": None,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions.value),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def guild_payload(
    name: str = "Test Server",
    *,
    owner_id: str,
    id: str | None = None,
    everyone_permissions: discord.Permissions = MEMBER_PERMISSIONS,
    roles: Sequence[Payload] = (),
    channels: Sequence[Payload] = (),
    threads: Sequence[Payload] = (),
    members: Sequence[Payload] = (),
) -> Payload:
    """A GUILD_CREATE payload; the ``@everyone`` role shares the guild's id, as in Discord."""
    guild_id = id or snowflake()
    everyone = role_payload("@everyone", id=guild_id, permissions=everyone_permissions)
    return {
        "id": guild_id,
        "name": name,
        "icon": None,
        "description": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "features": [],
        "owner_id": owner_id,
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "roles": [everyone, *roles],
        "emojis": [],
        "stickers": [],
        "mfa_level": 0,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "nsfw": False,
        "max_members": 500_000,
        "joined_at": iso_timestamp(),
        "large": False,
        "unavailable": False,
        "member_count": len(members),
        "members": list(members),
        "channels": list(channels),
        "threads": list(threads),
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def text_channel_payload(
    name: str = "general",
    *,
    guild_id: str,
    id: str | None = None,
    position: int = 0,
    parent_id: str | None = None,
    topic: str | None = None,
) -> Payload:
    return {
        "id": id or snowflake(),
        "type": discord.ChannelType.text.value,
        "guild_id": guild_id,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "parent_id": parent_id,
        "topic": topic,
        "nsfw": False,
        "last_message_id": None,
        "last_pin_timestamp": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }


def forum_channel_payload(
    name: str = "media", *, guild_id: str, id: str | None = None, position: int = 1
) -> Payload:
    channel = text_channel_payload(name, guild_id=guild_id, id=id, position=position)
    channel.update(
        type=discord.ChannelType.forum.value,
        available_tags=[],
        default_reaction_emoji=None,
        default_sort_order=None,
        default_forum_layout=0,
        default_thread_rate_limit_per_user=0,
        default_auto_archive_duration=1440,
    )
    return channel


def thread_payload(
    name: str,
    *,
    guild_id: str,
    parent_id: str,
    owner_id: str,
    id: str | None = None,
    type: int = discord.ChannelType.public_thread.value,
    auto_archive_duration: int = 1440,
    applied_tags: Sequence[str] = (),
) -> Payload:
    thread_id = id or snowflake()
    metadata: Payload = {
        "archived": False,
        "auto_archive_duration": auto_archive_duration,
        "archive_timestamp": iso_timestamp(),
        "locked": False,
        "create_timestamp": iso_timestamp(),
    }
    if type == discord.ChannelType.private_thread.value:
        metadata["invitable"] = True
    return {
        "id": thread_id,
        "type": type,
        "guild_id": guild_id,
        "parent_id": parent_id,
        "owner_id": owner_id,
        "name": name,
        "last_message_id": None,
        "last_pin_timestamp": None,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "total_message_sent": 0,
        "flags": 0,
        "applied_tags": list(applied_tags),
        "thread_metadata": metadata,
    }


def dm_channel_payload(recipient: Payload, *, id: str | None = None) -> Payload:
    return {
        "id": id or snowflake(),
        "type": discord.ChannelType.private.value,
        "last_message_id": None,
        "last_pin_timestamp": None,
        "flags": 0,
        "recipients": [recipient],
    }


# -- messages --------------------------------------------------------------------------------


def attachment_payload(
    filename: str,
    *,
    id: str | None = None,
    size: int = 1024,
    content_type: str | None = None,
    url: str | None = None,
    channel_id: str = "0",
    width: int | None = None,
    height: int | None = None,
    ephemeral: bool = False,
) -> Payload:
    """An attachment; a slash command's upload is ``ephemeral`` and lives under its own path."""
    attachment_id = id or snowflake()
    folder = "ephemeral-attachments" if ephemeral else "attachments"
    signed = (
        f"?ex={int(time.time()) + 86_400:x}&is={int(time.time()):x}&hm={secrets.token_hex(32)}&"
    )
    path = f"{folder}/{channel_id}/{attachment_id}/{filename}"
    attachment: Payload = {
        "id": attachment_id,
        "filename": filename,
        "size": size,
        "url": url or f"https://cdn.discordapp.com/{path}{signed}",
        "proxy_url": url or f"https://media.discordapp.net/{path}{signed}",
        "content_type": content_type
        or mimetypes.guess_type(filename)[0]
        or "application/octet-stream",
        "flags": 0,
    }
    if width is not None and height is not None:
        attachment.update(width=width, height=height)
    if ephemeral:
        attachment["ephemeral"] = True
    return attachment


def message_payload(
    *,
    channel_id: str,
    author: Payload,
    content: str = "",
    id: str | None = None,
    embeds: Sequence[Payload] = (),
    attachments: Sequence[Payload] = (),
    components: Sequence[Payload] = (),
    type: int = discord.MessageType.default.value,
    flags: int = 0,
    **extra: Any,
) -> Payload:
    """A message as Discord answers it; ``extra`` adds e.g. ``webhook_id`` or ``interaction_metadata``."""
    message_id = id or snowflake()
    message: Payload = {
        "id": message_id,
        "channel_id": channel_id,
        "type": type,
        "author": author,
        "content": content,
        "timestamp": iso_timestamp(message_id),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": list(attachments),
        "embeds": list(embeds),
        "components": list(components),
        "pinned": False,
        "flags": flags,
    }
    message.update(extra)
    return message


# -- interactions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OptionValue:
    """An option value whose type cannot be told from the Python value (a role, a mentionable)."""

    type: discord.AppCommandOptionType
    value: Any
    resolved: Mapping[str, Mapping[str, Payload]] | None = None


def slash_command_interaction(
    name: str,
    *,
    channel: Payload,
    user: Payload,
    options: Mapping[str, Any] | None = None,
    subcommand: str | None = None,
    group: str | None = None,
    command_id: str | None = None,
    command_guild_id: str | None = None,
    member: Payload | None = None,
    member_permissions: discord.Permissions = MEMBER_PERMISSIONS,
    app_permissions: discord.Permissions = INVITE_PERMISSIONS,
    locale: str = "en-US",
    guild_locale: str = "en-US",
) -> Payload:
    """A CHAT_INPUT command, e.g. ``/video prompt:"a cat" image:<attachment>``.

    ``options`` maps names to values: ``str``, ``int``, ``float``, ``bool``, an
    :func:`attachment_payload`, a :func:`user_payload`, a channel payload, or an
    :class:`OptionValue`. Attachments, users and channels also land in ``data.resolved``.
    """
    guild_id = channel.get("guild_id")
    resolved: dict[str, dict[str, Payload]] = {}
    values = [_option(key, value, resolved, guild_id) for key, value in (options or {}).items()]
    data = _command_data(name, _nest(values, subcommand, group), command_id, command_guild_id)
    if resolved:
        data["resolved"] = resolved
    return _interaction(
        discord.InteractionType.application_command,
        data,
        channel=channel,
        user=user,
        member=member,
        member_permissions=member_permissions,
        app_permissions=app_permissions,
        locale=locale,
        guild_locale=guild_locale,
    )


def autocomplete_interaction(
    name: str,
    *,
    focused: str,
    value: str,
    channel: Payload,
    user: Payload,
    focused_type: discord.AppCommandOptionType = discord.AppCommandOptionType.string,
    options: Mapping[str, Any] | None = None,
    subcommand: str | None = None,
    group: str | None = None,
    command_id: str | None = None,
    locale: str = "en-US",
) -> Payload:
    """The user is typing ``value`` into option ``focused``; the other ``options`` are filled."""
    guild_id = channel.get("guild_id")
    resolved: dict[str, dict[str, Payload]] = {}
    values = [_option(k, v, resolved, guild_id) for k, v in (options or {}).items()]
    values.append({"type": focused_type.value, "name": focused, "value": value, "focused": True})
    data = _command_data(name, _nest(values, subcommand, group), command_id, None)
    return _interaction(
        discord.InteractionType.autocomplete, data, channel=channel, user=user, locale=locale
    )


def component_interaction(
    message: Payload,
    custom_id: str,
    *,
    channel: Payload,
    user: Payload,
    values: Sequence[str] | None = None,
    resolved: Mapping[str, Any] | None = None,
    app_permissions: discord.Permissions = INVITE_PERMISSIONS,
    locale: str = "en-US",
) -> Payload:
    """A click on the button (or a choice in the select) ``custom_id`` of ``message``."""
    component = find_component(message, custom_id)
    data: Payload = {"custom_id": custom_id, "component_type": component["type"]}
    if "id" in component:
        data["id"] = component["id"]
    if values is not None:
        data["values"] = list(values)
    if resolved:
        data["resolved"] = dict(resolved)
    return _interaction(
        discord.InteractionType.component,
        data,
        channel=channel,
        user=user,
        message=message,
        app_permissions=app_permissions,
        locale=locale,
    )


def modal_submit_interaction(
    custom_id: str,
    *,
    channel: Payload,
    user: Payload,
    values: Mapping[str, str | Sequence[str]] | None = None,
    components: Sequence[Payload] | None = None,
    message: Payload | None = None,
    resolved: Mapping[str, Any] | None = None,
    locale: str = "en-US",
) -> Payload:
    """The user submitted modal ``custom_id``.

    ``values`` maps each field's custom id to its text (a text input) or to the chosen values
    (a string select); each is wrapped in a Label, as discord.py 2.7 modals send them. Pass
    ``components`` instead for anything else (build them with :func:`label`).
    """
    if components is None:
        ids = itertools.count(1)
        components = [
            label(
                text_input_value(field, value, id=0)
                if isinstance(value, str)
                else select_value(field, value, id=0),
                ids=ids,
            )
            for field, value in (values or {}).items()
        ]
    data: Payload = {"custom_id": custom_id, "components": list(components)}
    if resolved:
        data["resolved"] = dict(resolved)
    return _interaction(
        discord.InteractionType.modal_submit,
        data,
        channel=channel,
        user=user,
        message=message,
        locale=locale,
    )


def label(component: Payload, *, ids: Iterator[int] | None = None) -> Payload:
    """A Label (type 18) around one submitted component; numbered as Discord numbers them."""
    ids = ids or itertools.count(1)
    label_id = next(ids)
    return {"type": 18, "id": label_id, "component": {**component, "id": next(ids)}}


def text_input_value(custom_id: str, value: str, *, id: int = 0) -> Payload:
    return {
        "type": discord.ComponentType.text_input.value,
        "id": id,
        "custom_id": custom_id,
        "value": value,
    }


def select_value(
    custom_id: str,
    values: Sequence[str],
    *,
    component_type: discord.ComponentType = discord.ComponentType.string_select,
    id: int = 0,
) -> Payload:
    return {"type": component_type.value, "id": id, "custom_id": custom_id, "values": list(values)}


def find_component(message: Payload, custom_id: str) -> Payload:
    """The component of ``message`` (at any depth) whose custom id is ``custom_id``."""
    stack: list[Payload] = list(message.get("components", []))
    while stack:
        component = stack.pop(0)
        if component.get("custom_id") == custom_id:
            return component
        stack.extend(component.get("components", []))
        for key in ("component", "accessory"):
            if isinstance(component.get(key), dict):
                stack.append(component[key])
    raise LookupError(f"message {message['id']} has no component with custom_id {custom_id!r}")


def _interaction(
    kind: discord.InteractionType,
    data: Payload,
    *,
    channel: Payload,
    user: Payload,
    message: Payload | None = None,
    member: Payload | None = None,
    member_permissions: discord.Permissions = MEMBER_PERMISSIONS,
    app_permissions: discord.Permissions = INVITE_PERMISSIONS,
    locale: str = "en-US",
    guild_locale: str = "en-US",
) -> Payload:
    interaction_id = snowflake()
    guild_id = channel.get("guild_id")
    payload: Payload = {
        "id": interaction_id,
        "application_id": APPLICATION_ID,
        "type": kind.value,
        "data": data,
        "token": _interaction_token(interaction_id),
        "version": 1,
        "channel": dict(channel),
        "channel_id": channel["id"],
        "app_permissions": str(app_permissions.value),
        "locale": locale,
        "entitlements": [],
        # Installed to the guild; "0" stands for the bot's own DMs.
        "authorizing_integration_owners": {"0": guild_id or "0"},
        "context": 0 if guild_id else 1,
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    }
    if guild_id:
        payload["guild_id"] = guild_id
        payload["guild"] = {"id": guild_id, "locale": guild_locale, "features": []}
        payload["guild_locale"] = guild_locale
        payload["member"] = member or member_payload(user, permissions=member_permissions)
    else:
        payload["user"] = user
    if message is not None:
        payload["message"] = message
    return payload


def _interaction_token(interaction_id: str) -> str:
    raw = f"interaction:{interaction_id}:{secrets.token_urlsafe(96)}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _command_data(
    name: str, options: list[Payload], command_id: str | None, guild_id: str | None
) -> Payload:
    data: Payload = {"id": command_id or snowflake(), "name": name, "type": 1}
    if options:
        data["options"] = options
    if guild_id:
        data["guild_id"] = guild_id
    return data


def _nest(options: list[Payload], subcommand: str | None, group: str | None) -> list[Payload]:
    if subcommand is not None:
        options = [{"type": 1, "name": subcommand, "options": options}]
    if group is not None:
        options = [{"type": 2, "name": group, "options": options}]
    return options


def _option(
    name: str, value: Any, resolved: dict[str, dict[str, Payload]], guild_id: str | None
) -> Payload:
    kind = discord.AppCommandOptionType
    if isinstance(value, OptionValue):
        for section, items in (value.resolved or {}).items():
            resolved.setdefault(section, {}).update(items)
        return {"type": value.type.value, "name": name, "value": value.value}
    if isinstance(value, bool):
        return {"type": kind.boolean.value, "name": name, "value": value}
    if isinstance(value, int):
        return {"type": kind.integer.value, "name": name, "value": value}
    if isinstance(value, float):
        return {"type": kind.number.value, "name": name, "value": value}
    if isinstance(value, str):
        return {"type": kind.string.value, "name": name, "value": value}
    if isinstance(value, dict) and "filename" in value:
        resolved.setdefault("attachments", {})[value["id"]] = value
        return {"type": kind.attachment.value, "name": name, "value": value["id"]}
    if isinstance(value, dict) and "username" in value:
        resolved.setdefault("users", {})[value["id"]] = value
        if guild_id:
            member = member_payload(value, permissions=MEMBER_PERMISSIONS)
            del member["user"]
            resolved.setdefault("members", {})[value["id"]] = member
        return {"type": kind.user.value, "name": name, "value": value["id"]}
    if isinstance(value, dict) and "type" in value and "name" in value:
        partial = {k: v for k, v in value.items() if k != "permission_overwrites"}
        partial["permissions"] = str(MEMBER_PERMISSIONS.value)
        resolved.setdefault("channels", {})[value["id"]] = partial
        return {"type": kind.channel.value, "name": name, "value": value["id"]}
    raise TypeError(f"cannot tell the option type of {name}={value!r}; wrap it in OptionValue")
