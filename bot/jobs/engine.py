"""The durable job engine: submit, poll within each key's budget, resume, deliver exactly once."""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import itertools
import logging
from collections import Counter
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.jobs.budget import PrepaidGate, RequestBudget
from bot.jobs.clock import Clock
from bot.jobs.ports import (
    DeliveryOutcome,
    DeliveryPort,
    InputRefresher,
    InputUnavailableError,
    Progress,
    ProgressKind,
)
from bot.jobs.timing import GenerationTimes, PollPlan
from bot.metrics import Metrics
from bot.models import ProviderRequest, endpoint, endpoint_for
from bot.providers import ProviderClient, ProviderError, TaskState, TaskStatus, errors
from bot.providers.http import RequestGate
from bot.providers.registry import DOCUMENTED_BUDGETS
from bot.storage import (
    AWAITING_DELIVERY,
    ApiKeyStore,
    DeliveryState,
    Destination,
    Job,
    JobState,
    JobStore,
    KeyDecryptionError,
)
from bot.storage.jobs import image_urls_json, new_idempotency_key, raw_json, request_json

log = logging.getLogger(__name__)


#: Poll failures that mean the provider is not answering (as opposed to a 429 or a refusal).
_OUTAGES = (errors.ServerError, errors.ConnectionFailedError, errors.MalformedResponseError)

#: Error code of a job whose stored key the configured secret cannot decrypt.
KEY_UNREADABLE = "KeyUnreadable"
#: Error code of a job whose key the provider refused (401/403): not used again until relinked.
KEY_REJECTED = "KeyRejected"
#: Error code of a job a bug in the bot stopped before anything could have reached the provider.
INTERNAL_ERROR = "InternalError"
#: Error code of a job not sent because one of its input files could no longer be had.
INPUT_EXPIRED = "InputExpired"
#: Seconds between two looks at a running job held because its key was refused.
REJECTED_KEY_RECHECK = 60.0


class KeyRejectedError(Exception):
    """The provider refused the user's key for ``provider``; it must be linked again."""

    def __init__(self, provider: str) -> None:
        super().__init__(f"the {provider} key was rejected by the provider")
        self.provider = provider


