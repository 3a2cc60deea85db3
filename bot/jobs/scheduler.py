"""When each job's next action is due, which jobs have a step in flight, and which requests one
key's budget is spent on first."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum

from bot.jobs.budget import RequestBudget
from bot.storage import Job


class Action(Enum):
    """What is due for a job at a given time."""

    #: Ask the provider how a running job is doing (if its key's budget allows).
    POLL = "poll"
    #: Show a finished (or uncertain) job to its owner.
    DELIVER = "deliver"
    #: Continue a job from its stored state after recovering from an error failed.
    RECOVER = "recover"


class Step(Enum):
    """One piece of work the engine runs for a job, as a task of its own."""

    SUBMIT = "submit"
    POLL = "poll"
    DELIVER = "deliver"
    RECOVER = "recover"
    #: Fail a job whose key is gone (unlinked, unreadable or refused).
    FAIL_UNLINKED = "fail unlinked"
    #: Hold a running job whose key the provider refused, until it is linked again.
    HOLD_REJECTED = "hold rejected"


@dataclass(frozen=True)
class WorkItem:
    """A request one key's budget may be spent on: a submit or a poll of ``job``."""

    #: Higher first: polls of jobs probably finished, then submits, then the other polls (see
    #: :func:`poll_rank`).
    rank: tuple[int, float]
    step: Step
    job: Job


#: A poll of a job at least this likely to have finished since its last poll goes before submits.
LIKELY_FINISHED = 0.5


def poll_rank(chance: float, *, called_back: bool = False) -> tuple[int, float]:
    """The rank of a poll of a job with ``chance`` of having finished since its last poll:
    after a callback first, then likely finished (before submits, which rank ``(1, ...)``),
    then the rest; the likelier first within each."""
    return (3 if called_back else 2 if chance >= LIKELY_FINISHED else 0, chance)


#: Likely polls per job expected to finish within a key's next window that the key's budget
#: keeps for them (see :func:`spare_reserve`).
LIKELY_POLLS_PER_FINISH = 1


def spare_reserve(budget: RequestBudget, demand: float) -> int:
    """Requests of ``budget``'s window that polls unlikely to find their job finished leave to
    likely polls and submits: one for each of the key's jobs expected to finish within the
    window (``demand``), never the whole window."""
    limit = budget.effective_limit
    return max(0, min(limit - 1, math.ceil(LIKELY_POLLS_PER_FINISH * demand)))


class KeyDemand:
    """The running jobs polled with each key, and how many of them are expected to finish within
    the key's next window (what likely polls will ask of its budget), worked out at most once
    per ``refresh`` seconds per key (it changes slowly; a busy key is asked many times a second).
    """

    def __init__(self, refresh: float = 1.0) -> None:
        self._jobs: dict[tuple[str, str], set[int]] = {}
        self._known: dict[tuple[str, str], tuple[float, float]] = {}
        self._refresh = refresh

    def note(self, key: tuple[str, str], job_id: int) -> None:
        """``job_id`` is polled with ``key``."""
        self._jobs.setdefault(key, set()).add(job_id)

    def expected(
        self,
        key: tuple[str, str],
        now: float,
        within: float,
        running: Callable[[int], Job | None],
        chance: Callable[[Job, float], float],
    ) -> float:
        """How many of the key's jobs still ``running`` (their row, or None once they are not)
        are expected to finish within ``within`` seconds of ``now`` (``chance(job, within)``
        each)."""
        known = self._known.get(key)
        if known is not None and 0 <= now - known[0] < self._refresh:
            return known[1]
        jobs = self._jobs.get(key, set())
        total = 0.0
        for job_id in list(jobs):
            job = running(job_id)
            if job is None:
                jobs.discard(job_id)
                continue
            total += chance(job, within)
        if jobs:
            self._known[key] = (now, total)
        else:
            self._jobs.pop(key, None)
            self._known.pop(key, None)
        return total


def spare_only(item: WorkItem) -> bool:
    """Whether ``item`` is a poll unlikely to find its job finished: it only spends spare budget."""
    return item.step is Step.POLL and item.rank[0] <= 0


