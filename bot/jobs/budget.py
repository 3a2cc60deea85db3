"""Per-key request budgets: submits, polls, retries and key checks for one API key share one
window, which a 429 shrinks for a while and which outlives a restart (see :class:`SentJournal`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable

from bot.jobs.clock import Clock
from bot.storage.sent_requests import SentRequest, SentRequestStore

log = logging.getLogger(__name__)

#: Records that one request is being sent at the given time (before it leaves).
Recorder = Callable[[float], Awaitable[None]]
#: Most requests written to the journal in one transaction. Every request in a write leaves
#: when it is done: after a restart ten thousand polls waited for the first write, all left in
#: one turn of the event loop, and their answers came back bunched together again and again.
_JOURNAL_BATCH = 256


class RequestBudget:
    """At most ``limit`` requests in any ``window`` seconds; a 429 shrinks it for a while.

    Requests are counted when they are sent; the provider counts them when they arrive, a
    little later and not always equally late, so the window is held slightly longer than
    documented to keep that jitter from ever adding up to one request too many.

    A 429 pauses the key until its ``Retry-After`` and starts an *episode*, which lasts until a
    window (or a longer pause) passes without another 429: the first 429 of an episode halves
    the budget, the others in it only pause the key again, so a burst of 429s to requests that
    were in flight together shrinks it once, and so does a provider that keeps refusing some
    requests whatever the rate (its Retry-After pauses do the slowing down). Each window after
    the last 429's pause without another one wins back a quarter of the limit (additive
    increase, multiplicative decrease); it never drops below a fifth of the limit.

    Requests that wait in :meth:`acquire` (a client's retry inside a step, a key check) go
    before the scheduler's (:meth:`try_take`), which leaves them the slots that free up.
    """

    #: Extra fraction of the window to wait, for network jitter between us and the provider.
    MARGIN = 0.02
    #: What an episode of 429s multiplies the budget by, once.
    DECREASE = 0.5

    def __init__(
        self,
        limit: int,
        window: float,
        clock: Clock,
        *,
        name: str = "",
        recorder: Recorder | None = None,
    ) -> None:
        self.limit = limit
        self.window = window * (1 + self.MARGIN)
        self.name = name
        #: The budget never shrinks below this, so a key that keeps getting 429s still works.
        self.floor = max(1, limit // 5)
        #: What each quiet window wins back after an episode.
        self.step = max(1, limit // 4)
        self._clock = clock
        self._recorder = recorder
        #: The budget as the last 429 left it, and since when the key has been quiet (the end
        #: of that 429's pause): each full window since then adds ``step``, up to ``limit``.
        self._shrunk_to = limit
        self._quiet_since = float("-inf")
        self._current = limit
        self._sent: deque[float] = deque()
        self._blocked_until = 0.0
        #: When the current episode of 429s ends: a 429 before then does not shrink again.
        self._episode_ends = float("-inf")
        #: Requests waiting in acquire(): the scheduler leaves them the next free slots.
        self._waiting = 0
        self.rate_limited_count = 0
        #: Episodes of 429s (each shrank the budget, unless it was at its floor already).
        self.episodes = 0

    @property
    def effective_limit(self) -> int:
        """The requests allowed per window now: ``limit``, or less after a 429."""
        self._prune(self._clock.now())
        return self._current

    def _prune(self, now: float) -> None:
        while self._sent and now - self._sent[0] >= self.window:
            self._sent.popleft()
        # Win back a quarter of the limit per quiet window after a 429.
        if self._current < self.limit and now >= self._quiet_since:
            quiet_windows = int((now - self._quiet_since) // self.window)
            self._current = min(self.limit, self._shrunk_to + quiet_windows * self.step)

    def available(self, now: float | None = None) -> int:
        """Requests that may be sent now (0 while the key is paused after a 429)."""
        now = self._clock.now() if now is None else now
        self._prune(now)
        if now < self._blocked_until:
            return 0
        return max(0, self._current - len(self._sent))

    def paced(self, now: float) -> bool:
        """Whether one more request now keeps the key's recent spending at most an even pace
        (plus a little slack) over the last quarter, half and whole window. Polls unlikely to
        find their job finished only spend when it does: spent all at once they would leave
        the key nothing for the rest of the window, when jobs do finish."""
        slack = max(1.0, self._current / 10)
        for share in (0.25, 0.5, 1.0):
            span = self.window * share
            recent = 0
            for sent in reversed(self._sent):
                if now - sent >= span:
                    break
                recent += 1
            if recent + 1 > self._current * share + slack:
                return False
        return True

    def try_take(self, now: float | None = None) -> bool:
        """Reserve a slot for the scheduler, unless it is owed to a request waiting in
        :meth:`acquire`; the request is counted from ``now`` until :meth:`send_reserved`."""
        now = self._clock.now() if now is None else now
        if self.available(now) <= self._waiting:
            return False
        self._sent.append(now)
        return True

    def restamp(self, taken_at: float) -> float:
        """A request reserved at ``taken_at`` is being sent only now: count it from now.

        The scheduler reserves a slot before the job's database write; the provider counts the
        request when it arrives, so the window must start when it is actually sent. Returns the
        time it is counted from.
        """
        now = self._clock.now()
        # Gone only if it waited longer than a window to be sent: it still counts from now.
        with contextlib.suppress(ValueError):
            self._sent.remove(taken_at)
        self._sent.append(now)
        return now

    async def send_reserved(self, taken_at: float) -> float:
        """The request reserved at ``taken_at`` is about to leave: record it, then count it from
        now (after the write, when it really leaves). Returns the time it is counted from."""
        await self._record(self._clock.now())
        return self.restamp(taken_at)

    def next_free(self, now: float | None = None) -> float:
        """The earliest time the scheduler may send one more request (after the waiters)."""
        now = self._clock.now() if now is None else now
        return self._free_at(now, self._waiting + 1)

    def _free_at(self, now: float, needed: int) -> float:
        """The earliest time ``needed`` slots are free at once (as far as is known now)."""
        self._prune(now)
        start = max(now, self._blocked_until)
        excess = len(self._sent) + needed - self._current  # the oldest that must leave first
        if excess > 0 and self._sent:
            start = max(start, self._sent[min(excess, len(self._sent)) - 1] + self.window)
        return start

    async def acquire(self) -> float:
        """Wait for a slot (before any the scheduler would take), take it, record it and count it
        from when it leaves. Returns the time it is counted from."""
        self._waiting += 1
        try:
            while True:
                now = self._clock.now()
                if self.available(now) > 0:
                    self._sent.append(now)
                    break
                await self._clock.sleep(self._free_at(now, 1) - now)
        finally:
            self._waiting -= 1
        await self._record(now)
        return self.restamp(now)

    async def _record(self, sent_at: float) -> None:
        if self._recorder is not None:
            await self._recorder(sent_at)

    def restore(self, sent: Iterable[float]) -> None:
        """Count requests an earlier process sent (read back from storage at start-up)."""
        now = self._clock.now()
        merged = sorted([*self._sent, *(min(t, now) for t in sent)])
        self._sent = deque(merged)
        self._prune(now)

    def rate_limited(self, retry_after: float | None, sent_at: float | None = None) -> None:
        """The provider answered 429 (to the request counted from ``sent_at``, if known): pause
        until ``retry_after`` and, once per episode, halve.

        The refused request leaves the window: the provider did not serve it, and limits count
        the requests served (the pause and the halving do the slowing down). Its row in storage
        stays, so a restart counts it: the one place to err on the safe side costs nothing.
        """
        now = self._clock.now()
        if sent_at is not None:
            with contextlib.suppress(ValueError):  # already out of the window
                self._sent.remove(sent_at)
        self._prune(now)  # what quiet windows won back before this 429
        self.rate_limited_count += 1
        pause = retry_after if retry_after is not None else self.window / max(1, self._current)
        self._blocked_until = max(self._blocked_until, now + pause)
        self._quiet_since = self._blocked_until
        in_episode = now < self._episode_ends
        # The episode lasts until a window (or a pause, if longer) passes without a 429.
        self._episode_ends = max(self._episode_ends, now + max(self.window, pause))
        if in_episode:
            self._shrunk_to = self._current
            log.info("%s: 429 again in the same episode; paused %.1fs", self.name, pause)
            return
        self.episodes += 1
        self._current = self._shrunk_to = max(self.floor, int(self._current * self.DECREASE))
        log.warning(
            "%s: 429 received; paused %.1fs, budget now %d per %.0fs",
            self.name,
            pause,
            self._current,
            self.window,
        )


class PrepaidGate:
    """The gate of one request (and its retries) sent with a key: each waits for the key's
    budget and is recorded before it leaves; one answered 429 gives its slot back and pauses
    the key. With ``reserved_at``, its first slot was already reserved by the scheduler
    (:meth:`RequestBudget.try_take`)."""

    def __init__(self, budget: RequestBudget, reserved_at: float | None = None) -> None:
        self._budget = budget
        self._reserved_at = reserved_at
        #: When the request sent last through this gate is counted from.
        self._sent_at: float | None = None

    async def acquire(self) -> None:
        if self._reserved_at is not None:
            reserved_at, self._reserved_at = self._reserved_at, None
            self._sent_at = await self._budget.send_reserved(reserved_at)
            return
        self._sent_at = await self._budget.acquire()

    def rate_limited(self, retry_after: float | None) -> None:
        sent_at, self._sent_at = self._sent_at, None
        self._budget.rate_limited(retry_after, sent_at)


class SentJournal:
    """Writes every request to storage before it leaves, so the next process counts it too.

    Group commit: requests sent while a write is under way are written together in the next
    transaction (up to a batch, then in the one after), which also drops rows older than
    ``horizon`` (the longest window), so the table holds about one window of requests. A write
    that fails is logged and the request still goes: the budget in memory counts it either way.
    """

    def __init__(self, store: SentRequestStore, clock: Clock, horizon: float) -> None:
        self._store = store
        self._clock = clock
        self.horizon = horizon
        #: Requests to write, a batch per transaction, each with what its senders wait for.
        self._batches: deque[tuple[list[SentRequest], asyncio.Future[None]]] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._failing = False
        #: Transactions written and requests in them (to see how well writes are batched).
        self.transactions = 0
        self.rows = 0

    def recorder(self, provider: str, digest: str) -> Recorder:
        """What one key's budget calls for each request it lets through."""

        async def record(sent_at: float) -> None:
            await self.record((provider, digest, sent_at))

        return record

    async def record(self, row: SentRequest) -> None:
        """Return once ``row`` is written (or could not be)."""
        if not self._batches or len(self._batches[-1][0]) >= _JOURNAL_BATCH:
            self._batches.append(([], asyncio.get_running_loop().create_future()))
        batch, written = self._batches[-1]
        batch.append(row)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="budget-journal")
        # Shielded: a request cancelled while waiting must not cancel the others' write.
        await asyncio.shield(written)

    async def recent(self) -> list[SentRequest]:
        """The requests of the last ``horizon`` seconds, oldest first."""
        return await self._store.recent(since=self._clock.now() - self.horizon)

    @property
    def writer(self) -> asyncio.Task[None] | None:
        """The write under way, if any (the engine counts it among its tasks)."""
        return self._writer if self._writer is not None and not self._writer.done() else None

    async def flush(self) -> None:
        """Wait for every row recorded so far to be written."""
        writer = self.writer
        if writer is not None:
            await asyncio.shield(writer)

    async def _write(self) -> None:
        try:
            while self._batches:
                batch, written = self._batches.popleft()
                try:
                    await self._store.add(batch, prune_before=self._clock.now() - self.horizon)
                except Exception as error:
                    if not self._failing:  # once per outage, not once per request
                        log.warning("Could not record %d sent request(s): %s", len(batch), error)
                    self._failing = True
                else:
                    self._failing = False
                    self.transactions += 1
                    self.rows += len(batch)
                finally:
                    if not written.done():
                        written.set_result(None)
        finally:
            # Cancelled (the process is going down): nobody may wait for a write that never comes.
            while self._batches:
                _, written = self._batches.popleft()
                if not written.done():
                    written.set_result(None)