class TooManyWaitingJobsError(Exception):
    """The user already has ``limit`` jobs waiting to be sent."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} jobs may wait at once")
        self.limit = limit


class NoLinkedKeyError(Exception):
    """The user has no API key for the provider of the endpoint they asked for."""

    def __init__(self, provider: str) -> None:
        super().__init__(f"no API key linked for {provider}")
        self.provider = provider


@dataclass(frozen=True)
class EngineConfig:
    max_running_per_user: int = 3
    #: Jobs per user recorded but not sent yet; more are refused, not queued.
    max_waiting_per_user: int = 10
    #: Budget for providers without a documented limit: conservative, configurable.
    default_budget: tuple[int, float] = (20, 60.0)
    budgets: Mapping[str, tuple[int, float]] = field(default_factory=lambda: DOCUMENTED_BUDGETS)
    max_submit_attempts: int = 5
    submit_retry_delay: float = 30.0
    max_delivery_attempts: int = 8
    delivery_retry_delay: float = 5.0
    max_delivery_retry_delay: float = 600.0
    #: First delay after an unexpected error inside a step; doubles per repeat, capped as above.
    crash_retry_delay: float = 30.0
    plan: PollPlan = field(default_factory=PollPlan)
    #: How long stop() lets in-flight requests finish before cancelling them.
    stop_grace: float = 10.0
    #: A job about to be sent whose request was written longer ago than this (seconds) has its
    #: input links refreshed first: Discord's expire about a day after they are signed.
    refresh_inputs_after: float = 3600.0


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
        inputs: InputRefresher | None = None,
    ) -> None:
        self._metrics = metrics
        #: Refreshes the input links of a job that waited, right before it is sent (None: never).
        self._inputs = inputs
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
        #: (owner, provider) whose key the provider refused: nothing is sent with it.
        self._rejected_keys: set[tuple[int, str]] = set()
        #: Recorded with ``hold=True``, waiting for ``release`` (their card is being posted).
        self._held: dict[int, Job] = {}
        #: Jobs being recorded by ``enqueue`` right now, per owner (they count as waiting).
        self._recording = Counter[int]()
        #: Jobs holding one of their owner's running slots (``_active`` counts them per owner).
        self._slots: set[int] = set()
        #: Unexpected errors in a row per job, for the back-off.
        self._crashes = Counter[int]()
        self._budgets: dict[tuple[str, str], RequestBudget] = {}
        #: Job id -> when the provider began failing its polls (cleared by the next good one).
        self._failing_since: dict[int, float] = {}
        #: Job id -> when its request's input links were last made fresh, if not at its creation.
        self._inputs_fresh_at: dict[int, float] = {}
        #: Job id -> refreshes of its inputs in a row that failed for now (not for good).
        self._refresh_failures = Counter[int]()
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
        self,
        *,
        owner_id: int,
        request: ProviderRequest,
        destination: Destination | None = None,
        hold: bool = False,
    ) -> Job:
        """Record a job (before anything is sent) and queue it.

        Refused (see :meth:`admit`) before anything is recorded. With ``hold`` the job is recorded
        and counts as waiting, but is not sent until :meth:`release` (the caller shows it first);
        :meth:`discard` drops it instead. A held job found at start-up runs like any other.
        """
        spec = endpoint_for(request)
        await self.admit(owner_id, spec.provider.value)
        self._recording[owner_id] += 1
        try:
            job = await self._jobs.create(
                owner_id=owner_id,
                provider=spec.provider.value,
                endpoint=spec.id,
                request=request.model_dump(mode="json", exclude_none=True),
                destination=destination or Destination(),
            )
        finally:
            self._recording[owner_id] -= 1
        self._jobs_by_id[job.id] = job
        if hold:
            self._held[job.id] = job
            return job
        self._queued[job.id] = job
        await self._publish(Progress(job, ProgressKind.QUEUED, self.queue_position(job.id)))
        self._wake.set()
        return job

    async def admit(self, owner_id: int, provider: str) -> None:
        """Raise why ``owner_id`` may not queue a ``provider`` job now; checked before anything
        is recorded, shown or sent: no usable key (:class:`NoLinkedKeyError`,
        :class:`KeyDecryptionError`, :class:`KeyRejectedError`) or a full queue
        (:class:`TooManyWaitingJobsError`)."""
        await self._require_key(owner_id, provider)
        limit = self.config.max_waiting_per_user
        if self.waiting_count(owner_id) >= limit:
            raise TooManyWaitingJobsError(limit)

    def waiting_count(self, owner_id: int) -> int:
        """The user's jobs recorded but not being sent or running (queued, retrying or held)."""
        queued = sum(
            1 for j in self._queued.values() if j.owner_id == owner_id and j.id not in self._busy
        )
        held = sum(1 for j in self._held.values() if j.owner_id == owner_id)
        return queued + held + self._recording[owner_id]

    async def release(
        self, job_id: int, *, request: ProviderRequest | None = None, thread_id: int | None = None
    ) -> Job:
        """Queue a job recorded with ``hold=True``, with what was learnt while it was held: its
        thread, its request (e.g. pointing at copies of the inputs)."""
        held = self._held[job_id]
        changes: dict[str, Any] = {}
        if thread_id is not None:
            changes["thread_id"] = thread_id
        if request is not None:
            if endpoint_for(request).id != held.endpoint:
                raise ValueError(f"job {job_id} is for {held.endpoint}")
            data = request.model_dump(mode="json", exclude_none=True)
            changes["request_json"] = request_json(data)
            self._inputs_fresh_at[job_id] = self._clock.now()
        job = await self._jobs.update(job_id, **changes) if changes else held
        del self._held[job_id]
        self._jobs_by_id[job_id] = job
        self._queued[job_id] = job
        await self._publish(Progress(job, ProgressKind.QUEUED, self.queue_position(job_id)))
        self._wake.set()
        return job

    async def discard(self, job_id: int) -> None:
        """Drop a held job that could not be shown: cancelled, never sent."""
        self._held.pop(job_id, None)
        self._jobs_by_id.pop(job_id, None)
        await self._jobs.transition(job_id, [JobState.QUEUED], state=JobState.CANCELLED)

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

    async def retry_uncertain(
        self, job_id: int, owner_id: int, *, request: Mapping[str, Any] | None = None
    ) -> Job | None:
        """The owner chose to send an uncertain job again (knowing it may be charged twice).

        ``request`` replaces the stored one, e.g. with its input links signed afresh; it must
        be valid for the job's endpoint.
        """
        job = await self._jobs.get(job_id)
        if job is None or job.owner_id != owner_id:
            return None
        await self._require_key(owner_id, job.provider)
        changes: dict[str, Any] = {}
        if request is not None:
            parsed = endpoint(job.endpoint).request_model.parse(dict(request))
            changes["request_json"] = request_json(
                parsed.model_dump(mode="json", exclude_none=True)
            )
        requeued = await self._jobs.transition(
            job_id,
            [JobState.UNCERTAIN],
            **changes,
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
            if request is not None:
                self._inputs_fresh_at[job_id] = self._clock.now()
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
        was_rejected = (owner_id, provider) in self._rejected_keys
        self._rejected_keys.discard((owner_id, provider))
        if await self._api_key(owner_id, provider) is not None and was_rejected:
            # Running jobs held for the rejected key: poll them again now.
            for job in list(self._jobs_by_id.values()):
                if (job.owner_id, job.provider) == (
                    owner_id,
                    provider,
                ) and job.state is JobState.RUNNING:
                    self._schedule(job.id, self._clock.now(), "poll")

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
            self._take_slot(job)
            self._schedule(job.id, job.next_poll_at or self._clock.now(), "poll")
        else:
            self._schedule(job.id, job.next_delivery_at or self._clock.now(), "deliver")

    async def _api_key(self, owner_id: int, provider: str) -> str | None:
        cached = self._api_keys.get((owner_id, provider))
        if cached is None:
            if (owner_id, provider) in self._rejected_keys:
                return None
            try:
                cached = await self._keys.reveal(owner_id, provider)
            except KeyDecryptionError:
                # The secret changed or was lost: the owner must link the key again. The rest
                # of the bot carries on; this key's jobs fail with that advice.
                self._unreadable_keys.add((owner_id, provider))
                return None
            if cached is not None:
                linked = await self._keys.get(owner_id, provider)
                if linked is not None and linked.rejected:
                    # Refused by the provider earlier (before a restart): never sent again.
                    self._rejected_keys.add((owner_id, provider))
                    return None
                self._api_keys[(owner_id, provider)] = cached
        return cached

    async def _require_key(self, owner_id: int, provider: str) -> str:
        """The user's usable key for ``provider``, or the error that says why there is none."""
        api_key = await self._api_key(owner_id, provider)
        if api_key is not None:
            return api_key
        if (owner_id, provider) in self._rejected_keys:
            raise KeyRejectedError(provider)
        if (owner_id, provider) in self._unreadable_keys:
            raise KeyDecryptionError("stored key cannot be decrypted with the configured secret")
        raise NoLinkedKeyError(provider)

    def _take_slot(self, job: Job) -> None:
        """Count ``job`` as one of its owner's running jobs (once, however often called)."""
        if job.id not in self._slots:
            self._slots.add(job.id)
            self._active[job.owner_id] += 1

    def _release_slot(self, job: Job) -> None:
        """Free ``job``'s running slot if it holds one (safe to call from any path)."""
        if job.id in self._slots:
            self._slots.discard(job.id)
            self._active[job.owner_id] -= 1

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
        known = self._jobs_by_id.get(job_id)
        if known is not None:
            self._release_slot(known)
        self._held.pop(job_id, None)
        self._crashes.pop(job_id, None)
        self._queued.pop(job_id, None)
        self._failing_since.pop(job_id, None)
        self._inputs_fresh_at.pop(job_id, None)
        self._refresh_failures.pop(job_id, None)
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
            if action == "recover":
                self._launch(job, self._recover(job))
                continue
            api_key = self._api_keys.get((job.owner_id, job.provider))
            if api_key is None:
                if (
                    job.owner_id,
                    job.provider,
                ) in self._rejected_keys and job.state is JobState.RUNNING:
                    self._launch(job, self._hold_rejected(job))
                else:
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
                self._take_slot(job)
                self._launch(job, self._submit(job, api_key, gate))

    def _progress_ratio(self, job: Job, now: float) -> float:
        expected = self._times.expected(job.endpoint, job.request)
        return (now - (job.submitted_at or now)) / max(expected, 1.0)

    def _launch(self, job: Job, work: object) -> None:
        assert asyncio.iscoroutine(work)
        self._busy.add(job.id)
        task = asyncio.create_task(self._guarded(job, work), name=f"job-{job.id}")
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

    async def _guarded(self, job: Job, work: Coroutine[Any, Any, None]) -> None:
        """Run one step of ``job``. Whatever it raises, the job ends the step in a defined state
        and keeps only what that state holds: a bug never strands a job or a running slot."""
        step = str(getattr(work, "__name__", "step"))
        try:
            await work
        except Exception:
            self._crashes[job.id] += 1
            log.exception("Job %d: unexpected error in %s", job.id, step)
            try:
                await self._recover(job, step)
            except Exception:
                log.exception("Job %d: recovering from the error in %s failed", job.id, step)
                self._schedule(job.id, self._clock.now() + self._crash_delay(job.id), "recover")
        else:
            if step != "_recover":
                self._crashes.pop(job.id, None)

    def _crash_delay(self, job_id: int) -> float:
        repeats = max(self._crashes[job_id], 1) - 1
        return min(
            self.config.max_delivery_retry_delay, self.config.crash_retry_delay * 2.0**repeats
        )

    async def _recover(self, job: Job, step: str = "recover") -> None:
        """After an unexpected error: continue ``job`` from the state it is stored in."""
        stored = await self._jobs.get(job.id)
        if stored is None or not (
            stored.state.unfinished
            or (
                stored.state in AWAITING_DELIVERY and stored.delivery_state is DeliveryState.PENDING
            )
        ):
            self._release_slot(job)
            self._forget(job.id)
            return
        now = self._clock.now()
        delay = self._crash_delay(job.id)
        self._jobs_by_id[job.id] = stored
        if stored.state is JobState.QUEUED:
            # Failed before it was marked as being sent: nothing reached the provider.
            self._release_slot(stored)
            self._queued.pop(job.id, None)
            await self._fail(
                stored,
                INTERNAL_ERROR,
                "Something went wrong in the bot before this job was sent; nothing was sent.",
            )
        elif stored.state is JobState.SUBMITTING:
            # The request may have left: handled as after a restart mid-submit.
            self._release_slot(stored)
            self._queued.pop(job.id, None)
            if not self._clients[stored.provider].honours_idempotency:
                await self._mark_uncertain(
                    stored,
                    "Something went wrong in the bot while sending this job, so it cannot tell "
                    "whether the provider received it.",
                )
            elif stored.submit_attempts < self.config.max_submit_attempts:
                # Resent later with the same Idempotency-Key: never a second task.
                queued = await self._jobs.update(
                    job.id, state=JobState.QUEUED, next_poll_at=now + delay
                )
                self._queued[job.id] = queued
                self._jobs_by_id[job.id] = queued
            else:
                await self._fail(
                    stored,
                    INTERNAL_ERROR,
                    "Something went wrong in the bot each time it sent this job.",
                )
        elif stored.state is JobState.RUNNING:
            self._take_slot(stored)
            elapsed = now - (stored.submitted_at or now)
            expected = self._times.expected(stored.endpoint, stored.request)
            if elapsed > self._times.deadline(expected):
                await self._fail(
                    stored,
                    "ProviderTimeout",
                    f"Timed out: still not finished after {round(elapsed / 60)} minutes.",
                )
            else:
                self._schedule(job.id, now + delay, "poll")
        else:  # finished (or uncertain), not delivered yet
            self._release_slot(stored)
            if step != "_deliver":
                kind = (
                    ProgressKind.UNCERTAIN
                    if stored.state is JobState.UNCERTAIN
                    else ProgressKind.FINISHED
                )
                await self._publish(Progress(stored, kind))
            self._schedule(job.id, now + (delay if step == "_deliver" else 0.0), "deliver")

    # -- the steps -----------------------------------------------------------------------------

    async def _submit(self, job: Job, api_key: str, gate: RequestGate) -> None:
        prepared = await self._prepare_inputs(job)
        if prepared is None:  # not sent: failed, or waiting to try again
            return
        job = prepared
        # Written before the POST, so a crash mid-request is known on restart.
        sending = await self._jobs.transition(
            job.id,
            [JobState.QUEUED, JobState.SUBMITTING],
            state=JobState.SUBMITTING,
            submit_attempts=job.submit_attempts + 1,
        )
        if sending is None:  # cancelled meanwhile
            self._release_slot(job)
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
            self._release_slot(job)
            await self._mark_uncertain(sending, error.message)
            return
        except errors.UnauthorizedError as error:
            self._release_slot(job)
            await self._reject_key(sending, error)
            return
        except ProviderError as error:
            self._release_slot(job)
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

    async def _prepare_inputs(self, job: Job) -> Job | None:
        """``job`` as it is to be sent: with its input links refreshed (and stored) if it waited
        long enough for them to expire. None when it must not be sent now: an input can no longer
        be had (the job fails, nothing sent) or cannot be had right now (it waits, then tries
        again)."""
        if self._inputs is None or not self._may_replace_request(job):
            return job
        now = self._clock.now()
        fresh_at = self._inputs_fresh_at.get(job.id, job.created_at)
        if now - fresh_at < self.config.refresh_inputs_after:
            return job
        try:
            fresh = await self._inputs.refresh(job)
        except InputUnavailableError as error:
            self._release_slot(job)
            self._refresh_failures[job.id] += 1
            failures = self._refresh_failures[job.id]
            if error.retryable and failures < self.config.max_submit_attempts:
                delay = self.config.submit_retry_delay * failures
                waiting = await self._jobs.update(job.id, next_poll_at=now + delay)
                self._queued[job.id] = waiting
                self._jobs_by_id[job.id] = waiting
                log.warning(
                    "Job %d: inputs not refreshed (%s); trying again in %.0fs", job.id, error, delay
                )
                return None
            self._queued.pop(job.id, None)
            await self._fail(job, INPUT_EXPIRED, error.message)
            await self._publish_queue(job.owner_id)
            return None
        self._refresh_failures.pop(job.id, None)
        self._inputs_fresh_at[job.id] = now
        data = endpoint(job.endpoint).request_model.parse(dict(fresh))
        refreshed = data.model_dump(mode="json", exclude_none=True)
        if refreshed == job.request:
            return job
        stored = await self._jobs.transition(
            job.id, [JobState.QUEUED], request_json=request_json(refreshed)
        )
        if stored is None:  # cancelled meanwhile
            self._release_slot(job)
            self._forget(job.id)
            return None
        self._queued[job.id] = stored
        self._jobs_by_id[job.id] = stored
        log.info("Job %d: input links refreshed before sending", job.id)
        return stored

    def _may_replace_request(self, job: Job) -> bool:
        """Whether ``job`` may be sent with another body than before: not under an
        Idempotency-Key the provider may already hold with the first body (it would refuse the
        new one, and the task it may have made would be lost). An API without idempotency keys
        is only sent a job again on proof that no task was made."""
        if job.state is not JobState.QUEUED:
            return False  # resent after a crash mid-submit: the same body under the same key
        return job.submit_attempts == 0 or not self._clients[job.provider].honours_idempotency

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
        asked_at = self._clock.now()
        try:
            state = await client.status(job.remote_task_id, api_key)
        except errors.UnauthorizedError as error:
            await self._reject_key(job, error)
            return
        except errors.NotFoundError as error:
            await self._fail(job, type(error).__name__, error.message)
            return
        except ProviderError as error:
            # Past its deadline the job ends whether or not the provider answers: a provider
            # that stays down (or keeps refusing polls) must not keep it, and its slot, forever.
            if await self._timed_out(job):
                return
            await self._poll_later(
                job, max(error.retry_after or 0.0, self.config.plan.core_interval)
            )
            if isinstance(error, _OUTAGES):
                await self._publish_outage(job, asked_at)
            return
        self._failing_since.pop(job.id, None)
        if state.status.finished:
            await self._finish(job, state)
            return
        if await self._timed_out(job):
            return
        now = self._clock.now()
        elapsed = now - (job.submitted_at or now)
        expected = self._times.expected(job.endpoint, job.request)
        await self._poll_later(job, self._times.next_poll_delay(elapsed, expected))
        await self._publish(
            Progress(self._jobs_by_id[job.id], ProgressKind.RUNNING, elapsed=elapsed)
        )

    async def _timed_out(self, job: Job) -> bool:
        """Fail ``job`` if it has been running longer than its deadline (six times its expected
        time, within the plan's bounds), whatever its last poll said; True if it did."""
        now = self._clock.now()
        elapsed = now - (job.submitted_at or now)
        if elapsed <= self._times.deadline(self._times.expected(job.endpoint, job.request)):
            return False
        await self._fail(
            job,
            "ProviderTimeout",
            f"Timed out at the provider: still not finished after {round(elapsed / 60)} minutes.",
        )
        return True

    async def _publish_outage(self, job: Job, asked_at: float) -> None:
        """The provider failed a poll (after the client's retries); the job keeps going, and its
        card says since when the provider has not been answering."""
        since = self._failing_since.setdefault(job.id, asked_at)
        now = self._clock.now()
        log.warning("Job %d: %s failing its polls since %.0fs", job.id, job.provider, now - since)
        await self._publish(
            Progress(
                self._jobs_by_id[job.id],
                ProgressKind.RUNNING,
                elapsed=now - (job.submitted_at or now),
                failing_since=since,
            )
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
        self._release_slot(job)
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
        self._release_slot(job)
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
        self._release_slot(job)
        self._queued.pop(job.id, None)
        if (job.owner_id, job.provider) in self._rejected_keys:
            # Its owner was told once already, when the provider refused the key.
            await self._end_quietly(
                job, KEY_REJECTED, f"Not sent: {job.provider} refused the key it was to use."
            )
            return
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

    async def _reject_key(self, job: Job, error: ProviderError) -> None:
        """The provider refused the key (401/403): nothing more is sent with it until its owner
        links it again. ``job`` fails and its owner is told privately, once; the key's waiting
        jobs end with the same advice on their cards; its running jobs are held."""
        owner, provider = job.owner_id, job.provider
        first = (owner, provider) not in self._rejected_keys
        self._rejected_keys.add((owner, provider))
        self._api_keys.pop((owner, provider), None)
        if first:
            log.warning(
                "The provider refused the %s key of user %d; not used again until relinked",
                provider,
                owner,
            )
            try:
                await self._keys.mark_rejected(owner, provider)
            except Exception:  # still refused in memory until the next start
                log.exception("Could not record that the %s key of %d was refused", provider, owner)
            await self._fail(job, KEY_REJECTED, error.message)
        elif job.state is JobState.RUNNING:
            # Another poll with the same key was refused meanwhile: held like the rest.
            self._schedule(job.id, self._clock.now() + REJECTED_KEY_RECHECK, "poll")
        else:
            await self._end_quietly(job, KEY_REJECTED, error.message)
        waiting = [
            j
            for j in sorted(self._queued.values(), key=lambda j: j.id)
            if (j.owner_id, j.provider) == (owner, provider) and j.id not in self._busy
        ]
        for other in waiting:
            await self._end_quietly(
                other, KEY_REJECTED, f"Not sent: {provider} refused the key it was to use."
            )

    async def _end_quietly(self, job: Job, code: str, message: str) -> None:
        """Fail ``job``, shown on its card and kept for /jobs show, without telling the owner
        again (they were told about the cause with another job)."""
        self._release_slot(job)
        self._queued.pop(job.id, None)
        failed = await self._jobs.update(
            job.id,
            state=JobState.FAILED,
            finished_at=self._clock.now(),
            error_code=code,
            error_message=message,
        )
        self._jobs_by_id[job.id] = failed
        await self._publish(Progress(failed, ProgressKind.FINISHED))
        await self._delivered(failed, DeliveryState.KEPT)

    async def _hold_rejected(self, job: Job) -> None:
        """A running job whose key was refused: nothing is sent with the key; it is polled again
        once the key is linked again, and ends at its deadline if that never happens."""
        now = self._clock.now()
        elapsed = now - (job.submitted_at or now)
        if elapsed > self._times.deadline(self._times.expected(job.endpoint, job.request)):
            await self._end_quietly(
                job,
                KEY_REJECTED,
                f"{job.provider} refused the key, so the result was never fetched.",
            )
            return
        self._schedule(job.id, now + REJECTED_KEY_RECHECK, "poll")

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
        self._release_slot(job)
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
