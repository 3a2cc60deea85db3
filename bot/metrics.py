"""Prometheus metrics: one ``Metrics`` object the engine, the clients and the Discord layer feed.

No discord import: every label is a plain string. Each ``Metrics`` has its own
``CollectorRegistry`` (never the process-wide default), so tests can build as many as they like.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

log = logging.getLogger(__name__)

#: ``{(provider, state): number of jobs}``, as the job store counts them.
JobCounts = Mapping[tuple[str, str], int]
#: Where the jobs gauge comes from at scrape time: usually ``JobStore.count_by_provider_and_state``.
JobCountSource = Callable[[], Awaitable[JobCounts] | JobCounts]
#: Runs just before each scrape, e.g. to copy the engine's per-key budgets into ``budget_use``.
ScrapeHook = Callable[[], None]

#: The Content-Type of :meth:`Metrics.render`'s output.
CONTENT_TYPE: Final = CONTENT_TYPE_LATEST

#: Seconds from a provider finishing a job to its result being posted in Discord.
DELIVERY_LAG_BUCKETS: Final = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)

#: What a budget's ``key`` label must look like: a short lowercase hex digest, never a key.
_KEY_LABEL = re.compile(r"^[0-9a-f]{6,16}$")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def key_label(api_key: str) -> str:
    """A label naming an API key without revealing it: the first 16 hex digits of its SHA-256.

    The same digest the job engine already keys its budgets by (``engine.budgets`` keys are
    ``(provider, key_label(api_key))``), so either can be passed to :meth:`Metrics.budget_use`.
    """
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def outcome_label(error: BaseException | None) -> str:
    """A bounded ``outcome`` label: ``ok``, or the error's code (its class name if it has none)
    in snake case without "Error".

    ``RateLimitedError`` -> ``rate_limited``, ``ConnectionFailedError`` -> ``connection_failed``.
    """
    if error is None:
        return "ok"
    code: str = getattr(error, "error_code", None) or type(error).__name__
    name = code.removesuffix("Error") or "error"
    return _CAMEL.sub("_", name).lower()


class _JobsCollector:
    """The jobs-by-state gauge, from the snapshot the last :meth:`Metrics.refresh` took."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.counts: JobCounts | None = None
        #: Every (provider, state) ever reported: shown as 0 when it empties, never dropped.
        self.seen: set[tuple[str, str]] = set()

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(
            self.name, "Jobs in the database by provider and state.", labels=["provider", "state"]
        )

    def describe(self) -> Iterator[Metric]:
        yield self._family()

    def collect(self) -> Iterator[Metric]:
        if self.counts is None:
            return  # no fresh count (no source, or the query failed): say nothing, not zeros
        self.seen.update(self.counts)
        family = self._family()
        for provider, state in sorted(self.seen):
            family.add_metric([provider, state], float(self.counts.get((provider, state), 0)))
        yield family


