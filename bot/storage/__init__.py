"""SQLite storage: the only place SQL lives; repositories return typed records (no discord)."""

from bot.storage.crypto import KeyCipher, KeyDecryptionError, load_or_create_secret
from bot.storage.database import Database, DatabaseUnavailableError
from bot.storage.guilds import GuildSettingsStore
from bot.storage.jobs import JobStore
from bot.storage.keys import ApiKeyStore, fingerprint
from bot.storage.preferences import PREFERENCES, MemberPreferences, PreferenceStore
from bot.storage.records import (
    AWAITING_DELIVERY,
    UNFINISHED,
    AllowedKind,
    CreditCap,
    DeliveryState,
    Destination,
    GuildSettings,
    Job,
    JobOutcome,
    JobState,
    LinkedKey,
    MemberUsage,
    server_key_owner,
    sponsor_guild,
)
from bot.storage.registrations import CommandRegistrationStore
from bot.storage.sent_requests import SentRequestStore

__all__ = [
    "AWAITING_DELIVERY",
    "PREFERENCES",
    "UNFINISHED",
    "AllowedKind",
    "ApiKeyStore",
    "CommandRegistrationStore",
    "CreditCap",
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
    "MemberPreferences",
    "MemberUsage",
    "PreferenceStore",
    "SentRequestStore",
    "fingerprint",
    "load_or_create_secret",
    "server_key_owner",
    "sponsor_guild",
]
