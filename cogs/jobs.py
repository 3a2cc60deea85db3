"""/jobs: a member's recent generations — list them, show a result again, cancel one still
waiting, and what they came to per provider (stats), in the member's Discord language."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import N_, LocaleLike, enumeration, gettext_for, t, tn
from bot.jobs import Progress
from bot.providers.description import usd
from bot.providers.registry import description
from bot.storage import DeliveryState, Job, JobOutcome, JobState
from cogs._errors import reply
from cogs._text import clip, excerpt, provider_name
from cogs.generate import (
    DeleteButton,
    describe_duration,
    model_title,
    result_embed,
    result_text,
    result_view,
    status_embed,
)

if TYPE_CHECKING:
    from bot.app import SeedanceBot

#: How many jobs /jobs list shows.
LIST_LIMIT = 10
#: Discord shows at most 25 autocomplete choices; they are picked from this many recent jobs,
#: so a waiting job or a typed number still finds one that is not among the latest 25.
AUTOCOMPLETE_LIMIT = 25
AUTOCOMPLETE_SCAN = 200
#: Discord's limit on the name of an autocomplete choice.
CHOICE_NAME_MAX = 100

_STATE_WORDS: dict[JobState, str] = {
    JobState.QUEUED: N_("waiting"),
    JobState.SUBMITTING: N_("sending"),
    JobState.RUNNING: N_("generating"),
    JobState.SUCCEEDED: N_("done"),
    JobState.FAILED: N_("failed"),
    JobState.DELIVERED: N_("delivered"),
    JobState.CANCELLED: N_("cancelled"),
    JobState.UNCERTAIN: N_("not confirmed"),
}
#: States with an outcome to show: a result, a failure, or a send that may not have arrived.
FINISHED = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.DELIVERED, JobState.UNCERTAIN})


# -- how a job reads ----------------------------------------------------------------------------


def prompt_excerpt(job: Job, limit: int = 80) -> str:
    return excerpt(str(job.request.get("prompt", "")), limit)


def jump_link(job: Job) -> str | None:
    """Where the job lives in Discord: its thread, else its message, else its channel."""
    where = job.destination
    # A private job belongs to a server, but its card and result are in its owner's DMs.
    guild = str(where.guild_id) if where.guild_id and not where.private else "@me"
    if where.thread_id:
        return f"https://discord.com/channels/{guild}/{where.thread_id}"
    if where.channel_id and where.message_id:
        return f"https://discord.com/channels/{guild}/{where.channel_id}/{where.message_id}"
    if where.channel_id:
        return f"https://discord.com/channels/{guild}/{where.channel_id}"
    return None


def credits_text(provider: str, credits: int, locale: LocaleLike = None) -> str:
    described = description(provider)
    # Dollars per credit where the provider documents a price.
    rate = described.usd_per_credit if described is not None else None
    if rate is None:
        return tn(locale, "{count} credit", "{count} credits", credits)
    return tn(
        locale,
        "{count} credit ({usd})",
        "{count} credits ({usd})",
        credits,
        usd=usd(credits * rate),
    )


def cost_text(job: Job, locale: LocaleLike = None) -> str | None:
    """Credits charged and refunded, when the provider has said."""
    _ = gettext_for(locale)
    charged, refunded = job.credits_charged, job.credits_refunded
    if charged == 0:
        return _("Nothing charged")
    if charged is not None and refunded:
        return _(
            "Charged {charged}, refunded {refunded}",
            charged=credits_text(job.provider, charged, locale),
            refunded=credits_text(job.provider, refunded, locale),
        )
    if charged is not None:
        return _("Charged {credits}", credits=credits_text(job.provider, charged, locale))
    if refunded:
        return _("Refunded {credits}", credits=credits_text(job.provider, refunded, locale))
    return None


def state_word(job: Job) -> str:
    """The state in one word or two, in English (a catalog message id)."""
    if job.state is JobState.DELIVERED:
        return N_("done") if job.outcome is JobOutcome.SUCCEEDED else N_("failed")
    return _STATE_WORDS[job.state]


def state_text(job: Job, position: int | None, now: float, locale: LocaleLike = None) -> str:
    """The state in words, with the queue position or the time it has been generating."""
    _ = gettext_for(locale)
    word = _(state_word(job))
    if job.state is JobState.QUEUED:
        return _("waiting, #{position} in your queue", position=position) if position else word
    if job.state is JobState.SUBMITTING:
        return _("sending to the provider")
    if job.state is JobState.RUNNING:
        started = job.submitted_at or job.created_at
        return _("generating for {duration}", duration=describe_duration(now - started, locale))
    if job.state is JobState.UNCERTAIN:
        return _(
            "not confirmed: the provider may not have it, see /jobs show {job_id}", job_id=job.id
        )
    # i18n: {state} is "done" or "failed".
    if job.delivery_state is DeliveryState.FALLBACK:
        return _("{state}, sent to your DMs", state=word)
    if job.delivery_state is DeliveryState.KEPT:
        return _("{state}, not posted anywhere: see /jobs show {job_id}", state=word, job_id=job.id)
    return word


def choice_name(job: Job, locale: LocaleLike = None) -> str:
    """'#12 · Seedance 2 · done · a cat on a…', within Discord's 100 characters."""
    head = f"#{job.id} · {model_title(job)} · {t(locale, state_word(job))}"
    room = CHOICE_NAME_MAX - len(head) - 3
    prompt = prompt_excerpt(job, room) if room > 8 else ""
    return clip(f"{head} · {prompt}" if prompt else head, CHOICE_NAME_MAX)


