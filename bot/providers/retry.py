"""When and how long to wait before repeating a request."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with jitter, bounded in attempts and in total time."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    #: Upper bound on the time one call may spend, waits included. A wait that would cross it is
    #: not taken: the error goes to the caller, whose scheduler can come back much later.
    total_budget: float = 60.0

    def backoff(self, attempt: int) -> float:
        """Delay before attempt ``attempt + 1``: half fixed, half random, so clients spread out."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
