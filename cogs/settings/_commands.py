"""/settings: the commands a server's admins set its rules, its sponsor key and its audit
channel with, and see its usage.

Reserved to members who can manage the server (Discord hides the command from the others and
refuses it to them; a server can grant it to more roles under Integrations) and only in servers.
Every answer is private to the admin who asked, in their own Discord language.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import LocaleLike, gettext_for, number, t, tn
from bot.models import Provider
from bot.storage import (
    AllowedKind,
    CreditCap,
    GuildSettings,
    GuildSettingsStore,
    LinkedKey,
    MemberUsage,
    server_key_owner,
)
from cogs._errors import reply
from cogs._text import MAX_CONTENT, clip
from cogs.generate import ALL_MODELS
from cogs.generate._flow import Generation
from cogs.generate._policy import OPEN
from cogs.keys import PROVIDER_CHOICES, KeyHolder, LinkKeyModal, provider_name
from cogs.settings._audit import AuditLog
from cogs.settings._rules import ServerRules, listed, model_labels, role_mentions
from cogs.settings._spending import DAY

if TYPE_CHECKING:
    from bot.app import SeedanceBot

log = logging.getLogger(__name__)

MODEL_CHOICES = [app_commands.Choice(name=m.label, value=m.key) for m in ALL_MODELS.values()]
PRIVACY_CHOICES = [
    app_commands.Choice(name="public: in the channel, with a thread per job", value="public"),
    app_commands.Choice(name="private: in each member's DMs", value="private"),
]
#: Most jobs a day one member may be allowed; more is no limit at all.
MAX_JOBS_PER_DAY = 10_000
MAX_CREDITS = 1_000_000_000
#: How many members /settings usage lists (the busiest first).
USAGE_MEMBERS = 25

#: The command that links the server's key, as the messages name it (the same in every language).
SPONSOR_COMMAND = "/settings sponsor link"


# -- how settings read -----------------------------------------------------------------------


def _channels(ids: frozenset[int], locale: LocaleLike) -> str:
    return listed(locale, (f"<#{c}>" for c in sorted(ids))) if ids else t(locale, "anywhere")


def _roles(ids: frozenset[int], locale: LocaleLike) -> str:
    return listed(locale, role_mentions(ids)) if ids else t(locale, "everyone")


def _models(keys: frozenset[str], locale: LocaleLike) -> str:
    return model_labels(keys, locale) if keys else t(locale, "all")


def _limit(value: int | None, bot_limit: int, locale: LocaleLike) -> str:
    if value is not None:
        return number(locale, value)
    return t(locale, "{limit} (the bot's limit)", limit=number(locale, bot_limit))


def _per_day(value: int | None, locale: LocaleLike) -> str:
    if value is None:
        return t(locale, "no daily limit")
    return tn(locale, "{count} job in any 24 hours", "{count} jobs in any 24 hours", value)


def _cap(cap: CreditCap, locale: LocaleLike) -> str:
    parts = []
    if cap.per_member is not None:
        parts.append(t(locale, "{credits} per member", credits=number(locale, cap.per_member)))
    if cap.per_server is not None:
        parts.append(t(locale, "{credits} for the server", credits=number(locale, cap.per_server)))
    return listed(locale, parts) if parts else t(locale, "no credit cap")


def _privacy(private: bool, locale: LocaleLike) -> str:
    if private:
        return t(locale, "private, in each member's DMs")
    return t(locale, "public, in the channel (a thread per job)")


def _when(timestamp: float) -> str:
    return discord.utils.format_dt(datetime.fromtimestamp(timestamp, UTC), "R")


def _sponsor(key: LinkedKey, locale: LocaleLike) -> str:
    _ = gettext_for(locale)
    name, masked = provider_name(key.provider), key.masked
    if not key.readable:
        return _(
            "{provider} `{masked}` ⚠️ unreadable (the bot's secret changed): link it again",
            provider=name,
            masked=masked,
        )
    if key.rejected_at is not None:
        # i18n: {when} is a time Discord shows in the reader's language, such as "2 days ago".
        return _(
            "{provider} `{masked}` ⚠️ refused by {provider} {when}: link it again",
            provider=name,
            masked=masked,
            when=_when(key.rejected_at),
        )
    # i18n: {when} is a time Discord shows in the reader's language, such as "2 days ago".
    return _(
        "{provider} `{masked}` (checked {when})",
        provider=name,
        masked=masked,
        when=_when(key.verified_at or key.updated_at),
    )


def _bullets(items: list[str]) -> str:
    """Several items, each on its own line under the line that names them: no columns to
    align, so it reads the same in every script."""
    return "".join(f"\n- {item}" for item in items)


def describe_settings(
    settings: GuildSettings,
    sponsors: list[LinkedKey],
    *,
    running: int,
    waiting: int,
    locale: LocaleLike = None,
) -> str:
    """/settings show: every setting, and the server's keys masked (``running`` and
    ``waiting``: the bot's own limits), in ``locale``."""
    _ = gettext_for(locale)
    caps = [
        _("{provider}: {caps}", provider=provider_name(p), caps=_cap(c, locale))
        for p, c in sorted(settings.credit_caps.items())
    ]
    audit = f"<#{settings.audit_channel_id}>" if settings.audit_channel_id else _("off")
    sponsor = [_sponsor(key, locale) for key in sponsors]
    # i18n: {caps} and {sponsor} are one word ("none") or a list, each item on its own line.
    # {running} and {waiting} are numbers, each maybe followed by "(the bot's limit)".
    text = _(
        "**Settings on this server**\n"
        "Channels: {channels}\n"
        "Roles: {roles}\n"
        "Models: {models}\n"
        "Per member: {running} running at once · {waiting} waiting · {per_day}\n"
        "Credit caps in any 24 hours: {caps}\n"
        "Cards and results: {privacy}\n"
        "Audit channel: {audit}\n"
        "Server key: {sponsor}",
        channels=_channels(settings.channels, locale),
        roles=_roles(settings.roles, locale),
        models=_models(settings.models, locale),
        running=_limit(settings.max_running_per_user, running, locale),
        waiting=_limit(settings.max_waiting_per_user, waiting, locale),
        per_day=_per_day(settings.max_jobs_per_day, locale),
        caps=_bullets(caps) if caps else _("none"),
        privacy=_privacy(settings.private_results, locale),
        audit=audit,
        sponsor=_bullets(sponsor) if sponsor else _("none (members use their own keys)"),
    )
    # A list starts on the next line: no space left dangling after the label.
    return "\n".join(line.rstrip() for line in text.splitlines())


