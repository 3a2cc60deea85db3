"""Requests recently sent with each API key, kept so a restart does not forget the rate window.

Rows name a key by its digest (``bot.jobs.keyring.key_id``), never by the key itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.storage.database import Database

#: (provider, key digest, sent at): one request as the budgets count it.
SentRequest = tuple[str, str, float]


class SentRequestStore:
    """The request log of the per-key budgets: appended in batches, read back at start-up."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, rows: Sequence[SentRequest], *, prune_before: float | None = None) -> None:
        """Record ``rows`` in one transaction; with ``prune_before``, drop older rows in it too."""
        async with self._db.write() as connection:
            await connection.executemany(
                "INSERT INTO sent_requests (provider, key_digest, sent_at) VALUES (?, ?, ?)", rows
            )
            if prune_before is not None:
                await connection.execute(
                    "DELETE FROM sent_requests WHERE sent_at < ?", (prune_before,)
                )

    async def recent(self, *, since: float) -> list[SentRequest]:
        """Every request sent at or after ``since``, oldest first."""
        async with self._db.connection.execute(
            "SELECT provider, key_digest, sent_at FROM sent_requests WHERE sent_at >= ? "
            "ORDER BY sent_at",
            (since,),
        ) as cursor:
            return [(row[0], row[1], row[2]) for row in await cursor.fetchall()]

    async def prune(self, *, before: float) -> int:
        """Drop the rows older than ``before`` (outside every window); how many went."""
        async with self._db.write() as connection:
            cursor = await connection.execute(
                "DELETE FROM sent_requests WHERE sent_at < ?", (before,)
            )
            return cursor.rowcount
