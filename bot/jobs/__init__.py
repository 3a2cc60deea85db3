"""The durable job engine (no discord import): submit, per-key budgets, polling, resume, delivery."""

from bot.jobs.budget import RequestBudget
from bot.jobs.clock import Clock, ScaledClock
from bot.jobs.engine import KEY_UNREADABLE, EngineConfig, JobEngine, NoLinkedKeyError
from bot.jobs.ports import DeliveryOutcome, DeliveryPort, Progress, ProgressKind
from bot.jobs.timing import GenerationTimes, PollPlan

__all__ = [
    "KEY_UNREADABLE",
    "Clock",
    "DeliveryOutcome",
    "DeliveryPort",
    "EngineConfig",
    "GenerationTimes",
    "JobEngine",
    "NoLinkedKeyError",
    "PollPlan",
    "Progress",
    "ProgressKind",
    "RequestBudget",
    "ScaledClock",
]
