"""Fixtures for provider client tests: one real aiohttp session, local fakes, recorded sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bot.models import ProviderRequest, Seed2Request, Seedance2Request, SeedanceApiRequest
from bot.providers import (
    ProviderClient,
    RetryPolicy,
    Seed2Client,
    Seedance2AIClient,
    SeedanceApiClient,
)
from tests.fakes.base import FakeApi
from tests.fakes.seed2 import FakeSeed2
from tests.fakes.seedance2ai import FakeSeedance2AI
from tests.fakes.seedanceapi import FakeSeedanceApi

#: Quick retries so tests run fast; the sleeps are recorded instead of waited.
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, total_budget=60.0)


class SleepRecorder:
    """Stands in for ``asyncio.sleep`` and remembers every wait the client asked for."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await asyncio.sleep(0)


@dataclass(frozen=True)
class Flavour:
    """How to talk to one provider in a generic test."""

    name: str
    fake_cls: type[FakeApi]
    client_cls: type[ProviderClient]
    key: str
    request: ProviderRequest
    status_path: str  # substring of the status route, for faults

    def error(self, fake: FakeApi, status: int, code: str, message: str) -> dict[str, Any]:
        body = fake.error_body(status, code, message)
        assert isinstance(body, dict)
        return body


FLAVOURS = [
    Flavour(
        "seedance2ai",
        FakeSeedance2AI,
        Seedance2AIClient,
        "sk_live_testkey_0001",
        Seedance2Request.parse({"prompt": "A glass train crossing a snowy bridge"}),
        "/api/v1/tasks/",
    ),
    Flavour(
        "seedanceapi",
        FakeSeedanceApi,
        SeedanceApiClient,
        "sk_live_testkey_0001",
        SeedanceApiRequest.parse({"prompt": "Mountains at sunrise with flowing clouds"}),
        "/v1/status",
    ),
    Flavour(
        "seed2",
        FakeSeed2,
        Seed2Client,
        "sk-s2-testkey000001",
        Seed2Request.parse({"prompt": "A cat playing piano in a jazz bar"}),
        "/v1/tasks/",
    ),
]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def make_client(
    cls: type[ProviderClient],
    session: aiohttp.ClientSession,
    fake: FakeApi,
    sleeps: SleepRecorder,
    *,
    timeout: float = 5.0,
    retry: RetryPolicy = FAST_RETRY,
) -> Any:
    return cls(session, fake.base_url, retry=retry, timeout=timeout, sleep=sleeps)
