"""The jobs the engine is working on, as it holds them in memory: each one's phase, its owner's
queue and running slots, and the notes the engine keeps about it until it is done with it."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from bot.jobs.scheduler import Action
from bot.storage import Job, JobState


class Phase(Enum):
    """Where a live job is, as the engine sees it. Each phase allows only some stored states."""

    #: Recorded with ``hold=True``; sent only once released (its card is being posted).
    HELD = "held"
    #: Waiting its turn in its owner's queue (stored queued, or submitting when it is to be
    #: sent again under the same Idempotency-Key after a restart).
    QUEUED = "queued"
    #: Chosen to be sent: holds one of its owner's running slots while its inputs are made
    #: ready; still in its owner's queue until it is written as submitting.
    STARTING = "starting"
    #: Written as being sent: the request may be on its way.
    SUBMITTING = "submitting"
    #: Accepted by the provider: polled until it ends.
    RUNNING = "running"
    #: Succeeded, failed or uncertain: waiting to be delivered.
    ENDED = "ended"

    @property
    def states(self) -> frozenset[JobState]:
        """The stored states a job in this phase may be in."""
        return _STATES[self]

    @property
    def holds_slot(self) -> bool:
        """Whether a job in this phase counts against its owner's running cap."""
        return self in (Phase.STARTING, Phase.SUBMITTING, Phase.RUNNING)

    @property
    def in_queue(self) -> bool:
        """Whether a job in this phase has a place in its owner's queue."""
        return self in (Phase.QUEUED, Phase.STARTING)

    @property
    def action(self) -> Action | None:
        """What becomes due for a job in this phase, if anything."""
        return {Phase.RUNNING: Action.POLL, Phase.ENDED: Action.DELIVER}.get(self)


_STATES = {
    Phase.HELD: frozenset({JobState.QUEUED}),
    Phase.QUEUED: frozenset({JobState.QUEUED, JobState.SUBMITTING}),
    Phase.STARTING: frozenset({JobState.QUEUED, JobState.SUBMITTING}),
    Phase.SUBMITTING: frozenset({JobState.SUBMITTING}),
    Phase.RUNNING: frozenset({JobState.RUNNING}),
    Phase.ENDED: frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.UNCERTAIN}),
}


@dataclass
class LiveJob:
    """A job the engine is working on: its last known row, its phase, and what the engine
    notes about it (forgotten with the job)."""

    job: Job
    phase: Phase
    #: Unexpected errors in a row in its steps, for the back-off.
    crashes: int = 0
    #: When the provider began failing its polls (None once a poll is answered).
    failing_since: float | None = None
    #: When its request's input links were last made fresh, if not at its creation.
    inputs_fresh_at: float | None = None
    #: Refreshes of its inputs in a row that failed for now (not for good).
    refresh_failures: int = 0
    #: When the status request asked for by the latest provider callback is (or was) due.
    called_back_at: float | None = None
    #: A callback asked for a status request that has not started yet.
    callback_pending: bool = False


class JobBoard:
    """Live jobs by id, with the indexes the scheduler reads. Only :meth:`put` and :meth:`drop`
    change a job's phase, and with it the indexes and counts (see :meth:`check`)."""

    def __init__(self) -> None:
        self._live: dict[int, LiveJob] = {}
        #: Jobs in their owner's queue (QUEUED or STARTING), by id.
        self._queued: dict[int, Job] = {}
        #: Per owner: live jobs holding a running slot (STARTING, SUBMITTING or RUNNING).
        self._running = Counter[int]()
        #: Per owner: jobs ``enqueue`` is recording right now (they count as waiting).
        self._recording = Counter[int]()

    # -- reading -------------------------------------------------------------------------------

    def get(self, job_id: int) -> LiveJob | None:
        return self._live.get(job_id)

    def job(self, job_id: int) -> Job | None:
        live = self._live.get(job_id)
        return None if live is None else live.job

    def phase(self, job_id: int) -> Phase | None:
        live = self._live.get(job_id)
        return None if live is None else live.phase

    def __contains__(self, job_id: int) -> bool:
        return job_id in self._live

    def __iter__(self) -> Iterator[LiveJob]:
        return iter(list(self._live.values()))

    def queue(self) -> list[Job]:
        """Every owner's queued jobs, oldest first."""
        return sorted(self._queued.values(), key=lambda job: job.id)

    def position(self, job_id: int) -> int | None:
        """1 for the owner's next job to start, 2 for the one after, ...; None if not queued."""
        job = self._queued.get(job_id)
        if job is None:
            return None
        ahead = [j for j in self._queued.values() if j.owner_id == job.owner_id and j.id < job_id]
        return len(ahead) + 1

    def running(self, owner_id: int) -> int:
        """How many of the owner's jobs hold a running slot."""
        return self._running[owner_id]

    def held(self, owner_id: int) -> int:
        return sum(
            1 for j in self._live.values() if j.phase is Phase.HELD and j.job.owner_id == owner_id
        )

    def recording(self, owner_id: int) -> int:
        return self._recording[owner_id]

    # -- changing ------------------------------------------------------------------------------

    def put(self, job: Job, phase: Phase) -> LiveJob:
        """Hold ``job`` (its latest row) in ``phase``; its notes are kept if it was live."""
        live = self._live.get(job.id)
        if live is None:
            live = self._live[job.id] = LiveJob(job, phase)
            self._count(live, +1)
        else:
            self._count(live, -1)
            live.job, live.phase = job, phase
            self._count(live, +1)
        return live

    def drop(self, job_id: int) -> None:
        """The engine is done with the job: forget it, its notes and its place in every index."""
        live = self._live.pop(job_id, None)
        if live is not None:
            self._count(live, -1)

    def _count(self, live: LiveJob, sign: int) -> None:
        """Add (+1) or remove (-1) ``live`` in the indexes its phase puts it in."""
        job = live.job
        if live.phase.in_queue:
            if sign > 0:
                self._queued[job.id] = job
            else:
                self._queued.pop(job.id, None)
        if live.phase.holds_slot:
            self._running[job.owner_id] += sign
            if not self._running[job.owner_id]:
                del self._running[job.owner_id]

    @contextlib.contextmanager
    def recording_for(self, owner_id: int) -> Iterator[None]:
        """While a job of ``owner_id`` is being recorded (it counts as waiting meanwhile)."""
        self._recording[owner_id] += 1
        try:
            yield
        finally:
            self._recording[owner_id] -= 1
            if not self._recording[owner_id]:
                del self._recording[owner_id]

    # -- invariants ----------------------------------------------------------------------------

    def check(self) -> None:
        """Raise AssertionError unless:

        - every live job's row is in a stored state its phase allows;
        - ``_queued`` holds exactly the live jobs in QUEUED or STARTING, with their rows;
        - ``_running[owner]`` is the number of the owner's live jobs in STARTING, SUBMITTING or
          RUNNING (and the counters hold no zero or negative entries).
        """
        for job_id, live in self._live.items():
            assert live.job.id == job_id
            assert live.job.state in live.phase.states, (
                f"job {job_id}: stored {live.job.state.value} in phase {live.phase.value}"
            )
        queued = {i: j.job for i, j in self._live.items() if j.phase.in_queue}
        assert self._queued == queued, f"queue {sorted(self._queued)} != {sorted(queued)}"
        running = Counter(j.job.owner_id for j in self._live.values() if j.phase.holds_slot)
        assert self._running == running, f"running {dict(self._running)} != {dict(running)}"
        assert all(n > 0 for n in self._running.values())
        assert all(n > 0 for n in self._recording.values())
