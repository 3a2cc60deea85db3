"""The durable job engine (no discord import): submit, per-key budgets, polling, resume, delivery."""

from bot.jobs.budget import RequestBudget
from bot.jobs.clock import Clock, ScaledClock
from bot.jobs.config import EngineConfig
from bot.jobs.engine import JobEngine
from bot.jobs.errors import (
    INPUT_EXPIRED,
    INTERNAL_ERROR,
    KEY_REJECTED,
    KEY_UNREADABLE,
    KeyRejectedError,
    NoLinkedKeyError,
    TooManyWaitingJobsError,
)
from bot.jobs.ports import (
    DeliveryOutcome,
    DeliveryPort,
    InputRefresher,
    InputUnavailableError,
    Progress,
    ProgressKind,
)
from bot.jobs.timing import GenerationTimes, PollPlan

__all__ = [
    "INPUT_EXPIRED",
    "INTERNAL_ERROR",
    "KEY_REJECTED",
    "KEY_UNREADABLE",
    "Clock",
    "DeliveryOutcome",
    "DeliveryPort",
    "EngineConfig",
    "GenerationTimes",
    "InputRefresher",
    "InputUnavailableError",
    "JobEngine",
    "KeyRejectedError",
    "NoLinkedKeyError",
    "PollPlan",
    "Progress",
    "ProgressKind",
    "RequestBudget",
    "ScaledClock",
    "TooManyWaitingJobsError",
]
