"""A server's rules, enforced on every generation before anything is recorded or sent.

The generation flow asks :class:`ServerRules` (its policy) first where and who (channels,
roles), then for the chosen model and request: the model, the member's waiting jobs, their jobs
in the last 24 hours, the credit caps, and whose key pays. A refusal is a
:class:`ServerRuleError` whose text names the rule and what it allows, already in the member's
Discord language (the rules have the interaction; its plural forms and dates need it); the flow
answers it privately, before any card, thread, job or charge.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING, ClassVar

import discord

from bot.i18n import LocaleLike, enumeration, listing, number, t, tn
from bot.models import ProviderRequest
from bot.providers.description import ModelChoice
from bot.storage import GuildSettings, GuildSettingsStore, Job, server_key_owner
from cogs._errors import UserFacingError
from cogs._text import provider_name
from cogs.generate import ALL_MODELS
from cogs.generate._policy import Clearance, Place
from cogs.settings._spending import (
    DAY,
    Spending,
    cost_text,
    counts_today,
    estimate_request,
    job_estimator,
    spending,
)

if TYPE_CHECKING:
    from bot.app import SeedanceBot

#: How many channels, roles or models a message names before it says how many more there are.
LISTED_MAX = 15


def _relative(when: float) -> str:
    """A Discord timestamp that every client shows as "in 3 hours"."""
    return f"<t:{int(when) + 1}:R>"


class ServerRuleError(UserFacingError):
    """A server's rule refused a generation; the text names the rule and what it allows, in the
    member's language."""

    error_code: ClassVar[str] = "ServerRule"


