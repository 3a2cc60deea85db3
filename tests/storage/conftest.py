"""A real SQLite file per test: storage is never mocked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import Database


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
async def database(db_path: Path) -> AsyncIterator[Database]:
    db = await Database.open(db_path)
    try:
        yield db
    finally:
        await db.close()
