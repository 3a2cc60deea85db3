"""The in-memory Discord behind :class:`tests.discord.fake.FakeDiscord`: guilds, channels, messages.

Every object is kept as the JSON payload Discord would answer with, so what a test reads back
is exactly what the bot would have been told. Operations raise :class:`DiscordError` with
Discord's own status, code and message where Discord would refuse.
"""

from __future__ import annotations

import itertools
import mimetypes
from dataclasses import dataclass, field
from typing import Any

import discord

from tests.discord.payloads import (
    APPLICATION_ID,
    Payload,
    dm_channel_payload,
    iso_timestamp,
    member_payload,
    message_payload,
    snowflake,
    thread_payload,
    user_payload,
)

EPHEMERAL = discord.MessageFlags.ephemeral.flag
LOADING = discord.MessageFlags.loading.flag
HAS_THREAD = discord.MessageFlags.has_thread.flag
THREAD_TYPES = {discord.ChannelType.public_thread.value, discord.ChannelType.private_thread.value}
FORUM_TYPES = {discord.ChannelType.forum.value, discord.ChannelType.media.value}


class DiscordError(Exception):
    """A refusal as Discord words it: HTTP status plus ``{"message": ..., "code": ...}``."""

    def __init__(self, status: int, code: int, message: str, **extra: Any) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.body: Payload = {"message": message, "code": code, **extra}


def missing_permissions() -> DiscordError:
    return DiscordError(403, 50013, "Missing Permissions")


def unknown_channel() -> DiscordError:
    return DiscordError(404, 10003, "Unknown Channel")


def unknown_message() -> DiscordError:
    return DiscordError(404, 10008, "Unknown Message")


