"""What a server's jobs cost and count, for its daily limits, credit caps, usage and audit log.

Credits are each provider's own unit (their price in dollars differs), so every sum here is per
provider. A job counts with the credits its provider reported charging, net of refunds; a job
not yet charged (waiting, or sent and not reported) counts with its documented price, where the
provider publishes one, so that jobs already queued are not spent twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from bot.i18n import LocaleLike, tn
from bot.models import Provider, ProviderRequest, endpoint, endpoint_for
from bot.providers import CostEstimate, ProviderClient
from bot.storage import Job, JobState

log = logging.getLogger(__name__)

#: The window of the daily limits and credit caps: any 24 hours, not a calendar day (no time
#: zone to choose, and no rush at midnight).
DAY = 24 * 3600.0

#: A job's documented price, or None where its provider publishes none.
Estimator = Callable[[Job], int | None]


def estimate_request(
    clients: Mapping[Provider, ProviderClient], request: ProviderRequest
) -> CostEstimate | None:
    """The documented price of ``request``, or None (no price published, or no client)."""
    client = clients.get(endpoint_for(request).provider)
    return client.estimate_cost(request) if client is not None else None


def job_estimator(clients: Mapping[Provider, ProviderClient]) -> Estimator:
    """The documented price of a stored job's request, in credits, or None."""

    def estimate(job: Job) -> int | None:
        try:
            request = endpoint(job.endpoint).request_model.parse(job.request)
            cost = estimate_request(clients, request)
        except Exception:  # a stored request of an older version: no price, never a failure
            log.debug("No cost estimate for job %d", job.id, exc_info=True)
            return None
        return None if cost is None else cost.credits

    return estimate


def cost_text(locale: LocaleLike, credits: int, usd: Decimal) -> str:
    """A documented price as the reader reads it: "2,900 credits ($0.29)", "2.900 credits
    ($0.29)" (whole cents as usual, but never rounded: 19 credits on seedanceapi cost $0.095)."""
    cents = usd.quantize(Decimal("0.01"))
    dollars = f"${cents}" if cents == usd else f"${usd.normalize():f}"
    return tn(locale, "{count} credit ({usd})", "{count} credits ({usd})", credits, usd=dollars)


def counts_today(job: Job) -> bool:
    """Whether ``job`` counts against a daily job limit: sent, or still to be sent (a job
    cancelled, or ended before anything was sent, cost nothing)."""
    if job.state is JobState.CANCELLED:
        return False
    return job.state.unfinished or job.submit_attempts > 0


def spent(job: Job, estimate: Estimator) -> int:
    """The credits ``job`` costs: what its provider charged, net of refunds; the documented
    price while it is unfinished and nothing was reported; else 0."""
    if job.credits_charged is not None:
        return max(0, job.credits_charged - (job.credits_refunded or 0))
    if job.state.unfinished:
        return estimate(job) or 0
    return 0


@dataclass(frozen=True)
class Spending:
    """Credits spent at one provider in the window, and when they leave it."""

    used: int
    #: (when it leaves the window, credits), oldest first.
    releases: tuple[tuple[float, int], ...]

    def room_at(self, cap: int, wanted: int) -> float | None:
        """When ``wanted`` more credits fit under ``cap`` (None: only if nothing is spent)."""
        used = self.used
        for when, credits in self.releases:
            used -= credits
            if used + wanted <= cap:
                return when
        return None


def spending(jobs: Iterable[Job], provider: str, estimate: Estimator) -> Spending:
    """What ``jobs`` (created in the last 24 hours, oldest first) cost at ``provider``."""
    releases = []
    for job in jobs:
        if job.provider != provider:
            continue
        cost = spent(job, estimate)
        if cost:
            releases.append((job.created_at + DAY, cost))
    return Spending(sum(credits for _, credits in releases), tuple(releases))
