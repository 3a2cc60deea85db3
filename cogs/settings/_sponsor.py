"""/settings sponsor link and unlink: the server's own API key, for members without one (linked
through the same private form, check and encrypted store as /key link)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.i18n import LocaleLike, gettext_for, t
from bot.models import Provider
from bot.storage import LinkedKey, server_key_owner
from cogs._errors import reply
from cogs._text import provider_name
from cogs.keys import PROVIDER_CHOICES, KeyHolder, LinkKeyModal
from cogs.settings._groups import SPONSOR, SettingsPart, guild_of

if TYPE_CHECKING:
    from bot.app import SeedanceBot

log = logging.getLogger(__name__)

#: The command that links the server's key, as the messages name it (the same in every language).
SPONSOR_COMMAND = "/settings sponsor link"


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


class SponsorCommands(SettingsPart):
    """The server's sponsor key: link it (a private form) or remove it."""

    @SPONSOR.command(name="link", description="Link the server's API key (opens a private form)")
    @app_commands.describe(provider="The provider to pre-select in the form")
    @app_commands.choices(provider=PROVIDER_CHOICES)
    async def sponsor_link(
        self,
        interaction: discord.Interaction[SeedanceBot],
        provider: app_commands.Choice[str] | None = None,
    ) -> None:
        holder = KeyHolder(
            server_key_owner(guild_of(interaction)),
            command=SPONSOR_COMMAND,
            linked=_sponsor_linked,
            title=t(interaction.locale, "Link the server's API key"),
        )
        chosen = Provider(provider.value) if provider else None
        modal = LinkKeyModal(self.bot, chosen, interaction.locale, holder=holder)
        await interaction.response.send_modal(modal)

    @SPONSOR.command(name="unlink", description="Remove the server's API key for a provider")
    @app_commands.describe(provider="The provider whose key to remove")
    @app_commands.choices(provider=PROVIDER_CHOICES)
    async def sponsor_unlink(
        self, interaction: discord.Interaction[SeedanceBot], provider: app_commands.Choice[str]
    ) -> None:
        guild_id = guild_of(interaction)
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
        log.info(
            "Server %d unlinked its sponsor key for %s %s (by %s)",
            guild_id,
            provider.value,
            linked.masked,
            interaction.user.id,
        )
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
