"""Typed rows the repositories return."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class JobState(StrEnum):
    """Where a job is in its life: queued -> submitting -> running -> succeeded|failed -> delivered."""

    QUEUED = "queued"
    SUBMITTING = "submitting"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    #: A submit to an API without idempotency may or may not have created a task.
    UNCERTAIN = "uncertain"

    @property
    def unfinished(self) -> bool:
        return self in UNFINISHED


UNFINISHED = frozenset({JobState.QUEUED, JobState.SUBMITTING, JobState.RUNNING})
#: States with a result waiting to be delivered.
AWAITING_DELIVERY = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.UNCERTAIN})


class JobOutcome(StrEnum):
    """What a finished job came to; the one answer its card, its result, its buttons and /jobs give."""

    #: Finished with the media it was asked for, and no error.
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    #: Sent to an API without idempotency, and never confirmed: it may or may not have started.
    UNCERTAIN = "uncertain"


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    #: Delivered somewhere else than planned (e.g. the owner's DMs).
    FALLBACK = "fallback"
    #: Could not be delivered anywhere; kept for /jobs show.
    KEPT = "kept"


@dataclass(frozen=True)
class Destination:
    """Where a job's messages go in Discord (ids only: storage knows nothing of Discord)."""

    guild_id: int | None = None
    channel_id: int | None = None
    thread_id: int | None = None
    message_id: int | None = None
    #: The server keeps cards and results private: they are in the owner's DMs (``channel_id``
    #: is that DM channel), while ``guild_id`` stays the server the job was asked in.
    private: bool = False
    #: The Discord locale the card and the result are shown in (the server's for a public card,
    #: the owner's for a private one); None: English.
    locale: str | None = None
    #: The owner's own Discord locale, for what only they read (a result in their DMs).
    owner_locale: str | None = None


@dataclass(frozen=True)
class LinkedKey:
    """A user's key for one provider, as shown to them: never the key itself."""

    user_id: int
    provider: str
    fingerprint: str
    verified_at: float | None
    created_at: float
    updated_at: float
    #: False when the configured secret cannot decrypt it (the secret changed or was lost).
    readable: bool = True
    #: When the provider answered it 401/403; nothing is sent with it until it is linked again.
    rejected_at: float | None = None

    @property
    def rejected(self) -> bool:
        return self.rejected_at is not None

    @property
    def masked(self) -> str:
        return f"••••{self.fingerprint}"


@dataclass(frozen=True)
class Job:
    id: int
    owner_id: int
    destination: Destination
    provider: str
    endpoint: str
    request: dict[str, Any]
    idempotency_key: str
    state: JobState
    created_at: float
    updated_at: float
    remote_task_id: str | None = None
    submitted_at: float | None = None
    finished_at: float | None = None
    delivered_at: float | None = None
    next_poll_at: float | None = None
    submit_attempts: int = 0
    poll_count: int = 0
    delivery_attempts: int = 0
    next_delivery_at: float | None = None
    delivery_state: DeliveryState = DeliveryState.PENDING
    video_url: str | None = None
    image_urls: tuple[str, ...] = ()
    last_frame_url: str | None = None
    seed: int | None = None
    credits_charged: int | None = None
    credits_refunded: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    raw: dict[str, Any] | None = field(default=None, compare=False)
    #: SHA-256 (hex) of the token in the callback URL its last submit carried; None: none did.
    callback_token_hash: str | None = None
    #: Whose stored key pays when it is not the owner's own (a server's sponsor key, see
    #: :func:`server_key_owner`); None: the owner's.
    paid_by: int | None = None

    @property
    def key_owner(self) -> int:
        """The ``api_keys`` owner whose key the job is sent and polled with."""
        return self.owner_id if self.paid_by is None else self.paid_by

    @property
    def sponsor_guild_id(self) -> int | None:
        """The server whose sponsor key pays for the job, or None."""
        return None if self.paid_by is None else sponsor_guild(self.paid_by)

    @property
    def has_media(self) -> bool:
        return bool(self.video_url or self.image_urls)

    @property
    def outcome(self) -> JobOutcome | None:
        """What the job came to; None while it is unfinished, and for a cancelled job.

        Until the job is delivered its state says so (the provider clients never report a
        success without media). A delivered job keeps no separate flag, so its outcome is read
        from what it holds: a success has media and no error code.
        """
        if self.state is JobState.DELIVERED:
            succeeded = self.has_media and self.error_code is None
            return JobOutcome.SUCCEEDED if succeeded else JobOutcome.FAILED
        return _OUTCOMES.get(self.state)


_OUTCOMES = {
    JobState.SUCCEEDED: JobOutcome.SUCCEEDED,
    JobState.FAILED: JobOutcome.FAILED,
    JobState.UNCERTAIN: JobOutcome.UNCERTAIN,
}


def server_key_owner(guild_id: int) -> int:
    """Who a server's sponsor key is stored under in ``api_keys``: the negated server id, which
    no member can have (Discord ids are positive)."""
    return -guild_id


def sponsor_guild(key_owner: int) -> int | None:
    """The server whose sponsor key ``key_owner`` names, or None for a member."""
    return -key_owner if key_owner < 0 else None


class AllowedKind(StrEnum):
    """What a server can restrict generating to."""

    CHANNEL = "channel"
    ROLE = "role"
    #: A /video or /image model key.
    MODEL = "model"


@dataclass(frozen=True)
class CreditCap:
    """Credits (the provider's own unit) one member, and the whole server, may spend in any 24
    hours at one provider; None: no cap."""

    provider: str
    per_member: int | None = None
    per_server: int | None = None


@dataclass(frozen=True)
class GuildSettings:
    """What a server's admins decided; a server that never changed anything gets the defaults
    (no restriction; the bot's own limits)."""

    guild_id: int
    #: Jobs of one member sent at once; None: the bot's setting.
    max_running_per_user: int | None = None
    #: Jobs of one member waiting to be sent; None: the bot's setting.
    max_waiting_per_user: int | None = None
    #: Jobs of one member in this server in any 24 hours; None: no limit.
    max_jobs_per_day: int | None = None
    #: Cards and results go to the member's DMs instead of the channel.
    private_results: bool = False
    audit_channel_id: int | None = None
    #: Where generating is allowed; empty: anywhere.
    channels: frozenset[int] = frozenset()
    #: Who may generate (any of these roles); empty: everyone.
    roles: frozenset[int] = frozenset()
    #: Which /video and /image models (keys); empty: all.
    models: frozenset[str] = frozenset()
    #: By provider.
    credit_caps: Mapping[str, CreditCap] = field(default_factory=dict)


@dataclass(frozen=True)
class MemberUsage:
    """One member's jobs at one provider in a server, over two periods (the recent one first),
    and the credits they were charged (net of refunds, where the provider reported them)."""

    owner_id: int
    provider: str
    jobs: tuple[int, int]
    credits: tuple[int, int]
    #: Of those, the jobs and credits the server's sponsor key paid.
    sponsored_jobs: tuple[int, int]
    sponsored_credits: tuple[int, int]
