"""A key the provider answered 401/403 is remembered as rejected until it is linked again."""

from __future__ import annotations

import pytest

from bot.storage import ApiKeyStore, Database, KeyCipher

KEY = "sk_live_4f9c2a7e1b3d5f6a8c0e2b4d6f8a1c3e"


@pytest.fixture
def store(database: Database) -> ApiKeyStore:
    return ApiKeyStore(
        database, KeyCipher(["a long random secret for the tests"]), clock=lambda: 500.0
    )


async def test_a_rejected_key_is_marked_and_shown_so_until_relinked(store: ApiKeyStore) -> None:
    linked = await store.link(1, "seedance2ai", KEY)
    assert linked.rejected_at is None
    assert not linked.rejected

    assert await store.mark_rejected(1, "seedance2ai") is True
    rejected = await store.get(1, "seedance2ai")

    assert rejected is not None
    assert rejected.rejected
    assert rejected.rejected_at == 500.0
    assert [k.rejected for k in await store.for_user(1)] == [True]
    # Other members and providers are untouched; marking a key nobody linked changes nothing.
    assert await store.mark_rejected(2, "seedance2ai") is False

    relinked = await store.link(1, "seedance2ai", KEY)

    assert not relinked.rejected
    assert relinked.rejected_at is None


async def test_a_new_database_and_an_old_one_both_get_the_column(database: Database) -> None:
    async with database.connection.execute("PRAGMA table_info(api_keys)") as cursor:
        columns = {row["name"] for row in await cursor.fetchall()}

    assert "rejected_at" in columns
