"""Per-key request budgets: submits, polls and retries for one API key share one window."""

from __future__ import annotations

import logging
from collections import deque

from bot.jobs.clock import Clock

log = logging.getLogger(__name__)


class RequestBudget:
    """At most ``limit`` requests in any ``window`` seconds; a 429 shrinks it for a while.

    Requests are counted when they are sent; the provider counts them when they arrive, a
    little later and not always equally late, so the window is held slightly longer than
    documented to keep that jitter from ever adding up to one request too many.
    """

    #: Extra fraction of the window to wait, for network jitter between us and the provider.
    MARGIN = 0.02

    def __init__(self, limit: int, window: float, clock: Clock, *, name: str = "") -> None:
        self.limit = limit
        self.window = window * (1 + self.MARGIN)
        self.name = name
        self._clock = clock
        self._current = limit
        self._sent: deque[float] = deque()
        self._blocked_until = 0.0
        self._last_penalty = float("-inf")
        self.rate_limited_count = 0

    def _prune(self, now: float) -> None:
        while self._sent and now - self._sent[0] >= self.window:
            self._sent.popleft()
        # Win back one request per quiet window after a 429.
        if self._current < self.limit:
            quiet_windows = int((now - self._last_penalty) // self.window)
            if quiet_windows > 0:
                self._current = min(self.limit, self._current + quiet_windows)
                self._last_penalty += quiet_windows * self.window

    def available(self, now: float | None = None) -> int:
        now = self._clock.now() if now is None else now
        self._prune(now)
        if now < self._blocked_until:
            return 0
        return max(0, self._current - len(self._sent))

    def try_take(self, now: float | None = None) -> bool:
        now = self._clock.now() if now is None else now
        if self.available(now) <= 0:
            return False
        self._sent.append(now)
        return True

    def restamp(self, taken_at: float) -> None:
        """A request reserved at ``taken_at`` is being sent only now: count it from now.

        The scheduler reserves a slot before the job's database write; the provider counts the
        request when it arrives, so the window must start when it is actually sent.
        """
        try:
            self._sent.remove(taken_at)
        except ValueError:
            return  # already out of the window
        self._sent.append(self._clock.now())

    def next_free(self, now: float | None = None) -> float:
        """The earliest time one more request may be sent."""
        now = self._clock.now() if now is None else now
        if self.available(now) > 0:
            return now
        start = max(now, self._blocked_until)
        if len(self._sent) >= self._current:
            start = max(start, self._sent[len(self._sent) - self._current] + self.window)
        return start

    async def acquire(self) -> None:
        while not self.try_take():
            now = self._clock.now()
            await self._clock.sleep(self.next_free(now) - now)

    def rate_limited(self, retry_after: float | None) -> None:
        now = self._clock.now()
        self.rate_limited_count += 1
        pause = retry_after if retry_after is not None else self.window / max(1, self._current)
        self._blocked_until = max(self._blocked_until, now + pause)
        self._current = max(1, int(self._current * 0.7))
        self._last_penalty = now
        log.warning(
            "%s: 429 received; budget now %d per %.0fs", self.name, self._current, self.window
        )


class PrepaidGate:
    """A gate whose first request was already reserved from the budget by the scheduler."""

    def __init__(self, budget: RequestBudget, reserved_at: float) -> None:
        self._budget = budget
        self._reserved_at: float | None = reserved_at

    async def acquire(self) -> None:
        if self._reserved_at is not None:
            self._budget.restamp(self._reserved_at)
            self._reserved_at = None
            return
        await self._budget.acquire()

    def rate_limited(self, retry_after: float | None) -> None:
        self._budget.rate_limited(retry_after)
