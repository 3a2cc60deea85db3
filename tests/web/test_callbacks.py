"""The callback route on its own (a stand-in engine), its settings, and in the real process.

End to end with the engine and the seedanceapi fake: tests/jobs/test_callbacks.py.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics
from bot.settings import load_settings
from bot.web import HealthCheck, WebServer, build_app, callback_routes, callback_urls
from tests.discord.fake import FakeDiscord
from tests.process import BotProcess, bot_environment
from tests.test_process import free_port

HOST = "127.0.0.1"
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123"
GOOD = secrets.token_urlsafe(32)


class StandInEngine:
    """Knows one token, of job 7 at seedanceapi; records what it was asked."""

    def __init__(self) -> None:
        self.lookups: list[tuple[str, str]] = []
        self.notified: list[int] = []

    async def job_for_callback(self, provider: str, token: str) -> int | None:
        self.lookups.append((provider, token))
        return 7 if (provider, token) == ("seedanceapi", GOOD) else None

    def notify_callback(self, job_id: int) -> bool:
        self.notified.append(job_id)
        return True


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, StandInEngine, Metrics]]:
    engine, metrics = StandInEngine(), Metrics()
    health = HealthCheck(
        gateway_connected=lambda: True, database_writable=lambda: True, engine_alive=lambda: True
    )
    server = WebServer(
        build_app(health=health, metrics=metrics, extra_routes=callback_routes(engine, metrics))
    )
    await server.start(HOST, 0)
    try:
        yield f"http://{HOST}:{server.port}", engine, metrics
    finally:
        await server.stop()


async def test_a_known_token_is_accepted_at_once_and_the_engine_notified(
    served: tuple[str, StandInEngine, Metrics],
) -> None:
    base, engine, metrics = served
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/callbacks/seedanceapi/{GOOD}", json={"any": 1}) as answer:
            assert answer.status == 202
            assert answer.headers["Cache-Control"] == "no-store"
        async with http.post(f"{base}/callbacks/seedanceapi/{GOOD}", data=b"not json") as answer:
            assert answer.status == 202
    assert engine.notified == [7, 7]  # the engine itself folds repeats together
    text = (await metrics.render()).decode()
    counts = {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "seedance_provider_callbacks_total"
    }
    assert counts[(("outcome", "accepted"), ("provider", "seedanceapi"))] == 2


async def test_unknown_tokens_and_providers_are_404_and_odd_ones_never_looked_up(
    served: tuple[str, StandInEngine, Metrics],
) -> None:
    base, engine, metrics = served
    async with aiohttp.ClientSession() as http:
        for path in (
            f"/callbacks/seedanceapi/{secrets.token_urlsafe(32)}",
            f"/callbacks/seed2/{GOOD}",  # seed2 documents no callbacks
            f"/callbacks/whatever/{GOOD}",
            "/callbacks/seedanceapi/short",
            f"/callbacks/seedanceapi/{'a' * 300}",
            "/callbacks/seedanceapi/not%20a%20token%20at%20all%20really%20no",
            "/callbacks/seedanceapi",
        ):
            async with http.post(base + path) as answer:
                assert answer.status == 404, path
    assert engine.notified == []
    # Only well-formed tokens for a provider that calls back cost a lookup.
    assert len(engine.lookups) == 1
    text = (await metrics.render()).decode()
    labels = {
        tuple(sorted(sample.labels.items()))
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "seedance_provider_callbacks_total"
    }
    # Never a label made of what a stranger sent.
    assert labels == {(("outcome", "unknown"), ("provider", "seedanceapi"))}


def test_callbacks_need_both_public_url_and_http_port() -> None:
    public = "https://bot.example.com"
    assert callback_urls(load_settings(discord_token=TOKEN)) is None
    assert callback_urls(load_settings(discord_token=TOKEN, public_url=public)) is None
    assert callback_urls(load_settings(discord_token=TOKEN, http_port=8080)) is None
    urls = callback_urls(load_settings(discord_token=TOKEN, public_url=public, http_port=8080))
    assert urls is not None
    assert urls.base == public
    assert urls.issue("seedanceapi")[0].startswith(f"{public}/callbacks/seedanceapi/")


async def test_the_running_bot_serves_the_callback_route_when_public_url_is_set(
    tmp_path: Path,
) -> None:
    port = free_port()
    async with FakeDiscord(response_window=None) as fake:
        env = bot_environment(
            fake, tmp_path / "data", HTTP_PORT=str(port), PUBLIC_URL="https://bot.example.com/"
        )
        bot = await BotProcess.start(tmp_path, env)
        try:
            await bot.wait_for_line(r"Job engine started")
            line = await bot.wait_for_line(r"Provider callbacks")
            assert "https://bot.example.com/callbacks/" in line
            async with aiohttp.ClientSession() as http:
                forged = f"http://{HOST}:{port}/callbacks/seedanceapi/{secrets.token_urlsafe(32)}"
                async with http.post(forged, json={}) as answer:
                    assert answer.status == 404
                async with http.get(f"http://{HOST}:{port}/healthz") as answer:
                    assert answer.status in (200, 503)
        finally:
            await bot.stop()
        assert "Traceback" not in bot.stderr


async def test_without_public_url_the_bot_serves_no_callback_route(tmp_path: Path) -> None:
    port = free_port()
    async with FakeDiscord(response_window=None) as fake:
        bot = await BotProcess.start(
            tmp_path, bot_environment(fake, tmp_path / "data", HTTP_PORT=str(port))
        )
        try:
            await bot.wait_for_line(r"Job engine started")
            async with aiohttp.ClientSession() as http:
                url = f"http://{HOST}:{port}/callbacks/seedanceapi/{GOOD}"
                async with http.post(url) as answer:
                    assert answer.status == 404
        finally:
            await bot.stop()
        assert "Provider callbacks" not in bot.stderr