class Metrics:
    """Every metric the bot exports, on one registry.

    ``job_counts`` is called at each scrape (see :meth:`refresh`); it may be set later with
    :meth:`set_job_counts`, once the job store exists.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        job_counts: JobCountSource | None = None,
        namespace: str = "seedance",
        refresh_timeout: float = 2.0,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.refresh_timeout = refresh_timeout
        self._job_counts = job_counts
        self._hooks: list[ScrapeHook] = []
        self._counting: asyncio.Task[JobCounts] | None = None
        self._jobs = _JobsCollector(f"{namespace}_jobs")
        self.registry.register(self._jobs)
        self._requests = Counter(
            "provider_requests",
            "HTTP requests sent to generation APIs, by provider and outcome (ok or error kind).",
            ["provider", "outcome"],
            namespace=namespace,
            registry=self.registry,
        )
        self._rate_limited = Counter(
            "provider_rate_limited",
            "HTTP 429 answers from generation APIs.",
            ["provider"],
            namespace=namespace,
            registry=self.registry,
        )
        self._budget_used = Gauge(
            "key_budget_used",
            "Requests used in the current window of one API key's budget (key: digest, not the key).",
            ["provider", "key"],
            namespace=namespace,
            registry=self.registry,
        )
        self._budget_limit = Gauge(
            "key_budget_limit",
            "Requests allowed per window for one API key (key: digest, not the key).",
            ["provider", "key"],
            namespace=namespace,
            registry=self.registry,
        )
        self._delivery_lag = Histogram(
            "delivery_lag_seconds",
            "Seconds from a provider finishing a job to its result being posted in Discord.",
            namespace=namespace,
            registry=self.registry,
            buckets=DELIVERY_LAG_BUCKETS,
        )
        self._callbacks = Counter(
            "provider_callbacks",
            "Callbacks received from generation APIs: accepted (a job's URL) or unknown (404).",
            ["provider", "outcome"],
            namespace=namespace,
            registry=self.registry,
        )
        self._discord_errors = Counter(
            "discord_errors",
            "Failed Discord API calls, by what the bot was doing and the HTTP status.",
            ["kind", "status"],
            namespace=namespace,
            registry=self.registry,
        )

    # -- what the rest of the bot calls --------------------------------------------------------

    def provider_request(self, provider: str, outcome: str) -> None:
        """One HTTP request sent to ``provider``; ``outcome`` is ``ok`` or an error kind.

        Use a bounded vocabulary (see :func:`outcome_label`), never remote text.
        """
        self._requests.labels(provider=provider, outcome=outcome).inc()

    def rate_limited(self, provider: str) -> None:
        """``provider`` answered 429."""
        self._rate_limited.labels(provider=provider).inc()

    def budget_use(self, provider: str, key_label: str, used: float, limit: float) -> None:
        """How much of one key's request budget is in use; ``key_label`` from :func:`key_label`.

        Raises ValueError for a label that is not a short hex digest, so a raw key passed by
        mistake never reaches the metrics page.
        """
        if not _KEY_LABEL.fullmatch(key_label):
            raise ValueError("key_label must be a 6-16 digit lowercase hex digest, not an API key")
        self._budget_used.labels(provider=provider, key=key_label).set(used)
        self._budget_limit.labels(provider=provider, key=key_label).set(limit)

    def forget_budget(self, provider: str, key_label: str) -> None:
        """Stop exporting a key's budget (e.g. the key was unlinked)."""
        for gauge in (self._budget_used, self._budget_limit):
            with contextlib.suppress(KeyError):
                gauge.remove(provider, key_label)

    def delivery_lag(self, seconds: float) -> None:
        """A result was posted ``seconds`` after the provider finished the job."""
        self._delivery_lag.observe(max(0.0, seconds))

    def provider_callback(self, provider: str, *, accepted: bool) -> None:
        """A callback arrived from ``provider`` (one that calls back: never a name a stranger
        chose) for a job's URL (``accepted``), or with a token no job has."""
        self._callbacks.labels(
            provider=provider, outcome="accepted" if accepted else "unknown"
        ).inc()

    def discord_error(self, kind: str, status: int | None = None) -> None:
        """A Discord API call failed; ``kind`` says what it was for (``deliver``, ``card``, ...)."""
        self._discord_errors.labels(kind=kind, status=str(status) if status else "none").inc()

    # -- scraping ------------------------------------------------------------------------------

    def set_job_counts(self, source: JobCountSource | None) -> None:
        """Where the jobs gauge is read from at each scrape (None: not exported)."""
        self._job_counts = source
        self._jobs.counts = None

    def add_scrape_hook(self, hook: ScrapeHook) -> None:
        """Call ``hook`` before each scrape; a hook that raises is logged and skipped."""
        self._hooks.append(hook)

    async def refresh(self) -> None:
        """Read what is computed at scrape time: the job counts (bounded), then the hooks.

        A count still running from an earlier scrape is reused, never started twice, and never
        cancelled (so a slow database sees one query, not one per scrape).
        """
        self._jobs.counts = await self._count_jobs()
        for hook in list(self._hooks):
            try:
                hook()
            except Exception:
                log.exception("Metrics scrape hook %r failed", hook)

    async def render(self) -> bytes:
        """The metrics page in the Prometheus text format (:data:`CONTENT_TYPE`)."""
        await self.refresh()
        return generate_latest(self.registry)

    async def _count_jobs(self) -> JobCounts | None:
        if self._job_counts is None:
            return None
        if self._counting is None or self._counting.done():
            self._counting = asyncio.create_task(
                self._call_job_counts(self._job_counts), name="metrics-job-counts"
            )
        task = self._counting
        done, _ = await asyncio.wait({task}, timeout=self.refresh_timeout)
        if not done:
            log.warning("Counting jobs for /metrics took over %.1fs", self.refresh_timeout)
            return None
        error = None if task.cancelled() else task.exception()
        if task.cancelled() or error is not None:
            log.warning("Counting jobs for /metrics failed: %r", error)
            return None
        return task.result()

    @staticmethod
    async def _call_job_counts(source: JobCountSource) -> JobCounts:
        result = source()
        if inspect.isawaitable(result):
            result = await result
        return dict(result)

    async def aclose(self) -> None:
        """Cancel a job count still running (at shutdown)."""
        if self._counting is not None and not self._counting.done():
            self._counting.cancel()
            await asyncio.gather(self._counting, return_exceptions=True)
