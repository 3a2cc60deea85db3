"""The audit channel: one line per finished job of the server (who, model, cost, outcome).

The engine calls :meth:`AuditLog.job_finished` once a job has ended and been delivered (or kept
for /jobs show). The line is in the server's language (its community locale, which admins set in
Discord): the channel is read by everyone the admins let in, not by one member. Posting is best
effort: a channel the bot may not post in is logged, never retried, and never changes the job.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.i18n import N_, LocaleLike, t, tn
from bot.storage import GuildSettingsStore, Job, JobOutcome
from cogs._text import provider_name
from cogs.generate import model_title

if TYPE_CHECKING:
    from bot.app import SeedanceBot

log = logging.getLogger(__name__)

AUDIT_OUTCOMES: dict[JobOutcome, tuple[str, str]] = {
    JobOutcome.SUCCEEDED: ("✅", N_("succeeded")),
    JobOutcome.FAILED: ("❌", N_("failed")),
    JobOutcome.UNCERTAIN: ("❔", N_("not confirmed by the provider")),
}


def audit_line(job: Job, locale: LocaleLike = None) -> str:
    """The one line the audit channel gets for ``job``, in ``locale`` (the server's)."""
    icon, outcome = AUDIT_OUTCOMES[job.outcome or JobOutcome.FAILED]
    if job.outcome is JobOutcome.FAILED and job.error_code:
        # i18n: {code} is the error's stable name, such as InsufficientCreditsError.
        outcome_text = t(locale, "failed ({code})", code=job.error_code)
    else:
        outcome_text = t(locale, outcome)
    if job.credits_charged is None:
        cost = t(locale, "no charge reported")
    else:
        net = max(0, job.credits_charged - (job.credits_refunded or 0))
        cost = tn(
            locale,
            "{count} {provider} credit",
            "{count} {provider} credits",
            net,
            provider=provider_name(job.provider),
        )
    job_text = t(locale, "Job #{job_id}", job_id=job.id)
    parts = [
        f"{icon} {job_text}",
        f"<@{job.owner_id}>",
        model_title(job),
        cost,
        outcome_text,
    ]
    if job.sponsor_guild_id is not None:
        parts.append(t(locale, "paid by the server's key"))
    return " · ".join(parts)


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
        guild = self.bot.get_guild(guild_id)
        line = audit_line(job, guild.preferred_locale if guild is not None else None)
        try:
            # Names the member without pinging them.
            await channel.send(line, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as error:
            log.warning(
                "Server %d: job %d not written to audit channel %d (HTTP %d, code %d)",
                guild_id, job.id, channel_id, error.status, error.code,
            )  # fmt: skip
