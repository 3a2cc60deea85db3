"""The audit channel: one line per finished job of the server (who, model, cost, outcome).

The engine calls :meth:`AuditLog.job_finished` once a job has ended and been delivered (or kept
for /jobs show). Posting is best effort: a channel the bot may not post in is logged, never
retried, and never changes the job.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.storage import GuildSettingsStore, Job, JobOutcome
from cogs.generate import model_title
from cogs.keys import provider_name

if TYPE_CHECKING:
    from bot.app import SeedanceBot

log = logging.getLogger(__name__)

AUDIT_LINE = "{icon} Job #{job_id} · <@{member}> · {model} · {cost} · {outcome}{payer}"
AUDIT_COST = "{credits:,} {provider} credits"
AUDIT_NO_COST = "no charge reported"
AUDIT_PAID_BY_SERVER = " · paid by the server's key"
AUDIT_OUTCOMES: dict[JobOutcome, tuple[str, str]] = {
    JobOutcome.SUCCEEDED: ("✅", "succeeded"),
    JobOutcome.FAILED: ("❌", "failed"),
    JobOutcome.UNCERTAIN: ("❔", "not confirmed by the provider"),
}


def audit_line(job: Job) -> str:
    """The one line the audit channel gets for ``job``."""
    icon, outcome = AUDIT_OUTCOMES[job.outcome or JobOutcome.FAILED]
    if job.outcome is JobOutcome.FAILED and job.error_code:
        outcome = f"{outcome} ({job.error_code})"
    if job.credits_charged is None:
        cost = AUDIT_NO_COST
    else:
        net = max(0, job.credits_charged - (job.credits_refunded or 0))
        cost = AUDIT_COST.format(credits=net, provider=provider_name(job.provider))
    return AUDIT_LINE.format(
        icon=icon,
        job_id=job.id,
        member=job.owner_id,
        model=model_title(job),
        cost=cost,
        outcome=outcome,
        payer="" if job.sponsor_guild_id is None else AUDIT_PAID_BY_SERVER,
    )


class AuditLog:
    def __init__(self, bot: SeedanceBot, store: GuildSettingsStore) -> None:
        self.bot = bot
        self.store = store

    async def job_finished(self, job: Job) -> None:
        guild_id = job.destination.guild_id
        if guild_id is None or job.outcome is None:
            return
        channel_id = (await self.store.get(guild_id)).audit_channel_id
        if channel_id is None:
            return
        channel = self.bot.get_partial_messageable(channel_id, guild_id=guild_id)
        try:
            # Names the member without pinging them.
            await channel.send(audit_line(job), allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as error:
            log.warning(
                "Server %d: job %d not written to audit channel %d (HTTP %d, code %d)",
                guild_id, job.id, channel_id, error.status, error.code,
            )  # fmt: skip
