"""Start-up opens SQLite in WAL mode with foreign keys and upgrades older files in place."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.storage import Database, DatabaseUnavailableError
from bot.storage.database import Migration, load_migrations


async def test_a_new_file_gets_wal_foreign_keys_and_the_latest_schema(
    database: Database, db_path: Path
) -> None:
    async with database.connection.execute("PRAGMA journal_mode") as cursor:
        assert (await cursor.fetchone())[0] == "wal"
    async with database.connection.execute("PRAGMA foreign_keys") as cursor:
        assert (await cursor.fetchone())[0] == 1
    assert await database.version() == len(load_migrations())
    tables = {r[0] for r in sqlite3.connect(db_path).execute("SELECT name FROM sqlite_master")}
    assert {"api_keys", "jobs", "guild_settings", "generation_times"} <= tables
    assert {"jobs_due", "jobs_owner_recent"} <= tables


def test_migrations_are_numbered_without_gaps() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert migrations[0].name == "0001_initial.sql"


async def test_an_older_database_is_upgraded_in_place(db_path: Path) -> None:
    current = load_migrations()
    old = await Database.open(db_path, migrations=current[:1])
    async with old.write() as connection:
        await connection.execute(
            "INSERT INTO guild_settings (guild_id, max_running_per_user, updated_at) VALUES (7, 2, 0)"
        )
    await old.close()

    later = Migration(
        len(current) + 1,
        "9999_test_column.sql",
        "ALTER TABLE guild_settings ADD COLUMN note TEXT NOT NULL DEFAULT 'upgraded';",
    )
    upgraded = await Database.open(db_path, migrations=[*current, later])
    try:
        assert await upgraded.version() == later.version
        async with upgraded.connection.execute(
            "SELECT guild_id, max_running_per_user, note FROM guild_settings"
        ) as cursor:
            assert [tuple(r) for r in await cursor.fetchall()] == [(7, 2, "upgraded")]
    finally:
        await upgraded.close()


async def test_reopening_applies_nothing_twice(db_path: Path) -> None:
    first = await Database.open(db_path)
    await first.close()
    # Re-running 0001 would fail on "table already exists".
    second = await Database.open(db_path)
    assert await second.version() == len(load_migrations())
    await second.close()


async def test_a_failing_migration_leaves_the_file_at_its_old_version(db_path: Path) -> None:
    current = load_migrations()
    broken = Migration(
        len(current) + 1,
        "9999_broken.sql",
        "CREATE TABLE half_done (x INTEGER);\nTHIS IS NOT SQL;",
    )
    with pytest.raises(DatabaseUnavailableError, match="syntax error") as raised:
        await Database.open(db_path, migrations=[*current, broken])
    assert isinstance(raised.value.__cause__, sqlite3.OperationalError)

    reopened = await Database.open(db_path)
    try:
        assert await reopened.version() == len(current)
        async with reopened.connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'half_done'"
        ) as cursor:
            assert (await cursor.fetchone())[0] == 0
    finally:
        await reopened.close()


async def test_a_failed_write_is_rolled_back(database: Database) -> None:
    async def insert_then_crash() -> None:
        async with database.write() as connection:
            await connection.execute(
                "INSERT INTO guild_settings (guild_id, updated_at) VALUES (1, 0)"
            )
            raise RuntimeError("crash mid-transaction")

    with pytest.raises(RuntimeError):
        await insert_then_crash()
    async with database.connection.execute("SELECT count(*) FROM guild_settings") as cursor:
        assert (await cursor.fetchone())[0] == 0


@pytest.fixture
def lax_umask() -> Iterator[None]:
    """The usual 022: without explicit modes, new files would be readable by everyone."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def modes(*paths: Path) -> list[str]:
    return [oct(stat.S_IMODE(p.stat().st_mode)) for p in paths]


async def write_something(database: Database) -> None:
    async with database.write() as connection:
        await connection.execute("INSERT INTO guild_settings (guild_id, updated_at) VALUES (1, 0)")


async def test_the_database_and_its_folder_are_owner_only(lax_umask: None, db_path: Path) -> None:
    database = await Database.open(db_path)
    try:
        await write_something(database)
        wal, shm = Path(f"{db_path}-wal"), Path(f"{db_path}-shm")  # modes() fails if missing
        assert modes(db_path.parent, db_path, wal, shm) == ["0o700", "0o600", "0o600", "0o600"]
    finally:
        await database.close()


async def test_files_left_readable_by_an_older_version_are_made_owner_only(
    lax_umask: None, tmp_path: Path
) -> None:
    # An existing folder is the operator's (a Docker volume, a home directory): left as it is.
    folder = tmp_path / "existing"
    folder.mkdir(mode=0o755)
    db_path = folder / "bot.sqlite3"
    sqlite3.connect(db_path).execute("PRAGMA journal_mode = WAL").fetchone()
    for path in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        path.touch()
        path.chmod(0o644)

    database = await Database.open(db_path)
    try:
        await write_something(database)
        wal, shm = Path(f"{db_path}-wal"), Path(f"{db_path}-shm")
        assert modes(folder, db_path, wal, shm) == ["0o755", "0o600", "0o600", "0o600"]
    finally:
        await database.close()
