"""What the engine needs from whoever shows jobs to users (the Discord layer, or a test)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from bot.jobs.errors import INPUT_EXPIRED
from bot.storage import Job


class DeliveryOutcome(StrEnum):
    DELIVERED = "delivered"
    #: A temporary failure: try again later.
    RETRY = "retry"
    #: Can never succeed where it was meant to go (channel gone, no permission).
    UNDELIVERABLE = "undeliverable"


class ProgressKind(StrEnum):
    QUEUED = "queued"
    SUBMITTED = "submitted"
    RUNNING = "running"
    FINISHED = "finished"
    UNCERTAIN = "uncertain"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Progress:
    """A change worth showing on a job's status card."""

    job: Job
    kind: ProgressKind
    #: 1 = next to start, for queued jobs.
    queue_position: int | None = None
    #: Seconds since the provider accepted the job, for running jobs.
    elapsed: float | None = None
    #: While the provider keeps failing this job's polls (5xx, no connection, unreadable
    #: answers): when that began, on the clock of the job's timestamps. None once it answers.
    failing_since: float | None = None
    #: Median seconds from submit to finish of jobs like this one (learned, or the provider's
    #: guess before anything is), for sent and running jobs.
    expected: float | None = None
    #: When the job is expected to finish (its submit plus ``expected``), on the clock of the
    #: job's timestamps.
    eta: float | None = None


class DeliveryPort(Protocol):
    async def deliver(self, job: Job, *, repeat: bool) -> DeliveryOutcome:
        """Show a finished (or uncertain) job to its owner where it was requested.

        ``repeat`` is True when an earlier attempt may have got through before a crash: the
        implementation must then check and not post the result a second time.
        """

    async def deliver_fallback(self, job: Job) -> DeliveryOutcome:
        """Deliver somewhere else (e.g. the owner's DMs) when ``deliver`` can never succeed."""

    async def publish(self, event: Progress) -> None:
        """Progress for the status card; best effort, never blocks the engine for long."""


class InputUnavailableError(Exception):
    """An input of a job can no longer be had (its file is gone), so the job must not be sent.

    ``message`` names the input, for its owner; it is stored with the job in English, and the
    layer that wrote it reads it back in the owner's language where the job is shown.
    ``retryable`` when it only cannot be had right now (the service that re-signs links did not
    answer): the engine then tries again later.
    """

    #: Stable name of this failure (the code of the jobs it ends).
    error_code: ClassVar[str] = INPUT_EXPIRED

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class InputRefresher(Protocol):
    async def refresh(self, job: Job) -> Mapping[str, Any]:
        """``job.request`` with links to its input files that work now (e.g. signed afresh).

        Called right before a job that waited (in its owner's queue, or while the bot was down)
        is sent; the engine stores what it returns with the job. Raise
        :class:`InputUnavailableError` naming an input that can no longer be had: the job then
        fails before anything is sent.
        """
