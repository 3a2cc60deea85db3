"""Learned generation times are kept as recent durations per endpoint and size class, and a
database that kept only a mean upgrades to them."""

from __future__ import annotations

from pathlib import Path

from bot.storage import Database, JobStore
from bot.storage.database import load_migrations


async def test_recent_durations_are_kept_per_endpoint_and_size(database: Database) -> None:
    jobs = JobStore(database)
    await jobs.save_generation_time("seedance2", "720p/5", 1, 95.0, [95.0])
    await jobs.save_generation_time("seedance2", "720p/5", 2, 97.5, [95.0, 100.0])
    await jobs.save_generation_time("seed2", "16:9/5", 1, 60.0, [60.0])

    assert await jobs.generation_times() == {
        ("seedance2", "720p/5"): [95.0, 100.0],
        ("seed2", "16:9/5"): [60.0],
    }


async def test_a_learned_mean_becomes_the_one_recent_duration_on_upgrade(db_path: Path) -> None:
    migrations = load_migrations()
    before = next(m.version for m in migrations if m.name.endswith("_generation_time_samples.sql"))
    old = await Database.open(db_path, migrations=migrations[: before - 1])
    async with old.write() as connection:
        await connection.execute(
            "INSERT INTO generation_times (endpoint, size_class, samples, mean_seconds)"
            " VALUES ('seedance2', '720p/5', 12, 84.5)"
        )
    await old.close()

    upgraded = await Database.open(db_path)
    try:
        assert await JobStore(upgraded).generation_times() == {("seedance2", "720p/5"): [84.5]}
    finally:
        await upgraded.close()


async def test_unreadable_durations_count_as_nothing_learned(database: Database) -> None:
    async with database.write() as connection:
        await connection.executemany(
            "INSERT INTO generation_times (endpoint, size_class, samples, mean_seconds,"
            " recent_json) VALUES (?, ?, 1, 1.0, ?)",
            [("a", "x", "not json"), ("b", "x", '{"a": 1}'), ("c", "x", '[3, -1, "4", 1e999]')],
        )

    assert await JobStore(database).generation_times() == {
        ("a", "x"): [],
        ("b", "x"): [],
        ("c", "x"): [3.0],
    }
