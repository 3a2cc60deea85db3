"""A local HTTP server that stands in for a generation API, with scripted faults.

Each provider fake subclasses :class:`FakeApi` and speaks that API's documented wire format.
Tests inject faults (an error status, a slow answer, a dropped connection before or after the
work is done, a body that is not JSON) and read back what the server saw and charged.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FaultKind = Literal[
    "respond",
    "respond_after",
    "drop_before",
    "drop_after",
    "delay",
    "delay_after",
    "garbage_after",
]


@dataclass
class Fault:
    """One scripted misbehaviour, used once by the first request it matches (or by every one,
    for as long as it stays injected, with ``forever``).

    ``respond`` answers instead of the API; ``respond_after``, ``drop_after`` and
    ``garbage_after`` let the API do its work first and then lose or spoil the answer;
    ``delay_after`` holds the API's answer back ``seconds`` after it was made.
    """

    kind: FaultKind
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    method: str | None = None
    path: str | None = None
    #: Never used up: an outage that lasts until the test removes it from ``faults``.
    forever: bool = False

    def matches(self, request: web.Request) -> bool:
        return (self.method is None or request.method == self.method) and (
            self.path is None or self.path in request.path
        )


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class Task:
    id: str
    key: str
    endpoint: str
    body: dict[str, Any]
    cost: int
    polls: int = 0
    status: str = "running"  # running | succeeded | failed
    error: str | None = None
    refunded: bool = False


class FakeApi:
    """Base fake: accounts with credits, tasks, a per-key rate limit, faults and a request log."""

    #: Path prefix the documented base URL carries (seedanceapi's base ends in /v1).
    prefix = ""

    def __init__(
        self,
        *,
        keys: dict[str, int] | None = None,
        rate_limit: tuple[int, float] | None = None,
        polls_to_finish: int = 2,
        outcome: Literal["succeed", "fail"] = "succeed",
    ) -> None:
        self.credits: dict[str, int] = dict(keys or {"sk_live_testkey_0001": 100_000})
        self.rate_limit = rate_limit
        self.polls_to_finish = polls_to_finish
        self.outcome = outcome
        self.faults: deque[Fault] = deque()
        self.requests: list[Recorded] = []
        self.tasks: dict[str, Task] = {}
        self.charges: defaultdict[str, list[int]] = defaultdict(list)
        self.rate_limited = 0
        self._hits: defaultdict[str, deque[float]] = defaultdict(deque)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.root_url = ""
        #: When set, results point at files this server hosts (so a bot can download them),
        #: each of this many bytes; otherwise at the provider's documented https CDN.
        self.serve_media_bytes: int | None = None
        self.media: dict[str, bytes] = {}

    # -- set-up ----------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def error_body(self, status: int, code: str, message: str) -> Any:
        raise NotImplementedError

    async def __aenter__(self) -> FakeApi:
        app = web.Application(middlewares=[self._middleware])
        self.routes(app)
        app.router.add_get("/media/{name}", self._serve_media)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.root_url = f"http://127.0.0.1:{port}"
        self.base_url = f"{self.root_url}{self.prefix}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def inject(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    # -- what tests read -------------------------------------------------------------------

    def posts(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]

    def total_charged(self, key: str | None = None) -> int:
        keys = [key] if key else list(self.charges)
        return sum(sum(self.charges[k]) for k in keys)

    def finish(self, task_id: str, *, fail: str | None = None) -> None:
        task = self.tasks[task_id]
        task.status, task.error = ("failed", fail) if fail else ("succeeded", None)

    # -- shared behaviour ------------------------------------------------------------------

    def media_url(self, name: str, cdn: str) -> str:
        """Where a result file lives: ``cdn`` as documented, or this server when serving media."""
        if self.serve_media_bytes is None:
            return f"{cdn}/{name}"
        # Bytes that differ per file, so a test can tell which one was uploaded.
        seed = name.encode()
        self.media[name] = (seed * (self.serve_media_bytes // len(seed) + 1))[
            : self.serve_media_bytes
        ]
        return f"{self.root_url}/media/{name}"

    async def _serve_media(self, request: web.Request) -> web.Response:
        data = self.media.get(request.match_info["name"])
        if data is None:
            raise web.HTTPNotFound()
        kind = {"mp4": "video/mp4", "png": "image/png", "jpg": "image/jpeg"}
        extension = request.match_info["name"].rsplit(".", 1)[-1]
        return web.Response(body=data, content_type=kind.get(extension, "application/octet-stream"))

    def new_id(self) -> int:
        return next(self._ids)

    def error(self, status: int, code: str, message: str, **headers: str) -> web.Response:
        return web.json_response(
            self.error_body(status, code, message), status=status, headers=headers
        )

    def key_of(self, request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        key = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        return key if key in self.credits else None

    def charge(self, key: str, cost: int) -> bool:
        if self.credits[key] < cost:
            return False
        self.credits[key] -= cost
        self.charges[key].append(cost)
        return True

    def refund(self, task: Task) -> None:
        self.credits[task.key] += task.cost
        self.charges[task.key].append(-task.cost)

    def advance(self, task: Task) -> None:
        """Move a task along one poll; it finishes on the configured poll."""
        task.polls += 1
        if task.status == "running" and task.polls >= self.polls_to_finish:
            if self.outcome == "fail":
                task.status, task.error = "failed", "content policy violation"
            else:
                task.status = "succeeded"
        if task.status == "failed" and not task.refunded:
            self.on_failed(task)
            task.refunded = True

    def on_failed(self, task: Task) -> None:
        """Whether a failed task gives credits back differs per API."""
        self.refund(task)

    def _over_rate_limit(self, key: str) -> float | None:
        if self.rate_limit is None:
            return None
        limit, window = self.rate_limit
        now = time.monotonic()
        hits = self._hits[key]
        while hits and now - hits[0] >= window:
            hits.popleft()
        if len(hits) >= limit:
            return window - (now - hits[0])
        hits.append(now)
        return None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/media/"):
            return await handler(request)
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = await request.json()
            except ValueError:
                body = raw.decode("utf-8", "replace")
        self.requests.append(
            Recorded(request.method, request.path, dict(request.query), dict(request.headers), body)
        )
        fault = next((f for f in self.faults if f.matches(request)), None)
        if fault is not None:
            if not fault.forever:
                self.faults.remove(fault)
            if fault.kind == "respond":
                return _respond(fault)
            if fault.kind == "drop_before":
                return _drop(request)
            if fault.kind == "delay":
                await asyncio.sleep(fault.seconds)
        key = self.key_of(request)
        if key is not None:
            wait = self._over_rate_limit(key)
            if wait is not None:
                self.rate_limited += 1
                return self.error(
                    429,
                    "rate_limited",
                    "Too many requests",
                    **{"Retry-After": str(math.ceil(wait))},
                )
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            # No route here: answer like a web server, not like the API (wrong base URL).
            return not_found_page()
        if fault is not None and fault.kind == "delay_after":
            await asyncio.sleep(fault.seconds)
        if fault is not None and fault.kind == "drop_after":
            return _drop(request)
        if fault is not None and fault.kind == "respond_after":
            # A gateway that gave up although the provider did the work.
            return _respond(fault)
        if fault is not None and fault.kind == "garbage_after":
            return web.Response(
                status=response.status, text="<html>502 oops", content_type="text/html"
            )
        return response


#: What nginx and most web servers send for a path they do not know.
NOT_FOUND_HTML = (
    "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
    "<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def not_found_page() -> web.Response:
    """A web server's 404 for an unknown path: HTML, in no API's documented shape."""
    return web.Response(status=404, text=NOT_FOUND_HTML, content_type="text/html")


def _respond(fault: Fault) -> web.Response:
    if isinstance(fault.body, str | bytes):
        return web.Response(status=fault.status, body=fault.body, headers=fault.headers)
    return web.json_response(fault.body, status=fault.status, headers=fault.headers)


def _drop(request: web.Request) -> web.Response:
    # Closing the socket without an answer is what a crashed proxy or a cut network looks like.
    assert request.transport is not None
    request.transport.close()
    return web.Response(status=204)
