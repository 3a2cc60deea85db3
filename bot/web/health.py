"""``/healthz``: healthy only while the gateway is connected, the database writable, the engine alive.

The three checks are injected callables, so this module knows nothing of Discord.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.storage import Database

log = logging.getLogger(__name__)

#: A check: True when that part is fine. May be sync (must then be instant) or async.
Check = Callable[[], bool | Awaitable[bool]]

DEFAULT_TIMEOUT = 2.0


@dataclass(frozen=True)
class HealthReport:
    """The answer to one probe; ``reasons`` names each failing part."""

    reasons: tuple[str, ...] = ()

    @property
    def healthy(self) -> bool:
        return not self.reasons

    def as_json(self) -> dict[str, Any]:
        if self.healthy:
            return {"status": "ok"}
        return {"status": "unhealthy", "reasons": list(self.reasons)}


@dataclass(frozen=True)
class _Part:
    name: str
    check: Check
    #: What the report says when the check answers False.
    down: str


class HealthCheck:
    """Runs the three checks at once, each bounded by ``timeout`` seconds.

    An async check that has not answered in time counts as failing ("database check timed
    out"). It is not cancelled: the next probe waits on the same call instead of starting
    another, so a stuck database gets one pending check, not one per probe.
    """

    def __init__(
        self,
        *,
        gateway_connected: Check,
        database_writable: Check,
        engine_alive: Check,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.timeout = timeout
        self._parts = (
            _Part("gateway", gateway_connected, "gateway disconnected"),
            _Part("database", database_writable, "database not writable"),
            _Part("engine", engine_alive, "engine loop not running"),
        )
        self._pending: dict[str, asyncio.Task[bool]] = {}

    async def check(self) -> HealthReport:
        results: dict[str, bool | str] = {}
        waiting: dict[str, asyncio.Task[bool]] = {}
        for part in self._parts:
            task = self._pending.get(part.name)
            if task is not None and not task.done():
                waiting[part.name] = task  # still answering an earlier probe
                continue
            try:
                answer = part.check()
            except Exception as exc:
                results[part.name] = f"{part.name} check failed ({type(exc).__name__})"
                continue
            if inspect.isawaitable(answer):
                task = asyncio.ensure_future(_as_bool(answer))
                self._pending[part.name] = task
                waiting[part.name] = task
            else:
                results[part.name] = bool(answer)
        if waiting:
            await asyncio.wait(waiting.values(), timeout=self.timeout)
        for name, task in waiting.items():
            results[name] = _outcome(name, task)
        reasons = []
        for part in self._parts:
            result = results[part.name]
            if result is False:
                reasons.append(part.down)
            elif isinstance(result, str):
                reasons.append(result)
        if reasons:
            log.debug("Health check failed: %s", "; ".join(reasons))
        return HealthReport(tuple(reasons))

    async def aclose(self) -> None:
        """Cancel checks still pending (at shutdown)."""
        pending = [task for task in self._pending.values() if not task.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._pending.clear()


async def _as_bool(answer: Awaitable[bool]) -> bool:
    return bool(await answer)


def _outcome(name: str, task: asyncio.Task[bool]) -> bool | str:
    if not task.done():
        return f"{name} check timed out"
    if task.cancelled():
        return f"{name} check cancelled"
    error = task.exception()
    if error is not None:
        return f"{name} check failed ({type(error).__name__})"
    return task.result()


async def database_writable(db: Database) -> bool:
    """True when a write transaction can be opened: ``BEGIN IMMEDIATE`` then an empty commit.

    Goes through ``Database.write()``, so it waits its turn behind the bot's own writes. The
    probe runs shielded: a caller that gives up (a timeout) never interrupts it between
    ``BEGIN`` and ``COMMIT``, which would leave a transaction open on the shared connection.
    """

    async def probe() -> bool:
        async with db.write():
            pass
        return True

    task = asyncio.ensure_future(probe())
    # Read the outcome even when nobody waits for it any more, so it is never reported as lost.
    task.add_done_callback(lambda done: None if done.cancelled() else done.exception())
    return await asyncio.shield(task)
