"""A key is accepted only on the API's documented "no such task" answer, rejected only on its
documented authentication error; every other answer means the key could not be checked."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bot.providers import KeyCheck, errors
from tests.fakes.base import Fault
from tests.fakes.network import closed_url
from tests.fakes.web import FakeWebServer
from tests.providers.conftest import FAST_RETRY, FLAVOURS, Flavour, SleepRecorder

VERSION_PATHS = {"seedance2ai": "/api/v1", "seedanceapi": "/v1", "seed2": "/v1"}
#: The code each API documents (or, for seed2, the fake uses) for a rejected key.
AUTH_CODES = {"seedance2ai": "unauthorized", "seedanceapi": "INVALID_API_KEY", "seed2": "401"}
BAD_KEY = "sk_live_not_a_real_key_123"

by_flavour = pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda f: f.name)
both_forms = pytest.mark.parametrize("versioned", [False, True], ids=["bare", "versioned"])


def client_for(
    flavour: Flavour, session: aiohttp.ClientSession, root: str, sleeps: SleepRecorder, **kw: Any
) -> Any:
    return flavour.client_cls(session, root, retry=FAST_RETRY, sleep=sleeps, timeout=5.0, **kw)


async def inconclusive(client: Any, key: str) -> errors.KeyCheckInconclusiveError:
    with pytest.raises(errors.KeyCheckInconclusiveError) as caught:
        await client.check_key(key)
    return caught.value


# -- a base URL that is not the API ------------------------------------------------------------


@by_flavour
@both_forms
async def test_a_server_answering_404_html_everywhere_cannot_check_any_key(
    flavour: Flavour, versioned: bool, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with FakeWebServer() as site:
        root = site.root_url + (VERSION_PATHS[flavour.name] if versioned else "")
        client = client_for(flavour, session, root, sleeps)
        good = await inconclusive(client, flavour.key)
        bad = await inconclusive(client, BAD_KEY)

    for error in (good, bad):
        assert "could not check the key" in error.message
        assert "base URL" in error.message
        assert error.status == 404
        assert not error.retryable
    assert len(site.requests) == 2  # a 404 page is an answer: not retried


@by_flavour
async def test_a_wrong_version_path_reaches_an_unknown_route_and_cannot_check(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        client = client_for(flavour, session, fake.root_url + "/v2", sleeps)
        error = await inconclusive(client, flavour.key)
        await inconclusive(client, BAD_KEY)

    assert error.status == 404
    assert all(r.path.startswith("/v2/") for r in fake.requests)


# -- documented answers --------------------------------------------------------------------


@by_flavour
@both_forms
async def test_the_documented_not_found_accepts_and_401_rejects(
    flavour: Flavour, versioned: bool, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        root = fake.root_url + (VERSION_PATHS[flavour.name] if versioned else "")
        client = client_for(flavour, session, root, sleeps)
        good = await client.check_key(flavour.key)
        bad = await client.check_key(BAD_KEY)

    assert good is KeyCheck.VALID
    assert bad is KeyCheck.INVALID
    assert fake.posts() == []
    assert sleeps.calls == []


@by_flavour
@pytest.mark.parametrize("status", [401, 403])
async def test_an_authentication_error_in_the_documented_shape_rejects(
    flavour: Flavour, status: int, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        body = flavour.error(fake, status, AUTH_CODES[flavour.name], "API key is invalid")
        fake.inject(Fault("respond", status=status, body=body))
        client = client_for(flavour, session, fake.base_url, sleeps)
        assert await client.check_key(flavour.key) is KeyCheck.INVALID


@by_flavour
@pytest.mark.parametrize("status", [401, 403])
async def test_an_authentication_page_from_a_proxy_is_not_a_rejection(
    flavour: Flavour, status: int, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        page = f"<html><body><h1>{status} Authorization Required</h1></body></html>"
        fake.inject(Fault("respond", status=status, body=page))
        client = client_for(flavour, session, fake.base_url, sleeps)
        error = await inconclusive(client, flavour.key)

    assert error.status == status


# -- 404 answers in the wrong shape --------------------------------------------------------

UNDOCUMENTED_404 = {
    "empty": "",
    "plain text": "404: Not Found",
    "framework json": {"detail": "Not Found"},
    "express json": {"error": "Not Found"},
    "other service's envelope": {"status": 404, "error": "Not Found", "path": "/v1/tasks/1"},
}


@by_flavour
@pytest.mark.parametrize("body", UNDOCUMENTED_404.values(), ids=UNDOCUMENTED_404.keys())
async def test_a_404_without_the_documented_body_cannot_check(
    flavour: Flavour, body: Any, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        fake.inject(Fault("respond", status=404, body=body))
        client = client_for(flavour, session, fake.base_url, sleeps)
        error = await inconclusive(client, flavour.key)

    assert error.status == 404
    assert len(fake.requests) == 1


async def test_seedance2ai_404_needs_its_not_found_code(
    session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    flavour = FLAVOURS[0]
    async with flavour.fake_cls() as fake:
        other = {"error": {"code": "route_not_found", "message": "No route"}}
        fake.inject(Fault("respond", status=404, body=other))
        client = client_for(flavour, session, fake.base_url, sleeps)
        await inconclusive(client, flavour.key)


async def test_seedanceapi_404_needs_task_not_found_in_its_envelope(
    session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    flavour = FLAVOURS[1]
    async with flavour.fake_cls() as fake:
        fake.inject(
            Fault("respond", status=404, body={"code": 404, "message": "Not Found", "data": None}),
            Fault("respond", status=404, body="TASK_NOT_FOUND"),
        )
        client = client_for(flavour, session, fake.base_url, sleeps)
        await inconclusive(client, flavour.key)
        await inconclusive(client, flavour.key)
        # Every place the decision reads a code from (PROVIDERS.md 2.3) counts.
        for body in (
            {"code": 404, "message": "TASK_NOT_FOUND"},
            {"code": "TASK_NOT_FOUND", "message": "Task ID not found"},
            {"error": {"code": "TASK_NOT_FOUND", "message": "Task ID not found"}},
            {"code": 200, "message": "error", "data": {"error_code": "TASK_NOT_FOUND"}},
        ):
            fake.inject(Fault("respond", status=404, body=body))
            assert await client.check_key(flavour.key) is KeyCheck.VALID


async def test_seed2_404_needs_its_code_and_message_envelope(
    session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    flavour = FLAVOURS[2]
    async with flavour.fake_cls() as fake:
        client = client_for(flavour, session, fake.base_url, sleeps)
        fake.inject(Fault("respond", status=404, body={"message": "task not found"}))
        await inconclusive(client, flavour.key)
        fake.inject(Fault("respond", status=404, body={"code": 404, "data": None}))
        await inconclusive(client, flavour.key)
        # The README's envelope with an error code, whether HTTP says 404 or 200.
        fake.inject(Fault("respond", status=404, body={"code": 1004, "message": "not found"}))
        assert await client.check_key(flavour.key) is KeyCheck.VALID
        fake.inject(Fault("respond", status=200, body={"code": 404, "message": "no such task"}))
        assert await client.check_key(flavour.key) is KeyCheck.VALID


# -- answers that are no verdict ---------------------------------------------------------------


@by_flavour
async def test_a_task_that_cannot_exist_answering_200_cannot_check(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        ok = {"code": 0, "message": "ok", "data": {"id": 1, "status": "completed"}}
        fake.inject(Fault("respond", status=200, body=ok))
        client = client_for(flavour, session, fake.base_url, sleeps)
        await inconclusive(client, flavour.key)


@by_flavour
async def test_server_errors_after_the_retries_cannot_check(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        busy = flavour.error(fake, 503, "service_busy", "Temporary upstream issue")
        fake.inject(*[Fault("respond", status=503, body=busy)] * FAST_RETRY.max_attempts)
        client = client_for(flavour, session, fake.base_url, sleeps)
        error = await inconclusive(client, flavour.key)

    assert isinstance(error.__cause__, errors.ServerError)
    assert error.status == 503
    assert len(fake.requests) == FAST_RETRY.max_attempts


@by_flavour
async def test_a_passing_server_error_or_rate_limit_is_retried_to_a_verdict(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        busy = flavour.error(fake, 503, "service_busy", "Temporary upstream issue")
        limited = flavour.error(fake, 429, "rate_limited", "Too many requests")
        fake.inject(
            Fault("respond", status=503, body=busy),
            Fault("respond", status=429, body=limited, headers={"Retry-After": "2"}),
        )
        client = client_for(flavour, session, fake.base_url, sleeps)
        assert await client.check_key(flavour.key) is KeyCheck.VALID

    assert len(sleeps.calls) == 2
    assert sleeps.calls[1] == 2.0


@by_flavour
async def test_an_unreachable_base_url_cannot_check(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    client = client_for(flavour, session, closed_url(), sleeps)
    error = await inconclusive(client, flavour.key)

    assert isinstance(error.__cause__, errors.ConnectionFailedError)


@by_flavour
async def test_the_key_never_appears_in_an_inconclusive_check(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        fake.inject(Fault("respond", status=404, body=f"<html>no route for {flavour.key}</html>"))
        client = client_for(flavour, session, fake.base_url, sleeps)
        error = await inconclusive(client, flavour.key)

    assert flavour.key not in str(error)
    assert "***" in error.message
