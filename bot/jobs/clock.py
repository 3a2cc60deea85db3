"""Time as the engine sees it, so tests and benchmarks can run it faster than real time."""

from __future__ import annotations

import asyncio
import contextlib
import time


class Clock:
    """Wall-clock seconds (stored in the database, so they survive restarts)."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    async def wait(self, event: asyncio.Event, seconds: float | None) -> None:
        """Return when ``event`` is set or ``seconds`` have passed."""
        if seconds is None:
            await event.wait()
            return
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
        # arrives as the event is set, and the engine would never stop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, seconds)):
                await event.wait()


class ScaledClock(Clock):
    """Simulated seconds that pass ``speed`` times faster than real ones (benchmarks)."""

    def __init__(self, speed: float, start: float = 1_000_000.0) -> None:
        self.speed = speed
        self._origin = time.monotonic()
        self._start = start

    def now(self) -> float:
        return self._start + (time.monotonic() - self._origin) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    async def wait(self, event: asyncio.Event, seconds: float | None) -> None:
        await super().wait(event, None if seconds is None else seconds / self.speed)