class ServerRules:
    """The :class:`~cogs.generate._policy.GenerationPolicy` of servers with /settings."""

    def __init__(
        self,
        bot: SeedanceBot,
        store: GuildSettingsStore,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bot = bot
        self.store = store
        self._clock = clock

    async def place(self, interaction: discord.Interaction) -> Place:
        guild_id = interaction.guild_id
        if guild_id is None:
            return Place()
        settings = await self.store.get(guild_id)
        self._where_and_who(interaction, settings)
        return Place(
            models=settings.models or None, sponsored=frozenset(await self.sponsored(guild_id))
        )

    async def clear(
        self,
        interaction: discord.Interaction,
        choice: ModelChoice,
        request: ProviderRequest | None,
    ) -> Clearance:
        guild_id = interaction.guild_id
        if guild_id is None:
            return Clearance()
        locale = interaction.locale
        settings = await self.store.get(guild_id)
        self._where_and_who(interaction, settings)
        if settings.models and choice.key not in settings.models:
            raise ServerRuleError(
                t(
                    locale,
                    "{model} is not allowed on this server. Allowed models: {models}. Choose one "
                    "of them with the `model` option. Nothing was sent and nothing was charged.",
                    model=choice.label,
                    models=model_labels(settings.models, locale),
                )
            )
        member = interaction.user.id
        own = {key.provider for key in await self.bot.keys.for_user(member)}
        paid_by = None
        if choice.provider not in own and choice.provider in await self.sponsored(guild_id):
            # A member's own key always wins; the server's pays only for those without one.
            paid_by = server_key_owner(guild_id)
        engine = self.bot.engine
        waiting_limit = settings.max_waiting_per_user
        if waiting_limit is not None and (waiting := engine.waiting_count(member)) >= waiting_limit:
            raise ServerRuleError(
                tn(
                    locale,
                    "This server lets each member have at most {count} job waiting, and you have "
                    "{waiting}. Nothing was sent and nothing was charged. /jobs list shows it; "
                    "/jobs cancel removes it if you no longer need it.",
                    "This server lets each member have at most {count} jobs waiting, and you "
                    "have {waiting}. Nothing was sent and nothing was charged. /jobs list shows "
                    "them; /jobs cancel removes one you no longer need.",
                    waiting_limit,
                    waiting=number(locale, waiting),
                )
            )
        now = self._clock()
        today = await self.bot.jobs.in_guild_since(guild_id, now - DAY)
        mine = [job for job in today if job.owner_id == member]
        self._daily(settings, mine, locale)
        self._credits(settings, choice, request, today, mine, locale)
        notes = []
        running_limit = settings.max_running_per_user
        if running_limit is not None and engine.running_count(member) >= running_limit:
            notes.append(
                tn(
                    locale,
                    "This server runs at most {count} of your jobs at once, so this one waits "
                    "until the one running finishes.",
                    "This server runs at most {count} of your jobs at once, so this one waits "
                    "until one of yours finishes.",
                    running_limit,
                )
            )
        return Clearance(paid_by=paid_by, private=settings.private_results, notes=tuple(notes))

    async def sponsored(self, guild_id: int) -> set[str]:
        """The providers the server's sponsor key can pay for now (linked, readable, not
        refused by the provider)."""
        keys = await self.bot.keys.for_user(server_key_owner(guild_id))
        return {key.provider for key in keys if key.readable and not key.rejected}

    # -- the rules -----------------------------------------------------------------------------

    def _where_and_who(self, interaction: discord.Interaction, settings: GuildSettings) -> None:
        locale = interaction.locale
        if settings.channels and not _in_channels(interaction, settings.channels):
            raise ServerRuleError(
                t(
                    locale,
                    "This server allows generating only in some channels, not here: try "
                    "{channel}. Nothing was sent and nothing was charged.",
                    channel=_one_channel(interaction, settings.channels),
                )
            )
        if settings.roles and not _has_role(interaction.user, settings.roles):
            raise ServerRuleError(
                t(
                    locale,
                    "Generating on this server is for members with one of these roles: {roles}. "
                    "Nothing was sent and nothing was charged.",
                    roles=listed(locale, role_mentions(settings.roles), alternatives=True),
                )
            )

    def _daily(self, settings: GuildSettings, mine: list[Job], locale: LocaleLike) -> None:
        limit = settings.max_jobs_per_day
        if limit is None:
            return
        counted = [job for job in mine if counts_today(job)]
        if len(counted) >= limit:
            # The oldest that must leave the window for one more to fit.
            frees = counted[len(counted) - limit].created_at + DAY
            raise ServerRuleError(
                # i18n: {when} is a time Discord shows in the reader's language and time zone,
                # such as "in 3 hours".
                tn(
                    locale,
                    "This server allows {count} job per member in any 24 hours, and you have "
                    "made {made}. Nothing was sent and nothing was charged. You can generate "
                    "here again {when}.",
                    "This server allows {count} jobs per member in any 24 hours, and you have "
                    "made {made}. Nothing was sent and nothing was charged. You can generate "
                    "here again {when}.",
                    limit,
                    made=number(locale, len(counted)),
                    when=_relative(frees),
                )
            )

    def _credits(
        self,
        settings: GuildSettings,
        choice: ModelChoice,
        request: ProviderRequest | None,
        today: list[Job],
        mine: list[Job],
        locale: LocaleLike,
    ) -> None:
        cap = settings.credit_caps.get(choice.provider)
        if cap is None:
            return
        cost = None if request is None else estimate_request(self.bot.clients, request)
        wanted = 0 if cost is None else cost.credits
        estimate = job_estimator(self.bot.clients)
        for limit, jobs, per_member in (
            (cap.per_member, mine, True),
            (cap.per_server, today, False),
        ):
            if limit is None:
                continue
            spent = spending(jobs, choice.provider, estimate)
            # Without a published price only what is spent already can be held against it.
            over = spent.used + wanted > limit if cost is not None else spent.used >= limit
            if over:
                values = {
                    "provider": provider_name(choice.provider),
                    "cap": number(locale, limit),
                    "used": number(locale, spent.used),
                    "retry": _retry(spent, limit, wanted, locale),
                }
                if cost is not None:
                    values["cost"] = cost_text(locale, cost.credits, cost.usd)
                raise ServerRuleError(_over_cap(locale, per_member, cost is not None, values))


def _over_cap(locale: LocaleLike, per_member: bool, priced: bool, values: dict[str, str]) -> str:
    """The refusal of a credit cap: the member's or the server's, with the job's price where
    its provider publishes one."""
    # i18n: {retry} is one more sentence (when it fits again), or nothing.
    if per_member and priced:
        text = t(
            locale,
            "This server caps {provider} spending at {cap} credits per member in any 24 hours. "
            "You have used {used} and this job would cost {cost}. Nothing was sent and nothing "
            "was charged. {retry}",
            **values,
        )
    elif per_member:
        text = t(
            locale,
            "This server caps {provider} spending at {cap} credits per member in any 24 hours. "
            "You have used {used}. Nothing was sent and nothing was charged. {retry}",
            **values,
        )
    elif priced:
        text = t(
            locale,
            "This server caps {provider} spending at {cap} credits for the whole server in any "
            "24 hours. Its members have used {used} and this job would cost {cost}. Nothing was "
            "sent and nothing was charged. {retry}",
            **values,
        )
    else:
        text = t(
            locale,
            "This server caps {provider} spending at {cap} credits for the whole server in any "
            "24 hours. Its members have used {used}. Nothing was sent and nothing was charged. "
            "{retry}",
            **values,
        )
    # Without a time to retry, no trailing space.
    return text.rstrip()


def _retry(spent: Spending, limit: int, wanted: int, locale: LocaleLike) -> str:
    if wanted > limit:
        return t(locale, "This job alone costs more than that.")
    when = spent.room_at(limit, wanted) if wanted else spent.room_at(limit - 1, 0)
    if when is None:
        return ""
    # i18n: {when} is a time Discord shows in the reader's language, such as "in 3 hours".
    return t(locale, "It fits again {when}.", when=_relative(when))


def listed(locale: LocaleLike, items: Iterable[str], *, alternatives: bool = False) -> str:
    """``items`` as values in the reader's language ("a, b, c", "a、b、c"; with
    ``alternatives``, in a sentence: "a, b, or c"): the first :data:`LISTED_MAX` of them and how
    many more there are (a long list would push the rest of a message past Discord's limit)."""
    items = list(items)
    if len(items) > LISTED_MAX:
        rest = len(items) - LISTED_MAX
        items = [*items[:LISTED_MAX], tn(locale, "{count} more", "{count} more", rest)]
    return listing(locale, items, alternatives=True) if alternatives else enumeration(locale, items)


def role_mentions(ids: Collection[int]) -> list[str]:
    return [f"<@&{role}>" for role in sorted(ids)]


def model_labels(keys: Collection[str], locale: LocaleLike = None) -> str:
    """The allowed models as members see them in the ``model`` option, in its order."""
    labels = [m.label for key, m in ALL_MODELS.items() if key in keys]
    return listed(locale, labels) if labels else t(locale, "none")


def _in_channels(interaction: discord.Interaction, channels: Collection[int]) -> bool:
    """In an allowed channel, or in a thread (or forum post) of one."""
    if interaction.channel_id in channels:
        return True
    parent = getattr(interaction.channel, "parent_id", None)
    return parent is not None and parent in channels


def _one_channel(interaction: discord.Interaction, channels: Collection[int]) -> str:
    """One allowed channel to point to, as a mention: the first that still exists."""
    guild = interaction.guild
    ordered = sorted(channels)
    existing = [c for c in ordered if guild is None or guild.get_channel(c) is not None]
    return f"<#{(existing or ordered)[0]}>"


def _has_role(user: discord.User | discord.Member, roles: Collection[int]) -> bool:
    return isinstance(user, discord.Member) and any(role.id in roles for role in user.roles)
