"""/settings: the commands a server's admins set its rules, its sponsor key and its audit
channel with, and see its usage.

Reserved to members who can manage the server (Discord hides the command from the others and
refuses it to them; a server can grant it to more roles under Integrations) and only in servers.
Every answer is private to the admin who asked.
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
from cogs._text import clip
from cogs.generate import ALL_MODELS
from cogs.generate._flow import Generation
from cogs.generate._policy import OPEN
from cogs.keys import PROVIDER_CHOICES, KeyHolder, LinkKeyModal, provider_name
from cogs.settings._audit import AuditLog
from cogs.settings._rules import ServerRules, model_labels
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

# -- what admins are told --------------------------------------------------------------------

SHOW = (
    "**Settings on this server**\n"
    "Channels: {channels}\n"
    "Roles: {roles}\n"
    "Models: {models}\n"
    "Per member: {running} running at once · {waiting} waiting · {per_day}\n"
    "Credit caps in any 24 hours: {caps}\n"
    "Cards and results: {privacy}\n"
    "Audit channel: {audit}\n"
    "Server key: {sponsor}"
)
ANYWHERE = "anywhere"
EVERYONE = "everyone"
ALL = "all"
NONE = "none"
OFF = "off"
BOT_LIMIT = "{limit} (the bot's limit)"
PER_DAY = "{limit} jobs in any 24 hours"
NO_DAILY_LIMIT = "no daily limit"
CAP = "{provider}: {parts}"
CAP_MEMBER = "{credits:,} per member"
CAP_SERVER = "{credits:,} for the server"
PUBLIC = "public, in the channel (a thread per job)"
PRIVATE = "private, in each member's DMs"
NO_SPONSOR = "none (members use their own keys)"
SPONSOR_KEY = "{provider} `{masked}` {state}"
SPONSOR_CHECKED = "(checked {when})"
SPONSOR_REJECTED = "⚠️ refused by {provider} {when}: link it again"
SPONSOR_UNREADABLE = "⚠️ unreadable (the bot's secret changed): link it again"

ADDED = "Members can now generate in {what}. {now}"
ALREADY = "{what} is on the list already. {now}"
REMOVED = "{what} is off the list. {now}"
NOT_LISTED = "{what} was not on the list. {now}"
CLEARED = "No restriction any more: {now}"
CHANNELS_NOW = "Allowed channels: {list}."
ROLES_NOW = "Allowed roles: {list}."
MODELS_NOW = "Allowed models: {list}."
ROLE_ADDED = "Members with {what} can now generate. {now}"
MODEL_ADDED = "Members can now use {what}. {now}"

LIMITS_SET = "Per-member limits: {running} running at once · {waiting} waiting · {per_day}."
LIMIT_TOO_HIGH = (
    "`{option}` can be at most {limit}, the bot's own limit for every server (0 goes back to it)."
)
CREDITS_SET = "{provider}: {caps}."
NO_CAP = "no credit cap"
GIVE_A_VALUE = "Give at least one of the options (0 removes a limit)."
PRIVACY_SET = "Cards and results are now {privacy}."
PRIVACY_PRIVATE_HINT = (
    " Members whose DMs are closed to the bot are told to open them before anything is sent."
)
AUDIT_SET = "Every finished job is now written to {channel}: who, model, cost and outcome."
AUDIT_OFF = "The audit channel is off."

SPONSOR_TITLE = "Link the server's API key"
SPONSOR_COMMAND = "/settings sponsor link"
SPONSOR_LINKED = (
    "Linked the server's **{provider}** key `{masked}`: {provider} accepted it.{replaced}\n"
    "Members without their own {provider} key now generate with it, within this server's "
    "limits; their cards say the server's key pays. /settings show lists it; "
    "/settings sponsor unlink removes it."
)
SPONSOR_REPLACED = " It replaces `{previous}`."
SPONSOR_UNLINKED = (
    "Removed the server's **{provider}** key `{masked}`. Jobs waiting to be sent with it will "
    "not be sent; members need their own key for {provider} again."
)
SPONSOR_NOTHING = "This server has no {provider} key linked, so there is nothing to remove."

USAGE_HEADER = (
    "**Usage on this server**, last 7 days | last 30 days (jobs · credits charged, by provider):"
)
USAGE_MEMBER = "• <@{member}>: {recent} | {longer}"
USAGE_SERVER_KEY = "Paid by the server's key: {recent} | {longer}"
USAGE_PERIOD = "{jobs} jobs{credits}"
USAGE_CREDITS = "{credits:,} {provider}"
USAGE_MORE = "-# …and {count} more members."
USAGE_NONE = "No jobs on this server in the last 30 days."


# -- how settings read -----------------------------------------------------------------------


def _channels(ids: frozenset[int]) -> str:
    return ", ".join(f"<#{c}>" for c in sorted(ids)) or ANYWHERE


def _roles(ids: frozenset[int]) -> str:
    return ", ".join(f"<@&{r}>" for r in sorted(ids)) or EVERYONE


def _models(keys: frozenset[str]) -> str:
    return model_labels(keys) if keys else ALL


def _limit(value: int | None, bot_limit: int) -> str:
    return str(value) if value is not None else BOT_LIMIT.format(limit=bot_limit)


def _per_day(value: int | None) -> str:
    return PER_DAY.format(limit=value) if value is not None else NO_DAILY_LIMIT


def _cap(cap: CreditCap) -> str:
    parts = []
    if cap.per_member is not None:
        parts.append(CAP_MEMBER.format(credits=cap.per_member))
    if cap.per_server is not None:
        parts.append(CAP_SERVER.format(credits=cap.per_server))
    return ", ".join(parts) or NO_CAP


def _when(timestamp: float) -> str:
    return discord.utils.format_dt(datetime.fromtimestamp(timestamp, UTC), "R")


def _sponsor(key: LinkedKey) -> str:
    name = provider_name(key.provider)
    if not key.readable:
        state = SPONSOR_UNREADABLE
    elif key.rejected_at is not None:
        state = SPONSOR_REJECTED.format(provider=name, when=_when(key.rejected_at))
    else:
        state = SPONSOR_CHECKED.format(when=_when(key.verified_at or key.updated_at))
    return SPONSOR_KEY.format(provider=name, masked=key.masked, state=state)


def describe_settings(
    settings: GuildSettings, sponsors: list[LinkedKey], *, running: int, waiting: int
) -> str:
    """/settings show: every setting, and the server's keys masked (``running`` and
    ``waiting``: the bot's own limits)."""
    caps = "; ".join(
        CAP.format(provider=provider_name(p), parts=_cap(c))
        for p, c in sorted(settings.credit_caps.items())
    )
    audit = f"<#{settings.audit_channel_id}>" if settings.audit_channel_id else OFF
    return SHOW.format(
        channels=_channels(settings.channels),
        roles=_roles(settings.roles),
        models=_models(settings.models),
        running=_limit(settings.max_running_per_user, running),
        waiting=_limit(settings.max_waiting_per_user, waiting),
        per_day=_per_day(settings.max_jobs_per_day),
        caps=caps or NONE,
        privacy=PRIVATE if settings.private_results else PUBLIC,
        audit=audit,
        sponsor="; ".join(_sponsor(key) for key in sponsors) or NO_SPONSOR,
    )


