"""The durable job engine: submit, poll within each key's budget, resume, deliver exactly once.

This module is its public face, its life cycle and its scheduler loop. The rest, by concern:
``ledger.py`` (the one place a job changes, and the invariants of what is held in memory),
``board.py`` (live jobs, their phases, queues and running slots), ``scheduler.py`` (what falls
due when, steps in flight, typed actions), ``steps.py`` (submit, poll, deliver, recover),
``keyring.py`` (members' keys and per-key budgets), ``callbacks.py`` (provider callback URLs,
and the slower fallback polling while a callback is expected).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping

from bot.jobs.board import Phase
from bot.jobs.budget import PrepaidGate, RequestBudget
from bot.jobs.callbacks import CallbackUrls, callback_digest
from bot.jobs.clock import Clock
from bot.jobs.config import EngineConfig
from bot.jobs.errors import TooManyWaitingJobsError
from bot.jobs.keyring import KeyRing
from bot.jobs.keyring import key_id as _key_id
from bot.jobs.ledger import JobChanges, JobLedger
from bot.jobs.ports import DeliveryPort, InputRefresher, Progress, ProgressKind
from bot.jobs.scheduler import (
    Action,
    KeyDemand,
    Step,
    WorkItem,
    poll_rank,
    ration,
    spare_only,
    spare_reserve,
)
from bot.jobs.steps import JobSteps
from bot.jobs.timing import GenerationTimes
from bot.metrics import Metrics
from bot.models import ProviderRequest, endpoint, endpoint_for
from bot.providers import KeyCheck, ProviderClient
from bot.storage import (
    ApiKeyStore,
    DeliveryState,
    Destination,
    Job,
    JobState,
    JobStore,
    SentRequestStore,
)
from bot.storage.jobs import new_idempotency_key, request_json

log = logging.getLogger(__name__)

#: Seconds before the scheduler loop tries again after a bug in it.
_DISPATCH_RETRY = 5.0
#: Seconds before a running job whose step task died outside its guard is polled again.
_STEP_DIED_RETRY = 30.0
#: Steps started per turn of the event loop. After a restart every resumed job may be due at
#: once: ten thousand steps started together ran their first slices in one turn and held the
#: loop for about half a second. A slice at a time, what the started ones do next (and the rest
#: of the bot) runs in between; the steps still start as fast as the CPU allows.
_START_SLICE = 200
#: Steps running at once beyond which more start only as running ones end. Ten thousand polls
#: started together (after a restart) all waited at once: some 40 MB of suspended calls, walked
#: by every full garbage collection, coming back bunched. Well above what a busy bot has out at
#: once (hundreds of requests a second, each out for about a second).
_MAX_RUNNING = 1000
#: Real seconds after which a slice starts anyway while that many run, so steps that hang (a
#: provider that does not answer) never hold the others back for long.
_FULL_PAUSE = 0.05


class JobEngine:
    """One per process. ``start()`` resumes every unfinished job; ``stop()`` ends cleanly."""

    def __init__(
        self,
        *,
        jobs: JobStore,
        keys: ApiKeyStore,
        clients: Mapping[str, ProviderClient],
        port: DeliveryPort | None = None,
        config: EngineConfig | None = None,
        clock: Clock | None = None,
        metrics: Metrics | None = None,
        inputs: InputRefresher | None = None,
        callbacks: CallbackUrls | None = None,
    ) -> None:
        """``callbacks``: where providers that call back are to call about each job (see
        :meth:`notify_callback`); None when the bot cannot be reached from outside."""
        self.config = config or EngineConfig()
        self._clock = clock or Clock()
        self._store = jobs
        self._clients = clients
        # The delivery port: given here, or by ``connect_port`` before ``start``.
        self._ledger = JobLedger(jobs, port)
        # Each key's budget records its requests beside the jobs, so a restart still counts them.
        self._keyring = KeyRing(keys, self.config, self._clock, SentRequestStore(jobs.database))
        self._steps = JobSteps(
            ledger=self._ledger,
            keyring=self._keyring,
            clients=clients,
            config=self.config,
            clock=self._clock,
            inputs=inputs,
            metrics=metrics,
        )
        self._steps.callbacks = callbacks
        # Progress on the cards carries the expected time of the job's class.
        self._ledger.expected = lambda job: self._steps.times.expected(job.endpoint, job.request)
        self._wake = self._ledger.schedule.wake
        #: Per key, its running jobs: how much of its budget their likely polls will want.
        self._demand = KeyDemand()
        self._tasks: set[asyncio.Task[None]] = set()
        #: Steps launched (their jobs in flight) that the scheduler loop has not started yet.
        self._starting: deque[tuple[Job, Step, Awaitable[None]]] = deque()
        #: While ``_MAX_RUNNING`` steps run: when (loop time) a slice starts anyway.
        self._full_until: float | None = None
        self._loop_task: asyncio.Task[None] | None = None
        #: Per server, its own cap on the jobs one member has sent at once (see limit_running).
        self._running_caps: dict[int, int] = {}

    def connect_port(self, port: DeliveryPort, *, inputs: InputRefresher | None = None) -> None:
        """Plug in the delivery port (and the input refresher) of the layer that shows jobs to
        their owners, which is set up after the engine; before :meth:`start`."""
        self._ledger.port = port
        if inputs is not None:
            self._steps.inputs = inputs

    # -- life cycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        restored = await self._keyring.restore()
        if restored:
            log.info("Request budgets: %d request(s) of the last window still count", restored)
        self._steps.times = GenerationTimes(await self._store.generation_times(), self.config.plan)
        resumed = await self._store.unfinished()
        for job in resumed:
            await self._api_key(job.key_owner, job.provider)
            await self._steps.resume(job)
        self._loop_task = asyncio.create_task(self._run(), name="job-engine")
        log.info("Job engine started; resumed %d job(s)", len(resumed))

    @property
    def running(self) -> bool:
        """Whether the scheduler loop is alive (for the health check)."""
        return self._loop_task is not None and not self._loop_task.done()

    @property
    def tasks(self) -> tuple[asyncio.Task[None], ...]:
        """Every task the engine runs now: its scheduler loop, the job steps in flight and the
        write of the requests they sent."""
        loop = () if self._loop_task is None else (self._loop_task,)
        writer = self._keyring.writer
        return (*loop, *self._tasks, *(() if writer is None else (writer,)))

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=self.config.stop_grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._keyring.flush()

    # -- what users do -------------------------------------------------------------------------

    async def enqueue(
        self,
        *,
        owner_id: int,
        request: ProviderRequest,
        destination: Destination | None = None,
        hold: bool = False,
        paid_by: int | None = None,
    ) -> Job:
        """Record a job (before anything is sent) and queue it.

        Refused (see :meth:`admit`) before anything is recorded. With ``hold`` the job is recorded
        and counts as waiting, but is not sent until :meth:`release` (the caller shows it first);
        :meth:`discard` drops it instead. A held job found at start-up runs like any other.
        ``paid_by``: whose stored key sends and polls it, when not the owner's (a server's
        sponsor key).
        """
        spec = endpoint_for(request)
        await self.admit(owner_id, spec.provider.value, paid_by=paid_by)
        job = await self._ledger.record(
            owner_id=owner_id,
            provider=spec.provider.value,
            endpoint=spec.id,
            request=request.model_dump(mode="json", exclude_none=True),
            destination=destination or Destination(),
            hold=hold,
            paid_by=paid_by,
        )
        if not hold:
            self._wake.set()
        return job

    async def admit(self, owner_id: int, provider: str, *, paid_by: int | None = None) -> None:
        """Raise why ``owner_id`` may not queue a ``provider`` job now; checked before anything
        is recorded, shown or sent: no usable key (:class:`NoLinkedKeyError`,
        :class:`KeyDecryptionError`, :class:`KeyRejectedError`; the key of ``paid_by`` when it
        pays) or a full queue (:class:`TooManyWaitingJobsError`)."""
        await self._keyring.require(owner_id if paid_by is None else paid_by, provider)
        limit = self.config.max_waiting_per_user
        if self.waiting_count(owner_id) >= limit:
            raise TooManyWaitingJobsError(limit)

    def waiting_count(self, owner_id: int) -> int:
        """The user's jobs recorded but not being sent or running (queued, retrying or held)."""
        return self._ledger.waiting_count(owner_id)

    def running_count(self, owner_id: int) -> int:
        """The user's jobs being sent or running at their provider."""
        return self._ledger.board.running(owner_id)

    def limit_running(self, guild_id: int, cap: int | None) -> None:
        """Jobs asked in server ``guild_id`` start only while their owner has fewer than ``cap``
        jobs sent or running (anywhere), within the bot's own cap; None: the bot's cap."""
        if cap is None:
            self._running_caps.pop(guild_id, None)
        else:
            self._running_caps[guild_id] = cap
        self._wake.set()  # a raised cap may let waiting jobs start now

    def on_finished(self, listener: Callable[[Job], Awaitable[None]]) -> None:
        """Call ``listener`` with each job once it has ended and been delivered (or kept);
        best effort: what it raises is logged, never seen by the engine."""
        self._steps.finished.append(listener)

    def off_finished(self, listener: Callable[[Job], Awaitable[None]]) -> None:
        """Stop calling ``listener`` (its extension was unloaded)."""
        if listener in self._steps.finished:
            self._steps.finished.remove(listener)

    async def release(
        self, job_id: int, *, request: ProviderRequest | None = None, thread_id: int | None = None
    ) -> Job:
        """Queue a job recorded with ``hold=True``, with what was learnt while it was held: its
        thread, its request (e.g. pointing at copies of the inputs)."""
        held = self._ledger.board.get(job_id)
        if held is None or held.phase is not Phase.HELD:
            raise KeyError(job_id)
        changes: JobChanges = {}
        if thread_id is not None:
            changes["thread_id"] = thread_id
        if request is not None:
            if endpoint_for(request).id != held.job.endpoint:
                raise ValueError(f"job {job_id} is for {held.job.endpoint}")
            data = request.model_dump(mode="json", exclude_none=True)
            changes["request_json"] = request_json(data)
            held.inputs_fresh_at = self._clock.now()
        job = await self._ledger.move(held.job, Phase.QUEUED, show=ProgressKind.QUEUED, **changes)
        self._wake.set()
        return job

    async def discard(self, job_id: int) -> None:
        """Drop a held job that could not be shown: cancelled, never sent."""
        job = self._ledger.board.job(job_id) or await self._store.get(job_id)
        if job is not None:
            await self._ledger.move(job, None, expect=(JobState.QUEUED,), state=JobState.CANCELLED)

    async def cancel(self, job_id: int, owner_id: int) -> Job | None:
        """Cancel a job that has not been sent yet; None if it is not the owner's or already sent."""
        job = next((j for j in self._ledger.waiting(owner_id) if j.id == job_id), None)
        if job is None:
            return None
        cancelled = await self._ledger.move(
            job,
            None,
            expect=(JobState.QUEUED,),
            show=ProgressKind.CANCELLED,
            state=JobState.CANCELLED,
        )
        if cancelled is not None:
            await self._ledger.publish_queue(owner_id)
        return cancelled

    def waiting_turn(self, job_id: int) -> bool:
        """Whether the job waits its turn in its owner's queue, so that :meth:`cancel` can take
        it out: stored as queued, not chosen to be sent, and behind its owner's running jobs
        (or waiting to retry a refused submit). A job with a free running slot is sent at once;
        its status card offers no Cancel button for the instant it would be there."""
        live = self._ledger.board.get(job_id)
        if live is None or live.phase is not Phase.QUEUED or live.job.state is not JobState.QUEUED:
            return False
        job = live.job
        if self._ledger.schedule.in_flight(job_id):
            return False
        if job.next_poll_at is not None and job.next_poll_at > self._clock.now():
            return True
        ahead = [j.id for j in self._ledger.waiting(job.owner_id)].index(job_id)
        running = self._ledger.board.running(job.owner_id)
        return running + ahead + 1 > self.config.max_running_per_user

    async def retry_uncertain(
        self, job_id: int, owner_id: int, *, request: Mapping[str, object] | None = None
    ) -> Job | None:
        """The owner chose to send an uncertain job again (knowing it may be charged twice).

        ``request`` replaces the stored one, e.g. with its input links signed afresh; it must
        be valid for the job's endpoint.
        """
        job = await self._store.get(job_id)
        if job is None or job.owner_id != owner_id:
            return None
        await self._keyring.require(job.key_owner, job.provider)
        changes: JobChanges = {
            "state": JobState.QUEUED,
            "idempotency_key": new_idempotency_key(),
            "error_code": None,
            "error_message": None,
            "next_poll_at": None,
            "delivery_state": DeliveryState.PENDING,
            "delivery_attempts": 0,
        }
        if request is not None:
            parsed = endpoint(job.endpoint).request_model.parse(dict(request))
            changes["request_json"] = request_json(
                parsed.model_dump(mode="json", exclude_none=True)
            )
        requeued = await self._ledger.move(
            job, Phase.QUEUED, expect=(JobState.UNCERTAIN,), **changes
        )
        if requeued is not None:
            live = self._ledger.board.get(job_id)
            if request is not None and live is not None:
                live.inputs_fresh_at = self._clock.now()
            await self._ledger.publish(requeued, ProgressKind.QUEUED)
            self._wake.set()
        return requeued

    def queue_position(self, job_id: int) -> int | None:
        """1 for the owner's next job to start, 2 for the one after, ...; None if not queued."""
        return self._ledger.board.position(job_id)

    def progress(self, job: Job) -> Progress | None:
        """What ``job``'s card would show now (queue place, or expected finish and progress),
        for a view of it other than its card; None once it is neither waiting nor running."""
        if job.state is JobState.QUEUED:
            return self._ledger.progress(job, ProgressKind.QUEUED)
        if job.state is JobState.RUNNING:
            started = job.submitted_at or job.created_at
            elapsed = max(0.0, self._clock.now() - started)
            return self._ledger.progress(job, ProgressKind.RUNNING, elapsed=elapsed)
        return None

    async def refresh_key(self, owner_id: int, provider: str) -> None:
        """The key of ``owner_id`` (a member, or a server's sponsor key, see
        :func:`~bot.storage.server_key_owner`) was relinked or unlinked: use what is stored now."""
        was_rejected = self._keyring.forget(owner_id, provider)
        if await self._api_key(owner_id, provider) is not None and was_rejected:
            # Running jobs held for the rejected key: poll them again now.
            for live in self._ledger.board:
                job = live.job
                if (job.key_owner, job.provider) == (owner_id, provider) and (
                    job.state is JobState.RUNNING
                ):
                    self._ledger.due(job.id, self._clock.now())

    async def check_key(
        self, provider: str, api_key: str, *, client: ProviderClient | None = None
    ) -> KeyCheck:
        """Ask ``provider`` whether it accepts ``api_key`` (``/key link``), within the key's
        request budget: the check shares the window with the key's submits and polls, waits
        for a slot like their retries do (ahead of new ones), and a 429 to it pauses the key.
        ``client``: the one to ask, when not the engine's own for ``provider``."""
        client = client or self._clients[provider]
        return await client.gated(self._keyring.gate(provider, api_key)).check_key(api_key)

    # -- provider callbacks --------------------------------------------------------------------

    @property
    def callbacks(self) -> CallbackUrls | None:
        """Where providers that call back are told to, or None (jobs are only polled)."""
        return self._steps.callbacks

    async def job_for_callback(self, provider: str, token: str) -> int | None:
        """The job whose callback URL at ``provider`` ends in ``token``, or None. Looked up by
        the token's digest (only that is stored), so the lookup tells nothing about other
        tokens."""
        return await self._store.find_by_callback_token(provider, callback_digest(token))

    def notify_callback(self, job_id: int) -> bool:
        """A provider called back about ``job_id``: ask it how the job is doing, now.

        The callback is not signed, so nothing it said is believed: this only schedules one
        status request, through the key's budget, ahead of the key's other polls; that answer
        ends (and delivers) the job as any poll would. Repeated callbacks for a job fold into
        at most one request per ``config.callback_min_gap`` seconds. A callback that comes
        while the job is still being sent is kept for when it runs. False when the job is not
        running (unknown, queued, or ended already).
        """
        live = self._ledger.board.get(job_id)
        if live is None or live.phase not in (Phase.SUBMITTING, Phase.RUNNING):
            return False
        if live.callback_pending:
            return True  # a request for an earlier callback has not started yet
        now = self._clock.now()
        when = now
        if live.called_back_at is not None:
            when = max(now, live.called_back_at + self.config.callback_min_gap)
        live.called_back_at, live.callback_pending = when, True
        if live.phase is Phase.RUNNING:
            # With a step in flight, the ledger keeps this until the step ends; the poll step
            # itself also looks, in case it schedules its next poll later meanwhile.
            self._ledger.due(job_id, when)
        log.info("Job %d: %s called back; asking it for the status", job_id, live.job.provider)
        return True

    @property
    def budgets(self) -> Mapping[tuple[str, str], RequestBudget]:
        return self._keyring.budgets

    async def _api_key(self, owner_id: int, provider: str) -> str | None:
        """The owner's usable key for ``provider`` (read once, then kept), or None."""
        return await self._keyring.api_key(owner_id, provider)

    def _check_invariants(self) -> None:
        """Raise AssertionError if what the engine holds in memory breaks one of its invariants
        (listed in ``bot/jobs/ledger.py``). For tests; the engine never calls it."""
        self._ledger.check_invariants()

    # -- the scheduler -------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while True:
                self._wake.clear()
                now = self._clock.now()
                try:
                    wake_at = self._dispatch(now)
                except Exception:  # the loop must outlive its own bugs
                    log.exception("Job engine dispatch failed; retrying shortly")
                    wake_at = now + _DISPATCH_RETRY
                self._start_some()
                if self._starting:
                    await self._make_room()
                    continue
                self._full_until = None
                await self._clock.wait(self._wake, None if wake_at is None else wake_at - now)
        finally:
            self._drop_unstarted()

    def _dispatch(self, now: float) -> float | None:
        """Start every step that is due and allowed now; when to look again (None: when woken)."""
        wakes: list[float] = []
        work: dict[tuple[str, str], list[WorkItem]] = {}
        self._collect_submits(now, wakes, work)
        self._collect_due(now, work)
        for items in work.values():
            self._spend(items, now, wakes)
        next_due = self._ledger.schedule.next_due()
        if next_due is not None:
            wakes.append(next_due)
        return min(wakes) if wakes else None

    def _collect_submits(
        self, now: float, wakes: list[float], work: dict[tuple[str, str], list[WorkItem]]
    ) -> None:
        """Queued jobs whose turn it is, oldest first, within each owner's running cap."""
        schedule = self._ledger.schedule
        picked = Counter[int]()
        for job in self._ledger.board.queue():
            if schedule.in_flight(job.id):
                continue
            if job.next_poll_at is not None and job.next_poll_at > now:
                wakes.append(job.next_poll_at)  # waiting to retry a refused submit
                continue
            running = self._ledger.board.running(job.owner_id)
            if running + picked[job.owner_id] + 1 > self._running_cap(job):
                continue  # waits its turn; finishing jobs wake the loop
            picked[job.owner_id] += 1
            api_key = self._keyring.cached(job.key_owner, job.provider)
            if api_key is None:
                self._launch(job, Step.FAIL_UNLINKED, self._steps.fail_unlinked(job))
                continue
            # Submits rank after polls of jobs that are probably finished, before the rest.
            item = WorkItem((1, -job.id), Step.SUBMIT, job)
            work.setdefault(_key_id(job.provider, api_key), []).append(item)

    def _collect_due(self, now: float, work: dict[tuple[str, str], list[WorkItem]]) -> None:
        """Due deliveries and recoveries start now; due polls wait for their key's budget."""
        for job_id, action in self._ledger.schedule.pop_due(now):
            job = self._ledger.board.job(job_id)
            if job is None:
                continue
            if action is Action.DELIVER:
                self._launch(job, Step.DELIVER, self._steps.deliver(job))
                continue
            if action is Action.RECOVER:
                self._launch(job, Step.RECOVER, self._steps.recover(job))
                continue
            api_key = self._keyring.cached(job.key_owner, job.provider)
            if api_key is None:
                if self._keyring.rejected(job.key_owner, job.provider) and (
                    job.state is JobState.RUNNING
                ):
                    self._launch(job, Step.HOLD_REJECTED, self._steps.hold_rejected(job))
                else:
                    self._launch(job, Step.FAIL_UNLINKED, self._steps.fail_unlinked(job))
                continue
            # When the budget is short, poll the jobs most likely to be finished first.
            live = self._ledger.board.get(job_id)
            called_back = live is not None and live.callback_pending  # probably finished
            rank = poll_rank(self._finished_chance(job, now), called_back=called_back)
            item = WorkItem(rank, Step.POLL, job)
            work.setdefault(_key_id(job.provider, api_key), []).append(item)

    def _spend(self, items: list[WorkItem], now: float, wakes: list[float]) -> None:
        """Use one key's budget on its most valuable requests; the rest wait for a slot."""
        first = items[0].job
        api_key = self._keyring.cached(first.key_owner, first.provider)
        assert api_key is not None
        budget = self._keyring.budget(first.provider, api_key)
        key = _key_id(first.provider, api_key)
        chance = self._chance_within(now)
        demand = self._demand.expected(key, now, budget.window, self._running, chance)
        granted, refused = ration(items, budget, now, reserve=spare_reserve(budget, demand))
        for item in refused:
            if item.step is Step.POLL:
                when = budget.next_free(now)
                if spare_only(item):  # asked again once likelier, or when there is spare
                    when = max(when, now + self.config.plan.core_interval)
                self._ledger.due(item.job.id, when)
            else:
                wakes.append(budget.next_free(now))
        for item in granted:
            gate = PrepaidGate(budget, now)
            if item.step is Step.POLL:
                self._demand.note(key, item.job.id)
                self._launch(item.job, Step.POLL, self._steps.poll(item.job, api_key, gate))
            else:
                self._demand.note(key, item.job.id)
                self._ledger.place(item.job, Phase.STARTING)  # takes one of its owner's slots
                self._launch(item.job, Step.SUBMIT, self._steps.submit(item.job, api_key, gate))

    def _running_cap(self, job: Job) -> int:
        """How many jobs ``job``'s owner may have sent or running for it to start: the bot's
        cap, or the lower one of the server it was asked in."""
        cap = self.config.max_running_per_user
        guild_id = job.destination.guild_id
        if guild_id is not None and guild_id in self._running_caps:
            cap = min(cap, self._running_caps[guild_id])
        return cap

    def _running(self, job_id: int) -> Job | None:
        """The job, while it is being sent or runs at its provider (it holds a running slot)."""
        live = self._ledger.board.get(job_id)
        return live.job if live is not None and live.phase.holds_slot else None

    def _chance_within(self, now: float) -> Callable[[Job, float], float]:
        """The chance that a running job finishes within the given seconds from ``now``; none
        for a job of a class nothing is learned for: the provider's guess is no ground to keep
        a key's requests back for it (they would go unspent while its polls wait)."""

        def chance(job: Job, within: float) -> float:
            elapsed = now - (job.submitted_at or now)
            durations = self._steps.times.durations(job.endpoint, job.request)
            if durations.samples == 0:
                return 0.0
            return durations.finished_since(elapsed, elapsed + within)

        return chance

    def _finished_chance(self, job: Job, now: float) -> float:
        """The chance, from its class's learned times, that ``job`` finished since its last poll
        (or its submit)."""
        submitted = job.submitted_at or now
        last = job.updated_at if job.poll_count else submitted
        since, elapsed = max(0.0, last - submitted), now - submitted
        return self._steps.times.finished_since(job.endpoint, job.request, since, elapsed)

    def _launch(self, job: Job, step: Step, work: Awaitable[None]) -> None:
        """Run ``step`` of ``job`` as a task of its own; the job has no other step meanwhile.
        In flight from now; the scheduler loop starts it (see :meth:`_start_some`)."""
        self._ledger.schedule.begin(job.id)
        self._starting.append((job, step, work))

    def _start_some(self, *, full: bool = False) -> None:
        """Start the oldest launched steps: at most a slice of them, and only while fewer than
        ``_MAX_RUNNING`` run (with ``full``, however many run)."""
        room = _START_SLICE if full else min(_START_SLICE, _MAX_RUNNING - len(self._tasks))
        for _ in range(max(0, min(room, len(self._starting)))):
            self._start(*self._starting.popleft())

    async def _make_room(self) -> None:
        """Steps launched are still to start: next turn, after what the started ones do first;
        or, while ``_MAX_RUNNING`` run, once one ends (it wakes the loop), and at the latest
        after ``_FULL_PAUSE`` (then a slice starts whatever runs)."""
        if len(self._tasks) < _MAX_RUNNING:
            self._full_until = None
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        if self._full_until is None:
            self._full_until = loop.time() + _FULL_PAUSE
        if loop.time() >= self._full_until:
            self._full_until = None
            self._start_some(full=True)
            await asyncio.sleep(0)
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(self._full_until):
                await self._wake.wait()

    def _drop_unstarted(self) -> None:
        """The scheduler loop ends (the engine stops): steps launched but not started never run
        (their jobs are taken up again from their stored state at the next start)."""
        schedule = self._ledger.schedule
        while self._starting:
            job, _, work = self._starting.popleft()
            if inspect.iscoroutine(work):
                work.close()
            schedule.end(job.id, live=job.id in self._ledger.board)

    def _start(self, job: Job, step: Step, work: Awaitable[None]) -> None:
        schedule = self._ledger.schedule
        task = asyncio.create_task(self._guarded(job, step, work), name=f"job-{job.id}")
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.discard(finished)
            schedule.end(job.id, live=job.id in self._ledger.board)
            if not finished.cancelled() and finished.exception() is not None:
                log.error("Job %d step crashed", job.id, exc_info=finished.exception())
                # Try the step again later rather than leave the job stranded.
                current = self._ledger.board.job(job.id)
                if current is not None and current.state is JobState.RUNNING:
                    self._ledger.due(job.id, self._clock.now() + _STEP_DIED_RETRY)
            self._wake.set()

        task.add_done_callback(done)

    async def _guarded(self, job: Job, step: Step, work: Awaitable[None]) -> None:
        """Run one step of ``job``. Whatever it raises, the job ends the step in a defined state
        and keeps only what that state holds: a bug never strands a job or a running slot."""
        try:
            await work
        except Exception:
            live = self._ledger.board.get(job.id)
            if live is not None:
                live.crashes += 1
            log.exception("Job %d: unexpected error in %s", job.id, step.value)
            try:
                await self._steps.recover(job, after=step)
            except Exception:
                log.exception("Job %d: recovering from the error in %s failed", job.id, step.value)
                delay = self._steps.crash_delay(job.id)
                self._ledger.recover_at(job.id, self._clock.now() + delay)
        else:
            live = self._ledger.board.get(job.id)
            if step is not Step.RECOVER and live is not None:
                live.crashes = 0