# -- what each command shows ---------------------------------------------------------------------


def list_embed(
    jobs: list[Job], positions: dict[int, int | None], now: float, locale: LocaleLike = None
) -> discord.Embed:
    _ = gettext_for(locale)
    embed = discord.Embed(title=_("Your recent jobs"), colour=discord.Colour.blurple())
    if not jobs:
        embed.description = _("No jobs yet. Start one with /video or /image.")
        return embed
    open_link = _("Open")
    for job in jobs:
        state = state_text(job, positions.get(job.id), now, locale)
        lines = [f"**{state}** · <t:{int(job.created_at)}:R>"]
        if prompt := prompt_excerpt(job, 120):
            lines.append(f"“{discord.utils.escape_markdown(prompt)}”")
        if cost := cost_text(job, locale):
            lines.append(cost)
        if link := jump_link(job):
            lines.append(f"[{open_link}]({link})")
        embed.add_field(
            name=clip(f"#{job.id} · {model_title(job)}", 256),
            value=clip("\n".join(lines), 1024),
            inline=False,
        )
    embed.set_footer(
        text=_("/jobs show <id> shows a result again · /jobs cancel <id> stops a waiting job")
    )
    return embed


def _with_link(job: Job, embed: discord.Embed, locale: LocaleLike) -> discord.Embed:
    if (link := jump_link(job)) and len(embed.fields) < 25:
        _ = gettext_for(locale)
        open_link = _("Open")
        embed.add_field(name=_("Where"), value=f"[{open_link}]({link})", inline=True)
    return embed


def show_view(job: Job, locale: LocaleLike = None) -> discord.ui.View:
    """The result's own buttons, minus Delete: there is nothing to delete in a private reply."""
    view = result_view(job, locale)
    for item in list(view.children):
        if isinstance(item, DeleteButton):
            view.remove_item(item)
    return view


def show_message(
    job: Job, progress: Progress | None, locale: LocaleLike = None
) -> tuple[str, discord.Embed, discord.ui.View | None]:
    """What /jobs show answers for a job in any state: content, embed and buttons. A waiting or
    running job shows what its card shows (``progress``: queue place, or ETA and progress bar)."""
    if job.state in FINISHED:
        if job.outcome is JobOutcome.SUCCEEDED:
            links = [job.video_url] if job.video_url else list(job.image_urls)
            expiry = t(locale, "Provider links expire after a while: save what you want to keep.")
            lines = [*(link for link in links if link), f"-# {expiry}"]
        else:
            # What happened and what to do, worded as in the result message itself.
            lines = result_text(job, [], 0, mention=False, locale=locale)
        content = clip("\n".join(lines))
        embed = _with_link(job, result_embed(job, locale), locale)
        return content, embed, show_view(job, locale)
    return "", _with_link(job, status_embed(job, progress, None, locale), locale), None


# -- /jobs stats --------------------------------------------------------------------------------

#: The periods /jobs stats counts over, in days, shortest first.
STATS_PERIODS = (7, 30)
_DAY = 86_400.0

#: How /jobs stats counts the jobs of each outcome (the keys :func:`outcome_word` gives).
STATS_OUTCOMES = {
    "done": N_("{count} done"),
    "failed": N_("{count} failed"),
    "unconfirmed": N_("{count} not confirmed"),
    "cancelled": N_("{count} cancelled"),
    "unfinished": N_("{count} in progress"),
}


