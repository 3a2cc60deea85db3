"""Per-guild settings, ready for admin controls (only defaults are set for now)."""

from __future__ import annotations

from bot.storage.database import Database
from bot.storage.records import GuildSettings


class GuildSettingsStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, guild_id: int) -> GuildSettings:
        """The guild's settings; a guild that never changed anything gets the defaults."""
        async with self._db.connection.execute(
            "SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return GuildSettings(guild_id)
        providers = row["allowed_providers"]
        return GuildSettings(
            guild_id,
            max_running_per_user=row["max_running_per_user"],
            allowed_providers=tuple(providers.split(",")) if providers else None,
        )
