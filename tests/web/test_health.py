"""The health check: each part named when it fails, bounded in time, safe for the database."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiosqlite
import pytest

from bot.storage import Database
from bot.web import HealthCheck, database_writable


def always(value: bool) -> Callable[[], bool]:
    return lambda: value


def async_always(value: bool) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        await asyncio.sleep(0)
        return value

    return check


class Hanging:
    """An async check that never answers until released; counts how often it was started."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()

    async def __call__(self) -> bool:
        self.calls += 1
        await self.release.wait()
        return True


def health(
    gateway: Callable[[], bool | Awaitable[bool]] | None = None,
    database: Callable[[], bool | Awaitable[bool]] | None = None,
    engine: Callable[[], bool | Awaitable[bool]] | None = None,
    timeout: float = 2.0,
) -> HealthCheck:
    """A health check whose parts are fine unless given."""
    return HealthCheck(
        gateway_connected=gateway or always(True),
        database_writable=database or async_always(True),
        engine_alive=engine or always(True),
        timeout=timeout,
    )


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = await Database.open(tmp_path / "bot.sqlite3")
    try:
        yield db
    finally:
        await db.close()


async def test_all_parts_fine_is_healthy() -> None:
    report = await health().check()
    assert report.healthy
    assert report.as_json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("failing", "reason"),
    [
        ("gateway", "gateway disconnected"),
        ("database", "database not writable"),
        ("engine", "engine loop not running"),
    ],
)
async def test_each_failing_part_is_named(failing: str, reason: str) -> None:
    report = await health(
        gateway=always(failing != "gateway"),
        database=async_always(failing != "database"),
        engine=always(failing != "engine"),
    ).check()
    assert not report.healthy
    assert report.as_json() == {"status": "unhealthy", "reasons": [reason]}


async def test_every_failing_part_is_listed_in_order() -> None:
    report = await health(always(False), async_always(False), async_always(False)).check()
    assert report.reasons == (
        "gateway disconnected",
        "database not writable",
        "engine loop not running",
    )


async def test_a_check_that_raises_is_a_failure_not_a_crash() -> None:
    async def broken_database() -> bool:
        raise sqlite3.OperationalError("disk I/O error")

    def broken_gateway() -> bool:
        raise RuntimeError("boom")

    report = await health(broken_gateway, broken_database).check()
    assert report.reasons == (
        "gateway check failed (RuntimeError)",
        "database check failed (OperationalError)",
    )


async def test_a_hanging_check_fails_within_the_timeout_and_is_not_started_twice() -> None:
    hanging = Hanging()
    check = health(database=hanging, timeout=0.2)
    started = time.monotonic()
    report = await check.check()
    assert time.monotonic() - started < 1.0
    assert report.reasons == ("database check timed out",)
    # A second probe waits on the same pending call instead of piling up another one.
    assert (await check.check()).reasons == ("database check timed out",)
    assert hanging.calls == 1
    hanging.release.set()
    assert (await check.check()).healthy
    await check.aclose()


async def test_checks_run_at_once_so_the_probe_takes_one_timeout_not_three() -> None:
    gateway, database, engine = Hanging(), Hanging(), Hanging()
    check = health(gateway, database, engine, timeout=0.3)
    started = time.monotonic()
    report = await check.check()
    assert time.monotonic() - started < 0.8
    assert len(report.reasons) == 3
    await check.aclose()
    assert not gateway.release.is_set()  # aclose cancelled them rather than waiting forever


async def test_database_writable_on_a_real_database(database: Database) -> None:
    assert await database_writable(database) is True
    assert not database.connection.in_transaction


async def test_a_locked_database_gives_a_timeout_and_is_left_usable(
    database: Database, tmp_path: Path
) -> None:
    # Another process holds the write lock; our connection waits (busy_timeout) behind it.
    other = await aiosqlite.connect(tmp_path / "bot.sqlite3", isolation_level=None)
    await other.execute("BEGIN IMMEDIATE")
    check = health(database=lambda: database_writable(database), timeout=0.2)
    try:
        started = time.monotonic()
        report = await check.check()
        assert time.monotonic() - started < 1.0
        assert report.reasons == ("database check timed out",)
    finally:
        await other.rollback()
        await other.close()
    # The pending probe finishes on its own and leaves no transaction open on the shared connection.
    for _ in range(25):
        if (await check.check()).healthy:
            break
    assert (await check.check()).healthy
    assert not database.connection.in_transaction
    async with database.write() as connection:
        await connection.execute("PRAGMA user_version")


async def test_database_writable_survives_a_caller_that_gives_up(
    database: Database, tmp_path: Path
) -> None:
    other = await aiosqlite.connect(tmp_path / "bot.sqlite3", isolation_level=None)
    await other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(database_writable(database), 0.1)
    finally:
        await other.rollback()
        await other.close()
    # Cancelling the caller did not cut the probe between BEGIN and COMMIT.
    async with database.write() as connection:
        await connection.execute("PRAGMA user_version")
    assert not database.connection.in_transaction


async def test_a_closed_database_is_not_writable(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "closed.sqlite3")
    await db.close()
    report = await health(database=lambda: database_writable(db)).check()
    assert not report.healthy
    assert report.reasons[0].startswith("database check failed")
