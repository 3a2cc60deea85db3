"""Members' own defaults for /video and /image (/preferences), one row per member."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from bot.storage.database import Database


@dataclass(frozen=True)
class MemberPreferences:
    """What a member chose; None everywhere: no preference (the bot's and the server's
    defaults apply)."""

    user_id: int
    #: /video and /image model keys, used when the command names none.
    video_model: str | None = None
    image_model: str | None = None
    #: Used when the command gives none and the model takes it.
    aspect_ratio: str | None = None
    #: Their cards and results go to their DMs, whatever the server's setting.
    private_results: bool | None = None

    @property
    def empty(self) -> bool:
        return all(getattr(self, name) is None for name in PREFERENCES)


#: The preferences a member can set or clear, by column name.
PREFERENCES: tuple[str, ...] = tuple(
    f.name for f in fields(MemberPreferences) if f.name != "user_id"
)


class PreferenceStore:
    def __init__(self, database: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = database
        self._clock = clock

    async def get(self, user_id: int) -> MemberPreferences:
        """The member's preferences; a member who never set any gets none."""
        async with self._db.connection.execute(
            "SELECT * FROM member_preferences WHERE user_id = ?", (user_id,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return MemberPreferences(user_id)
        private = row["private_results"]
        return MemberPreferences(
            user_id,
            video_model=row["video_model"],
            image_model=row["image_model"],
            aspect_ratio=row["aspect_ratio"],
            private_results=None if private is None else bool(private),
        )

    async def update(self, user_id: int, **changes: Any) -> MemberPreferences:
        """Set the given preferences (a None value clears one); the others stay as they are."""
        unknown = set(changes) - set(PREFERENCES)
        if unknown:
            raise ValueError(f"not a preference: {sorted(unknown)}")
        values = {k: int(v) if isinstance(v, bool) else v for k, v in changes.items()}
        values["updated_at"] = self._clock()
        # Column names come from PREFERENCES, never from input.
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        updates = ", ".join(f"{c} = excluded.{c}" for c in values)
        sql = (
            f"INSERT INTO member_preferences (user_id, {columns}) VALUES (?, {marks})"  # noqa: S608
            f" ON CONFLICT (user_id) DO UPDATE SET {updates}"
        )
        async with self._db.write() as connection:
            await connection.execute(sql, [user_id, *values.values()])
        return await self.get(user_id)

    async def clear(self, user_id: int) -> None:
        """Forget every preference of the member."""
        async with self._db.write() as connection:
            await connection.execute("DELETE FROM member_preferences WHERE user_id = ?", (user_id,))