@dataclass
class Upload:
    """One uploaded file, as the bot sent it in ``files[n]``."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class Callback:
    """One answer to ``POST /interactions/{id}/{token}/callback``."""

    interaction_id: str
    token: str
    type: int
    data: Payload | None
    files: list[Upload]


@dataclass
class InteractionRecord:
    """An interaction the harness dispatched, and what the bot has done with its token."""

    payload: Payload
    received_at: float
    response_type: int | None = None
    original_id: str | None = None
    #: The original response and the follow-ups: the messages this token may edit.
    message_ids: list[str] = field(default_factory=list)
    expired: bool = False

    @property
    def channel_id(self) -> str:
        return str(self.payload["channel_id"])

    @property
    def user(self) -> Payload:
        member = self.payload.get("member")
        user: Payload = member["user"] if member else self.payload["user"]
        return user


@dataclass
class World:
    """Everything the fake Discord knows; payload dicts are live and change as the bot acts."""

    cdn_url: str = ""
    bot_user: Payload = field(
        default_factory=lambda: user_payload("Seedance", id=APPLICATION_ID, bot=True)
    )
    users: dict[str, Payload] = field(default_factory=dict)
    guilds: dict[str, Payload] = field(default_factory=dict)
    members: dict[tuple[str, str], Payload] = field(default_factory=dict)
    channels: dict[str, Payload] = field(default_factory=dict)
    messages: dict[str, Payload] = field(default_factory=dict)
    uploads: dict[str, Upload] = field(default_factory=dict)
    interactions: dict[str, InteractionRecord] = field(default_factory=dict)
    callbacks: list[Callback] = field(default_factory=list)
    commands: dict[str | None, list[Payload]] = field(default_factory=dict)
    deleted_channels: set[str] = field(default_factory=set)
    forbidden: dict[str, set[str]] = field(default_factory=dict)
    closed_dms: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.users[self.bot_user["id"]] = self.bot_user

    # -- look-ups ----------------------------------------------------------------------------

    def channel(self, channel_id: str) -> Payload:
        if channel_id in self.deleted_channels or channel_id not in self.channels:
            raise unknown_channel()
        return self.channels[channel_id]

    def message(self, channel_id: str, message_id: str) -> Payload:
        self.channel(channel_id)
        message = self.messages.get(message_id)
        if message is None or message["channel_id"] != channel_id:
            raise unknown_message()
        return message

    def guild_create_payload(self, guild_id: str) -> Payload:
        """The guild as GUILD_CREATE carries it, with its live channels, threads and members."""
        in_guild = [
            c
            for cid, c in self.channels.items()
            if c.get("guild_id") == guild_id and cid not in self.deleted_channels
        ]
        members = [m for (gid, _), m in self.members.items() if gid == guild_id]
        return {
            **self.guilds[guild_id],
            "channels": [c for c in in_guild if c["type"] not in THREAD_TYPES],
            "threads": [c for c in in_guild if c["type"] in THREAD_TYPES],
            "members": members,
            "member_count": len(members),
        }

    def check_allowed(self, channel_id: str, action: str) -> None:
        """Raise Missing Permissions when a test forbade ``action`` in the channel (or its parent)."""
        channel = self.channel(channel_id)
        for cid in (channel_id, channel.get("parent_id")):
            if cid is not None and action in self.forbidden.get(cid, set()):
                raise missing_permissions()

    # -- world building ----------------------------------------------------------------------

    def add_member(self, guild_id: str, user: Payload, *, roles: tuple[str, ...] = ()) -> Payload:
        self.users[user["id"]] = user
        member = member_payload(user, roles=roles)
        self.members[(guild_id, user["id"])] = member
        return member

    def open_dm(self, user_id: str) -> Payload:
        for channel in self.channels.values():
            is_dm = channel["type"] == discord.ChannelType.private.value
            if is_dm and channel["recipients"][0]["id"] == user_id:
                return channel
        if user_id not in self.users:
            raise DiscordError(400, 50033, "Invalid Recipient(s)")
        channel = dm_channel_payload(self.users[user_id])
        self.channels[channel["id"]] = channel
        return channel

    # -- messages ----------------------------------------------------------------------------

    def post_message(
        self,
        channel_id: str,
        body: Payload,
        uploads: list[Upload],
        *,
        id: str | None = None,
        **extra: Any,
    ) -> Payload:
        """Store a new message built from a create-message body, as Discord would answer it."""
        channel = self.channel(channel_id)
        message_id = id or snowflake()
        attachments = self._attachments(channel_id, [], body, uploads)
        message = message_payload(
            id=message_id,
            channel_id=channel_id,
            author=extra.pop("author", self.bot_user),
            content=body.get("content") or "",
            embeds=[self._embed(e, attachments) for e in body.get("embeds") or []],
            attachments=attachments,
            components=_numbered(body.get("components") or []),
            flags=body.get("flags") or 0,
            **extra,
        )
        if body.get("message_reference"):
            message["message_reference"] = body["message_reference"]
            message["type"] = discord.MessageType.reply.value
        if body.get("tts"):
            message["tts"] = True
        self.messages[message_id] = message
        channel["last_message_id"] = message_id
        if channel["type"] in THREAD_TYPES:
            channel["message_count"] += 1
            channel["total_message_sent"] += 1
        return message

    def edit_message(self, message: Payload, body: Payload, uploads: list[Upload]) -> Payload:
        """Apply an edit-message body: the fields present replace, ``attachments`` lists the kept."""
        if "content" in body:
            message["content"] = body["content"] or ""
        attachments = self._attachments(
            message["channel_id"], message["attachments"], body, uploads
        )
        message["attachments"] = attachments
        if "embeds" in body:
            message["embeds"] = [self._embed(e, attachments) for e in body["embeds"] or []]
        if "components" in body:
            message["components"] = _numbered(body["components"] or [])
        if body.get("flags") is not None:
            message["flags"] = (message["flags"] & ~discord.MessageFlags.suppress_embeds.flag) | (
                body["flags"]
            )
        message["flags"] &= ~LOADING
        message["edited_timestamp"] = iso_timestamp()
        return message

    def _attachments(
        self, channel_id: str, existing: list[Payload], body: Payload, uploads: list[Upload]
    ) -> list[Payload]:
        """Kept attachments plus one per uploaded file, matched by ``files[n]`` <-> ``id: n``."""
        by_field = {u.field: u for u in uploads}
        if "attachments" not in body or body["attachments"] is None:
            wanted: list[Payload] = [{"id": str(a["id"])} for a in existing]
            wanted += [{"id": i, "filename": u.filename} for i, u in enumerate(uploads)]
        else:
            wanted = body["attachments"]
        old = {a["id"]: a for a in existing}
        result = []
        for item in wanted:
            upload = by_field.get(f"files[{item['id']}]")
            if upload is not None:
                result.append(self._store_upload(channel_id, upload, item))
            elif str(item["id"]) in old:
                result.append(old[str(item["id"])])
        return result

    def _store_upload(self, channel_id: str, upload: Upload, item: Payload) -> Payload:
        attachment_id = snowflake()
        filename = item.get("filename") or upload.filename
        self.uploads[attachment_id] = upload
        url = f"{self.cdn_url}/attachments/{channel_id}/{attachment_id}/{filename}"
        attachment: Payload = {
            "id": attachment_id,
            "filename": filename,
            "size": len(upload.data),
            "url": url,
            "proxy_url": url,
            "content_type": mimetypes.guess_type(filename)[0] or upload.content_type,
            "flags": 0,
        }
        if item.get("description"):
            attachment["description"] = item["description"]
        return attachment

    def _embed(self, embed: Payload, attachments: list[Payload]) -> Payload:
        """Echo an embed as Discord does: ``type: rich``, no nulls, ``attachment://`` resolved."""
        echoed: Payload = {"type": "rich", **_without_nulls(embed)}
        for key in ("image", "thumbnail"):
            media = echoed.get(key)
            if isinstance(media, dict) and str(media.get("url", "")).startswith("attachment://"):
                name = media["url"].removeprefix("attachment://")
                match = next((a for a in attachments if a["filename"] == name), None)
                if match is not None:
                    echoed[key] = {**media, "url": match["url"], "proxy_url": match["proxy_url"]}
        return echoed

    # -- threads -----------------------------------------------------------------------------

    def start_thread_from_message(self, channel_id: str, message_id: str, body: Payload) -> Payload:
        """A public thread under a message; Discord gives it the message's id."""
        channel = self.channel(channel_id)
        message = self.message(channel_id, message_id)
        self.check_allowed(channel_id, "create_thread")
        if channel["type"] not in {0, 5}:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        if message["flags"] & EPHEMERAL:
            raise unknown_message()
        if message_id in self.channels:
            raise DiscordError(400, 160004, "A thread has already been created for this message")
        thread = self._new_thread(channel, body, id=message_id, type=11)
        message["thread"] = thread
        message["flags"] |= HAS_THREAD
        return thread

    def start_thread(self, channel_id: str, body: Payload, uploads: list[Upload]) -> Payload:
        """A thread without a message; in a forum, a post whose first message is ``body.message``."""
        channel = self.channel(channel_id)
        self.check_allowed(channel_id, "create_thread")
        if channel["type"] in FORUM_TYPES:
            if not body.get("message"):
                error = {"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}
                raise DiscordError(
                    400, 50035, "Invalid Form Body", errors={"message": {"_errors": [error]}}
                )
            thread = self._new_thread(channel, body, id=None, type=11)
            starter = self.post_message(thread["id"], body["message"], uploads, id=thread["id"])
            return {**thread, "message": starter}
        if channel["type"] not in {0, 5}:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        kind = body.get("type") or discord.ChannelType.private_thread.value
        return self._new_thread(channel, body, id=None, type=kind)

    def _new_thread(self, parent: Payload, body: Payload, *, id: str | None, type: int) -> Payload:
        thread = thread_payload(
            body["name"],
            id=id,
            type=type,
            guild_id=parent["guild_id"],
            parent_id=parent["id"],
            owner_id=self.bot_user["id"],
            auto_archive_duration=body.get("auto_archive_duration") or 1440,
            applied_tags=body.get("applied_tags") or (),
        )
        if body.get("rate_limit_per_user"):
            thread["rate_limit_per_user"] = body["rate_limit_per_user"]
        self.channels[thread["id"]] = thread
        return thread


def _numbered(components: list[Payload]) -> list[Payload]:
    """Components as Discord echoes them: numbered with an ``id`` (unless the bot set one),
    and without the ``null`` fields the bot sent (e.g. the ``id`` of a unicode emoji)."""
    counter = itertools.count(1)

    def number(component: Payload) -> Payload:
        copy = dict(component)
        copy["id"] = component.get("id") or next(counter)
        if isinstance(copy.get("components"), list):
            copy["components"] = [number(c) for c in copy["components"]]
        for key in ("component", "accessory"):
            if isinstance(copy.get(key), dict):
                copy[key] = number(copy[key])
        return copy

    return [number(_without_nulls(c)) for c in components]


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value
