"""Linked API keys: encrypted at rest, shown masked, rotatable, never readable from the file."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from bot.storage import ApiKeyStore, Database, KeyCipher, KeyDecryptionError, load_or_create_secret
from bot.storage.crypto import SECRET_FILE_NAME

KEY = "sk_live_4f9c2a7e1b3d5f6a8c0e2b4d6f8a1c3e"
OTHER_KEY = "sk-s2-0a1b2c3d4e5f6a7b8c9d"


@pytest.fixture
def store(database: Database) -> ApiKeyStore:
    return ApiKeyStore(database, KeyCipher(["a long random secret for the tests"]))


async def test_a_linked_key_is_shown_only_by_its_last_characters(store: ApiKeyStore) -> None:
    linked = await store.link(1, "seedance2ai", KEY)

    assert linked.fingerprint == KEY[-4:]
    assert linked.masked == f"••••{KEY[-4:]}"
    assert KEY not in repr(linked)
    assert linked.verified_at is not None
    assert await store.reveal(1, "seedance2ai") == KEY


async def test_one_key_per_user_and_provider_relinking_replaces_it(store: ApiKeyStore) -> None:
    await store.link(1, "seedance2ai", KEY)
    await store.link(1, "seed2", OTHER_KEY)
    await store.link(2, "seedance2ai", OTHER_KEY)
    replacement = "sk_live_ffffffffffffffffffffffff9999"
    await store.link(1, "seedance2ai", replacement)

    assert [k.provider for k in await store.for_user(1)] == ["seed2", "seedance2ai"]
    assert await store.reveal(1, "seedance2ai") == replacement
    assert await store.reveal(2, "seedance2ai") == OTHER_KEY
    assert await store.reveal(3, "seedance2ai") is None


async def test_unlink_removes_the_key(store: ApiKeyStore) -> None:
    await store.link(1, "seedance2ai", KEY)

    assert await store.unlink(1, "seedance2ai") is True
    assert await store.unlink(1, "seedance2ai") is False
    assert await store.reveal(1, "seedance2ai") is None
    assert await store.for_user(1) == []


async def test_the_database_file_never_contains_a_key(
    store: ApiKeyStore, database: Database, db_path: Path
) -> None:
    await store.link(1, "seedance2ai", KEY)
    await store.link(2, "seed2", OTHER_KEY)
    await store.unlink(2, "seed2")
    await database.connection.execute("PRAGMA wal_checkpoint(PASSIVE)")

    files = [p for p in db_path.parent.iterdir() if p.name.startswith(db_path.name)]
    assert files
    for path in files:  # the database and its WAL / shared-memory files
        data = path.read_bytes()
        assert KEY.encode() not in data
        assert OTHER_KEY.encode() not in data
        # Not even the part after the well-known prefix.
        assert KEY.removeprefix("sk_live_").encode() not in data


async def test_a_key_cannot_be_read_with_another_secret(database: Database) -> None:
    await ApiKeyStore(database, KeyCipher(["secret one"])).link(1, "seed2", OTHER_KEY)

    with pytest.raises(KeyDecryptionError) as caught:
        await ApiKeyStore(database, KeyCipher(["secret two"])).reveal(1, "seed2")
    assert OTHER_KEY not in str(caught.value)


async def test_every_readable_key_can_be_listed_for_the_log_redactor(database: Database) -> None:
    plain = "Zq7Lw4Rt8Yp3Nb6Hc1Xm9Kd2Vf5"  # a seedanceapi key: no known prefix
    await ApiKeyStore(database, KeyCipher(["lost secret"])).link(3, "seed2", OTHER_KEY)
    store = ApiKeyStore(database, KeyCipher(["current secret"]))
    await store.link(1, "seedance2ai", KEY)
    await store.link(2, "seedanceapi", plain)

    # The key under a lost secret is skipped, not an error.
    assert sorted(await store.readable_keys()) == sorted([KEY, plain])


async def test_rotating_the_secret_keeps_every_key(database: Database) -> None:
    old, new = "the old secret", "the new secret"
    before = ApiKeyStore(database, KeyCipher([old]))
    await before.link(1, "seedance2ai", KEY)
    await before.link(2, "seed2", OTHER_KEY)

    during = ApiKeyStore(database, KeyCipher([new, old]))
    assert await during.rotate() == 2
    assert await during.rotate() == 0

    after = ApiKeyStore(database, KeyCipher([new]))
    assert await after.reveal(1, "seedance2ai") == KEY
    assert await after.reveal(2, "seed2") == OTHER_KEY
    with pytest.raises(KeyDecryptionError):
        await ApiKeyStore(database, KeyCipher([old])).reveal(1, "seedance2ai")


def test_a_secret_is_generated_once_owner_only_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        first = load_or_create_secret(tmp_path / "data")
        second = load_or_create_secret(tmp_path / "data")

    path = tmp_path / "data" / SECRET_FILE_NAME
    assert first == second
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "KEY_ENCRYPTION_SECRET" in warnings[0].getMessage()
    assert first not in caplog.text
    KeyCipher([first]).decrypt(KeyCipher([first]).encrypt("round trip"))


def test_a_readable_secret_file_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    load_or_create_secret(tmp_path)
    (tmp_path / SECRET_FILE_NAME).chmod(0o644)
    with caplog.at_level(logging.WARNING):
        load_or_create_secret(tmp_path)
    assert "chmod 600" in caplog.text