def _period(jobs: int, credits: dict[str, int]) -> str:
    spent = ", ".join(
        USAGE_CREDITS.format(credits=n, provider=provider_name(p))
        for p, n in sorted(credits.items())
        if n
    )
    return USAGE_PERIOD.format(jobs=jobs, credits=f" · {spent}" if spent else "")


def describe_usage(rows: list[MemberUsage]) -> str:
    """/settings usage: jobs and credits per member (the busiest first), then what the server's
    key paid, over the last 7 and 30 days."""
    if not rows:
        return USAGE_NONE
    members: dict[int, list[MemberUsage]] = defaultdict(list)
    for row in rows:
        members[row.owner_id].append(row)
    busiest = sorted(members.items(), key=lambda item: -sum(r.jobs[1] for r in item[1]))
    lines = [USAGE_HEADER]
    for member, usage in busiest[:USAGE_MEMBERS]:
        recent, longer = (
            _period(sum(r.jobs[i] for r in usage), {r.provider: r.credits[i] for r in usage})
            for i in (0, 1)
        )
        lines.append(USAGE_MEMBER.format(member=member, recent=recent, longer=longer))
    if len(busiest) > USAGE_MEMBERS:
        lines.append(USAGE_MORE.format(count=len(busiest) - USAGE_MEMBERS))
    if any(row.sponsored_jobs[1] for row in rows):
        by_provider: dict[int, dict[str, int]] = {0: defaultdict(int), 1: defaultdict(int)}
        for row in rows:
            for i in (0, 1):
                by_provider[i][row.provider] += row.sponsored_credits[i]
        recent, longer = (
            _period(sum(r.sponsored_jobs[i] for r in rows), by_provider[i]) for i in (0, 1)
        )
        lines.append(USAGE_SERVER_KEY.format(recent=recent, longer=longer))
    return clip("\n".join(lines))


