"""Users' API keys: one per (Discord user, provider), encrypted at rest."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import aiosqlite

from bot.storage.crypto import KeyCipher, KeyDecryptionError
from bot.storage.database import Database
from bot.storage.records import LinkedKey

log = logging.getLogger(__name__)

FINGERPRINT_LENGTH = 4


def fingerprint(api_key: str) -> str:
    """The few last characters users recognise their key by; never enough to use it."""
    return api_key[-FINGERPRINT_LENGTH:] if len(api_key) >= 3 * FINGERPRINT_LENGTH else ""


class ApiKeyStore:
    def __init__(
        self, database: Database, cipher: KeyCipher, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._db = database
        self._cipher = cipher
        self._clock = clock

    def _linked(self, row: aiosqlite.Row) -> LinkedKey:
        return LinkedKey(
            user_id=row["user_id"],
            provider=row["provider"],
            fingerprint=row["fingerprint"],
            verified_at=row["verified_at"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            readable=self._cipher.can_decrypt(row["ciphertext"]),
            rejected_at=row["rejected_at"],
        )

    async def link(
        self, user_id: int, provider: str, api_key: str, *, verified: bool = True
    ) -> LinkedKey:
        """Store (or replace) the user's key for ``provider``."""
        now = self._clock()
        async with self._db.write() as connection:
            await connection.execute(
                """
                INSERT INTO api_keys
                    (user_id, provider, ciphertext, fingerprint, verified_at, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (user_id, provider) DO UPDATE SET
                    ciphertext = excluded.ciphertext,
                    fingerprint = excluded.fingerprint,
                    verified_at = excluded.verified_at,
                    updated_at = excluded.updated_at,
                    rejected_at = NULL
                """,
                (
                    user_id,
                    provider,
                    self._cipher.encrypt(api_key),
                    fingerprint(api_key),
                    now if verified else None,
                    now,
                    now,
                ),
            )
        linked = await self.get(user_id, provider)
        assert linked is not None
        return linked

    async def get(self, user_id: int, provider: str) -> LinkedKey | None:
        async with self._db.connection.execute(
            "SELECT * FROM api_keys WHERE user_id = ? AND provider = ?", (user_id, provider)
        ) as cursor:
            row = await cursor.fetchone()
        return self._linked(row) if row else None

    async def reveal(self, user_id: int, provider: str) -> str | None:
        """The key itself, for sending a request. Never log or display the result."""
        async with self._db.connection.execute(
            "SELECT ciphertext FROM api_keys WHERE user_id = ? AND provider = ?",
            (user_id, provider),
        ) as cursor:
            row = await cursor.fetchone()
        return self._cipher.decrypt(row["ciphertext"]) if row else None

    async def for_user(self, user_id: int) -> list[LinkedKey]:
        async with self._db.connection.execute(
            "SELECT * FROM api_keys WHERE user_id = ? ORDER BY provider", (user_id,)
        ) as cursor:
            return [self._linked(row) for row in await cursor.fetchall()]

    async def mark_verified(self, user_id: int, provider: str) -> None:
        async with self._db.write() as connection:
            await connection.execute(
                "UPDATE api_keys SET verified_at = ? WHERE user_id = ? AND provider = ?",
                (self._clock(), user_id, provider),
            )

    async def mark_rejected(self, user_id: int, provider: str) -> bool:
        """The provider answered this key 401/403: remember it until the key is linked again."""
        async with self._db.write() as connection:
            cursor = await connection.execute(
                "UPDATE api_keys SET rejected_at = ? WHERE user_id = ? AND provider = ?",
                (self._clock(), user_id, provider),
            )
            return cursor.rowcount > 0

    async def unlink(self, user_id: int, provider: str) -> bool:
        async with self._db.write() as connection:
            cursor = await connection.execute(
                "DELETE FROM api_keys WHERE user_id = ? AND provider = ?", (user_id, provider)
            )
            return cursor.rowcount > 0

    async def unreadable_count(self) -> tuple[int, int]:
        """How many stored keys the configured secret(s) cannot decrypt, out of how many."""
        async with self._db.connection.execute("SELECT ciphertext FROM api_keys") as cursor:
            rows = list(await cursor.fetchall())
        return sum(not self._cipher.can_decrypt(row["ciphertext"]) for row in rows), len(rows)

    async def readable_keys(self) -> list[str]:
        """Every stored key the configured secret(s) can decrypt, for the log redactor at start-up.

        Never log or display the result. Keys no configured secret can read are skipped.
        """
        async with self._db.connection.execute("SELECT ciphertext FROM api_keys") as cursor:
            rows = list(await cursor.fetchall())
        keys = []
        for row in rows:
            try:
                keys.append(self._cipher.decrypt(row["ciphertext"]))
            except KeyDecryptionError:
                continue
        return keys

    async def rotate(self) -> int:
        """Re-encrypt every key still under an older secret; returns how many changed.

        Keys no configured secret can read are left as they are (their owners link them again).
        """
        async with self._db.connection.execute(
            "SELECT user_id, provider, ciphertext FROM api_keys"
        ) as cursor:
            rows = await cursor.fetchall()
        stale = [
            row
            for row in rows
            if not self._cipher.is_current(row["ciphertext"])
            and self._cipher.can_decrypt(row["ciphertext"])
        ]
        if stale:
            async with self._db.write() as connection:
                await connection.executemany(
                    "UPDATE api_keys SET ciphertext = ? WHERE user_id = ? AND provider = ?",
                    [
                        (self._cipher.rotate(row["ciphertext"]), row["user_id"], row["provider"])
                        for row in stale
                    ],
                )
            log.info("Re-encrypted %d stored API key(s) under the current secret", len(stale))
        return len(stale)
