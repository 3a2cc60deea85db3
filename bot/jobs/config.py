"""How the job engine is tuned: caps per member, request budgets, retries, polling."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.jobs.timing import PollPlan
from bot.providers.registry import DOCUMENTED_BUDGETS


@dataclass(frozen=True)
class EngineConfig:
    max_running_per_user: int = 3
    #: Jobs per user recorded but not sent yet; more are refused, not queued.
    max_waiting_per_user: int = 10
    #: Budget for providers without a documented limit: conservative, configurable.
    default_budget: tuple[int, float] = (20, 60.0)
    budgets: Mapping[str, tuple[int, float]] = field(default_factory=lambda: DOCUMENTED_BUDGETS)
    max_submit_attempts: int = 5
    submit_retry_delay: float = 30.0
    max_delivery_attempts: int = 8
    delivery_retry_delay: float = 5.0
    max_delivery_retry_delay: float = 600.0
    #: First delay after an unexpected error inside a step; doubles per repeat, capped as above.
    crash_retry_delay: float = 30.0
    plan: PollPlan = field(default_factory=PollPlan)
    #: How long stop() lets in-flight requests finish before cancelling them.
    stop_grace: float = 10.0
    #: A job about to be sent whose request was written longer ago than this (seconds) has its
    #: input links refreshed first: Discord's expire about a day after they are signed.
    refresh_inputs_after: float = 3600.0
    #: While a provider callback is expected, a job is polled only as a fallback: first this
    #: long after its expected finish, then this far apart (and once at its deadline).
    callback_fallback_interval: float = 60.0
    #: Callbacks for one job closer together than this (seconds) make one status request.
    callback_min_gap: float = 5.0
