"""A job engine on a real SQLite file, real provider clients and the local provider fakes."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.jobs import (
    DeliveryOutcome,
    EngineConfig,
    JobEngine,
    PollPlan,
    Progress,
    ProgressKind,
    ScaledClock,
)
from bot.models import ProviderRequest, Seed2Request, Seedance2Request, SeedanceApiRequest
from bot.providers import RetryPolicy, Seed2Client, Seedance2AIClient, SeedanceApiClient
from bot.storage import ApiKeyStore, Database, Job, JobState, JobStore, KeyCipher
from tests.clock import eventually
from tests.fakes.base import FakeApi
from tests.fakes.seed2 import FakeSeed2
from tests.fakes.seedance2ai import FakeSeedance2AI
from tests.fakes.seedanceapi import FakeSeedanceApi
from tests.jobs.crash import kill

#: Simulated seconds per real second: a 100 s generation takes 0.1 s of test time.
SPEED = 1000.0
KEYS = {
    "seedance2ai": "sk_live_engine_test_key_0001",
    "seedanceapi": "sk_live_engine_test_key_0002",
    "seed2": "sk-s2-engine-test-key-0003",
}
REQUESTS: dict[str, ProviderRequest] = {
    "seedance2ai": Seedance2Request.parse({"prompt": "A glass train on a snowy bridge"}),
    "seedanceapi": SeedanceApiRequest.parse({"prompt": "Mountains at sunrise"}),
    "seed2": Seed2Request.parse({"prompt": "A cat playing piano"}),
}
FAKES: dict[str, type[FakeApi]] = {
    "seedance2ai": FakeSeedance2AI,
    "seedanceapi": FakeSeedanceApi,
    "seed2": FakeSeed2,
}
CLIENTS = {"seedance2ai": Seedance2AIClient, "seedanceapi": SeedanceApiClient, "seed2": Seed2Client}
FAST_CLIENT_RETRY = RetryPolicy(max_attempts=3, base_delay=0.005, max_delay=0.02, total_budget=5.0)


@dataclass
class RecordingPort:
    """Stands in for the Discord layer: counts what a user would see, per job."""

    visible: Counter[int] = field(default_factory=Counter)
    calls: list[tuple[int, bool]] = field(default_factory=list)
    fallbacks: list[int] = field(default_factory=list)
    events: list[Progress] = field(default_factory=list)
    outcomes: list[DeliveryOutcome] = field(default_factory=list)
    fallback_outcomes: list[DeliveryOutcome] = field(default_factory=list)
    #: Crash points: hang before showing anything, or after showing the result.
    hang_before: bool = False
    hang_after: bool = False
    delivered: asyncio.Event = field(default_factory=asyncio.Event)

    async def deliver(self, job: Job, *, repeat: bool) -> DeliveryOutcome:
        self.calls.append((job.id, repeat))
        if self.hang_before:
            await asyncio.Event().wait()
        outcome = self.outcomes.pop(0) if self.outcomes else DeliveryOutcome.DELIVERED
        if outcome is DeliveryOutcome.DELIVERED:
            # Like the Discord layer: on a possible repeat, look before posting again.
            if not (repeat and self.visible[job.id]):
                self.visible[job.id] += 1
            self.delivered.set()
            if self.hang_after:
                await asyncio.Event().wait()
        return outcome

    async def deliver_fallback(self, job: Job) -> DeliveryOutcome:
        self.fallbacks.append(job.id)
        outcome = (
            self.fallback_outcomes.pop(0) if self.fallback_outcomes else DeliveryOutcome.DELIVERED
        )
        if outcome is DeliveryOutcome.DELIVERED:
            self.visible[job.id] += 1
            self.delivered.set()
        return outcome

    async def publish(self, event: Progress) -> None:
        self.events.append(event)

    def kinds(self, job_id: int) -> list[ProgressKind]:
        return [e.kind for e in self.events if e.job.id == job_id]


@dataclass
class Harness:
    """Builds engines on one database file, as successive processes would."""

    path: Path
    session: aiohttp.ClientSession
    fakes: dict[str, FakeApi]
    port: RecordingPort
    config: EngineConfig
    database: Database | None = None
    engine: JobEngine | None = None
    jobs: JobStore | None = None
    clock: ScaledClock = field(default_factory=lambda: ScaledClock(SPEED))
    #: What refreshes a job's input links before it is sent (``JobEngine(inputs=...)``).
    inputs: Any = None
    #: Where providers call back about finished jobs (``JobEngine(callbacks=...)``).
    callbacks: Any = None

    async def start(self, *, port: RecordingPort | None = None) -> JobEngine:
        self.database = await Database.open(self.path)
        self.jobs = JobStore(self.database, clock=self.clock.now)
        keys = ApiKeyStore(self.database, KeyCipher(["engine tests"]), clock=self.clock.now)
        clients = {
            name: CLIENTS[name](self.session, fake.base_url, retry=FAST_CLIENT_RETRY, timeout=2.0)
            for name, fake in self.fakes.items()
        }
        self.port = port or self.port
        self.engine = JobEngine(
            jobs=self.jobs, keys=keys, clients=clients, port=self.port, config=self.config,
            clock=self.clock, inputs=self.inputs, callbacks=self.callbacks,
        )  # fmt: skip
        await self.engine.start()
        return self.engine

    async def link(self, owner_id: int, provider: str) -> None:
        assert self.database is not None
        await ApiKeyStore(self.database, KeyCipher(["engine tests"])).link(
            owner_id, provider, KEYS[provider]
        )

    async def crash(self) -> None:
        """Kill the engine mid-flight and drop the connection, as a killed process would."""
        assert self.engine is not None
        assert self.database is not None
        await kill(self.engine)
        await self.database.close()
        self.engine = self.database = None

    async def stop(self) -> None:
        if self.engine is not None:
            self.check()
            await self.engine.stop()
        if self.database is not None:
            await self.database.close()
        self.engine = self.database = None

    async def job(self, job_id: int) -> Job:
        assert self.jobs is not None
        job = await self.jobs.get(job_id)
        assert job is not None
        return job

    async def wait_for(self, condition: Callable[[], Any], seconds: float = 10.0) -> None:
        def checked() -> Any:
            self.check()
            return condition()

        await eventually(checked, within=seconds)

    def check(self) -> None:
        """While the engine runs, what it holds in memory keeps its invariants (at every wait)."""
        if self.engine is not None and self.engine.running:
            self.engine._check_invariants()

    async def wait_state(self, job_id: int, *states: JobState, seconds: float = 10.0) -> Job:
        async def reached() -> bool:
            return (await self.job(job_id)).state in states

        await self.wait_for(reached, seconds)
        return await self.job(job_id)


def fast_config(**changes: Any) -> EngineConfig:
    plan = PollPlan(min_deadline=600.0, deadline_factor=6.0)
    base: dict[str, Any] = {
        "plan": plan,
        "submit_retry_delay": 2.0,
        "delivery_retry_delay": 2.0,
        "stop_grace": 1.0,
    }
    base.update(changes)
    return EngineConfig(**base)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
async def fakes() -> AsyncIterator[dict[str, FakeApi]]:
    # Rate windows of the fakes run on real time; scale them like the engine's clock.
    servers = {
        name: cls(keys={KEYS[name]: 10_000_000}, rate_limit=(30, 60.0 / SPEED))
        for name, cls in FAKES.items()
    }
    for server in servers.values():
        await server.__aenter__()
    yield servers
    for server in servers.values():
        await server.__aexit__(None, None, None)


@pytest.fixture
async def harness(
    tmp_path: Path, session: aiohttp.ClientSession, fakes: dict[str, FakeApi]
) -> AsyncIterator[Harness]:
    h = Harness(tmp_path / "bot.sqlite3", session, fakes, RecordingPort(), fast_config())
    yield h
    await h.stop()