def outcome_word(job: Job) -> str:
    """How /jobs stats counts a job: one of the keys of :data:`STATS_OUTCOMES`."""
    outcome = job.outcome
    if outcome is JobOutcome.SUCCEEDED:
        return "done"
    if outcome is JobOutcome.FAILED:
        return "failed"
    if outcome is JobOutcome.UNCERTAIN:
        return "unconfirmed"
    return "cancelled" if job.state is JobState.CANCELLED else "unfinished"


def net_credits(job: Job) -> int:
    """What the job cost its payer: credits charged minus refunded (never below nothing)."""
    return max(0, (job.credits_charged or 0) - (job.credits_refunded or 0))


def period_text(provider: str, jobs: list[Job], days: int, locale: LocaleLike = None) -> str:
    """One line of a provider's stats: its jobs of the period by outcome, and their credits (a
    line per period, not columns: it reads the same in every script)."""
    _ = gettext_for(locale)
    if not jobs:
        parts = [_("no jobs"), _("nothing charged")]
    else:
        counts: dict[str, int] = dict.fromkeys(STATS_OUTCOMES, 0)
        for job in jobs:
            counts[outcome_word(job)] += 1
        outcomes = enumeration(
            locale,
            (_(STATS_OUTCOMES[word], count=_.number(n)) for word, n in counts.items() if n),
        )
        own = sum(net_credits(job) for job in jobs if job.paid_by is None)
        parts = [
            tn(locale, "{count} job ({outcomes})", "{count} jobs ({outcomes})", len(jobs),
               outcomes=outcomes),
            _("{credits} charged", credits=credits_text(provider, own, locale))
            if own
            else _("nothing charged"),
        ]  # fmt: skip
        if sponsored := sum(1 for job in jobs if job.paid_by is not None):
            parts.append(_("{count} paid by a server's key", count=_.number(sponsored)))
    return _("**Last {days} days**: {summary}", days=_.number(days), summary=" · ".join(parts))


def stats_embed(jobs: list[Job], now: float, locale: LocaleLike = None) -> discord.Embed:
    """The member's jobs of the last :data:`STATS_PERIODS` days, per provider (``jobs``: those
    of the longest period)."""
    _ = gettext_for(locale)
    embed = discord.Embed(title=_("Your jobs and credits"), colour=discord.Colour.blurple())
    if not jobs:
        embed.description = _(
            "You have no jobs in the last {days} days. Start one with /video or /image.",
            days=_.number(STATS_PERIODS[-1]),
        )
        return embed
    for provider in sorted({job.provider for job in jobs}):
        mine = [job for job in jobs if job.provider == provider]
        lines = [
            period_text(
                provider, [j for j in mine if j.created_at >= now - days * _DAY], days, locale
            )
            for days in STATS_PERIODS
        ]
        embed.add_field(
            name=provider_name(provider), value=clip("\n".join(lines), 1024), inline=False
        )
    embed.set_footer(
        text=_(
            "Credits as each provider reported them: charged minus refunded, on your own keys. "
            "Jobs still running may not be counted yet."
        )
    )
    return embed


# -- the command group ---------------------------------------------------------------------------


JobFilter = Callable[[Job], bool]