def _period(jobs: int, credits: dict[str, int], locale: LocaleLike) -> str:
    counted = tn(locale, "{count} job", "{count} jobs", jobs)
    spent = [f"{number(locale, n)} {provider_name(p)}" for p, n in sorted(credits.items()) if n]
    return f"{counted} · {listed(locale, spent)}" if spent else counted


#: Room kept for the line that says how many more members there are.
_MORE_ROOM = 100


def describe_usage(rows: list[MemberUsage], locale: LocaleLike = None) -> str:
    """/settings usage: jobs and credits per member (the busiest first), then what the server's
    key paid, over the last 7 and 30 days, in ``locale``: as many members as fit in one message
    (at most :data:`USAGE_MEMBERS`), then how many more there are."""
    _ = gettext_for(locale)
    if not rows:
        return _("No jobs on this server in the last 30 days.")
    members: dict[int, list[MemberUsage]] = defaultdict(list)
    for row in rows:
        members[row.owner_id].append(row)
    busiest = sorted(members.items(), key=lambda item: -sum(r.jobs[1] for r in item[1]))
    footer = []
    if any(row.sponsored_jobs[1] for row in rows):
        by_provider: dict[int, dict[str, int]] = {0: defaultdict(int), 1: defaultdict(int)}
        for row in rows:
            for i in (0, 1):
                by_provider[i][row.provider] += row.sponsored_credits[i]
        recent, longer = (
            _period(sum(r.sponsored_jobs[i] for r in rows), by_provider[i], locale) for i in (0, 1)
        )
        footer.append(
            _("Paid by the server's key: {recent} | {longer}", recent=recent, longer=longer)
        )
    # One line per member with both periods, "|" between them: no columns to align, so it reads
    # the same in every script.
    lines = [
        _(
            "**Usage on this server**, last 7 days | last 30 days (jobs · credits charged, by "
            "provider):"
        )
    ]
    shown = 0
    for member, usage in busiest[:USAGE_MEMBERS]:
        recent, longer = (
            _period(
                sum(r.jobs[i] for r in usage), {r.provider: r.credits[i] for r in usage}, locale
            )
            for i in (0, 1)
        )
        line = f"• <@{member}>: {recent} | {longer}"
        if len("\n".join([*lines, line, *footer])) + _MORE_ROOM > MAX_CONTENT:
            break
        lines.append(line)
        shown += 1
    if shown < len(busiest):
        more = tn(
            locale, "…and {count} more member.", "…and {count} more members.", len(busiest) - shown
        )
        lines.append(f"-# {more}")
    return clip("\n".join([*lines, *footer]))


