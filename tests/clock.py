"""Time in tests: a clock that moves only when the test moves it, and waiting for background work.

- :class:`ManualClock` is a :class:`~bot.jobs.Clock` (and the ``clock()`` / ``sleep()`` pair
  that :class:`~cogs.generate._delivery.CardThrottle` takes) whose time stands still until the
  test moves it; moving it wakes every sleeper whose time has come. The ``clock`` fixture
  (``tests/conftest.py``) gives a fresh one to each test.
- :func:`eventually` waits, in real time, for what the code under test does in its own tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import inspect
import itertools
from collections.abc import Awaitable, Callable
from typing import TypeVar, overload

from bot.jobs import Clock

T = TypeVar("T")


class ManualClock(Clock):
    """Seconds that pass only in :meth:`move` and :meth:`advance`."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    def __call__(self) -> float:
        """The time, for code that takes a ``clock: Callable[[], float]``."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Return once the clock has been moved ``seconds`` on (never before the next move)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + max(0.0, seconds), next(self._order), future))
        await future

    async def wait(self, event: asyncio.Event, seconds: float | None) -> None:
        """Return when ``event`` is set or the clock has been moved ``seconds`` on."""
        if seconds is None:
            await event.wait()
            return
        waits = {asyncio.ensure_future(event.wait()), asyncio.ensure_future(self.sleep(seconds))}
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiting

    def move(self, seconds: float) -> None:
        """Let ``seconds`` pass at once; the sleepers whose time has come run at the next await."""
        self.move_to(self._now + seconds)

    def move_to(self, when: float) -> None:
        """Let time pass until ``when`` (never backwards), as :meth:`move` does."""
        assert when >= self._now, f"time cannot go back from {self._now} to {when}"
        self._now = when
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    async def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass, then let everything it woke run."""
        self.move(seconds)
        await settle()


async def settle() -> None:
    """Let every task that can run, run."""
    for _ in range(20):
        await asyncio.sleep(0)


@overload
async def eventually(
    condition: Callable[[], Awaitable[T]], *, within: float = ..., every: float = ...
) -> T: ...
@overload
async def eventually(
    condition: Callable[[], T], *, within: float = ..., every: float = ...
) -> T: ...
async def eventually(
    condition: Callable[[], object], *, within: float = 10.0, every: float = 0.005
) -> object:
    """Call ``condition`` (a function or a coroutine function) every ``every`` seconds until it
    returns something truthy, and return that; fail once ``within`` seconds have passed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"condition still false after {within}s")
        await asyncio.sleep(every)