class Jobs(commands.GroupCog, group_name="jobs", group_description="Your recent generations"):
    """/jobs list, /jobs show, /jobs cancel, /jobs stats."""

    def __init__(self, bot: SeedanceBot) -> None:
        self.bot = bot
        super().__init__()

    async def _own_job(self, job_id: int, owner_id: int) -> Job | None:
        job = await self.bot.jobs.get(job_id)
        # Someone else's job reads like a missing one: ids are not secrets, but jobs are.
        return job if job is not None and job.owner_id == owner_id else None

    async def _complete(
        self, interaction: discord.Interaction[SeedanceBot], current: str, keep: JobFilter
    ) -> list[app_commands.Choice[int]]:
        jobs = await self.bot.jobs.recent_for_user(interaction.user.id, limit=AUTOCOMPLETE_SCAN)
        wanted = str(current).strip().lstrip("#").casefold()
        choices = []
        for job in jobs:
            if not keep(job):
                continue
            name = choice_name(job, interaction.locale)
            if not wanted or wanted in name.casefold():
                choices.append(app_commands.Choice(name=name, value=job.id))
                if len(choices) == AUTOCOMPLETE_LIMIT:
                    break
        return choices

    async def complete_any(
        self, interaction: discord.Interaction[SeedanceBot], current: str
    ) -> list[app_commands.Choice[int]]:
        return await self._complete(interaction, current, lambda job: True)

    async def complete_queued(
        self, interaction: discord.Interaction[SeedanceBot], current: str
    ) -> list[app_commands.Choice[int]]:
        return await self._complete(interaction, current, lambda job: job.state is JobState.QUEUED)

    @app_commands.command(name="list", description="Your recent jobs: state, model, cost and link")
    async def list_jobs(self, interaction: discord.Interaction[SeedanceBot]) -> None:
        jobs = await self.bot.jobs.recent_for_user(interaction.user.id, limit=LIST_LIMIT)
        positions = {job.id: self.bot.engine.queue_position(job.id) for job in jobs}
        embed = list_embed(jobs, positions, time.time(), interaction.locale)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(
        name="show", description="Show one of your jobs again: its result or state"
    )
    @app_commands.rename(job_id="id")
    @app_commands.describe(job_id="The job number, e.g. 12 (pick from your recent jobs)")
    @app_commands.autocomplete(job_id=complete_any)
    async def show(
        self, interaction: discord.Interaction[SeedanceBot], job_id: app_commands.Range[int, 1]
    ) -> None:
        job = await self._own_job(job_id, interaction.user.id)
        if job is None:
            await reply(interaction, _unknown(job_id, interaction.locale))
            return
        progress = self.bot.engine.progress(job)
        content, embed, view = show_message(job, progress, interaction.locale)
        if view is None:
            await interaction.response.send_message(content, embed=embed, ephemeral=True)
        else:
            await interaction.response.send_message(content, embed=embed, view=view, ephemeral=True)

    @app_commands.command(
        name="cancel", description="Cancel a job that is still waiting to be sent"
    )
    @app_commands.rename(job_id="id")
    @app_commands.describe(job_id="The job number, e.g. 12 (only waiting jobs can be cancelled)")
    @app_commands.autocomplete(job_id=complete_queued)
    async def cancel(
        self, interaction: discord.Interaction[SeedanceBot], job_id: app_commands.Range[int, 1]
    ) -> None:
        owner, locale = interaction.user.id, interaction.locale
        job = await self._own_job(job_id, owner)
        if job is None:
            message = _unknown(job_id, locale)
        elif job.state is JobState.QUEUED and await self.bot.engine.cancel(job_id, owner):
            message = t(
                locale,
                "Cancelled job #{job_id}. It was never sent, so nothing was charged.",
                job_id=job_id,
            )
        else:
            # Re-read: a cancel that lost the race to the submit sees the job's new state.
            message = _not_cancellable(await self.bot.jobs.get(job_id) or job, locale)
        await reply(interaction, message)

    @app_commands.command(
        name="stats", description="Your jobs and credits per provider, last 7 and 30 days"
    )
    async def stats(self, interaction: discord.Interaction[SeedanceBot]) -> None:
        now = time.time()
        since = now - STATS_PERIODS[-1] * _DAY
        jobs = await self.bot.jobs.for_user_since(interaction.user.id, since)
        embed = stats_embed(jobs, now, interaction.locale)
        await interaction.response.send_message(embed=embed, ephemeral=True)


def _unknown(job_id: int, locale: LocaleLike) -> str:
    return t(locale, "You have no job #{job_id}. /jobs list shows your recent ones.", job_id=job_id)


def _not_cancellable(job: Job, locale: LocaleLike) -> str:
    _ = gettext_for(locale)
    if job.state is JobState.CANCELLED:
        return _("Job #{job_id} is already cancelled.", job_id=job.id)
    if job.state in (JobState.QUEUED, JobState.SUBMITTING, JobState.RUNNING):
        return _(
            "Job #{job_id} has already been sent: {provider} is generating it and cannot be "
            "stopped from here. The result will be posted when it is ready.",
            job_id=job.id,
            provider=provider_name(job.provider),
        )
    # i18n: {state} is "done" or "failed".
    return _(
        "Job #{job_id} has already finished ({state}); /jobs show {job_id} shows it.",
        job_id=job.id,
        state=_(state_word(job)),
    )


async def setup(bot: SeedanceBot) -> None:
    await bot.add_cog(Jobs(bot))
