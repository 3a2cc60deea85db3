"""What the bot last registered with Discord's command API (no discord import)."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.storage.database import Database


class CommandRegistrationStore:
    """The digest of the command payload last accepted by Discord, per registration scope."""

    def __init__(self, database: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = database
        self._clock = clock

    async def digest(self, scope: str) -> str | None:
        async with self._db.connection.execute(
            "SELECT payload_sha256 FROM command_registrations WHERE scope = ?", (scope,)
        ) as cursor:
            row = await cursor.fetchone()
        return str(row["payload_sha256"]) if row else None

    async def record(self, scope: str, digest: str, command_count: int) -> None:
        async with self._db.write() as connection:
            await connection.execute(
                """
                INSERT INTO command_registrations (scope, payload_sha256, command_count, registered_at)
                VALUES (?, ?, ?, ?)
                ON CONFLICT (scope) DO UPDATE SET
                    payload_sha256 = excluded.payload_sha256,
                    command_count = excluded.command_count,
                    registered_at = excluded.registered_at
                """,
                (scope, digest, command_count, self._clock()),
            )
