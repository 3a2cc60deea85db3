"""The HTTP server on a real socket: /healthz, /metrics, extra routes, and a port already taken."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterable

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import JobCounts, Metrics, key_label
from bot.web import HealthCheck, WebServer, WebServerError, build_app
from tests.test_discord_free_core import import_in_fresh_interpreter

HOST = "127.0.0.1"
API_KEY = "sk-s2-never-shown-8d2e77"


class Parts:
    """Switchable health parts, as the bot would provide them."""

    def __init__(self) -> None:
        self.gateway = True
        self.database = True
        self.engine = True
        self.database_hangs = asyncio.Event()

    def gateway_connected(self) -> bool:
        return self.gateway

    async def database_writable(self) -> bool:
        if self.database_hangs.is_set():
            await asyncio.Event().wait()
        return self.database

    def engine_alive(self) -> bool:
        return self.engine


async def job_counts() -> JobCounts:
    return {("seed2", "running"): 2}


def make_server(
    parts: Parts, metrics: Metrics, extra_routes: Iterable[web.AbstractRouteDef] = ()
) -> WebServer:
    health = HealthCheck(
        gateway_connected=parts.gateway_connected,
        database_writable=parts.database_writable,
        engine_alive=parts.engine_alive,
        timeout=0.3,
    )
    return WebServer(build_app(health=health, metrics=metrics, extra_routes=extra_routes))


@pytest.fixture
def parts() -> Parts:
    return Parts()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(job_counts=job_counts)


@pytest.fixture
async def server(parts: Parts, metrics: Metrics) -> AsyncIterator[WebServer]:
    running = make_server(parts, metrics)
    await running.start(HOST, 0)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        yield session


def url(server: WebServer, path: str) -> str:
    return f"http://{HOST}:{server.port}{path}"


async def test_healthz_is_200_when_everything_is_fine(
    server: WebServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(url(server, "/healthz")) as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        assert await response.json() == {"status": "ok"}
        assert response.headers["Cache-Control"] == "no-store"


async def test_healthz_is_503_naming_each_failing_part(
    server: WebServer, http: aiohttp.ClientSession, parts: Parts
) -> None:
    parts.gateway = False
    async with http.get(url(server, "/healthz")) as response:
        assert response.status == 503
        assert await response.json() == {
            "status": "unhealthy",
            "reasons": ["gateway disconnected"],
        }
    parts.database = False
    parts.engine = False
    async with http.get(url(server, "/healthz")) as response:
        assert response.status == 503
        assert (await response.json())["reasons"] == [
            "gateway disconnected",
            "database not writable",
            "engine loop not running",
        ]


async def test_healthz_answers_503_in_time_when_the_database_hangs(
    server: WebServer, http: aiohttp.ClientSession, parts: Parts
) -> None:
    parts.database_hangs.set()
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with http.get(url(server, "/healthz")) as response:
        assert response.status == 503
        assert (await response.json())["reasons"] == ["database check timed out"]
    assert loop.time() - started < 2.0


async def test_healthz_answers_head_requests(
    server: WebServer, http: aiohttp.ClientSession, parts: Parts
) -> None:
    parts.engine = False
    async with http.head(url(server, "/healthz")) as response:
        assert response.status == 503


async def test_metrics_page_parses_and_carries_the_values(
    server: WebServer, http: aiohttp.ClientSession, metrics: Metrics
) -> None:
    metrics.provider_request("seed2", "ok")
    metrics.budget_use("seed2", key_label(API_KEY), used=3, limit=20)
    async with http.get(url(server, "/metrics")) as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        text = await response.text()
    assert API_KEY not in text
    values = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert values[("seedance_jobs", (("provider", "seed2"), ("state", "running")))] == 2
    assert (
        values[("seedance_provider_requests_total", (("outcome", "ok"), ("provider", "seed2")))]
        == 1
    )
    assert (
        values[("seedance_key_budget_used", (("key", key_label(API_KEY)), ("provider", "seed2")))]
        == 3
    )


async def test_extra_routes_are_served_next_to_the_built_in_ones(
    parts: Parts, metrics: Metrics, http: aiohttp.ClientSession
) -> None:
    async def callback(request: web.Request) -> web.Response:
        return web.json_response({"provider": request.match_info["provider"]})

    running = make_server(parts, metrics, [web.post("/callbacks/{provider}", callback)])
    await running.start(HOST, 0)
    try:
        async with http.post(url(running, "/callbacks/seed2")) as response:
            assert await response.json() == {"provider": "seed2"}
        async with http.get(url(running, "/healthz")) as response:
            assert response.status == 200
        async with http.get(url(running, "/nothing-here")) as response:
            assert response.status == 404
    finally:
        await running.stop()


async def test_a_port_in_use_raises_a_one_line_typed_error(parts: Parts, metrics: Metrics) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        running = make_server(parts, metrics)
        with pytest.raises(WebServerError) as caught:
            await running.start(HOST, port)
    assert str(caught.value) == f"cannot listen on {HOST}:{port}: address already in use"
    assert "\n" not in str(caught.value)
    assert not isinstance(
        caught.value, OSError
    )  # the entry point tells it apart from network errors
    assert not running.running
    assert running.port is None


async def test_a_second_server_on_the_same_port_is_refused(server: WebServer, parts: Parts) -> None:
    assert server.port is not None
    other = make_server(parts, Metrics())
    with pytest.raises(WebServerError, match="address already in use"):
        await other.start(HOST, server.port)


async def test_stop_releases_the_port_and_can_be_called_twice(
    parts: Parts, metrics: Metrics
) -> None:
    first = make_server(parts, metrics)
    await first.start(HOST, 0)
    port = first.port
    assert port is not None
    await first.stop()
    await first.stop()
    again = make_server(parts, Metrics())
    await again.start(HOST, port)
    assert again.port == port
    await again.stop()


async def test_starting_twice_is_a_programming_error(server: WebServer) -> None:
    with pytest.raises(RuntimeError, match="already running"):
        await server.start(HOST, 0)


def test_the_web_server_and_metrics_do_not_import_discord() -> None:
    found = import_in_fresh_interpreter("bot.web", "bot.metrics")
    assert {"bot.web", "bot.web.server", "bot.web.health", "bot.metrics"} <= set(found["imported"])
    assert found["discord"] == [], f"discord imported by {found['culprits']}"
