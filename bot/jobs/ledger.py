"""The one place a job changes: its row, its phase in memory, its next due action, its card.

Every change to a job goes through :meth:`JobLedger.move` (write the row, then place it) or,
when nothing is to be written, :meth:`JobLedger.place`: nothing else writes a job, and nothing
else changes a job's phase, from which its owner's queue and running count are derived. So
those counts cannot drift from the jobs, whatever path a job takes or wherever a step fails.
(Besides, a step may move its job's next due time on (:meth:`JobLedger.due`), and keeps notes
on it — back-off counts, since when polls fail — that are dropped with the job.)

Invariants of the in-memory state, checked by :meth:`JobLedger.check_invariants` (in tests):

1. A job is live (held in memory) from the moment it is recorded or resumed until it is
   delivered, cancelled or found finished; each live job has exactly one phase, and its row's
   stored state is one that phase allows (HELD: queued; QUEUED and STARTING: queued, or
   submitting when resent under the same key; SUBMITTING; RUNNING; ENDED: succeeded, failed
   or uncertain).
2. A job is in the queue iff it is live in QUEUED or STARTING; a held job is not.
3. ``running(owner)`` is the number of the owner's live jobs in STARTING, SUBMITTING or
   RUNNING — changed only when a job changes phase.
4. Every job has at most one due action, and only live jobs have one in the due heap; an
   action scheduled from inside a job's own step is deferred until that step ends (only a
   job with a step in flight has a deferred action).
5. No job is stranded: a job in STARTING or SUBMITTING has a step in flight (the one that put
   it there) or a RECOVER action due; a job in RUNNING or ENDED has a step in flight or a due
   action (a poll, a delivery, or a recovery).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import TypedDict, Unpack, overload

from bot.jobs.board import JobBoard, Phase
from bot.jobs.ports import DeliveryPort, Progress, ProgressKind
from bot.jobs.scheduler import Action, Schedule
from bot.storage import DeliveryState, Destination, Job, JobState, JobStore

log = logging.getLogger(__name__)


class JobChanges(TypedDict, total=False):
    """The columns of a job's row the engine writes."""

    state: JobState
    thread_id: int
    request_json: str
    idempotency_key: str
    submit_attempts: int
    remote_task_id: str
    submitted_at: float
    credits_charged: int | None
    next_poll_at: float | None
    poll_count: int
    finished_at: float
    video_url: str | None
    image_urls_json: str
    last_frame_url: str | None
    seed: int | None
    credits_refunded: int | None
    error_code: str | None
    error_message: str | None
    raw_json: str | None
    delivery_state: DeliveryState
    delivery_attempts: int
    next_delivery_at: float
    delivered_at: float
    callback_token_hash: str | None


