"""Per-server settings (/settings): limits, where and with what members may generate, credit
caps, privacy and the audit channel."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.storage.database import Database
from bot.storage.records import AllowedKind, CreditCap, GuildSettings

#: Columns of ``guild_settings`` that :meth:`GuildSettingsStore.update` may set.
_UPDATABLE = frozenset(
    {
        "max_running_per_user",
        "max_waiting_per_user",
        "max_jobs_per_day",
        "private_results",
        "audit_channel_id",
    }
)


class GuildSettingsStore:
    def __init__(self, database: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = database
        self._clock = clock

    async def get(self, guild_id: int) -> GuildSettings:
        """The server's settings; a server that never changed anything gets the defaults."""
        async with self._db.connection.execute(
            "SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,)
        ) as cursor:
            row = await cursor.fetchone()
        async with self._db.connection.execute(
            "SELECT kind, value FROM guild_allowed WHERE guild_id = ?", (guild_id,)
        ) as cursor:
            allowed = [(r["kind"], r["value"]) for r in await cursor.fetchall()]
        async with self._db.connection.execute(
            "SELECT * FROM guild_credit_caps WHERE guild_id = ?", (guild_id,)
        ) as cursor:
            caps = {
                r["provider"]: CreditCap(r["provider"], r["per_member"], r["per_server"])
                for r in await cursor.fetchall()
            }
        ids = {
            kind: frozenset(int(v) for k, v in allowed if k == kind)
            for kind in (AllowedKind.CHANNEL, AllowedKind.ROLE)
        }
        common: dict[str, Any] = {
            "channels": ids[AllowedKind.CHANNEL],
            "roles": ids[AllowedKind.ROLE],
            "models": frozenset(v for k, v in allowed if k == AllowedKind.MODEL),
            "credit_caps": caps,
        }
        if row is None:
            return GuildSettings(guild_id, **common)
        return GuildSettings(
            guild_id,
            max_running_per_user=row["max_running_per_user"],
            max_waiting_per_user=row["max_waiting_per_user"],
            max_jobs_per_day=row["max_jobs_per_day"],
            private_results=bool(row["private_results"]),
            audit_channel_id=row["audit_channel_id"],
            **common,
        )

    async def update(self, guild_id: int, **changes: int | bool | None) -> GuildSettings:
        """Set the given columns (None: back to the default) and return the new settings."""
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        values = {k: int(v) if isinstance(v, bool) else v for k, v in changes.items()}
        columns = ["guild_id", *values, "updated_at"]
        params = [guild_id, *values.values(), self._clock()]
        # Column names come from the whitelist above, never from input.
        sets = ", ".join(f"{c} = excluded.{c}" for c in [*values, "updated_at"])
        sql = (
            f"INSERT INTO guild_settings ({', '.join(columns)}) "  # noqa: S608
            f"VALUES ({', '.join('?' for _ in columns)}) "
            f"ON CONFLICT (guild_id) DO UPDATE SET {sets}"
        )
        async with self._db.write() as connection:
            await connection.execute(sql, params)
        return await self.get(guild_id)

    async def allow(self, guild_id: int, kind: AllowedKind, value: str) -> bool:
        """Add ``value`` to what the server allows of ``kind``; False if it was there already."""
        async with self._db.write() as connection:
            cursor = await connection.execute(
                "INSERT OR IGNORE INTO guild_allowed (guild_id, kind, value) VALUES (?, ?, ?)",
                (guild_id, kind.value, value),
            )
            return cursor.rowcount > 0

    async def disallow(self, guild_id: int, kind: AllowedKind, value: str) -> bool:
        """Take ``value`` off the list of ``kind``; False if it was not on it."""
        async with self._db.write() as connection:
            cursor = await connection.execute(
                "DELETE FROM guild_allowed WHERE guild_id = ? AND kind = ? AND value = ?",
                (guild_id, kind.value, value),
            )
            return cursor.rowcount > 0

    async def clear(self, guild_id: int, kind: AllowedKind) -> int:
        """Lift the restriction of ``kind``; how many entries it had."""
        async with self._db.write() as connection:
            cursor = await connection.execute(
                "DELETE FROM guild_allowed WHERE guild_id = ? AND kind = ?",
                (guild_id, kind.value),
            )
            return cursor.rowcount

    async def set_credit_cap(self, guild_id: int, cap: CreditCap) -> None:
        """Keep ``cap`` for its provider (both None: no cap at that provider any more)."""
        async with self._db.write() as connection:
            if cap.per_member is None and cap.per_server is None:
                await connection.execute(
                    "DELETE FROM guild_credit_caps WHERE guild_id = ? AND provider = ?",
                    (guild_id, cap.provider),
                )
                return
            await connection.execute(
                """
                INSERT INTO guild_credit_caps (guild_id, provider, per_member, per_server)
                VALUES (?, ?, ?, ?)
                ON CONFLICT (guild_id, provider) DO UPDATE SET
                    per_member = excluded.per_member, per_server = excluded.per_server
                """,
                (guild_id, cap.provider, cap.per_member, cap.per_server),
            )

    async def running_caps(self) -> dict[int, int]:
        """Every server's own cap on the jobs one member has sent at once (for the engine)."""
        async with self._db.connection.execute(
            "SELECT guild_id, max_running_per_user FROM guild_settings"
            " WHERE max_running_per_user IS NOT NULL"
        ) as cursor:
            return {r["guild_id"]: r["max_running_per_user"] for r in await cursor.fetchall()}