def _sponsor_linked(linked: LinkedKey, previous: LinkedKey | None, locale: LocaleLike) -> str:
    _ = gettext_for(locale)
    name, masked = provider_name(linked.provider), linked.masked
    if previous is not None and previous.fingerprint != linked.fingerprint:
        first = _(
            "Linked the server's **{provider}** key `{masked}`: {provider} accepted it. It "
            "replaces `{previous}`.",
            provider=name,
            masked=masked,
            previous=previous.masked,
        )
    else:
        first = _(
            "Linked the server's **{provider}** key `{masked}`: {provider} accepted it.",
            provider=name,
            masked=masked,
        )
    then = _(
        "Members without their own {provider} key now generate with it, within this server's "
        "limits; their cards say the server's key pays. /settings show lists it; /settings "
        "sponsor unlink removes it.",
        provider=name,
    )
    return f"{first}\n{then}"


class ChannelOption(app_commands.Transformer):
    """A channel members can run commands in: text, announcement, forum or voice (a channel's
    threads and forum posts count as the channel)."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        kinds = discord.ChannelType
        return [kinds.text, kinds.news, kinds.forum, kinds.voice]

    async def transform(
        self, interaction: discord.Interaction, value: object, /
    ) -> app_commands.AppCommandChannel:
        assert isinstance(value, app_commands.AppCommandChannel)  # given the types above
        return value


#: The ``channel`` option of /settings channels.
Channel = app_commands.Transform[app_commands.AppCommandChannel, ChannelOption]


def _guild(interaction: discord.Interaction) -> int:
    # The group is guild_only: Discord never sends it from a DM.
    assert interaction.guild_id is not None
    return interaction.guild_id


# -- the commands ----------------------------------------------------------------------------


class ServerSettings(commands.Cog):
    """The /settings group."""

    settings = app_commands.Group(
        name="settings",
        description="This server's rules for generating, its own API key and its usage (admins)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )
    channels = app_commands.Group(
        name="channels", description="Channels where members may generate", parent=settings
    )
    roles = app_commands.Group(
        name="roles", description="Roles whose members may generate", parent=settings
    )
    models = app_commands.Group(
        name="models", description="Models members may use here", parent=settings
    )
    sponsor = app_commands.Group(
        name="sponsor",
        description="The server's own API key, for members without one",
        parent=settings,
    )

    def __init__(
        self, bot: SeedanceBot, store: GuildSettingsStore, rules: ServerRules, audit: AuditLog
    ) -> None:
        self.bot = bot
        self.store = store
        self.rules = rules
        self.audit_log = audit

    async def cog_load(self) -> None:
        # The generation flow (cogs.generate, loaded first) asks these rules from now on.
        Generation.of(self.bot).policy = self.rules
        for guild_id, cap in (await self.store.running_caps()).items():
            self.bot.engine.limit_running(guild_id, cap)
        self.bot.engine.on_finished(self.audit_log.job_finished)

    async def cog_unload(self) -> None:
        self.bot.engine.off_finished(self.audit_log.job_finished)
        generation = self.bot.get_cog(Generation.__cog_name__)
        if isinstance(generation, Generation) and generation.policy is self.rules:
            generation.policy = OPEN

    # -- show, usage ---------------------------------------------------------------------------

    @settings.command(name="show", description="Show every setting of this server")
    async def show(self, interaction: discord.Interaction[SeedanceBot]) -> None:
        guild_id = _guild(interaction)
        settings = await self.store.get(guild_id)
        sponsors = await self.bot.keys.for_user(server_key_owner(guild_id))
        config = self.bot.engine.config
        text = describe_settings(
            settings,
            sponsors,
            running=config.max_running_per_user,
            waiting=config.max_waiting_per_user,
            locale=interaction.locale,
        )
        await reply(interaction, text)

    @settings.command(
        name="usage", description="Jobs and credits per member over the last 7 and 30 days"
    )
    async def usage(self, interaction: discord.Interaction[SeedanceBot]) -> None:
        now = time.time()
        rows = await self.bot.jobs.guild_usage(_guild(interaction), now - 7 * DAY, now - 30 * DAY)
        await reply(interaction, describe_usage(rows, interaction.locale))

    # -- where, who, with what -----------------------------------------------------------------

    @channels.command(name="add", description="Allow generating in a channel (and its threads)")
    @app_commands.describe(channel="The channel to allow")
    async def channels_add(
        self,
        interaction: discord.Interaction[SeedanceBot],
        channel: Channel,
    ) -> None:
        await self._allow(interaction, AllowedKind.CHANNEL, channel.id, channel.mention)

    @channels.command(name="remove", description="Stop allowing generating in a channel")
    @app_commands.describe(channel="The channel to take off the list")
    async def channels_remove(
        self,
        interaction: discord.Interaction[SeedanceBot],
        channel: Channel,
    ) -> None:
        await self._disallow(interaction, AllowedKind.CHANNEL, channel.id, channel.mention)

    @channels.command(name="clear", description="Allow generating in every channel")
    async def channels_clear(self, interaction: discord.Interaction[SeedanceBot]) -> None:
        await self._clear(interaction, AllowedKind.CHANNEL)

    @roles.command(name="add", description="Let members with a role generate")
    @app_commands.describe(role="The role to allow")
    async def roles_add(
        self, interaction: discord.Interaction[SeedanceBot], role: discord.Role
    ) -> None:
        await self._allow(interaction, AllowedKind.ROLE, role.id, role.mention)

    @roles.command(name="remove", description="Take a role off the allowed roles")
    @app_commands.describe(role="The role to take off the list")
    async def roles_remove(
        self, interaction: discord.Interaction[SeedanceBot], role: discord.Role
    ) -> None:
        await self._disallow(interaction, AllowedKind.ROLE, role.id, role.mention)

    @roles.command(name="clear", description="Let every member generate")
    async def roles_clear(self, interaction: discord.Interaction[SeedanceBot]) -> None:
        await self._clear(interaction, AllowedKind.ROLE)

    @models.command(name="add", description="Allow a model")
    @app_commands.describe(model="The model to allow")
    @app_commands.choices(model=MODEL_CHOICES)
    async def models_add(
        self, interaction: discord.Interaction[SeedanceBot], model: app_commands.Choice[str]
    ) -> None:
        await self._allow(interaction, AllowedKind.MODEL, model.value, model.name)

    @models.command(name="remove", description="Take a model off the allowed models")
    @app_commands.describe(model="The model to take off the list")
    @app_commands.choices(model=MODEL_CHOICES)
    async def models_remove(
        self, interaction: discord.Interaction[SeedanceBot], model: app_commands.Choice[str]
    ) -> None:
        await self._disallow(interaction, AllowedKind.MODEL, model.value, model.name)

    @models.command(name="clear", description="Allow every model")
    async def models_clear(self, interaction: discord.Interaction[SeedanceBot]) -> None:
        await self._clear(interaction, AllowedKind.MODEL)

    async def _allow(
        self,
        interaction: discord.Interaction[SeedanceBot],
        kind: AllowedKind,
        value: int | str,
        what: str,
    ) -> None:
        guild_id = _guild(interaction)
        new = await self.store.allow(guild_id, kind, str(value))
        log.info("Server %d: %s allowed %s %s", guild_id, interaction.user.id, kind.value, value)
        _ = gettext_for(interaction.locale)
        now = self._now(kind, await self.store.get(guild_id), interaction.locale)
        # i18n: {now} is one more sentence: what the list holds now.
        if not new:
            text = _("{what} is on the list already. {now}", what=what, now=now)
        elif kind is AllowedKind.CHANNEL:
            text = _("Members can now generate in {what}. {now}", what=what, now=now)
        elif kind is AllowedKind.ROLE:
            text = _("Members with {what} can now generate. {now}", what=what, now=now)
        else:
            text = _("Members can now use {what}. {now}", what=what, now=now)
        await reply(interaction, text)

    async def _disallow(
        self,
        interaction: discord.Interaction[SeedanceBot],
        kind: AllowedKind,
        value: int | str,
        what: str,
    ) -> None:
        guild_id = _guild(interaction)
        removed = await self.store.disallow(guild_id, kind, str(value))
        log.info("Server %d: %s disallowed %s %s", guild_id, interaction.user.id, kind.value, value)
        _ = gettext_for(interaction.locale)
        now = self._now(kind, await self.store.get(guild_id), interaction.locale)
        # i18n: {now} is one more sentence: what the list holds now.
        if removed:
            text = _("{what} is off the list. {now}", what=what, now=now)
        else:
            text = _("{what} was not on the list. {now}", what=what, now=now)
        await reply(interaction, text)

    async def _clear(
        self, interaction: discord.Interaction[SeedanceBot], kind: AllowedKind
    ) -> None:
        guild_id = _guild(interaction)
        await self.store.clear(guild_id, kind)
        log.info("Server %d: %s cleared the %s list", guild_id, interaction.user.id, kind.value)
        now = self._now(kind, await self.store.get(guild_id), interaction.locale)
        await reply(interaction, t(interaction.locale, "No restriction any more: {now}", now=now))

    @staticmethod
    def _now(kind: AllowedKind, settings: GuildSettings, locale: LocaleLike) -> str:
        if kind is AllowedKind.CHANNEL:
            return t(locale, "Allowed channels: {list}.", list=_channels(settings.channels, locale))
        if kind is AllowedKind.ROLE:
            return t(locale, "Allowed roles: {list}.", list=_roles(settings.roles, locale))
        return t(locale, "Allowed models: {list}.", list=_models(settings.models, locale))

    # -- limits --------------------------------------------------------------------------------

    @settings.command(name="limits", description="Per-member limits on this server (0 removes one)")
    @app_commands.describe(
        running="Jobs one member has generating at once; more wait their turn (0: the bot's limit)",
        waiting="Jobs one member may have waiting; more are refused (0: the bot's limit)",
        per_day="Jobs one member may make here in any 24 hours (0: no limit)",
    )
    async def limits(
        self,
        interaction: discord.Interaction[SeedanceBot],
        running: app_commands.Range[int, 0, 1000] | None = None,
        waiting: app_commands.Range[int, 0, 1000] | None = None,
        per_day: app_commands.Range[int, 0, MAX_JOBS_PER_DAY] | None = None,
    ) -> None:
        guild_id = _guild(interaction)
        config = self.bot.engine.config
        for option, value, bot_limit in (
            ("running", running, config.max_running_per_user),
            ("waiting", waiting, config.max_waiting_per_user),
        ):
            if value is not None and value > bot_limit:
                await reply(
                    interaction,
                    t(
                        interaction.locale,
                        "`{option}` can be at most {limit}, the bot's own limit for every server "
                        "(0 goes back to it).",
                        option=option,
                        limit=number(interaction.locale, bot_limit),
                    ),
                )
                return
        changes: dict[str, int | None] = {
            column: value or None
            for column, value in (
                ("max_running_per_user", running),
                ("max_waiting_per_user", waiting),
                ("max_jobs_per_day", per_day),
            )
            if value is not None
        }
        settings = await self.store.update(guild_id, **changes) if changes else None
        settings = settings or await self.store.get(guild_id)
        if "max_running_per_user" in changes:
            self.bot.engine.limit_running(guild_id, settings.max_running_per_user)
        log.info("Server %d: %s set limits %s", guild_id, interaction.user.id, changes)
        locale = interaction.locale
        await reply(
            interaction,
            # i18n: {running} and {waiting} are numbers, each maybe followed by "(the bot's
            # limit)".
            t(
                locale,
                "Per-member limits: {running} running at once · {waiting} waiting · {per_day}.",
                running=_limit(settings.max_running_per_user, config.max_running_per_user, locale),
                waiting=_limit(settings.max_waiting_per_user, config.max_waiting_per_user, locale),
                per_day=_per_day(settings.max_jobs_per_day, locale),
            ),
        )

    @settings.command(
        name="credits", description="Cap the credits spent at a provider in any 24 hours"
    )
    @app_commands.describe(
        provider="The provider (credits are each provider's own unit)",
        per_member="Most credits one member may spend there (0: no cap)",
        per_server="Most credits the whole server may spend there (0: no cap)",
    )
    @app_commands.choices(provider=PROVIDER_CHOICES)
    async def credits(
        self,
        interaction: discord.Interaction[SeedanceBot],
        provider: app_commands.Choice[str],
        per_member: app_commands.Range[int, 0, MAX_CREDITS] | None = None,
        per_server: app_commands.Range[int, 0, MAX_CREDITS] | None = None,
    ) -> None:
        if per_member is None and per_server is None:
            await reply(
                interaction,
                t(interaction.locale, "Give at least one of the options (0 removes a limit)."),
            )
            return
        guild_id = _guild(interaction)
        current = (await self.store.get(guild_id)).credit_caps.get(provider.value)
        current = current or CreditCap(provider.value)
        cap = CreditCap(
            provider.value,
            current.per_member if per_member is None else per_member or None,
            current.per_server if per_server is None else per_server or None,
        )
        await self.store.set_credit_cap(guild_id, cap)
        log.info("Server %d: %s set credit cap %s", guild_id, interaction.user.id, cap)
        await reply(
            interaction,
            t(
                interaction.locale,
                "{provider}: {caps}.",
                provider=provider_name(provider.value),
                caps=_cap(cap, interaction.locale),
            ),
        )

    # -- where results go, the audit channel ----------------------------------------------------

    @settings.command(name="privacy", description="Whether cards and results are public or private")
    @app_commands.describe(cards="Public in the channel, or private in each member's DMs")
    @app_commands.choices(cards=PRIVACY_CHOICES)
    async def privacy(
        self, interaction: discord.Interaction[SeedanceBot], cards: app_commands.Choice[str]
    ) -> None:
        guild_id = _guild(interaction)
        private = cards.value == "private"
        await self.store.update(guild_id, private_results=private)
        log.info("Server %d: %s set privacy %s", guild_id, interaction.user.id, cards.value)
        _ = gettext_for(interaction.locale)
        if private:
            text = _(
                "Cards and results are now private, in each member's DMs. Members whose DMs are "
                "closed to the bot are told to open them before anything is sent."
            )
        else:
            text = _("Cards and results are now public, in the channel (a thread per job).")
        await reply(interaction, text)

    @settings.command(name="audit", description="A channel that gets one line per finished job")
    @app_commands.describe(channel="Where to write them; leave empty to turn the audit log off")
    async def audit(
        self,
        interaction: discord.Interaction[SeedanceBot],
        channel: discord.TextChannel | None = None,
    ) -> None:
        guild_id = _guild(interaction)
        await self.store.update(guild_id, audit_channel_id=None if channel is None else channel.id)
        log.info("Server %d: %s set the audit channel %s", guild_id, interaction.user.id, channel)
        _ = gettext_for(interaction.locale)
        if channel is None:
            text = _("The audit channel is off.")
        else:
            text = _(
                "Every finished job is now written to {channel}: who, model, cost and outcome. "
                "Lines are in the server's primary language, as set in its Community settings.",
                channel=channel.mention,
            )
        await reply(interaction, text)

    # -- the sponsor key -----------------------------------------------------------------------

    @sponsor.command(name="link", description="Link the server's API key (opens a private form)")
    @app_commands.describe(provider="The provider to pre-select in the form")
    @app_commands.choices(provider=PROVIDER_CHOICES)
    async def sponsor_link(
        self,
        interaction: discord.Interaction[SeedanceBot],
        provider: app_commands.Choice[str] | None = None,
    ) -> None:
        holder = KeyHolder(
            server_key_owner(_guild(interaction)),
            command=SPONSOR_COMMAND,
            linked=_sponsor_linked,
            title=t(interaction.locale, "Link the server's API key"),
        )
        chosen = Provider(provider.value) if provider else None
        modal = LinkKeyModal(self.bot, chosen, interaction.locale, holder=holder)
        await interaction.response.send_modal(modal)

    @sponsor.command(name="unlink", description="Remove the server's API key for a provider")
    @app_commands.describe(provider="The provider whose key to remove")
    @app_commands.choices(provider=PROVIDER_CHOICES)
    async def sponsor_unlink(
        self, interaction: discord.Interaction[SeedanceBot], provider: app_commands.Choice[str]
    ) -> None:
        guild_id = _guild(interaction)
        owner = server_key_owner(guild_id)
        name = provider_name(provider.value)
        linked = await self.bot.keys.get(owner, provider.value)
        if linked is None or not await self.bot.keys.unlink(owner, provider.value):
            await reply(
                interaction,
                t(
                    interaction.locale,
                    "This server has no {provider} key linked, so there is nothing to remove.",
                    provider=name,
                ),
            )
            return
        await self.bot.engine.refresh_key(owner, provider.value)
        log.info("Server %d: %s unlinked its %s key", guild_id, interaction.user.id, provider.value)
        await reply(
            interaction,
            t(
                interaction.locale,
                "Removed the server's **{provider}** key `{masked}`. Jobs waiting to be sent with "
                "it will not be sent; members need their own key for {provider} again.",
                provider=name,
                masked=linked.masked,
            ),
        )