def _sponsor_linked(linked: LinkedKey, previous: LinkedKey | None, locale: object) -> str:
    replaced = (
        SPONSOR_REPLACED.format(previous=previous.masked)
        if previous is not None and previous.fingerprint != linked.fingerprint
        else ""
    )
    return SPONSOR_LINKED.format(
        provider=provider_name(linked.provider), masked=linked.masked, replaced=replaced
    )


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
        )
        await reply(interaction, text)

    @settings.command(
        name="usage", description="Jobs and credits per member over the last 7 and 30 days"
    )
    async def usage(self, interaction: discord.Interaction[SeedanceBot]) -> None:
        now = time.time()
        rows = await self.bot.jobs.guild_usage(_guild(interaction), now - 7 * DAY, now - 30 * DAY)
        await reply(interaction, describe_usage(rows))

    # -- where, who, with what -----------------------------------------------------------------

    @channels.command(name="add", description="Allow generating in a channel (and its threads)")
    @app_commands.describe(channel="The channel to allow")
    async def channels_add(
        self,
        interaction: discord.Interaction[SeedanceBot],
        channel: Channel,
    ) -> None:
        await self._allow(interaction, AllowedKind.CHANNEL, channel.id, ADDED, channel.mention)

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
        await self._allow(interaction, AllowedKind.ROLE, role.id, ROLE_ADDED, role.mention)

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
        await self._allow(interaction, AllowedKind.MODEL, model.value, MODEL_ADDED, model.name)

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
        added: str,
        what: str,
    ) -> None:
        guild_id = _guild(interaction)
        new = await self.store.allow(guild_id, kind, str(value))
        log.info("Server %d: %s allowed %s %s", guild_id, interaction.user.id, kind.value, value)
        now = self._now(kind, await self.store.get(guild_id))
        await reply(interaction, (added if new else ALREADY).format(what=what, now=now))

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
        now = self._now(kind, await self.store.get(guild_id))
        await reply(interaction, (REMOVED if removed else NOT_LISTED).format(what=what, now=now))

    async def _clear(
        self, interaction: discord.Interaction[SeedanceBot], kind: AllowedKind
    ) -> None:
        guild_id = _guild(interaction)
        await self.store.clear(guild_id, kind)
        log.info("Server %d: %s cleared the %s list", guild_id, interaction.user.id, kind.value)
        now = self._now(kind, await self.store.get(guild_id))
        await reply(interaction, CLEARED.format(now=now))

    @staticmethod
    def _now(kind: AllowedKind, settings: GuildSettings) -> str:
        if kind is AllowedKind.CHANNEL:
            return CHANNELS_NOW.format(list=_channels(settings.channels))
        if kind is AllowedKind.ROLE:
            return ROLES_NOW.format(list=_roles(settings.roles))
        return MODELS_NOW.format(list=_models(settings.models))

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
                await reply(interaction, LIMIT_TOO_HIGH.format(option=option, limit=bot_limit))
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
        await reply(
            interaction,
            LIMITS_SET.format(
                running=_limit(settings.max_running_per_user, config.max_running_per_user),
                waiting=_limit(settings.max_waiting_per_user, config.max_waiting_per_user),
                per_day=_per_day(settings.max_jobs_per_day),
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
            await reply(interaction, GIVE_A_VALUE)
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
            CREDITS_SET.format(provider=provider_name(provider.value), caps=_cap(cap)),
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
        text = PRIVACY_SET.format(privacy=PRIVATE if private else PUBLIC)
        await reply(interaction, text + (PRIVACY_PRIVATE_HINT if private else ""))

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
        text = AUDIT_OFF if channel is None else AUDIT_SET.format(channel=channel.mention)
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
            title=SPONSOR_TITLE,
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
            await reply(interaction, SPONSOR_NOTHING.format(provider=name))
            return
        await self.bot.engine.refresh_key(owner, provider.value)
        log.info("Server %d: %s unlinked its %s key", guild_id, interaction.user.id, provider.value)
        await reply(interaction, SPONSOR_UNLINKED.format(provider=name, masked=linked.masked))
