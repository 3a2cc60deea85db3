"""How a job's life ends: failed, uncertain, or stopped by a refused key; then delivered,
once, where its owner asked for it (or elsewhere, or kept for /jobs show).

Every change to a job goes through the ledger (:meth:`JobLedger.move`), which keeps the
owner's queue and running slots in step with it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from bot.jobs.board import LiveJob, Phase
from bot.jobs.clock import Clock
from bot.jobs.config import EngineConfig
from bot.jobs.errors import (
    KEY_REJECTED,
    KEY_UNREADABLE,
    NO_KEY_ANY_MORE,
    NO_LINKED_KEY,
    NOT_SENT_KEY_REFUSED,
    OUTCOME_UNKNOWN,
    RESULT_NOT_FETCHED,
    STORED_KEY_UNREADABLE,
)
from bot.jobs.keyring import KeyRing
from bot.jobs.ledger import JobLedger
from bot.jobs.ports import DeliveryOutcome, InputRefresher, ProgressKind
from bot.jobs.timing import GenerationTimes
from bot.metrics import Metrics
from bot.providers import ProviderClient, ProviderError
from bot.storage import DeliveryState, Job, JobState

log = logging.getLogger(__name__)

#: Seconds between two looks at a running job held because its key was refused.
REJECTED_KEY_RECHECK = 60.0


class JobEndings:
    """The steps that end a job and deliver it; :class:`~bot.jobs.steps.JobSteps` adds the
    ones that send and poll it."""

    def __init__(
        self,
        *,
        ledger: JobLedger,
        keyring: KeyRing,
        clients: Mapping[str, ProviderClient],
        config: EngineConfig,
        clock: Clock,
        inputs: InputRefresher | None,
        metrics: Metrics | None,
    ) -> None:
        self._ledger = ledger
        self._keyring = keyring
        self._clients = clients
        self._config = config
        self._clock = clock
        #: Refreshes the input links of a job that waited, right before it is sent (None: never).
        self.inputs = inputs
        self._metrics = metrics
        #: Replaced at start-up by what finished jobs taught earlier processes.
        self.times = GenerationTimes(plan=config.plan)
        #: Told about each job once it has ended and been delivered or kept (the audit log).
        self.finished: list[Callable[[Job], Awaitable[None]]] = []

    def _notes(self, job: Job) -> LiveJob:
        """What the engine notes about ``job`` (a throwaway if it is no longer live)."""
        return self._ledger.board.get(job.id) or LiveJob(job, Phase.ENDED)

    def _elapsed(self, job: Job) -> float:
        """Seconds since the provider accepted ``job``."""
        now = self._clock.now()
        return now - (job.submitted_at or now)

    def _past_deadline(self, job: Job) -> bool:
        expected = self.times.expected(job.endpoint, job.request)
        return self._elapsed(job) > self.times.deadline(expected)

    # -- ending --------------------------------------------------------------------------------

    async def _fail(self, job: Job, code: str, message: str) -> None:
        """End ``job`` as failed; its owner is told where it was asked for."""
        now = self._clock.now()
        await self._ledger.move(
            job,
            Phase.ENDED,
            at=now,
            show=ProgressKind.FINISHED,
            state=JobState.FAILED,
            finished_at=now,
            error_code=code,
            error_message=message,
        )
        log.info("Job %d failed: %s", job.id, code)

    async def _end_quietly(self, job: Job, code: str, message: str) -> None:
        """Fail ``job``, shown on its card and kept for /jobs show, without telling the owner
        again (they were told about the cause with another job)."""
        failed = await self._ledger.move(
            job,
            Phase.ENDED,
            show=ProgressKind.FINISHED,
            state=JobState.FAILED,
            finished_at=self._clock.now(),
            error_code=code,
            error_message=message,
        )
        await self._delivered(failed, DeliveryState.KEPT)

    async def mark_uncertain(self, job: Job, message: str) -> None:
        """The job may or may not have reached the provider: never sent again unless its owner
        asks; they are told at once."""
        await self._ledger.move(
            job,
            Phase.ENDED,
            at=self._clock.now(),
            show=ProgressKind.UNCERTAIN,
            state=JobState.UNCERTAIN,
            error_code=OUTCOME_UNKNOWN,
            error_message=message,
        )
        log.warning("Job %d is uncertain: %s", job.id, message)

    async def fail_unlinked(self, job: Job) -> None:
        """End a job whose key is gone (unlinked, unreadable, or refused by the provider)."""
        owner, provider = job.key_owner, job.provider
        if self._keyring.rejected(owner, provider):
            # Its owner was told once already, when the provider refused the key.
            await self._end_quietly(
                job, KEY_REJECTED, NOT_SENT_KEY_REFUSED.format(provider=provider)
            )
        elif self._keyring.unreadable(owner, provider):
            await self._fail(job, KEY_UNREADABLE, STORED_KEY_UNREADABLE.format(provider=provider))
        else:
            await self._fail(job, NO_LINKED_KEY, NO_KEY_ANY_MORE.format(provider=provider))

    async def _reject_key(self, job: Job, error: ProviderError) -> None:
        """The provider refused the key (401/403): nothing more is sent with it until its owner
        links it again. ``job`` fails and its owner is told privately, once; the key's waiting
        jobs (of every member, for a server's sponsor key) end with the same advice on their
        cards; its running jobs are held."""
        owner, provider = job.key_owner, job.provider
        if await self._keyring.reject(owner, provider):
            await self._fail(job, KEY_REJECTED, error.message)
        elif job.state is JobState.RUNNING:
            # Another poll with the same key was refused meanwhile: held like the rest.
            self._ledger.due(job.id, self._clock.now() + REJECTED_KEY_RECHECK)
        else:
            await self._end_quietly(job, KEY_REJECTED, error.message)
        schedule = self._ledger.schedule
        for other in self._ledger.waiting_on_key(owner, provider):
            if schedule.in_flight(other.id):
                continue  # a step of its own is ending it already
            # Claimed as a step of its own would be, so that nothing else starts on it meanwhile.
            schedule.begin(other.id)
            try:
                await self._end_quietly(
                    other, KEY_REJECTED, NOT_SENT_KEY_REFUSED.format(provider=provider)
                )
            finally:
                schedule.end(other.id, live=other.id in self._ledger.board)

    async def hold_rejected(self, job: Job) -> None:
        """A running job whose key was refused: nothing is sent with the key; it is polled again
        once the key is linked again, and ends at its deadline if that never happens."""
        if self._past_deadline(job):
            await self._end_quietly(
                job,
                KEY_REJECTED,
                RESULT_NOT_FETCHED.format(provider=job.provider),
            )
            return
        self._ledger.due(job.id, self._clock.now() + REJECTED_KEY_RECHECK)

    # -- delivering ----------------------------------------------------------------------------

    async def deliver(self, job: Job) -> None:
        """Show an ended job to its owner; try again later, or elsewhere, if that fails."""
        port = self._ledger.port
        # Counted before the attempt: after a crash, a non-zero count tells the port to check
        # whether the result is already posted instead of posting it twice.
        repeat = job.delivery_attempts > 0
        job = await self._ledger.move(job, Phase.ENDED, delivery_attempts=job.delivery_attempts + 1)
        outcome = await self._try(port.deliver(job, repeat=repeat), job)
        if outcome is DeliveryOutcome.DELIVERED:
            await self._delivered(job, DeliveryState.DELIVERED)
            return
        config = self._config
        if (
            outcome is DeliveryOutcome.RETRY
            and job.delivery_attempts < config.max_delivery_attempts
        ):
            delay = min(
                config.max_delivery_retry_delay,
                config.delivery_retry_delay * 2 ** (job.delivery_attempts - 1),
            )
            await self._deliver_later(job, self._clock.now() + delay)
            return
        fallback = await self._try(port.deliver_fallback(job), job)
        if fallback is DeliveryOutcome.DELIVERED:
            await self._delivered(job, DeliveryState.FALLBACK)
        elif fallback is DeliveryOutcome.RETRY:
            await self._deliver_later(job, self._clock.now() + config.max_delivery_retry_delay)
        else:
            # Nowhere to deliver: kept for /jobs show.
            await self._delivered(job, DeliveryState.KEPT)

    async def _deliver_later(self, job: Job, when: float) -> None:
        await self._ledger.move(job, Phase.ENDED, at=when, next_delivery_at=when)

    async def _try(self, delivery: Awaitable[DeliveryOutcome], job: Job) -> DeliveryOutcome:
        try:
            outcome = await delivery
        except Exception:
            log.exception("Delivering job %d failed", job.id)
            return DeliveryOutcome.RETRY
        return DeliveryOutcome(outcome)

    async def _delivered(self, job: Job, how: DeliveryState) -> None:
        ended = job.state in (JobState.SUCCEEDED, JobState.FAILED)
        now = self._clock.now()
        done = await self._ledger.move(
            job,
            None,
            state=JobState.DELIVERED if ended else job.state,
            delivery_state=how,
            delivered_at=now,
        )
        shown = how in (DeliveryState.DELIVERED, DeliveryState.FALLBACK)
        if self._metrics is not None and shown and job.finished_at is not None:
            self._metrics.delivery_lag(now - job.finished_at)
        log.info("Job %d delivered (%s)", job.id, how.value)
        for listener in self.finished:
            try:
                await listener(done)
            except Exception:  # a listener's failure never changes the job
                log.exception("Telling about the end of job %d failed", job.id)
