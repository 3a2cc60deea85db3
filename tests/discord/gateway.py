"""A local stand-in for Discord's gateway, so a bot started as its own process can connect.

``GET /gateway/bot`` on :class:`~tests.discord.fake.FakeDiscord` points at this websocket. It speaks
the documented JSON protocol, uncompressed (discord.py decompresses only binary frames): HELLO,
IDENTIFY → READY and one GUILD_CREATE per guild of the world, heartbeats acknowledged, RESUME
answered with an invalid session so the client identifies again. Tests push events to every
connected bot with :meth:`FakeGateway.dispatch` (an INTERACTION_CREATE, say) and can close the
connection with a close code (:meth:`close_all`) to test how the bot takes a gateway failure.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.discord.payloads import APPLICATION_ID, Payload
from tests.discord.world import World

#: The opcodes of https://discord.com/developers/docs/topics/opcodes-and-status-codes
DISPATCH, HEARTBEAT, IDENTIFY, RESUME, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 0, 1, 2, 6, 9, 10, 11


@dataclass
class GatewaySession:
    """One connected client: its socket, the sequence number and what it identified with."""

    socket: web.WebSocketResponse
    sequence: int = 0
    identify: Payload | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, op: int, data: Any, event: str | None = None) -> None:
        frame: Payload = {"op": op, "d": data, "s": None, "t": event}
        if op == DISPATCH:
            self.sequence += 1
            frame["s"] = self.sequence
        await self.socket.send_str(json.dumps(frame))


class FakeGateway:
    """Accepts gateway connections at ``/gateway`` and replays the world to each client."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.sessions: list[GatewaySession] = []
        #: Every IDENTIFY payload received, in order (a new process identifies again).
        self.identified: list[Payload] = []
        #: Close code to answer the next IDENTIFY with (e.g. 4014: disallowed intents).
        self.refuse_with: int | None = None
        self._identified_event = asyncio.Event()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/gateway", self._connect)

    async def wait_ready(self, *, count: int = 1, within: float = 15.0) -> GatewaySession:
        """The ``count``-th session to receive READY, once it has."""
        async with asyncio.timeout(within):
            while len(self.identified) < count:
                self._identified_event.clear()
                await self._identified_event.wait()
            session = [s for s in self.sessions if s.identify is not None][count - 1]
            await session.ready.wait()
        return session

    async def dispatch(self, event: str, data: Payload) -> None:
        """Send a DISPATCH event to every client that is ready."""
        for session in self.sessions:
            if session.ready.is_set() and not session.socket.closed:
                await session.send(DISPATCH, data, event)

    async def close_all(self, code: int, message: str = "") -> None:
        for session in self.sessions:
            await session.socket.close(code=code, message=message.encode())

    async def _connect(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        session = GatewaySession(socket)
        self.sessions.append(session)
        await session.send(HELLO, {"heartbeat_interval": 41250})
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            frame = json.loads(message.data)
            await self._answer(session, frame["op"], frame.get("d"))
        return socket

    async def _answer(self, session: GatewaySession, op: int, data: Any) -> None:
        if op == HEARTBEAT:
            await session.send(HEARTBEAT_ACK, None)
        elif op == RESUME:
            # Nothing to replay here: the client must start a new session.
            await session.send(INVALID_SESSION, False)
        elif op == IDENTIFY:
            session.identify = data
            self.identified.append(data)
            self._identified_event.set()
            if self.refuse_with is not None:
                await session.socket.close(code=self.refuse_with, message=b"refused by the test")
                return
            await session.send(DISPATCH, self._ready_payload(), "READY")
            for guild_id in self.world.guilds:
                await session.send(
                    DISPATCH, self.world.guild_create_payload(guild_id), "GUILD_CREATE"
                )
            session.ready.set()

    def _ready_payload(self) -> Payload:
        return {
            "v": 10,
            "user": self.world.bot_user,
            "guilds": [{"id": gid, "unavailable": True} for gid in self.world.guilds],
            "session_id": f"session-{len(self.identified)}",
            "resume_gateway_url": "",
            "shard": [0, 1],
            "application": {"id": APPLICATION_ID, "flags": 0},
            "private_channels": [],
        }
