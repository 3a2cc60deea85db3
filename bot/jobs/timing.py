"""How long a generation takes, learned from finished jobs, and when to poll because of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.providers.registry import timing_priors

#: Starting guesses in seconds before anything is learned: (base, per second of video), per
#: endpoint from its provider's description; an endpoint not described gets the second.
_PRIORS: dict[str, tuple[float, float]] = timing_priors()
_UNKNOWN_PRIOR = (60.0, 10.0)
_RESOLUTION_FACTOR = {
    "480p": 0.7, "720p": 1.0, "1080p": 1.5, "1080p-plus": 1.8, "4k": 2.5,
    "1K": 1.0, "2K": 1.4, "4K": 2.0,
}  # fmt: skip


def size_class(endpoint: str, request: dict[str, Any]) -> str:
    """Jobs that should take about as long share a class: resolution and duration (or batch)."""
    resolution = str(request.get("resolution", "default"))
    amount = request.get("duration") or request.get("batch_count") or request.get("batchCount") or 1
    return f"{resolution}/{amount}"


@dataclass(frozen=True)
class PollPlan:
    """Polling cadence around the expected finish (all in seconds).

    Nothing is polled before half the expected time (almost nothing is ready that early);
    then never more than ``interval`` apart, tighter around the expected finish, looser in
    the long tail. Every gap stays under a naive 10 s poller's, so a result is noticed at
    least as soon, for fewer requests.
    """

    first_fraction: float = 0.5
    interval: float = 9.0
    #: Tighter polling while elapsed/expected is within this band.
    core: tuple[float, float] = (0.8, 1.5)
    core_interval: float = 6.0
    #: Past this multiple of the expected time the job is an outlier: poll slowly.
    tail_after: float = 3.0
    tail_interval: float = 30.0
    #: A job still running after this many expected times (and at least min_deadline) failed.
    deadline_factor: float = 6.0
    min_deadline: float = 30 * 60.0
    max_deadline: float = 6 * 3600.0
    #: Weight of one new sample in the learned mean.
    learning_rate: float = 0.2


class GenerationTimes:
    """Expected time from submit to finish per (endpoint, size class)."""

    def __init__(
        self,
        learned: dict[tuple[str, str], tuple[int, float]] | None = None,
        plan: PollPlan | None = None,
    ) -> None:
        self._learned = dict(learned or {})
        self.plan = plan or PollPlan()

    def expected(self, endpoint: str, request: dict[str, Any]) -> float:
        known = self._learned.get((endpoint, size_class(endpoint, request)))
        if known is not None:
            return known[1]
        base, per_second = _PRIORS.get(endpoint, _UNKNOWN_PRIOR)
        seconds = float(request.get("duration") or 0)
        factor = _RESOLUTION_FACTOR.get(str(request.get("resolution")), 1.0)
        batch = float(request.get("batch_count") or request.get("batchCount") or 1)
        return (base + per_second * seconds) * factor * (1 + 0.3 * (batch - 1))

    def learn(
        self, endpoint: str, request: dict[str, Any], seconds: float
    ) -> tuple[str, int, float]:
        """Fold one observed duration in; returns what to persist."""
        key = (endpoint, size_class(endpoint, request))
        samples, mean = self._learned.get(key, (0, seconds))
        mean = seconds if samples == 0 else mean + self.plan.learning_rate * (seconds - mean)
        self._learned[key] = (samples + 1, mean)
        return key[1], samples + 1, mean

    def first_poll(self, expected: float) -> float:
        return expected * self.plan.first_fraction

    def next_poll_delay(self, elapsed: float, expected: float) -> float:
        """Poll most often around the expected finish, back off in the tail."""
        plan = self.plan
        ratio = elapsed / max(expected, 1.0)
        if ratio < plan.first_fraction:
            return expected * plan.first_fraction - elapsed
        if plan.core[0] <= ratio < plan.core[1]:
            return plan.core_interval
        if ratio < plan.tail_after:
            return plan.interval
        return plan.tail_interval

    def deadline(self, expected: float) -> float:
        plan = self.plan
        return min(plan.max_deadline, max(plan.min_deadline, expected * plan.deadline_factor))
