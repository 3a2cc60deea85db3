"""/settings channels, roles, models, limits, credits, privacy and audit: what a server's
admins decide for generating there (the rules themselves are enforced by
:mod:`cogs.settings._rules`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.i18n import LocaleLike, gettext_for, number, t
from bot.storage import AllowedKind, CreditCap, GuildSettings
from cogs._errors import reply
from cogs._text import provider_name
from cogs.generate import ALL_MODELS
from cogs.keys import PROVIDER_CHOICES
from cogs.settings._groups import CHANNELS, MODELS, ROLES, SETTINGS, SettingsPart, guild_of
from cogs.settings._overview import (
    cap_text,
    channels_text,
    limit_text,
    models_text,
    per_day_text,
    roles_text,
)

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


class RuleCommands(SettingsPart):
    """Where, who and with what members generate, their limits, and where results go."""

    @CHANNELS.command(name="add", description="Allow generating in a channel (and its threads)")
    @app_commands.describe(channel="The channel to allow")
    async def channels_add(
        self,
        interaction: discord.Interaction[SeedanceBot],
        channel: Channel,
    ) -> None:
        await self._allow(interaction, AllowedKind.CHANNEL, channel.id, channel.mention)

    @CHANNELS.command(name="remove", description="Stop allowing generating in a channel")
    @app_commands.describe(channel="The channel to take off the list")
    async def channels_remove(
        self,
        interaction: discord.Interaction[SeedanceBot],
        channel: Channel,
    ) -> None:
        await self._disallow(interaction, AllowedKind.CHANNEL, channel.id, channel.mention)

    @CHANNELS.command(name="clear", description="Allow generating in every channel")
    async def channels_clear(self, interaction: discord.Interaction[SeedanceBot]) -> None:
        await self._clear(interaction, AllowedKind.CHANNEL)

    @ROLES.command(name="add", description="Let members with a role generate")
    @app_commands.describe(role="The role to allow")
    async def roles_add(
        self, interaction: discord.Interaction[SeedanceBot], role: discord.Role
    ) -> None:
        await self._allow(interaction, AllowedKind.ROLE, role.id, role.mention)

    @ROLES.command(name="remove", description="Take a role off the allowed roles")
    @app_commands.describe(role="The role to take off the list")
    async def roles_remove(
        self, interaction: discord.Interaction[SeedanceBot], role: discord.Role
    ) -> None:
        await self._disallow(interaction, AllowedKind.ROLE, role.id, role.mention)

    @ROLES.command(name="clear", description="Let every member generate")
    async def roles_clear(self, interaction: discord.Interaction[SeedanceBot]) -> None:
        await self._clear(interaction, AllowedKind.ROLE)

    @MODELS.command(name="add", description="Allow a model")
    @app_commands.describe(model="The model to allow")
    @app_commands.choices(model=MODEL_CHOICES)
    async def models_add(
        self, interaction: discord.Interaction[SeedanceBot], model: app_commands.Choice[str]
    ) -> None:
        await self._allow(interaction, AllowedKind.MODEL, model.value, model.name)

    @MODELS.command(name="remove", description="Take a model off the allowed models")
    @app_commands.describe(model="The model to take off the list")
    @app_commands.choices(model=MODEL_CHOICES)
    async def models_remove(
        self, interaction: discord.Interaction[SeedanceBot], model: app_commands.Choice[str]
    ) -> None:
        await self._disallow(interaction, AllowedKind.MODEL, model.value, model.name)

    @MODELS.command(name="clear", description="Allow every model")
    async def models_clear(self, interaction: discord.Interaction[SeedanceBot]) -> None:
        await self._clear(interaction, AllowedKind.MODEL)

    async def _allow(
        self,
        interaction: discord.Interaction[SeedanceBot],
        kind: AllowedKind,
        value: int | str,
        what: str,
    ) -> None:
        guild_id = guild_of(interaction)
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
        guild_id = guild_of(interaction)
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
        guild_id = guild_of(interaction)
        await self.store.clear(guild_id, kind)
        log.info("Server %d: %s cleared the %s list", guild_id, interaction.user.id, kind.value)
        now = self._now(kind, await self.store.get(guild_id), interaction.locale)
        await reply(interaction, t(interaction.locale, "No restriction any more: {now}", now=now))

    @staticmethod
    def _now(kind: AllowedKind, settings: GuildSettings, locale: LocaleLike) -> str:
        if kind is AllowedKind.CHANNEL:
            return t(
                locale, "Allowed channels: {list}.", list=channels_text(settings.channels, locale)
            )
        if kind is AllowedKind.ROLE:
            return t(locale, "Allowed roles: {list}.", list=roles_text(settings.roles, locale))
        return t(locale, "Allowed models: {list}.", list=models_text(settings.models, locale))

    # -- limits --------------------------------------------------------------------------------

    @SETTINGS.command(name="limits", description="Per-member limits on this server (0 removes one)")
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
        guild_id = guild_of(interaction)
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
                running=limit_text(
                    settings.max_running_per_user, config.max_running_per_user, locale
                ),
                waiting=limit_text(
                    settings.max_waiting_per_user, config.max_waiting_per_user, locale
                ),
                per_day=per_day_text(settings.max_jobs_per_day, locale),
            ),
        )

    @SETTINGS.command(
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
        guild_id = guild_of(interaction)
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
                caps=cap_text(cap, interaction.locale),
            ),
        )

    # -- where results go, the audit channel ----------------------------------------------------

    @SETTINGS.command(name="privacy", description="Whether cards and results are public or private")
    @app_commands.describe(cards="Public in the channel, or private in each member's DMs")
    @app_commands.choices(cards=PRIVACY_CHOICES)
    async def privacy(
        self, interaction: discord.Interaction[SeedanceBot], cards: app_commands.Choice[str]
    ) -> None:
        guild_id = guild_of(interaction)
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

    @SETTINGS.command(name="audit", description="A channel that gets one line per finished job")
    @app_commands.describe(channel="Where to write them; leave empty to turn the audit log off")
    async def audit(
        self,
        interaction: discord.Interaction[SeedanceBot],
        channel: discord.TextChannel | None = None,
    ) -> None:
        guild_id = guild_of(interaction)
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
