"""The durable job engine: submit, poll within each key's budget, resume, deliver exactly once."""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import itertools
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.jobs.budget import PrepaidGate, RequestBudget
from bot.jobs.clock import Clock
from bot.jobs.ports import DeliveryOutcome, DeliveryPort, Progress, ProgressKind
from bot.jobs.timing import GenerationTimes, PollPlan
from bot.metrics import Metrics
from bot.models import ProviderRequest, endpoint, endpoint_for
from bot.providers import ProviderClient, ProviderError, TaskState, TaskStatus, errors
from bot.providers.http import RequestGate
from bot.storage import (
    ApiKeyStore,
    DeliveryState,
    Destination,
    Job,
    JobState,
    JobStore,
    KeyDecryptionError,
)
from bot.storage.jobs import image_urls_json, new_idempotency_key, raw_json

log = logging.getLogger(__name__)

#: Requests per window per key. seedance2ai documents 30 per 60 s; the others document nothing.
DOCUMENTED_BUDGETS: dict[str, tuple[int, float]] = {"seedance2ai": (30, 60.0)}


#: Error code of a job whose stored key the configured secret cannot decrypt.
KEY_UNREADABLE = "KeyUnreadable"


class NoLinkedKeyError(Exception):
    """The user has no API key for the provider of the endpoint they asked for."""

    def __init__(self, provider: str) -> None:
        super().__init__(f"no API key linked for {provider}")
        self.provider = provider


@dataclass(frozen=True)
class EngineConfig:
    max_running_per_user: int = 3
    #: Budget for providers without a documented limit: conservative, configurable.
    default_budget: tuple[int, float] = (20, 60.0)
    budgets: Mapping[str, tuple[int, float]] = field(default_factory=lambda: DOCUMENTED_BUDGETS)
    max_submit_attempts: int = 5
    submit_retry_delay: float = 30.0
    max_delivery_attempts: int = 8
    delivery_retry_delay: float = 5.0
    max_delivery_retry_delay: float = 600.0
    plan: PollPlan = field(default_factory=PollPlan)
    #: How long stop() lets in-flight requests finish before cancelling them.
    stop_grace: float = 10.0


def _key_id(provider: str, api_key: str) -> tuple[str, str]:
    # Budgets are per key; the dictionary holds a digest, not the key.
    return provider, hashlib.sha256(api_key.encode()).hexdigest()[:16]


