"""A local stand-in for https://discord.com/api/v10, for driving the bot with real discord.py objects.

``async with FakeDiscord() as fake`` serves the API on 127.0.0.1 and points discord.py's
``Route.BASE`` at it, so every REST call the bot makes (bot token, interaction callbacks and
webhooks) lands here. The fake keeps a small world (see :mod:`tests.discord.world`) with one
guild, a text channel, a forum and two members ready to use, logs every request, checks every
JSON body against Discord's OpenAPI spec (refusing an invalid one with 400/50035, as Discord
does) and fails on demand: :meth:`forbid`, :meth:`delete_channel`, :meth:`close_dms`,
:meth:`expire_interaction`, :meth:`fail` and :meth:`rate_limit`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, TypeVar

import aiohttp
import discord
from aiohttp import web
from discord.http import Route

from tests.clock import eventually
from tests.discord.gateway import FakeGateway
from tests.discord.payloads import (
    BOT_TOKEN,
    Payload,
    attachment_payload,
    forum_channel_payload,
    guild_payload,
    text_channel_payload,
    user_payload,
)
from tests.discord.routes import RecordedRequest, Reply, RoutesMixin
from tests.discord.schema import DiscordApiSpec, Problem, load_spec
from tests.discord.world import (
    Callback,
    DiscordError,
    InteractionRecord,
    Upload,
    World,
)

API_PREFIX = "/api/v10"
T = TypeVar("T")
#: A Discord object given as its payload, its id, or a discord.py object with an ``id``.
Ref = Payload | str | int | discord.abc.Snowflake


def id_of(ref: Ref) -> str:
    if isinstance(ref, dict):
        return str(ref["id"])
    if isinstance(ref, str | int):
        return str(ref)
    return str(ref.id)


@dataclass
class ScriptedFailure:
    """An answer given instead of the real one, to the next ``times`` matching requests
    (after letting the first ``after`` of them through)."""

    method: str
    route: str
    reply: Reply
    times: int
    after: int = 0

    def matches(self, request: RecordedRequest) -> bool:
        return self.method == request.method and self.route in (request.route, request.path)


class FakeDiscord(RoutesMixin):
    """Discord's REST API on 127.0.0.1, with a world to read back and failures to inject."""

    _active: ClassVar[FakeDiscord | None] = None

    def __init__(self, *, token: str = BOT_TOKEN, response_window: float | None = 3.0) -> None:
        self.token = token
        #: Seconds the bot has to answer an interaction (Discord: 3); ``None`` turns it off.
        self.response_window = response_window
        self.world = World()
        #: The gateway a bot running in another process connects to (see ``GET /gateway/bot``).
        self.gateway = FakeGateway(self.world)
        self.requests: list[RecordedRequest] = []
        #: Bodies the bot sent that Discord's spec rejects; the harness fails a test on any.
        self.schema_errors: list[str] = []
        #: Answers of this fake that the spec does not allow: bugs in the fake itself.
        self.response_schema_errors: list[str] = []
        #: Requests no route here answers; add the route rather than ignore them.
        self.unhandled: list[str] = []
        self.spec: DiscordApiSpec = load_spec()
        self.url = ""
        self.api_url = ""
        self._failures: list[ScriptedFailure] = []
        self._delays: dict[tuple[str, str], float] = {}
        self._bots: list[discord.Client] = []
        self._runner: web.AppRunner | None = None
        self._saved_base = Route.BASE
        self._build_default_world()

    # -- the ready-made world ----------------------------------------------------------------

    def _build_default_world(self) -> None:
        self.owner_user = user_payload("owner")
        self.member_user = user_payload("alice", global_name="Alice")
        self.guild = guild_payload("Test Server", owner_id=self.owner_user["id"])
        self.world.guilds[self.guild["id"]] = self.guild
        for user in (self.world.bot_user, self.owner_user, self.member_user):
            self.world.add_member(self.guild["id"], user)
        self.text_channel = self.add_channel(text_channel_payload(guild_id=self.guild["id"]))
        self.forum_channel = self.add_channel(forum_channel_payload(guild_id=self.guild["id"]))

    def add_channel(self, channel: Payload) -> Payload:
        """Add a guild channel (or thread) to the world and to every attached bot's cache."""
        self.world.channels[channel["id"]] = channel
        kind = "THREAD_CREATE" if channel["type"] in (10, 11, 12) else "CHANNEL_CREATE"
        self.emit(kind, channel)
        return channel

    def add_user(self, username: str, *, member: bool = True) -> Payload:
        """A new user, by default also a member of :attr:`guild`."""
        user = user_payload(username)
        self.world.users[user["id"]] = user
        if member:
            self.emit(
                "GUILD_MEMBER_ADD",
                {**self.world.add_member(self.guild["id"], user), "guild_id": self.guild["id"]},
            )
        return user

    def host_attachment(
        self, filename: str, data: bytes, *, content_type: str | None = None
    ) -> Payload:
        """A slash command upload whose URL this fake serves, so ``Attachment.read()`` works."""
        attachment = attachment_payload(
            filename, size=len(data), content_type=content_type, ephemeral=True
        )
        url = f"{self.url}/attachments/0/{attachment['id']}/{filename}"
        attachment.update(url=url, proxy_url=url)
        upload = Upload("", filename, attachment["content_type"], data)
        self.world.uploads[attachment["id"]] = upload
        return attachment

    def dm_channel(self, user: Ref) -> Payload:
        """The DM channel between the bot and ``user`` (opened if need be)."""
        return self.world.open_dm(id_of(user))

    # -- attached bots -----------------------------------------------------------------------

    def attach(self, bot: discord.Client) -> None:
        """Put the world's guilds into ``bot``'s cache, as READY + GUILD_CREATE would."""
        for guild_id in self.world.guilds:
            bot._connection._add_guild_from_data(self.world.guild_create_payload(guild_id))  # type: ignore[arg-type]
        self._bots.append(bot)

    def detach(self, bot: discord.Client) -> None:
        if bot in self._bots:
            self._bots.remove(bot)

    def emit(self, event: str, data: Payload) -> None:
        """Send a gateway event to every running attached bot through discord.py's own parser."""
        self._bots = [bot for bot in self._bots if not bot.is_closed()]
        for bot in self._bots:
            getattr(bot._connection, f"parse_{event.lower()}")(data)

    # -- reading back what Discord received --------------------------------------------------

    def channel(self, channel: Ref) -> Payload:
        """A channel, thread or DM of the world, e.g. ``fake.channel(message["channel_id"])``."""
        return self.world.channels[id_of(channel)]

    @property
    def callbacks(self) -> list[Callback]:
        return self.world.callbacks

    def callbacks_for(self, interaction: Payload) -> list[Callback]:
        return [c for c in self.world.callbacks if c.interaction_id == interaction["id"]]

    def original_response(self, interaction: Payload) -> Payload | None:
        """The message ``@original`` stands for, after the bot answered ``interaction``."""
        record = self.world.interactions.get(interaction["token"])
        if record is None or record.original_id is None:
            return None
        return self.world.messages.get(record.original_id)

    def messages_in(self, channel: Ref) -> list[Payload]:
        """Messages in a channel, oldest first (ephemeral ones included, flagged 64)."""
        channel_id = id_of(channel)
        return [m for m in self.world.messages.values() if m["channel_id"] == channel_id]

    def files_of(self, message: Payload) -> list[Upload]:
        """The uploaded files behind a message's attachments, in order."""
        return [
            self.world.uploads[a["id"]]
            for a in message["attachments"]
            if a["id"] in self.world.uploads
        ]

    def threads_of(self, channel: Ref) -> list[Payload]:
        channel_id = id_of(channel)
        return [
            c
            for c in self.world.channels.values()
            if c.get("parent_id") == channel_id and c["type"] in (11, 12)
        ]

    def requests_to(self, method: str, route: str) -> list[RecordedRequest]:
        """Requests by method and spec template (``/channels/{channel_id}/messages``) or path."""
        return [r for r in self.requests if r.method == method and route in (r.route, r.path)]

    async def wait_for(self, condition: Callable[[], T], *, within: float = 3.0) -> T:
        """Poll until ``condition()`` is truthy (for work the bot does in background tasks)."""
        return await eventually(condition, within=within)

    # -- failures ----------------------------------------------------------------------------

    def forbid(self, channel: Ref, *actions: str) -> None:
        """Make the bot lack permissions in a channel (and its threads): 403 / 50013.

        ``actions``: ``send`` (post messages), ``create_thread``, ``read`` (GET the channel
        and its messages); none given means all three.
        """
        channel_id = id_of(channel)
        self.world.forbidden.setdefault(channel_id, set()).update(
            actions or ("send", "create_thread", "read")
        )

    def delete_channel(self, channel: Ref) -> None:
        """Delete a channel and its threads: everything about them answers 404 / 10003."""
        channel_id = id_of(channel)
        doomed = [channel_id, *(t["id"] for t in self.threads_of(channel_id))]
        for cid in doomed:
            self.world.deleted_channels.add(cid)
            data = self.world.channels[cid]
            self.emit("THREAD_DELETE" if data["type"] in (11, 12) else "CHANNEL_DELETE", data)

    def close_dms(self, user: Ref) -> None:
        """The user blocks DMs from server members: sending there answers 403 / 50007."""
        self.world.closed_dms.add(id_of(user))

    def expire_interaction(self, interaction: Payload) -> None:
        """Fast-forward past the 15-minute token: callbacks 404 / 10062, webhooks 401 / 50027."""
        self.world.interactions[interaction["token"]].expired = True

    def fail(
        self,
        method: str,
        route: str,
        *,
        status: int = 503,
        code: int = 0,
        message: str = "Service Unavailable",
        times: int = 1,
        after: int = 0,
    ) -> None:
        """Answer the next ``times`` requests to ``route`` with an error, once ``after`` more
        have been answered normally (``after=1``: the second message of a result fails).

        Note that discord.py itself retries 500, 502, 504 and 524 with sleeps of 1 s, 3 s, ...;
        503 is raised at once, which keeps tests fast.
        """
        body = {"message": message, "code": code}
        self._failures.append(ScriptedFailure(method, route, Reply(status, body), times, after))

    def delay(self, method: str, route: str, *, seconds: float) -> None:
        """Answer every request to ``route`` only after ``seconds`` (a slow Discord)."""
        self._delays[(method, route)] = seconds

    def rate_limit(
        self,
        method: str,
        route: str,
        *,
        retry_after: float = 0.05,
        times: int = 1,
        is_global: bool = False,
    ) -> None:
        """Answer 429 like Discord (body, ``Retry-After``, bucket headers, ``Via``)."""
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": is_global,
        }
        headers = {
            "Retry-After": str(max(1, round(retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Bucket": "fakebucket",
            "X-RateLimit-Scope": "global" if is_global else "user",
            "Via": "1.1 google",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        self._failures.append(ScriptedFailure(method, route, Reply(429, body, headers), times))

    # -- interactions ------------------------------------------------------------------------

    def register_interaction(self, payload: Payload) -> InteractionRecord:
        """Remember an interaction about to be dispatched, so its token works here."""
        message = payload.get("message")
        if message is not None:
            self.world.messages.setdefault(message["id"], message)
        record = InteractionRecord(payload, received_at=time.monotonic())
        self.world.interactions[payload["token"]] = record
        return record

    # -- the server --------------------------------------------------------------------------

    @classmethod
    def active(cls) -> FakeDiscord:
        """The fake discord.py currently talks to."""
        if cls._active is None:
            raise RuntimeError("no FakeDiscord is running")
        return cls._active

    async def __aenter__(self) -> FakeDiscord:
        if FakeDiscord._active is not None:
            raise RuntimeError("only one FakeDiscord can run at a time: Route.BASE is global")
        app = web.Application(client_max_size=64 * 1024 * 1024)
        for method, path, handler in self.route_table():
            app.router.add_route(method, API_PREFIX + path, partial(self._serve, handler))
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._cdn)
        self.gateway.add_routes(app)
        app.router.add_route("*", "/{tail:.*}", partial(self._serve, None))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self.api_url = self.url + API_PREFIX
        self.world.cdn_url = self.url
        self._saved_base = Route.BASE
        Route.BASE = self.api_url
        FakeDiscord._active = self
        return self

    async def __aexit__(self, *exc: object) -> None:
        Route.BASE = self._saved_base
        FakeDiscord._active = None
        if self._runner is not None:
            await self._runner.cleanup()

    async def _cdn(self, request: web.Request) -> web.Response:
        upload = self.world.uploads.get(request.match_info["attachment_id"])
        if upload is None:
            return web.Response(status=404)
        return web.Response(body=upload.data, content_type=upload.content_type)

    async def _serve(
        self, handler: Callable[[RecordedRequest], Awaitable[Reply]] | None, request: web.Request
    ) -> web.Response:
        recorded = await self._record(request)
        for (method, route), seconds in self._delays.items():
            if method == recorded.method and route in (recorded.route, recorded.path):
                await asyncio.sleep(seconds)
        reply = self._refusal(recorded)
        if reply is None and handler is None:
            self.unhandled.append(f"{recorded.method} {recorded.path}")
            reply = Reply(404, {"message": "404: Not Found", "code": 0})
        if reply is None:
            assert handler is not None
            try:
                reply = await handler(recorded)
            except DiscordError as error:
                reply = Reply(error.status, error.body)
        self._check_answer(recorded, reply)
        recorded.status, recorded.response = reply.status, reply.body
        if reply.body is None:
            return web.Response(status=reply.status, headers=reply.headers)
        # Exactly "application/json": discord.py only decodes JSON under that header.
        headers = {**reply.headers, "Content-Type": "application/json"}
        return web.Response(
            body=json.dumps(reply.body).encode(), status=reply.status, headers=headers
        )

    async def _record(self, request: web.Request) -> RecordedRequest:
        body: Any = None
        files: list[Upload] = []
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                assert isinstance(part, aiohttp.BodyPartReader)
                data = bytes(await part.read())
                if part.name == "payload_json":
                    body = json.loads(data)
                else:
                    content_type = part.headers.get("Content-Type", "application/octet-stream")
                    files.append(Upload(part.name or "", part.filename or "", content_type, data))
        elif request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if raw else None
        path = request.path.removeprefix(API_PREFIX)
        op = self.spec.operation(request.method, path)
        recorded = RecordedRequest(
            method=request.method,
            path=path,
            route=op.template if op else None,
            operation_id=op.operation_id if op else None,
            query=dict(request.query),
            headers=dict(request.headers),
            json=body,
            files=files,
            params=dict(request.match_info),
        )
        self.requests.append(recorded)
        return recorded

    def _refusal(self, request: RecordedRequest) -> Reply | None:
        """Discord's answer when the token, the body or a scripted failure stops the request."""
        # Interaction callbacks and webhooks are authorised by the token in their path.
        uses_bot_token = not request.path.startswith(("/interactions/", "/webhooks/"))
        if uses_bot_token and request.headers.get("Authorization") != f"Bot {self.token}":
            return Reply(401, {"message": "401: Unauthorized", "code": 0})
        op = self.spec.operation(request.method, request.path)
        problems = [] if op is None else self.spec.request_errors(op, request.json)
        if problems:
            self.schema_errors += [f"{request.method} {request.route}: {p}" for p in problems]
            return Reply(400, invalid_form_body(problems))
        for failure in self._failures:
            if failure.matches(request):
                if failure.after > 0:
                    failure.after -= 1
                    continue
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure.reply
        return None

    def _check_answer(self, request: RecordedRequest, reply: Reply) -> None:
        op = self.spec.operation(request.method, request.path)
        if op is None or reply.body is None or not 200 <= reply.status < 300:
            return
        problems = self.spec.response_errors(op, reply.status, reply.body)
        self.response_schema_errors += [f"{request.method} {op.template}: {p}" for p in problems]


def invalid_form_body(problems: list[Problem]) -> Payload:
    """Discord's 400 for a body it cannot accept, errors nested along each JSON path."""
    errors: Payload = {}
    for problem in problems:
        node = errors
        for part in problem.path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append(
            {"code": "SCHEMA_INVALID", "message": problem.message}
        )
    return {"message": "Invalid Form Body", "code": 50035, "errors": errors}