def ration(
    items: list[WorkItem], budget: RequestBudget, now: float, *, reserve: int = 0
) -> tuple[list[WorkItem], list[WorkItem]]:
    """Split one key's requests into those its budget allows now, most valuable first (each one
    reserved from the budget at ``now``), and those that must wait: for ``budget.next_free``,
    or, for a poll unlikely to find its job finished, until it is likelier or the budget has
    more than ``reserve`` requests left (it never spends the last ``reserve``) and spending it
    keeps the key to an even pace (:meth:`RequestBudget.paced`)."""
    granted: list[WorkItem] = []
    refused: list[WorkItem] = []
    for item in sorted(items, key=lambda item: item.rank, reverse=True):
        if spare_only(item) and (budget.available(now) <= reserve or not budget.paced(now)):
            refused.append(item)
            continue
        (granted if budget.try_take(now) else refused).append(item)
    return granted, refused


class Schedule:
    """The due actions of live jobs, and the jobs that have a step in flight.

    Invariants (checked by :meth:`check`):

    - A job has at most one live due action: ``_entry[job_id]`` is the sequence number of its
      one live heap entry, and that entry is in the heap; other heap entries of the job are
      stale and skipped when they come due.
    - An action scheduled from inside a job's own step waits in ``_deferred`` until the step
      ends (it would otherwise come due, and be skipped, while the step runs): only jobs with a
      step in flight have one.
    """

    def __init__(self) -> None:
        self._due: list[tuple[float, int, int, Action]] = []
        #: Job id -> sequence number and action of its one live heap entry.
        self._entry: dict[int, tuple[int, Action]] = {}
        self._seq = itertools.count()
        self._in_flight: set[int] = set()
        self._deferred: dict[int, tuple[float, Action]] = {}
        #: Set whenever something may have fallen due earlier than the loop planned to look.
        self.wake = asyncio.Event()

    def at(self, job_id: int, when: float, action: Action) -> None:
        """Make ``action`` at ``when`` the job's one due action, replacing any other."""
        if job_id in self._in_flight:
            self._deferred[job_id] = (when, action)
            return
        seq = next(self._seq)
        self._entry[job_id] = (seq, action)
        heapq.heappush(self._due, (when, seq, job_id, action))
        self.wake.set()

    def cancel(self, job_id: int) -> None:
        """Nothing is due for the job any more (nor after its step in flight)."""
        self._entry.pop(job_id, None)
        self._deferred.pop(job_id, None)

    def pop_due(self, now: float) -> Iterator[tuple[int, Action]]:
        """The live actions due by ``now``, each removed as it is handed out; an action due for
        a job with a step in flight is dropped (the step leaves the job's next action behind)."""
        while self._due and self._due[0][0] <= now:
            _, seq, job_id, action = heapq.heappop(self._due)
            if self._entry.get(job_id) != (seq, action):
                continue
            del self._entry[job_id]
            if job_id not in self._in_flight:
                yield job_id, action

    def next_due(self) -> float | None:
        """When the earliest heap entry comes due (maybe a stale one: waking early is harmless)."""
        return self._due[0][0] if self._due else None

    def due_action(self, job_id: int) -> Action | None:
        """The job's one due action (deferred or not), if it has one."""
        deferred = self._deferred.get(job_id)
        if deferred is not None:
            return deferred[1]
        entry = self._entry.get(job_id)
        return None if entry is None else entry[1]

    def scheduled(self) -> list[int]:
        """The jobs with a live heap entry."""
        return list(self._entry)

    def begin(self, job_id: int) -> None:
        """A step of the job starts."""
        self._in_flight.add(job_id)

    def end(self, job_id: int, *, live: bool) -> None:
        """The job's step ended: what it scheduled becomes due (if the job is still ``live``)."""
        self._in_flight.discard(job_id)
        follow_up = self._deferred.pop(job_id, None)
        if follow_up is not None and live:
            self.at(job_id, *follow_up)

    def in_flight(self, job_id: int) -> bool:
        return job_id in self._in_flight

    def check(self) -> None:
        """Raise AssertionError if an invariant in the class docstring does not hold."""
        heap = {(seq, job_id) for _, seq, job_id, _ in self._due}
        for job_id, (seq, _) in self._entry.items():
            assert (seq, job_id) in heap, f"job {job_id}: its due action is not in the heap"
        stray = set(self._deferred) - self._in_flight
        assert not stray, f"deferred actions for jobs without a step in flight: {sorted(stray)}"
