"""The Discord REST routes :class:`tests.discord.fake.FakeDiscord` answers, with Discord's JSON.

Each handler takes the recorded request and returns a :class:`Reply`, or raises
:class:`~tests.discord.world.DiscordError` where Discord would refuse.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tests.discord.payloads import APPLICATION_ID, Payload, iso_timestamp, snowflake
from tests.discord.world import (
    EPHEMERAL,
    FORUM_TYPES,
    LOADING,
    Callback,
    DiscordError,
    InteractionRecord,
    Upload,
    World,
    unknown_message,
)

#: Callback types Discord accepts for each interaction type.
ALLOWED_CALLBACKS = {
    2: {4, 5, 9, 12},  # application command
    3: {4, 5, 6, 7, 9, 12},  # message component
    4: {8},  # autocomplete
    5: {4, 5, 6, 7},  # modal submit (6 and 7 only when it came from a message)
}
_TRUE = {"1", "true", "True"}
#: Parts of GUILD_CREATE that ``GET /guilds/{id}`` does not carry.
GATEWAY_ONLY_GUILD_FIELDS = {
    "members",
    "channels",
    "threads",
    "voice_states",
    "presences",
    "joined_at",
    "large",
    "unavailable",
    "member_count",
    "stage_instances",
    "guild_scheduled_events",
    "soundboard_sounds",
}


@dataclass
class Reply:
    """What a route answers: a status and a JSON body (``None`` for 204)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RecordedRequest:
    """One request the bot made, with the body it sent and the answer it got."""

    method: str
    path: str
    #: The spec's path template, e.g. ``/channels/{channel_id}/messages``.
    route: str | None
    operation_id: str | None
    query: dict[str, str]
    headers: dict[str, str]
    #: The JSON body, or a multipart request's ``payload_json``.
    json: Any
    files: list[Upload]
    params: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    response: Any = None


Handler = Callable[[RecordedRequest], Awaitable[Reply]]


