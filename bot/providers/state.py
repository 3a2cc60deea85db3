"""The provider-neutral view of a generation task."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.redaction import redact, redact_json


class TaskStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (TaskStatus.SUCCEEDED, TaskStatus.FAILED)


@dataclass(frozen=True)
class Submission:
    """What a provider said when it accepted a job."""

    task_id: str
    status: TaskStatus
    credits_charged: int | None = None
    #: Balance left after the charge, where the provider reports it (seed2).
    balance: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        # The provider's payload is stored and logged: nothing key-shaped stays in it.
        object.__setattr__(self, "raw", redact_json(self.raw))


@dataclass(frozen=True)
class TaskState:
    """One poll's answer, the same shape for every provider."""

    task_id: str
    status: TaskStatus
    video_url: str | None = None
    image_urls: tuple[str, ...] = ()
    last_frame_url: str | None = None
    seed: int | None = None
    credits_charged: int | None = None
    credits_refunded: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    #: The provider's own payload, kept for debugging and for fields added later.
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        # Everything the provider wrote is stored, logged and shown in public threads: the
        # caller's key is already gone (the client removes it from the whole answer), and here
        # every key-shaped string goes too. Media URLs are left exactly as the provider sent them.
        for name in ("error_code", "error_message"):
            text = getattr(self, name)
            if text is not None:
                object.__setattr__(self, name, redact(text))
        object.__setattr__(self, "raw", redact_json(self.raw))

    @property
    def media_urls(self) -> tuple[str, ...]:
        return ((self.video_url,) if self.video_url else ()) + self.image_urls


class KeyCheck(StrEnum):
    """Result of checking an API key without spending credits."""

    VALID = "valid"
    INVALID = "invalid"


@dataclass(frozen=True)
class CostEstimate:
    """A documented price for one request, before it is sent."""

    credits: int
    usd: Decimal

    def __str__(self) -> str:
        # Whole cents as usual, but never rounded: 19 credits on seedanceapi cost $0.095.
        cents = self.usd.quantize(Decimal("0.01"))
        usd = f"{cents}" if cents == self.usd else f"{self.usd.normalize()}"
        return f"{self.credits:,} credits (${usd})"
