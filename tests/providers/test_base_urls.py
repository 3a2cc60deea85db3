"""A base URL works with or without the API's version path, and both give the same requests."""

from __future__ import annotations

import re

import aiohttp
import pytest

from bot.models import Provider
from bot.providers import KeyCheck, build_clients
from bot.settings import Settings
from tests.fakes.base import FakeApi
from tests.fakes.seed2 import FakeSeed2
from tests.providers.conftest import FAST_RETRY, FLAVOURS, Flavour, SleepRecorder

#: The version path each API's routes start with, as its documentation writes them.
VERSION_PATHS = {"seedance2ai": "/api/v1", "seedanceapi": "/v1", "seed2": "/v1"}

#: Where submit, poll and key check go, whichever form of the base URL is configured.
EXPECTED_ROUTES = {
    "seedance2ai": [
        ("POST", "/api/v1/video/seedance2"),
        ("GET", "/api/v1/tasks/sd2_00001"),
        ("GET", "/api/v1/tasks/<probe>"),
    ],
    "seedanceapi": [("POST", "/v1/generate"), ("GET", "/v1/status"), ("GET", "/v1/status")],
    "seed2": [
        ("POST", "/v1/video/generate"),
        ("GET", "/v1/tasks/456"),
        ("GET", "/v1/tasks/<probe>"),
    ],
}

_PROBE_ID = re.compile(r"keycheck_?[0-9a-f]+|\d{13,}")


def routes(fake: FakeApi) -> list[tuple[str, str, tuple[str, ...]]]:
    """What the fake saw: method, path and query names, with the random key-check id masked."""
    return [
        (r.method, _PROBE_ID.sub("<probe>", r.path), tuple(sorted(r.query))) for r in fake.requests
    ]


async def submit_poll_check(
    flavour: Flavour, session: aiohttp.ClientSession, base_url: str
) -> list[tuple[str, str, tuple[str, ...]]]:
    async with flavour.fake_cls() as fake:
        client = flavour.client_cls(
            session, base_url.format(root=fake.root_url), retry=FAST_RETRY, sleep=SleepRecorder()
        )
        submission = await client.submit(flavour.request, flavour.key, "job-1")
        await client.status(submission.task_id, flavour.key)
        assert await client.check_key(flavour.key) is KeyCheck.VALID
        return routes(fake)


@pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda f: f.name)
@pytest.mark.parametrize("trailing_slash", ["", "/"], ids=["bare", "slash"])
async def test_both_forms_of_the_base_url_send_identical_requests(
    flavour: Flavour, trailing_slash: str, session: aiohttp.ClientSession
) -> None:
    version = VERSION_PATHS[flavour.name]
    without = await submit_poll_check(flavour, session, "{root}" + trailing_slash)
    with_version = await submit_poll_check(flavour, session, "{root}" + version + trailing_slash)

    assert without == with_version
    assert [(method, path) for method, path, _ in without] == EXPECTED_ROUTES[flavour.name]


@pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda f: f.name)
async def test_a_proxy_path_before_the_version_is_kept(
    flavour: Flavour, session: aiohttp.ClientSession
) -> None:
    version = VERSION_PATHS[flavour.name]
    bare = flavour.client_cls(session, "https://proxy.example.com/seedance")
    versioned = flavour.client_cls(session, f"https://proxy.example.com/seedance{version}/")

    assert bare.base_url == versioned.base_url == f"https://proxy.example.com/seedance{version}"


async def test_the_default_settings_reach_the_documented_routes(
    session: aiohttp.ClientSession,
) -> None:
    defaults = Settings.model_construct()  # the field defaults, without reading the environment
    clients = build_clients(session, defaults.base_urls())

    assert {p: c.base_url for p, c in clients.items()} == {
        Provider.SEEDANCE2AI: "https://seedance2ai.io/api/v1",
        Provider.SEEDANCEAPI: "https://seedanceapi.org/v1",
        Provider.SEED2: "https://api.seed2.io/v1",
    }


@pytest.mark.parametrize(
    "base", ["{root}", "{root}/", "{root}/v1", "{root}/v1/"], ids=["bare", "slash", "v1", "v1/"]
)
async def test_an_invalid_seed2_key_is_rejected_with_either_base_url(
    base: str, session: aiohttp.ClientSession
) -> None:
    seed2 = next(f for f in FLAVOURS if f.name == "seed2")
    async with FakeSeed2() as fake:
        client = seed2.client_cls(
            session, base.format(root=fake.root_url), retry=FAST_RETRY, sleep=SleepRecorder()
        )
        bad = await client.check_key("sk-s2-not-a-real-key-000")
        good = await client.check_key(seed2.key)

    assert bad is KeyCheck.INVALID
    assert good is KeyCheck.VALID
    assert all(r.path.startswith("/v1/tasks/") for r in fake.requests)
    assert fake.tasks == {}
