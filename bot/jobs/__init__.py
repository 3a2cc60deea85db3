"""The durable job engine (no discord import): submit, per-key budgets, polling, resume, delivery."""

from bot.jobs.budget import RequestBudget
from bot.jobs.callbacks import CALLBACK_PATH, CallbackUrls
from bot.jobs.clock import Clock, ScaledClock
from bot.jobs.config import EngineConfig
from bot.jobs.engine import JobEngine
from bot.jobs.errors import (
    ENGINE_MESSAGES,
    INPUT_EXPIRED,
    INTERNAL_ERROR,
    KEY_REJECTED,
    KEY_UNREADABLE,
    NO_LINKED_KEY,
    OUTCOME_UNKNOWN,
    PROVIDER_TIMEOUT,
    TOO_MANY_WAITING,
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
    "CALLBACK_PATH",
    "ENGINE_MESSAGES",
    "INPUT_EXPIRED",
    "INTERNAL_ERROR",
    "KEY_REJECTED",
    "KEY_UNREADABLE",
    "NO_LINKED_KEY",
    "OUTCOME_UNKNOWN",
    "PROVIDER_TIMEOUT",
    "TOO_MANY_WAITING",
    "CallbackUrls",
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
