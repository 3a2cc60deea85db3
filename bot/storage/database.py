"""The SQLite connection: WAL, foreign keys, numbered migrations applied at start-up."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(package: str = "bot.storage.migrations") -> list[Migration]:
    """The numbered ``NNNN_name.sql`` files of ``package``, in order."""
    found = []
    for entry in resources.files(package).iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return found


class DatabaseUnavailableError(Exception):
    """The database file cannot be opened, created or written; the message names the cause."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason

    @classmethod
    def from_error(cls, path: Path, error: OSError | sqlite3.Error) -> DatabaseUnavailableError:
        if isinstance(error, OSError):
            where = Path(error.filename) if error.filename else path.parent
            cause = error.strerror or str(error)
            return cls(path, f"cannot create or write {where} ({cause})")
        if isinstance(error, sqlite3.DatabaseError) and "not a database" in str(error):
            return cls(path, "the file is not a SQLite database (left untouched)")
        return cls(path, f"cannot open or write the database ({error})")


def _create_owner_only(path: Path) -> None:
    """Create the data folder (0700) and the database file (0600) if they do not exist yet.

    A folder that already exists is the operator's (a Docker volume, a home directory) and is left
    as it is. Created before SQLite opens the file, so it is never readable by others, not even for
    a moment.
    """
    folder = path.parent
    try:
        folder.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        if not folder.is_dir():
            raise
    else:
        folder.chmod(0o700)  # exactly, whatever the umask
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _make_owner_only(*paths: Path) -> None:
    """Take group and other permissions off each existing file in ``paths``."""
    for path in paths:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                path.chmod(mode & 0o700)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning(
                "%s is readable by other users and cannot be changed (%s); run chmod 600 on it",
                path,
                exc.strerror or exc,
            )


class Database:
    """One aiosqlite connection shared by the repositories; writes are serialized here."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str, *, migrations: list[Migration] | None = None) -> Database:
        """Open (or create) the database and bring its schema up to date.

        Raises :class:`DatabaseUnavailableError` naming the cause when the file or its folder
        cannot be used; a file that is not a SQLite database is left exactly as it was.
        """
        try:
            return await cls._open(path, migrations)
        except (OSError, sqlite3.Error) as exc:
            raise DatabaseUnavailableError.from_error(Path(path), exc) from exc

    @classmethod
    async def _open(cls, path: Path | str, migrations: list[Migration] | None) -> Database:
        if str(path) != ":memory:":
            _create_owner_only(Path(path))
            # Fails here, synchronously, when the file cannot be opened: aiosqlite's worker
            # thread would otherwise outlive the failed connect and crash on a closed loop.
            sqlite3.connect(path).close()
        # isolation_level=None: no implicit transactions; ``write()`` opens them explicitly.
        connection = await aiosqlite.connect(str(path), isolation_level=None)
        connection.row_factory = aiosqlite.Row
        database = cls(connection)
        try:
            await connection.execute("PRAGMA journal_mode = WAL")
            if str(path) != ":memory:":
                # Only now, when the file is known to be SQLite: files an older version left
                # readable. SQLite gives new -wal/-shm files the database file's mode.
                _make_owner_only(Path(path), Path(f"{path}-wal"), Path(f"{path}-shm"))
            await connection.execute("PRAGMA foreign_keys = ON")
            await connection.execute("PRAGMA synchronous = NORMAL")
            await connection.execute("PRAGMA busy_timeout = 5000")
            await database.migrate(load_migrations() if migrations is None else migrations)
        except BaseException:
            await connection.close()
            raise
        return database

    async def close(self) -> None:
        await self.connection.close()

    async def version(self) -> int:
        async with self.connection.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self, migrations: list[Migration]) -> None:
        """Apply every migration newer than the file, each in its own transaction."""
        current = await self.version()
        for migration in migrations:
            if migration.version <= current:
                continue
            # executescript() commits any open transaction first, so the script carries its own
            # BEGIN/COMMIT: a migration and its version number land together or not at all.
            # PRAGMA takes no parameters; the version is an int parsed from the file name.
            script = (
                f"BEGIN IMMEDIATE;\n{migration.sql}\n"
                f"PRAGMA user_version = {migration.version:d};\nCOMMIT;"
            )
            async with self._write_lock:
                try:
                    await self.connection.executescript(script)
                except BaseException:
                    if self.connection.in_transaction:
                        await self.connection.rollback()
                    raise
            log.info("Database upgraded to version %d (%s)", migration.version, migration.name)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction at a time; rolled back if the block raises."""
        async with self._write_lock:
            await self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield self.connection
            except BaseException:
                await self.connection.rollback()
                raise
            await self.connection.commit()