class JobLedger:
    """Jobs in the database and in memory, kept in step."""

    #: Where progress is published (and, for the steps, where results are delivered).
    port: DeliveryPort

    def __init__(self, store: JobStore, port: DeliveryPort | None) -> None:
        self.store = store
        if port is not None:
            self.port = port
        self.board = JobBoard()
        self.schedule = Schedule()
        #: The median time of a job like the one given (seconds), published with the progress
        #: of sent and running jobs; None: not published.
        self.expected: Callable[[Job], float] | None = None

    async def record(
        self,
        *,
        owner_id: int,
        provider: str,
        endpoint: str,
        request: dict[str, object],
        destination: Destination,
        hold: bool,
        paid_by: int | None = None,
    ) -> Job:
        """Write a new job (before anything is sent) and hold it, or queue it."""
        with self.board.recording_for(owner_id):
            job = await self.store.create(
                owner_id=owner_id,
                provider=provider,
                endpoint=endpoint,
                request=request,
                destination=destination,
                paid_by=paid_by,
            )
        if hold:
            self.place(job, Phase.HELD)
            return job
        self.place(job, Phase.QUEUED)
        await self.publish(job, ProgressKind.QUEUED)
        return job

    @overload
    async def move(
        self,
        job: Job,
        to: Phase | None,
        *,
        expect: None = None,
        at: float | None = None,
        show: ProgressKind | None = None,
        elapsed: float | None = None,
        **fields: Unpack[JobChanges],
    ) -> Job: ...

    @overload
    async def move(
        self,
        job: Job,
        to: Phase | None,
        *,
        expect: Collection[JobState],
        at: float | None = None,
        show: ProgressKind | None = None,
        elapsed: float | None = None,
        **fields: Unpack[JobChanges],
    ) -> Job | None: ...

    async def move(
        self,
        job: Job,
        to: Phase | None,
        *,
        expect: Collection[JobState] | None = None,
        at: float | None = None,
        show: ProgressKind | None = None,
        elapsed: float | None = None,
        **fields: Unpack[JobChanges],
    ) -> Job | None:
        """Change ``job``: write ``fields`` to its row (only while it is stored in one of the
        ``expect`` states, if given), then :meth:`place` the row in phase ``to`` (None: done
        with it), its phase's action due ``at``, then tell its card ``show`` (with ``elapsed``).

        Returns the row; None when it was not stored in an ``expect`` state, and then nothing
        changed, there or here.
        """
        row: Job | None = job
        if fields and expect is not None:
            row = await self.store.transition(job.id, expect, **fields)
        elif fields:
            row = await self.store.update(job.id, **fields)
        if row is None:
            return None
        self.place(row, to, at=at)
        if show is not None:
            await self.publish(row, show, elapsed=elapsed)
        return row

    def place(self, job: Job, to: Phase | None, *, at: float | None = None) -> None:
        """Hold ``job`` (as stored) in phase ``to`` without writing it; None forgets it.

        With ``at``, the phase's action (a poll, a delivery) falls due then; without, a job that
        changes phase has nothing due, and one that stays in its phase keeps what it had.
        """
        if to is None:
            self.board.drop(job.id)
            self.schedule.cancel(job.id)
            return
        before = self.board.phase(job.id)
        self.board.put(job, to)
        if at is not None:
            assert to.action is not None, f"nothing falls due in phase {to.value}"
            self.schedule.at(job.id, at, to.action)
        elif to is not before:
            self.schedule.cancel(job.id)

    def due(self, job_id: int, at: float) -> None:
        """The live job's next action (a poll, a delivery) falls due ``at``, not when planned."""
        live = self.board.get(job_id)
        assert live is not None, f"job {job_id} is not live"
        assert live.phase.action is not None, f"nothing falls due in phase {live.phase.value}"
        self.schedule.at(job_id, at, live.phase.action)

    def recover_at(self, job_id: int, when: float) -> None:
        """Continue the job from its stored state at ``when`` (recovering now failed)."""
        self.schedule.at(job_id, when, Action.RECOVER)

    # -- what owners see -----------------------------------------------------------------------

    def waiting(self, owner_id: int, provider: str | None = None) -> list[Job]:
        """The owner's queued jobs not being sent (of ``provider``, if given), oldest first."""
        return [
            job
            for job in self.board.queue()
            if job.owner_id == owner_id
            and (provider is None or job.provider == provider)
            and not self.schedule.in_flight(job.id)
        ]

    def waiting_on_key(self, key_owner: int, provider: str) -> list[Job]:
        """Queued jobs not being sent that would be sent with ``key_owner``'s ``provider`` key
        (a member's own jobs, or every job a server's sponsor key pays), oldest first."""
        return [
            job
            for job in self.board.queue()
            if job.key_owner == key_owner
            and job.provider == provider
            and not self.schedule.in_flight(job.id)
        ]

    def waiting_count(self, owner_id: int) -> int:
        """The owner's jobs recorded but not being sent or running (queued, retrying or held)."""
        return (
            len(self.waiting(owner_id)) + self.board.held(owner_id) + self.board.recording(owner_id)
        )

    def progress(self, job: Job, kind: ProgressKind, *, elapsed: float | None = None) -> Progress:
        """What the job's card shows at ``kind``: its queue place; or, once sent, when it is
        expected to finish and since when polls fail."""
        live = self.board.get(job.id)
        expected = eta = None
        if kind in (ProgressKind.SUBMITTED, ProgressKind.RUNNING) and self.expected is not None:
            expected = self.expected(job)
            eta = None if job.submitted_at is None else job.submitted_at + expected
        return Progress(
            job,
            kind,
            queue_position=self.board.position(job.id) if kind is ProgressKind.QUEUED else None,
            elapsed=elapsed,
            failing_since=live.failing_since
            if live is not None and kind is ProgressKind.RUNNING
            else None,
            expected=expected,
            eta=eta,
        )

    async def publish(self, job: Job, kind: ProgressKind, *, elapsed: float | None = None) -> None:
        """Tell the job's card (best effort) what :meth:`progress` says."""
        event = self.progress(job, kind, elapsed=elapsed)
        try:
            await self.port.publish(event)
        except Exception:
            log.exception("Publishing progress of job %d failed", job.id)

    async def publish_queue(self, owner_id: int) -> None:
        """Tell each of the owner's waiting jobs its place in the queue now."""
        for job in self.waiting(owner_id):
            await self.publish(job, ProgressKind.QUEUED)

    # -- invariants ----------------------------------------------------------------------------

    def check_invariants(self) -> None:
        """Raise AssertionError if one of the invariants in the module docstring is broken."""
        self.board.check()
        self.schedule.check()
        for job_id in self.schedule.scheduled():
            assert job_id in self.board, f"job {job_id} has a due action but is not live"
        for live in self.board:
            job_id, phase = live.job.id, live.phase
            busy = self.schedule.in_flight(job_id)
            if phase in (Phase.STARTING, Phase.SUBMITTING):
                assert busy or self.schedule.due_action(job_id) is Action.RECOVER, (
                    f"job {job_id} stranded in {phase.value}"
                )
            elif phase.action is not None:
                assert busy or self.schedule.due_action(job_id) is not None, (
                    f"job {job_id} stranded in {phase.value}: nothing due"
                )