class RoutesMixin:
    """Route handlers over :attr:`world`; mixed into FakeDiscord."""

    world: World
    response_window: float | None
    schema_errors: list[str]

    def emit(self, event: str, data: Payload) -> None:
        raise NotImplementedError

    def route_table(self) -> list[tuple[str, str, Handler]]:
        webhook_message = "/webhooks/{application_id}/{token}/messages/{message_id}"
        message = "/channels/{channel_id}/messages/{message_id}"
        return [
            ("GET", "/users/@me", self._get_me),
            ("POST", "/users/@me/channels", self._open_dm),
            ("GET", "/users/{user_id}", self._get_user),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/applications/@me", self._get_application),
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("GET", "/applications/{application_id}/commands", self._get_commands),
            ("PUT", "/applications/{application_id}/commands", self._put_commands),
            (
                "GET",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self._get_commands,
            ),
            (
                "PUT",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self._put_commands,
            ),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._callback),
            ("POST", "/webhooks/{application_id}/{token}", self._followup),
            ("GET", webhook_message, self._get_webhook_message),
            ("PATCH", webhook_message, self._edit_webhook_message),
            ("DELETE", webhook_message, self._delete_webhook_message),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("GET", "/channels/{channel_id}/messages", self._list_messages),
            ("POST", "/channels/{channel_id}/messages", self._create_message),
            ("GET", message, self._get_message),
            ("PATCH", message, self._edit_message),
            ("DELETE", message, self._delete_message),
            ("POST", message + "/threads", self._thread_from_message),
            ("POST", "/channels/{channel_id}/threads", self._create_thread),
            ("PUT", "/channels/{channel_id}/thread-members/{user_id}", self._no_content),
            ("POST", "/channels/{channel_id}/typing", self._no_content),
            ("GET", "/guilds/{guild_id}", self._get_guild),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member),
        ]

    # -- the bot and its application ---------------------------------------------------------

    async def _get_me(self, request: RecordedRequest) -> Reply:
        return Reply(
            200, {**self.world.bot_user, "mfa_enabled": False, "locale": "en-US", "verified": True}
        )

    async def _get_user(self, request: RecordedRequest) -> Reply:
        user = self.world.users.get(request.params["user_id"])
        if user is None:
            raise DiscordError(404, 10013, "Unknown User")
        return Reply(200, user)

    async def _get_application(self, request: RecordedRequest) -> Reply:
        owner = next(u for u in self.world.users.values() if not u.get("bot"))
        return Reply(200, _application(self.world.bot_user, owner))

    async def _get_gateway_bot(self, request: RecordedRequest) -> Reply:
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        # The fake's own gateway (tests.discord.gateway), on the same port as this API.
        gateway_url = self.world.cdn_url.replace("http://", "ws://", 1) + "/gateway"
        return Reply(200, {"url": gateway_url, "shards": 1, "session_start_limit": limit})

    async def _get_commands(self, request: RecordedRequest) -> Reply:
        return Reply(200, self.world.commands.get(request.params.get("guild_id"), []))

    async def _put_commands(self, request: RecordedRequest) -> Reply:
        guild_id = request.params.get("guild_id")
        old = {(c["name"], c["type"]): c["id"] for c in self.world.commands.get(guild_id, [])}
        stored = []
        for command in request.json:
            kind = command.get("type") or 1
            echoed = {
                "description": "",
                "default_member_permissions": None,
                "nsfw": False,
                **{k: v for k, v in command.items() if v is not None},
                "id": old.get((command["name"], kind)) or snowflake(),
                "application_id": APPLICATION_ID,
                "version": snowflake(),
                "type": kind,
            }
            if echoed["default_member_permissions"] is not None:
                # Sent as an integer or a string; Discord answers with a string.
                echoed["default_member_permissions"] = str(echoed["default_member_permissions"])
            if guild_id:
                echoed["guild_id"] = guild_id
            stored.append(echoed)
        self.world.commands[guild_id] = stored
        return Reply(200, stored)

    # -- interactions ------------------------------------------------------------------------

    async def _callback(self, request: RecordedRequest) -> Reply:
        record = self.world.interactions.get(request.params["token"])
        late = (
            record is not None
            and self.response_window is not None
            and time.monotonic() - record.received_at > self.response_window
        )
        if record is None or record.payload["id"] != request.params["interaction_id"]:
            raise DiscordError(404, 10062, "Unknown interaction")
        if record.expired or late:
            raise DiscordError(404, 10062, "Unknown interaction")
        if record.response_type is not None:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        kind, data = request.json["type"], request.json.get("data")
        self._check_callback_type(record, kind)
        if kind == 4:
            _require_content(data or {}, request.files)
        self.world.callbacks.append(
            Callback(record.payload["id"], record.payload["token"], kind, data, request.files)
        )
        record.response_type = kind
        message = self._apply_callback(record, kind, data or {}, request.files)
        if request.query.get("with_response") not in _TRUE:
            return Reply(204)
        return Reply(200, self._callback_response(record, kind, message))

    def _check_callback_type(self, record: InteractionRecord, kind: int) -> None:
        interaction_type = record.payload["type"]
        allowed = ALLOWED_CALLBACKS.get(interaction_type, set())
        if interaction_type == 5 and "message" not in record.payload:
            allowed = allowed - {6, 7}
        if kind not in allowed:
            problem = f"callback type {kind} is not valid for interaction type {interaction_type}"
            self.schema_errors.append(f"POST /interactions/.../callback: {problem}")
            error = {"code": "INTERACTION_CALLBACK_TYPE_INVALID", "message": problem}
            raise DiscordError(
                400, 50035, "Invalid Form Body", errors={"type": {"_errors": [error]}}
            )

    def _apply_callback(
        self, record: InteractionRecord, kind: int, data: Payload, files: list[Upload]
    ) -> Payload | None:
        if kind in (4, 5):
            body = data if kind == 4 else {"flags": (data.get("flags") or 0) | LOADING}
            message = self.world.post_message(
                record.channel_id, body, files, **_interaction_extra(record, response=True)
            )
            record.original_id = message["id"]
            record.message_ids.append(message["id"])
            return message
        if kind in (6, 7) and "message" in record.payload:
            original = self.world.messages[record.payload["message"]["id"]]
            record.original_id = original["id"]
            record.message_ids.append(original["id"])
            if kind == 7:
                return self.world.edit_message(original, data, files)
        return None

    def _callback_response(
        self, record: InteractionRecord, kind: int, message: Payload | None
    ) -> Payload:
        interaction: Payload = {"id": record.payload["id"], "type": record.payload["type"]}
        if record.original_id is not None:
            original = self.world.messages[record.original_id]
            interaction["response_message_id"] = record.original_id
            interaction["response_message_loading"] = bool(original["flags"] & LOADING)
            interaction["response_message_ephemeral"] = bool(original["flags"] & EPHEMERAL)
        answer: Payload = {"interaction": interaction}
        if kind in (4, 7) and message is not None:
            answer["resource"] = {"type": kind, "message": message}
        return answer

    def _webhook_interaction(self, request: RecordedRequest) -> InteractionRecord:
        if request.params["application_id"] != APPLICATION_ID:
            raise DiscordError(404, 10015, "Unknown Webhook")
        record = self.world.interactions.get(request.params["token"])
        if record is None or record.expired:
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        if record.response_type is None:
            raise DiscordError(404, 10015, "Unknown Webhook")
        return record

    async def _followup(self, request: RecordedRequest) -> Reply:
        record = self._webhook_interaction(request)
        body = request.json or {}
        _require_content(body, request.files)
        self.world.channel(record.channel_id)
        original = self.world.messages.get(record.original_id or "")
        if original is not None and original["flags"] & LOADING:
            # Discord: the first follow-up after a deferral replaces the "thinking..." message,
            # which keeps the ephemeral flag the deferral chose.
            ephemeral = original["flags"] & EPHEMERAL
            message = self.world.edit_message(original, body, request.files)
            message["flags"] = (message["flags"] & ~EPHEMERAL) | ephemeral
        else:
            extra = _interaction_extra(record, response=False)
            message = self.world.post_message(record.channel_id, body, request.files, **extra)
            record.message_ids.append(message["id"])
        if request.query.get("wait") in _TRUE:
            return Reply(200, message)
        return Reply(204)

    def _webhook_message(self, request: RecordedRequest) -> Payload:
        record = self._webhook_interaction(request)
        message_id = request.params["message_id"]
        if message_id == "@original":
            message_id = record.original_id or ""
        if message_id not in record.message_ids or message_id not in self.world.messages:
            raise unknown_message()
        message = self.world.messages[message_id]
        self.world.channel(message["channel_id"])
        return message

    async def _get_webhook_message(self, request: RecordedRequest) -> Reply:
        return Reply(200, self._webhook_message(request))

    async def _edit_webhook_message(self, request: RecordedRequest) -> Reply:
        message = self._webhook_message(request)
        return Reply(200, self.world.edit_message(message, request.json or {}, request.files))

    async def _delete_webhook_message(self, request: RecordedRequest) -> Reply:
        message = self._webhook_message(request)
        del self.world.messages[message["id"]]
        return Reply(204)

    # -- channels and messages ---------------------------------------------------------------

    async def _get_channel(self, request: RecordedRequest) -> Reply:
        channel_id = request.params["channel_id"]
        channel = self.world.channel(channel_id)
        self._check_readable(channel_id)
        return Reply(200, channel)

    async def _list_messages(self, request: RecordedRequest) -> Reply:
        channel_id = request.params["channel_id"]
        self.world.channel(channel_id)
        self._check_readable(channel_id)
        limit = int(request.query.get("limit", "50"))
        visible = [
            m
            for m in self.world.messages.values()
            if m["channel_id"] == channel_id and not m["flags"] & EPHEMERAL
        ]
        return Reply(200, list(reversed(visible))[:limit])

    async def _create_message(self, request: RecordedRequest) -> Reply:
        channel_id = request.params["channel_id"]
        channel = self.world.channel(channel_id)
        if channel["type"] == 1 and channel["recipients"][0]["id"] in self.world.closed_dms:
            raise DiscordError(403, 50007, "Cannot send messages to this user")
        self.world.check_allowed(channel_id, "send")
        if channel["type"] in FORUM_TYPES:
            raise DiscordError(400, 50008, "Cannot send messages in a non-text channel")
        body = dict(request.json or {})
        _require_content(body, request.files)
        # Only interaction responses can be ephemeral; Discord drops the flag elsewhere.
        body["flags"] = (body.get("flags") or 0) & ~EPHEMERAL
        return Reply(200, self.world.post_message(channel_id, body, request.files))

    def _channel_message(self, request: RecordedRequest) -> Payload:
        message = self.world.message(request.params["channel_id"], request.params["message_id"])
        if message["flags"] & EPHEMERAL:
            raise unknown_message()
        return message

    async def _get_message(self, request: RecordedRequest) -> Reply:
        self._check_readable(request.params["channel_id"])
        return Reply(200, self._channel_message(request))

    async def _edit_message(self, request: RecordedRequest) -> Reply:
        message = self._channel_message(request)
        if message["author"]["id"] != self.world.bot_user["id"]:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        return Reply(200, self.world.edit_message(message, request.json or {}, request.files))

    async def _delete_message(self, request: RecordedRequest) -> Reply:
        message = self._channel_message(request)
        if message["author"]["id"] != self.world.bot_user["id"]:
            raise DiscordError(403, 50013, "Missing Permissions")
        del self.world.messages[message["id"]]
        return Reply(204)

    async def _thread_from_message(self, request: RecordedRequest) -> Reply:
        thread = self.world.start_thread_from_message(
            request.params["channel_id"], request.params["message_id"], request.json or {}
        )
        self.emit("THREAD_CREATE", {**thread, "newly_created": True})
        return Reply(201, thread)

    async def _create_thread(self, request: RecordedRequest) -> Reply:
        thread = self.world.start_thread(
            request.params["channel_id"], request.json or {}, request.files
        )
        self.emit(
            "THREAD_CREATE",
            {**{k: v for k, v in thread.items() if k != "message"}, "newly_created": True},
        )
        return Reply(201, thread)

    async def _open_dm(self, request: RecordedRequest) -> Reply:
        return Reply(200, self.world.open_dm(str((request.json or {}).get("recipient_id"))))

    async def _no_content(self, request: RecordedRequest) -> Reply:
        self.world.channel(request.params["channel_id"])
        return Reply(204)

    def _check_readable(self, channel_id: str) -> None:
        channel = self.world.channel(channel_id)
        for cid in (channel_id, channel.get("parent_id")):
            if cid is not None and "read" in self.world.forbidden.get(cid, set()):
                raise DiscordError(403, 50001, "Missing Access")

    # -- guilds ------------------------------------------------------------------------------

    async def _get_guild(self, request: RecordedRequest) -> Reply:
        guild = self.world.guilds.get(request.params["guild_id"])
        if guild is None:
            raise DiscordError(404, 10004, "Unknown Guild")
        return Reply(200, {k: v for k, v in guild.items() if k not in GATEWAY_ONLY_GUILD_FIELDS})

    async def _get_member(self, request: RecordedRequest) -> Reply:
        member = self.world.members.get((request.params["guild_id"], request.params["user_id"]))
        if member is None:
            raise DiscordError(404, 10007, "Unknown Member")
        return Reply(200, member)


