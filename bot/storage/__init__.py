"""SQLite storage: the only place SQL lives; repositories return typed records (no discord)."""

from bot.storage.crypto import KeyCipher, KeyDecryptionError, load_or_create_secret
from bot.storage.database import Database, DatabaseUnavailableError
from bot.storage.guilds import GuildSettingsStore
from bot.storage.jobs import JobStore
from bot.storage.keys import ApiKeyStore, fingerprint
from bot.storage.records import (
    AWAITING_DELIVERY,
    UNFINISHED,
    DeliveryState,
    Destination,
    GuildSettings,
    Job,
    JobOutcome,
    JobState,
    LinkedKey,
)
from bot.storage.registrations import CommandRegistrationStore
from bot.storage.sent_requests import SentRequestStore

__all__ = [
    "AWAITING_DELIVERY",
    "UNFINISHED",
    "ApiKeyStore",
    "CommandRegistrationStore",
    "Database",
    "DatabaseUnavailableError",
    "DeliveryState",
    "Destination",
    "GuildSettings",
    "GuildSettingsStore",
    "Job",
    "JobOutcome",
    "JobState",
    "JobStore",
    "KeyCipher",
    "KeyDecryptionError",
    "LinkedKey",
    "SentRequestStore",
    "fingerprint",
    "load_or_create_secret",
]