class JobEngine:
    """One per process. ``start()`` resumes every unfinished job; ``stop()`` ends cleanly."""

    def __init__(
        self,
        *,
        jobs: JobStore,
        keys: ApiKeyStore,
        clients: Mapping[str, ProviderClient],
        port: DeliveryPort,
        config: EngineConfig | None = None,
        clock: Clock | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics
        self._jobs = jobs
        self._keys = keys
        self._clients = clients
        self._port = port
        self.config = config or EngineConfig()
        self._clock = clock or Clock()
        self._times = GenerationTimes(plan=self.config.plan)
        self._queued: dict[int, Job] = {}
        self._active = Counter[int]()  # submitting or running jobs per owner
        self._jobs_by_id: dict[int, Job] = {}
        self._due: list[tuple[float, int, int, str]] = []
        self._entry: dict[int, int] = {}  # job id -> sequence of its live heap entry
        self._seq = itertools.count()
        self._busy: set[int] = set()
        self._after_step: dict[int, tuple[float, str]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._api_keys: dict[tuple[int, str], str] = {}
        #: (owner, provider) whose stored key the configured secret cannot decrypt.
        self._unreadable_keys: set[tuple[int, str]] = set()
        self._budgets: dict[tuple[str, str], RequestBudget] = {}
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None

    # -- life cycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        self._times = GenerationTimes(await self._jobs.generation_times(), self.config.plan)
        resumed = await self._jobs.unfinished()
        for job in resumed:
            await self._adopt(job)
        self._loop_task = asyncio.create_task(self._run(), name="job-engine")
        log.info("Job engine started; resumed %d job(s)", len(resumed))

    @property
    def running(self) -> bool:
        """Whether the scheduler loop is alive (for the health check)."""
        return self._loop_task is not None and not self._loop_task.done()

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=self.config.stop_grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def kill(self) -> None:
        """Stop at once, mid-request, as a crash would (tests)."""
        for task in [*self._tasks, *([self._loop_task] if self._loop_task else [])]:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._loop_task is not None:
            await asyncio.gather(self._loop_task, return_exceptions=True)

    # -- what users do -------------------------------------------------------------------------

    async def enqueue(
        self, *, owner_id: int, request: ProviderRequest, destination: Destination | None = None
    ) -> Job:
        """Record a job (before anything is sent) and queue it."""
        spec = endpoint_for(request)
        if await self._api_key(owner_id, spec.provider.value) is None:
            if (owner_id, spec.provider.value) in self._unreadable_keys:
                raise KeyDecryptionError(
                    "stored key cannot be decrypted with the configured secret"
                )
            raise NoLinkedKeyError(spec.provider.value)
        job = await self._jobs.create(
            owner_id=owner_id,
            provider=spec.provider.value,
            endpoint=spec.id,
            request=request.model_dump(mode="json", exclude_none=True),
            destination=destination or Destination(),
        )
        self._queued[job.id] = job
        self._jobs_by_id[job.id] = job
        await self._publish(Progress(job, ProgressKind.QUEUED, self.queue_position(job.id)))
        self._wake.set()
        return job

    async def cancel(self, job_id: int, owner_id: int) -> Job | None:
        """Cancel a job that has not been sent yet; None if it is not the owner's or already sent."""
        job = self._queued.get(job_id)
        if job is None or job.owner_id != owner_id or job_id in self._busy:
            return None
        cancelled = await self._jobs.transition(job_id, [JobState.QUEUED], state=JobState.CANCELLED)
        if cancelled is None:
            return None
        self._forget(job_id)
        await self._publish(Progress(cancelled, ProgressKind.CANCELLED))
        await self._publish_queue(owner_id)
        return cancelled

    async def retry_uncertain(self, job_id: int, owner_id: int) -> Job | None:
        """The owner chose to send an uncertain job again (knowing it may be charged twice)."""
        job = await self._jobs.get(job_id)
        if job is None or job.owner_id != owner_id:
            return None
        if await self._api_key(owner_id, job.provider) is None:
            raise NoLinkedKeyError(job.provider)
        requeued = await self._jobs.transition(
            job_id,
            [JobState.UNCERTAIN],
            state=JobState.QUEUED,
            idempotency_key=new_idempotency_key(),
            error_code=None,
            error_message=None,
            next_poll_at=None,
            delivery_state=DeliveryState.PENDING,
            delivery_attempts=0,
        )
        if requeued is not None:
            self._unschedule(job_id)
            self._queued[job_id] = requeued
            self._jobs_by_id[job_id] = requeued
            await self._publish(
                Progress(requeued, ProgressKind.QUEUED, self.queue_position(job_id))
            )
            self._wake.set()
        return requeued

    def queue_position(self, job_id: int) -> int | None:
        """1 for the owner's next job to start, 2 for the one after, ...; None if not queued."""
        job = self._queued.get(job_id)
        if job is None:
            return None
        ahead = [j for j in self._queued.values() if j.owner_id == job.owner_id and j.id < job_id]
        return len(ahead) + 1

    async def refresh_key(self, owner_id: int, provider: str) -> None:
        """The user relinked or unlinked a key: use what is stored now."""
        self._api_keys.pop((owner_id, provider), None)
        self._unreadable_keys.discard((owner_id, provider))
        await self._api_key(owner_id, provider)

    @property
    def budgets(self) -> Mapping[tuple[str, str], RequestBudget]:
        return self._budgets

    # -- bookkeeping ---------------------------------------------------------------------------

    async def _adopt(self, job: Job) -> None:
        """Take a stored job back after a restart, from whatever step it was at."""
        self._jobs_by_id[job.id] = job
        await self._api_key(job.owner_id, job.provider)
        if job.state is JobState.QUEUED:
            self._queued[job.id] = job
        elif job.state is JobState.SUBMITTING:
            if self._clients[job.provider].honours_idempotency:
                # Same Idempotency-Key: the provider answers with the task it may already have.
                self._queued[job.id] = job
            else:
                await self._mark_uncertain(
                    job,
                    "The bot restarted while sending this job, so it cannot tell whether the provider received it.",
                )
        elif job.state is JobState.RUNNING:
            self._active[job.owner_id] += 1
            self._schedule(job.id, job.next_poll_at or self._clock.now(), "poll")
        else:
            self._schedule(job.id, job.next_delivery_at or self._clock.now(), "deliver")

    async def _api_key(self, owner_id: int, provider: str) -> str | None:
        cached = self._api_keys.get((owner_id, provider))
        if cached is None:
            try:
                cached = await self._keys.reveal(owner_id, provider)
            except KeyDecryptionError:
                # The secret changed or was lost: the owner must link the key again. The rest
                # of the bot carries on; this key's jobs fail with that advice.
                self._unreadable_keys.add((owner_id, provider))
                return None
            if cached is not None:
                self._api_keys[(owner_id, provider)] = cached
        return cached

    def _budget(self, provider: str, api_key: str) -> RequestBudget:
        key = _key_id(provider, api_key)
        budget = self._budgets.get(key)
        if budget is None:
            limit, window = self.config.budgets.get(provider, self.config.default_budget)
            budget = RequestBudget(limit, window, self._clock, name=f"{provider}/{key[1][:6]}")
            self._budgets[key] = budget
        return budget

    def _schedule(self, job_id: int, when: float, action: str) -> None:
        if job_id in self._busy:
            # Scheduled from inside the job's own step: takes effect when that step ends.
            self._after_step[job_id] = (when, action)
            return
        seq = next(self._seq)
        self._entry[job_id] = seq
        heapq.heappush(self._due, (when, seq, job_id, action))
        self._wake.set()

    def _unschedule(self, job_id: int) -> None:
        self._entry.pop(job_id, None)
        self._after_step.pop(job_id, None)

    def _forget(self, job_id: int) -> None:
        self._queued.pop(job_id, None)
        self._unschedule(job_id)
        self._jobs_by_id.pop(job_id, None)

    async def _publish(self, event: Progress) -> None:
        try:
            await self._port.publish(event)
        except Exception:
            log.exception("Publishing progress of job %d failed", event.job.id)

    async def _publish_queue(self, owner_id: int) -> None:
        for job in sorted(self._queued.values(), key=lambda j: j.id):
            if job.owner_id == owner_id and job.id not in self._busy:
                await self._publish(Progress(job, ProgressKind.QUEUED, self.queue_position(job.id)))

    # -- the scheduler -------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            now = self._clock.now()
            try:
                wake_at = self._dispatch(now)
            except Exception:  # the loop must outlive its own bugs
                log.exception("Job engine dispatch failed; retrying shortly")
                wake_at = now + 5.0
            await self._clock.wait(self._wake, None if wake_at is None else wake_at - now)

    def _dispatch(self, now: float) -> float | None:
        wakes: list[float] = []
        work: dict[tuple[str, str], list[tuple[tuple[int, float], str, Job]]] = {}
        self._collect_submits(now, wakes, work)
        self._collect_due(now, work)
        for key, items in work.items():
            self._spend(key, items, now, wakes)
        if self._due:
            wakes.append(self._due[0][0])
        return min(wakes) if wakes else None

    def _collect_submits(
        self, now: float, wakes: list[float], work: dict[tuple[str, str], list[Any]]
    ) -> None:
        waiting = Counter[int]()
        for job in sorted(self._queued.values(), key=lambda j: j.id):
            if job.id in self._busy:
                continue
            if job.next_poll_at is not None and job.next_poll_at > now:
                wakes.append(job.next_poll_at)  # waiting to retry a refused submit
                continue
            waiting[job.owner_id] += 1
            if (
                self._active[job.owner_id] + waiting[job.owner_id]
                > self.config.max_running_per_user
            ):
                continue  # waits its turn; finishing jobs wake the loop
            api_key = self._api_keys.get((job.owner_id, job.provider))
            if api_key is None:
                self._launch(job, self._fail_unlinked(job))
                continue
            # Submits rank after polls of jobs that are probably finished, before the rest.
            work.setdefault(_key_id(job.provider, api_key), []).append(
                ((1, -job.id), "submit", job)
            )

    def _collect_due(self, now: float, work: dict[tuple[str, str], list[Any]]) -> None:
        while self._due and self._due[0][0] <= now:
            _, seq, job_id, action = heapq.heappop(self._due)
            job = self._jobs_by_id.get(job_id)
            if self._entry.get(job_id) != seq or job is None or job_id in self._busy:
                continue
            self._entry.pop(job_id)
            if action == "deliver":
                self._launch(job, self._deliver(job))
                continue
            api_key = self._api_keys.get((job.owner_id, job.provider))
            if api_key is None:
                self._launch(job, self._fail_unlinked(job))
                continue
            # When the budget is short, poll the jobs most likely to be finished first.
            ratio = self._progress_ratio(job, now)
            rank = (2 if ratio >= 1.0 else 0, ratio)
            work.setdefault(_key_id(job.provider, api_key), []).append((rank, "poll", job))

    def _spend(
        self, key: tuple[str, str], items: list[Any], now: float, wakes: list[float]
    ) -> None:
        """Use this key's budget on its most valuable requests; the rest wait for a slot."""
        first: Job = items[0][2]
        api_key = self._api_keys[(first.owner_id, first.provider)]
        budget = self._budget(first.provider, api_key)
        items.sort(key=lambda item: item[0], reverse=True)
        for _, kind, job in items:
            if not budget.try_take(now):
                if kind == "poll":
                    self._schedule(job.id, budget.next_free(now), "poll")
                else:
                    wakes.append(budget.next_free(now))
                continue
            gate = PrepaidGate(budget, now)
            if kind == "poll":
                self._launch(job, self._poll(job, api_key, gate))
            else:
                self._active[job.owner_id] += 1
                self._launch(job, self._submit(job, api_key, gate))

    def _progress_ratio(self, job: Job, now: float) -> float:
        expected = self._times.expected(job.endpoint, job.request)
        return (now - (job.submitted_at or now)) / max(expected, 1.0)

    def _launch(self, job: Job, work: object) -> None:
        assert asyncio.iscoroutine(work)
        self._busy.add(job.id)
        task = asyncio.create_task(work, name=f"job-{job.id}")
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.discard(finished)
            self._busy.discard(job.id)
            follow_up = self._after_step.pop(job.id, None)
            if follow_up is not None and job.id in self._jobs_by_id:
                self._schedule(job.id, *follow_up)
            if not finished.cancelled() and finished.exception() is not None:
                log.error("Job %d step crashed", job.id, exc_info=finished.exception())
                # Try the step again later rather than leave the job stranded.
                current = self._jobs_by_id.get(job.id)
                if current is not None and current.state in (JobState.RUNNING,):
                    self._schedule(job.id, self._clock.now() + 30.0, "poll")
            self._wake.set()

        task.add_done_callback(done)

    # -- the steps -----------------------------------------------------------------------------

    async def _submit(self, job: Job, api_key: str, gate: RequestGate) -> None:
        # Written before the POST, so a crash mid-request is known on restart.
        sending = await self._jobs.transition(
            job.id,
            [JobState.QUEUED, JobState.SUBMITTING],
            state=JobState.SUBMITTING,
            submit_attempts=job.submit_attempts + 1,
        )
        if sending is None:  # cancelled meanwhile
            self._active[job.owner_id] -= 1
            self._forget(job.id)
            return
        self._queued.pop(job.id, None)
        self._jobs_by_id[job.id] = sending
        await self._publish_queue(job.owner_id)
        client = self._clients[job.provider].gated(gate)
        request = endpoint(job.endpoint).request_model.parse(job.request)
        try:
            submission = await client.submit(request, api_key, sending.idempotency_key)
        except errors.SubmitOutcomeUnknownError as error:
            self._active[job.owner_id] -= 1
            await self._mark_uncertain(sending, error.message)
            return
        except ProviderError as error:
            self._active[job.owner_id] -= 1
            if error.retryable and sending.submit_attempts < self.config.max_submit_attempts:
                await self._requeue(sending, error)
            else:
                await self._fail(sending, type(error).__name__, error.message)
            return
        now = self._clock.now()
        expected = self._times.expected(job.endpoint, job.request)
        running = await self._jobs.update(
            job.id,
            state=JobState.RUNNING,
            remote_task_id=submission.task_id,
            submitted_at=now,
            credits_charged=submission.credits_charged,
            next_poll_at=now + self._times.first_poll(expected),
        )
        self._jobs_by_id[job.id] = running
        assert running.next_poll_at is not None
        self._schedule(job.id, running.next_poll_at, "poll")
        await self._publish(Progress(running, ProgressKind.SUBMITTED, elapsed=0.0))
        log.info("Job %d submitted to %s as task %s", job.id, job.provider, submission.task_id)

    async def _requeue(self, job: Job, error: ProviderError) -> None:
        delay = max(error.retry_after or 0.0, self.config.submit_retry_delay * job.submit_attempts)
        queued = await self._jobs.update(
            job.id, state=JobState.QUEUED, next_poll_at=self._clock.now() + delay
        )
        self._queued[job.id] = queued
        self._jobs_by_id[job.id] = queued
        log.warning("Job %d submit refused (%s); retrying in %.0fs", job.id, error, delay)

    async def _poll(self, job: Job, api_key: str, gate: RequestGate) -> None:
        assert job.remote_task_id is not None
        client = self._clients[job.provider].gated(gate)
        try:
            state = await client.status(job.remote_task_id, api_key)
        except (errors.NotFoundError, errors.UnauthorizedError) as error:
            await self._fail(job, type(error).__name__, error.message)
            return
        except ProviderError as error:
            await self._poll_later(
                job, max(error.retry_after or 0.0, self.config.plan.core_interval)
            )
            return
        if state.status.finished:
            await self._finish(job, state)
            return
        now = self._clock.now()
        elapsed = now - (job.submitted_at or now)
        expected = self._times.expected(job.endpoint, job.request)
        if elapsed > self._times.deadline(expected):
            minutes = round(elapsed / 60)
            await self._fail(
                job,
                "ProviderTimeout",
                f"Timed out at the provider: still not finished after {minutes} minutes.",
            )
            return
        await self._poll_later(job, self._times.next_poll_delay(elapsed, expected))
        await self._publish(
            Progress(self._jobs_by_id[job.id], ProgressKind.RUNNING, elapsed=elapsed)
        )

    async def _poll_later(self, job: Job, delay: float) -> None:
        when = self._clock.now() + delay
        updated = await self._jobs.update(job.id, poll_count=job.poll_count + 1, next_poll_at=when)
        self._jobs_by_id[job.id] = updated
        self._schedule(job.id, when, "poll")

    async def _finish(self, job: Job, state: TaskState) -> None:
        now = self._clock.now()
        succeeded = state.status is TaskStatus.SUCCEEDED
        finished = await self._jobs.update(
            job.id,
            state=JobState.SUCCEEDED if succeeded else JobState.FAILED,
            finished_at=now,
            poll_count=job.poll_count + 1,
            video_url=state.video_url,
            image_urls_json=image_urls_json(state.image_urls),
            last_frame_url=state.last_frame_url,
            seed=state.seed,
            credits_charged=state.credits_charged
            if state.credits_charged is not None
            else job.credits_charged,
            credits_refunded=state.credits_refunded,
            error_code=state.error_code,
            error_message=state.error_message,
            raw_json=raw_json(state.raw),
        )
        self._active[job.owner_id] -= 1
        if succeeded and job.submitted_at is not None:
            # It finished between the previous poll and this one: learn the midpoint, not the
            # moment we noticed, or every late notice would teach us to poll later still.
            previous = job.updated_at if job.poll_count else job.submitted_at
            finished_at = (max(previous, job.submitted_at) + now) / 2
            size, samples, mean = self._times.learn(
                job.endpoint, job.request, finished_at - job.submitted_at
            )
            await self._jobs.save_generation_time(job.endpoint, size, samples, mean)
        await self._after_terminal(finished)

    async def _fail(self, job: Job, code: str, message: str) -> None:
        if job.state in (JobState.RUNNING,):
            self._active[job.owner_id] -= 1
        failed = await self._jobs.update(
            job.id,
            state=JobState.FAILED,
            finished_at=self._clock.now(),
            error_code=code,
            error_message=message,
        )
        log.info("Job %d failed: %s", job.id, code)
        await self._after_terminal(failed)

    async def _fail_unlinked(self, job: Job) -> None:
        if job.state is JobState.RUNNING:
            self._active[job.owner_id] -= 1
        self._queued.pop(job.id, None)
        if (job.owner_id, job.provider) in self._unreadable_keys:
            code = KEY_UNREADABLE
            message = f"The stored {job.provider} key can no longer be read by the bot."
        else:
            code, message = "NoLinkedKey", f"No API key is linked for {job.provider} any more."
        failed = await self._jobs.update(
            job.id,
            state=JobState.FAILED,
            finished_at=self._clock.now(),
            error_code=code,
            error_message=message,
        )
        await self._after_terminal(failed)

    async def _mark_uncertain(self, job: Job, message: str) -> None:
        uncertain = await self._jobs.update(
            job.id,
            state=JobState.UNCERTAIN,
            error_code="SubmitOutcomeUnknownError",
            error_message=message,
        )
        self._queued.pop(job.id, None)
        log.warning("Job %d is uncertain: %s", job.id, message)
        self._jobs_by_id[job.id] = uncertain
        await self._publish(Progress(uncertain, ProgressKind.UNCERTAIN))
        self._schedule(job.id, self._clock.now(), "deliver")

    async def _after_terminal(self, job: Job) -> None:
        self._jobs_by_id[job.id] = job
        await self._publish(Progress(job, ProgressKind.FINISHED))
        self._schedule(job.id, self._clock.now(), "deliver")

    async def _deliver(self, job: Job) -> None:
        # Counted before the attempt: after a crash, a non-zero count tells the port to check
        # whether the result is already posted instead of posting it twice.
        repeat = job.delivery_attempts > 0
        job = await self._jobs.update(job.id, delivery_attempts=job.delivery_attempts + 1)
        self._jobs_by_id[job.id] = job
        outcome = await self._try(self._port.deliver(job, repeat=repeat), job)
        if outcome is DeliveryOutcome.DELIVERED:
            await self._delivered(job, DeliveryState.DELIVERED)
            return
        if (
            outcome is DeliveryOutcome.RETRY
            and job.delivery_attempts < self.config.max_delivery_attempts
        ):
            delay = min(
                self.config.max_delivery_retry_delay,
                self.config.delivery_retry_delay * 2 ** (job.delivery_attempts - 1),
            )
            when = self._clock.now() + delay
            self._jobs_by_id[job.id] = await self._jobs.update(job.id, next_delivery_at=when)
            self._schedule(job.id, when, "deliver")
            return
        fallback = await self._try(self._port.deliver_fallback(job), job)
        if fallback is DeliveryOutcome.DELIVERED:
            await self._delivered(job, DeliveryState.FALLBACK)
        elif fallback is DeliveryOutcome.RETRY:
            when = self._clock.now() + self.config.max_delivery_retry_delay
            self._jobs_by_id[job.id] = await self._jobs.update(job.id, next_delivery_at=when)
            self._schedule(job.id, when, "deliver")
        else:
            # Nowhere to deliver: kept for /jobs show.
            await self._delivered(job, DeliveryState.KEPT)

    async def _try(self, delivery: object, job: Job) -> DeliveryOutcome:
        assert asyncio.iscoroutine(delivery)
        try:
            outcome = await delivery
        except Exception:
            log.exception("Delivering job %d failed", job.id)
            return DeliveryOutcome.RETRY
        return DeliveryOutcome(outcome)

    async def _delivered(self, job: Job, how: DeliveryState) -> None:
        state = (
            JobState.DELIVERED if job.state in (JobState.SUCCEEDED, JobState.FAILED) else job.state
        )
        now = self._clock.now()
        await self._jobs.update(job.id, state=state, delivery_state=how, delivered_at=now)
        shown = how in (DeliveryState.DELIVERED, DeliveryState.FALLBACK)
        if self._metrics is not None and shown and job.finished_at is not None:
            self._metrics.delivery_lag(now - job.finished_at)
        self._forget(job.id)
        log.info("Job %d delivered (%s)", job.id, how.value)