def _require_content(body: Payload, files: list[Upload]) -> None:
    fields = ("content", "embeds", "components", "sticker_ids", "poll")
    if not files and not any(body.get(key) for key in fields):
        raise DiscordError(400, 50006, "Cannot send an empty message")


def _interaction_extra(record: InteractionRecord, *, response: bool) -> dict[str, Any]:
    """The fields Discord adds to a message sent through an interaction's token."""
    payload = record.payload
    metadata: Payload = {
        "id": payload["id"],
        "type": payload["type"],
        "user": record.user,
        "authorizing_integration_owners": payload["authorizing_integration_owners"],
    }
    if payload["type"] == 3:
        metadata["interacted_message_id"] = payload["message"]["id"]
    if payload["type"] == 5:
        trigger: Payload = {k: metadata[k] for k in ("user", "authorizing_integration_owners")}
        trigger["id"] = snowflake()
        if "message" in payload:
            trigger.update(type=3, interacted_message_id=payload["message"]["id"])
        else:
            trigger["type"] = 2
        metadata["triggering_interaction_metadata"] = trigger
    if not response and record.original_id is not None:
        metadata["original_response_message_id"] = record.original_id
    extra: dict[str, Any] = {
        "webhook_id": APPLICATION_ID,
        "application_id": APPLICATION_ID,
        "interaction_metadata": metadata,
    }
    if payload["type"] == 2 and response:
        extra["type"] = 20  # CHAT_INPUT_COMMAND
        extra["interaction"] = {
            "id": payload["id"],
            "type": 2,
            "name": payload["data"]["name"],
            "user": record.user,
        }
    return extra


def _application(bot_user: Payload, owner: Payload) -> Payload:
    return {
        "id": APPLICATION_ID,
        "name": bot_user["username"],
        "icon": None,
        "description": "",
        "type": None,
        "bot": bot_user,
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "flags": 0,
        "flags_new": "0",
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "owner": owner,
        "team": None,
        "approximate_guild_count": 1,
        "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 0,
        "explicit_content_filter": 0,
        "eligible_oauth2_scopes": [],
        "summary": "",
        "rpc_origins": [],
        "tags": [],
        "created_at": iso_timestamp(APPLICATION_ID),
    }
