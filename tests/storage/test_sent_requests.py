"""The requests recently sent with each key: written in batches, read back at start-up, pruned
beyond the window, and never holding the key itself."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.storage import Database
from bot.storage.sent_requests import SentRequestStore

DIGEST = "0123456789abcdef"
OTHER = "fedcba9876543210"


async def test_requests_are_read_back_in_the_order_they_were_sent(database: Database) -> None:
    store = SentRequestStore(database)
    await store.add([("seed2", DIGEST, 10.0), ("seed2", OTHER, 11.0)])
    await store.add([("seed2", DIGEST, 12.5)])

    assert await store.recent(since=0.0) == [
        ("seed2", DIGEST, 10.0),
        ("seed2", OTHER, 11.0),
        ("seed2", DIGEST, 12.5),
    ]
    assert await store.recent(since=11.0) == [("seed2", OTHER, 11.0), ("seed2", DIGEST, 12.5)]


async def test_rows_beyond_the_window_are_pruned_as_new_ones_are_written(
    database: Database,
) -> None:
    store = SentRequestStore(database)
    await store.add([("seed2", DIGEST, t) for t in (1.0, 2.0, 3.0)])
    await store.add([("seed2", DIGEST, 70.0)], prune_before=10.0)

    assert await store.recent(since=0.0) == [("seed2", DIGEST, 70.0)]
    assert await store.prune(before=100.0) == 1
    assert await store.recent(since=0.0) == []


async def test_the_file_holds_a_digest_of_the_key_never_the_key(
    database: Database, db_path: Path
) -> None:
    store = SentRequestStore(database)
    await store.add([("seedance2ai", DIGEST, 5.0)])

    columns = [r[1] for r in sqlite3.connect(db_path).execute("PRAGMA table_info(sent_requests)")]
    assert columns == ["provider", "key_digest", "sent_at"]
