"""/key: link, list and unlink the provider API keys members generate with.

A key only ever arrives through a modal (slash-command options are logged by Discord and shown
in the chat), is checked with the provider without spending credits (within the key's request
budget, like every other request sent with it), is stored encrypted, and is shown back only as
its masked fingerprint. It never enters a message, a log line or the text of an exception this
module logs.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import SeedanceBot
from bot.i18n import LocaleLike, gettext_for, listing, t
from bot.models import Provider
from bot.providers import DESCRIPTIONS, KeyCheck, KeyCheckInconclusiveError, ProviderError
from bot.providers.http import scrub
from bot.redaction import KEY_FORM_INPUT_ID
from bot.storage import LinkedKey, sponsor_guild
from cogs._errors import reply
from cogs._text import provider_name

log = logging.getLogger(__name__)

#: What members see for each provider: the site they signed up on.
PROVIDER_NAMES: dict[Provider, str] = {p: d.name for p, d in DESCRIPTIONS.items()}
#: Where each provider hands out keys (from its documentation), for the form and for errors.
KEY_SOURCES: dict[Provider, str] = {p: d.key_source for p, d in DESCRIPTIONS.items()}
#: Where a member sees their balance and what was charged (from each provider's documentation),
#: to check whether a job the provider never confirmed did start.
ACCOUNT_PAGES: dict[Provider, str] = {p: d.account_page for p, d in DESCRIPTIONS.items()}
#: The documented key shapes, never a real key.
KEY_SHAPES: dict[Provider, str] = {p: d.key_shape for p, d in DESCRIPTIONS.items()}
#: Prefixes that give away which provider a pasted key belongs to.
_KEY_PREFIXES: dict[Provider, str] = {
    p: d.key_prefix for p, d in DESCRIPTIONS.items() if d.key_prefix is not None
}

PROVIDER_CHOICES = [
    app_commands.Choice(name=name, value=provider.value)
    for provider, name in PROVIDER_NAMES.items()
]

MIN_KEY_LENGTH = 8
MAX_KEY_LENGTH = 200
#: A key travels in an HTTP header: printable ASCII without spaces, nothing else.
_KEY_SHAPE = re.compile(rf"[\x21-\x7e]{{{MIN_KEY_LENGTH},{MAX_KEY_LENGTH}}}")
#: The longest a member waits for "checking your key" before hearing it could not be checked.
CHECK_TIMEOUT = 45.0
#: How long a form stays answerable; people often go and fetch the key from a dashboard first.
MODAL_TIMEOUT = 15 * 60.0
CONFIRM_TIMEOUT = 120.0


def key_owner(owner_id: int) -> str:
    """How a log line names whose key it is: a member, or a server (its sponsor key, stored
    under the negated server id, which would read as a member that does not exist)."""
    guild = sponsor_guild(owner_id)
    return f"user {owner_id}" if guild is None else f"server {guild}"


def _parse_provider(value: str | None) -> Provider | None:
    try:
        return Provider(value) if value else None
    except ValueError:
        return None


# -- linking ---------------------------------------------------------------------------------------

#: The command that links a member's own key, as the messages below name it.
MEMBER_LINK_COMMAND = "/key link"


@dataclass(frozen=True)
class KeyHolder:
    """Whose key a link form stores, and what the one linking it is told. By default the
    member's own key; the ``cogs.settings`` extension links a server's sponsor key through the
    same form, check and encrypted store."""

    #: The ``api_keys`` owner it is stored under (a member, or a server's, see
    #: :func:`~bot.storage.server_key_owner`).
    owner_id: int
    #: The command that links this key, named where a message says to try again.
    command: str = MEMBER_LINK_COMMAND
    #: What is said once the key is stored, from the key and the one it replaced (None: what a
    #: member linking their own key is told).
    linked: Callable[[LinkedKey, LinkedKey | None, LocaleLike], str] | None = None
    #: The form's title (None: the member's).
    title: str | None = None

    def named(self, text: str) -> str:
        """``text`` with this holder's command where it names the member's (commands are the
        same in every language)."""
        return text.replace(MEMBER_LINK_COMMAND, self.command)


class LinkKeyModal(discord.ui.Modal, title="Link an API key"):
    """The form a key is pasted into: a provider select and a single-line key field, in the
    language of the member it is shown to."""

    def __init__(
        self,
        bot: SeedanceBot,
        provider: Provider | None = None,
        locale: LocaleLike = None,
        *,
        holder: KeyHolder | None = None,
    ) -> None:
        _ = gettext_for(locale)
        title = holder.title if holder is not None and holder.title else _("Link an API key")
        super().__init__(title=title[:45], timeout=MODAL_TIMEOUT)
        self.bot = bot
        #: Whose key the form stores; None: the member's who sends it.
        self.holder = holder
        self.provider_select: discord.ui.Select[LinkKeyModal] = discord.ui.Select(
            custom_id="key-form:provider",
            placeholder=_("Choose the provider"),
            min_values=1,
            max_values=1,
            required=True,
            options=[
                discord.SelectOption(
                    label=name,
                    value=choice.value,
                    description=_("Key from {source}", source=_(KEY_SOURCES[choice]))[:100],
                    default=choice is provider,
                )
                for choice, name in PROVIDER_NAMES.items()
            ],
        )
        # Before a provider is chosen: the shapes that show a prefix.
        shape = (
            _(KEY_SHAPES[provider])
            if provider
            else listing(locale, (KEY_SHAPES[p] for p in _KEY_PREFIXES), alternatives=True)
        )
        self.key_input: discord.ui.TextInput[LinkKeyModal] = discord.ui.TextInput(
            custom_id=KEY_FORM_INPUT_ID,  # the log redactor hides this field's value
            style=discord.TextStyle.short,
            placeholder=_("Paste your key: {shape}", shape=shape)[:100],
            required=True,
            min_length=MIN_KEY_LENGTH,
            max_length=MAX_KEY_LENGTH,
        )
        self.add_item(
            discord.ui.Label(
                text=_("Provider"),
                description=_("Which site the key is from."),
                component=self.provider_select,
            )
        )
        self.add_item(
            discord.ui.Label(
                text=_("API key"),
                description=_(
                    "Checked without spending credits, stored encrypted, shown only as its last "
                    "4 characters."
                ),
                component=self.key_input,
            )
        )

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        provider = _parse_provider(
            self.provider_select.values[0] if self.provider_select.values else None
        )
        if provider is None:
            await reply(
                interaction,
                t(interaction.locale, "Choose a provider in the form, then paste the key again."),
            )
            return
        await link_key(interaction, self.bot, provider, self.key_input.value, holder=self.holder)

    async def on_error(
        self,
        interaction: discord.Interaction,
        error: Exception,
        item: discord.ui.Item[Any] | None = None,  # only in a view's signature: a form has none
        /,
    ) -> None:
        # The default logs the traceback as is, and an exception text might quote the key.
        log_scrubbed(error, self.key_input.value, "Linking a key failed")
        await reply(
            interaction,
            t(
                interaction.locale,
                "Something went wrong on our side and nothing was stored. Please try again.",
            ),
        )


async def link_key(
    interaction: discord.Interaction,
    bot: SeedanceBot,
    provider: Provider,
    raw_key: str,
    *,
    holder: KeyHolder | None = None,
) -> None:
    """Check ``raw_key`` with ``provider`` and store it for the member (or ``holder``) if the
    provider accepts it."""
    holder = holder or KeyHolder(interaction.user.id)
    _ = gettext_for(interaction.locale)
    name = PROVIDER_NAMES[provider]
    key = raw_key.strip()
    if not _KEY_SHAPE.fullmatch(key):
        await reply(
            interaction,
            holder.named(
                _(
                    "That does not look like an API key (keys have no spaces or line breaks). "
                    "Nothing was stored. Copy it again from {source} and retry /key link.",
                    source=_(KEY_SOURCES[provider]),
                )
            ),
        )
        return
    if bot.redactor is not None:
        # Even a key the provider rejects may be another provider's real key.
        bot.redactor.add_secret(key)
    client = bot.clients.get(provider)
    if client is None:
        await reply(
            interaction, _("{name} is not available on this bot. Nothing was stored.", name=name)
        )
        return
    # Checking can take seconds (the provider may be slow or retried); the 3 s window cannot wait.
    await interaction.response.defer(ephemeral=True, thinking=True)
    user_id = holder.owner_id
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            # Within the key's request budget, which its jobs' submits and polls share: a
            # member relinking a busy key cannot push it past the provider's limit.
            result = await bot.engine.check_key(provider.value, key, client=client)
    except (ProviderError, TimeoutError) as error:
        reason = scrub(error.message, key) if isinstance(error, ProviderError) else None
        log.warning(
            "Key check for %s at %s failed: %s", key_owner(user_id), provider, reason or "no answer"
        )
        if isinstance(error, KeyCheckInconclusiveError):
            # No documented answer came back: the provider may be down, or the base URL wrong.
            text = _(
                "I could not check that key with {name} right now, so nothing was stored. Either "
                "{name} is having trouble or this bot's base URL for {name} is wrong; if it keeps "
                "happening, tell the bot's operator. Try /key link again in a few minutes.",
                name=name,
            )
        else:
            text = _(
                "I could not check that key with {name} right now, so nothing was stored. Try "
                "/key link again in a few minutes.",
                name=name,
            )
        text = holder.named(text)
        said = reason or _("no answer in time")
        await reply(interaction, f"{text}\n-# {name}: {said}")
        return
    if result is KeyCheck.INVALID:
        log.info("%s rejected the key %s tried to link", provider, key_owner(user_id))
        await reply(interaction, holder.named(_rejected(provider, key, interaction.locale)))
        return
    previous = await bot.keys.get(user_id, provider)
    linked = await bot.keys.link(user_id, provider, key)
    await bot.engine.refresh_key(user_id, provider)
    guild = sponsor_guild(user_id)
    if guild is None:
        log.info("User %s linked a %s key %s", user_id, provider, linked.masked)
    else:
        log.info(
            "Server %s linked its sponsor key for %s %s (by %s)",
            guild,
            provider,
            linked.masked,
            interaction.user.id,
        )
    if holder.linked is not None:
        await reply(interaction, holder.linked(linked, previous, interaction.locale))
        return
    if previous and previous.fingerprint != linked.fingerprint:
        linked_text = _(
            "Linked your **{name}** key `{masked}`: {name} accepted it. It replaces `{previous}`.",
            name=name,
            masked=linked.masked,
            previous=previous.masked,
        )
    else:
        linked_text = _(
            "Linked your **{name}** key `{masked}`: {name} accepted it.",
            name=name,
            masked=linked.masked,
        )
    stored = _(
        "It is stored encrypted and only its last characters are ever shown. /key status lists "
        "your keys; /key unlink removes one."
    )
    await reply(interaction, f"{linked_text}\n{stored}")


def _rejected(provider: Provider, key: str, locale: LocaleLike = None) -> str:
    _ = gettext_for(locale)
    name = PROVIDER_NAMES[provider]
    for other, prefix in _KEY_PREFIXES.items():
        if other is not provider and key.startswith(prefix):
            return _(
                "{name} rejected that key (unknown, revoked or mistyped), so nothing was stored. "
                "It looks like a {other} key: choose {other} in the form.",
                name=name,
                other=PROVIDER_NAMES[other],
            )
    return _(
        "{name} rejected that key (unknown, revoked or mistyped), so nothing was stored. Copy it "
        "again from {source} and retry /key link.",
        name=name,
        source=_(KEY_SOURCES[provider]),
    )


def log_scrubbed(error: BaseException, key: str | None, what: str) -> str:
    """Log an unexpected error with its traceback, the key cut out; returns the reference."""
    reference = secrets.token_hex(4)
    text = "".join(traceback.format_exception(error))
    if key:
        text = scrub(text, key.strip())
        text = scrub(text, key)
    log.error("%s (ref %s):\n%s", what, reference, text)
    return reference


class LinkKeyButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"key:link:(?P<provider>[a-z0-9]+)",
):
    """Opens the link form; persistent, so it still works on messages sent before a restart.

    Register it once with ``bot.add_dynamic_items(LinkKeyButton)``.
    """

    def __init__(self, provider: Provider | None = None, locale: LocaleLike = None) -> None:
        _ = gettext_for(locale)
        label = (
            _("Link a {name} key", name=PROVIDER_NAMES[provider])
            if provider
            else _("Link an API key")
        )
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.primary,
                custom_id=f"key:link:{provider.value if provider else 'any'}",
            )
        )
        self.provider = provider

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> LinkKeyButton:
        # An unknown name (a provider removed since) still opens the form, with nothing chosen.
        return cls(_parse_provider(match["provider"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = interaction.client
        assert isinstance(bot, SeedanceBot)  # the only client this button is registered with
        await interaction.response.send_modal(LinkKeyModal(bot, self.provider, interaction.locale))


def link_key_view(provider: str | None, locale: LocaleLike = None) -> discord.ui.View:
    """A view with one button that opens the link form, for "no key linked" messages."""
    view = discord.ui.View(timeout=None)
    view.add_item(LinkKeyButton(_parse_provider(provider), locale))
    return view


# -- unlinking -------------------------------------------------------------------------------------


class ConfirmUnlink(discord.ui.View):
    """Confirm/Cancel under the unlink question; only the member who asked may answer."""

    def __init__(
        self, bot: SeedanceBot, origin: discord.Interaction[SeedanceBot], linked: LinkedKey
    ) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT)
        self.bot = bot
        self.origin = origin
        self.linked = linked
        self.confirm.label = t(origin.locale, "Remove key")
        self.cancel.label = t(origin.locale, "Cancel")

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if interaction.user.id == self.linked.user_id:
            return True
        await reply(
            interaction,
            t(interaction.locale, "Only the member who ran /key unlink can answer this."),
        )
        return False

    @discord.ui.button(label="Remove key", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction, button: discord.ui.Button[ConfirmUnlink]
    ) -> None:
        self.stop()
        user_id, provider = self.linked.user_id, self.linked.provider
        removed = await self.bot.keys.unlink(user_id, provider)
        await self.bot.engine.refresh_key(user_id, provider)
        name = provider_name(provider)
        _ = gettext_for(interaction.locale)
        if removed:
            log.info("User %s unlinked their %s key", user_id, provider)
            content = _(
                "Removed your **{name}** key `{masked}`. Link one again any time with /key link.",
                name=name,
                masked=self.linked.masked,
            )
        else:
            content = _("You have no {name} key linked any more; nothing to remove.", name=name)
        await interaction.response.edit_message(content=content, view=None)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction, button: discord.ui.Button[ConfirmUnlink]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(
            content=t(
                interaction.locale,
                "Kept your {name} key `{masked}`.",
                name=provider_name(self.linked.provider),
                masked=self.linked.masked,
            ),
            view=None,
        )

    async def on_timeout(self) -> None:
        try:
            await self.origin.edit_original_response(
                content=t(
                    self.origin.locale,
                    "No answer, so your {name} key was kept.",
                    name=provider_name(self.linked.provider),
                ),
                view=None,
            )
        except discord.HTTPException as exc:
            log.debug("Could not close the unlink question: %s", exc)


# -- the command group -----------------------------------------------------------------------------


def describe_linked(linked: LinkedKey, locale: LocaleLike = None) -> str:
    """One line of /key status (Discord shows the times in the reader's language and zone)."""
    _ = gettext_for(locale)
    name, masked = provider_name(linked.provider), linked.masked
    if not linked.readable:
        text = _(
            "**{name}** `{masked}`, ⚠️ unreadable: the bot's encryption secret changed. Link "
            "this key again with /key link.",
            name=name,
            masked=masked,
        )
    elif linked.rejected_at is not None:
        refused = discord.utils.format_dt(datetime.fromtimestamp(linked.rejected_at, UTC), "R")
        text = _(
            "**{name}** `{masked}`, ⚠️ rejected by {name} {when}: nothing is sent with it. Check "
            "it in your account there, then link it again with /key link.",
            name=name,
            masked=masked,
            when=refused,
        )
    elif linked.verified_at is not None:
        checked = discord.utils.format_dt(datetime.fromtimestamp(linked.verified_at, UTC), "R")
        text = _("**{name}** `{masked}`, checked {when}", name=name, masked=masked, when=checked)
    else:
        text = _("**{name}** `{masked}`, not checked yet", name=name, masked=masked)
    return f"• {text}"


class Keys(commands.Cog):
    """The /key commands."""

    key = app_commands.Group(name="key", description="Link, list and remove your provider API keys")

    def __init__(self, bot: SeedanceBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        # The extension brings its own persistent button, so "link a key" buttons on old
        # messages work whenever /key is loaded (registering it twice is harmless).
        self.bot.add_dynamic_items(LinkKeyButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(LinkKeyButton)

    @key.command(name="link", description="Link your API key for a provider (opens a private form)")
    @app_commands.describe(provider="The provider to pre-select in the form")
    @app_commands.choices(provider=PROVIDER_CHOICES)
    async def link(
        self,
        interaction: discord.Interaction[SeedanceBot],
        provider: app_commands.Choice[str] | None = None,
    ) -> None:
        chosen = _parse_provider(provider.value) if provider else None
        await interaction.response.send_modal(LinkKeyModal(self.bot, chosen, interaction.locale))

    @key.command(
        name="status", description="List your linked API keys (masked) and when they were checked"
    )
    async def status(self, interaction: discord.Interaction[SeedanceBot]) -> None:
        locale = interaction.locale
        linked = await self.bot.keys.for_user(interaction.user.id)
        if not linked:
            await reply(
                interaction,
                t(
                    locale,
                    "You have no API key linked yet. Run /key link, choose the provider and "
                    "paste your key; it is checked without spending credits and stored encrypted.",
                ),
                view=link_key_view(None, locale),
            )
            return
        lines = [t(locale, "Your linked keys:"), *(describe_linked(i, locale) for i in linked)]
        have = {item.provider for item in linked}
        missing = [name for p, name in PROVIDER_NAMES.items() if p.value not in have]
        if missing:
            not_linked = t(
                locale,
                "Not linked: {providers}. Add one with /key link.",
                providers=listing(locale, missing),
            )
            lines.append(f"-# {not_linked}")
        await reply(interaction, "\n".join(lines))

    @key.command(name="unlink", description="Remove one of your linked API keys")
    @app_commands.describe(provider="The provider whose key to remove")
    @app_commands.choices(provider=PROVIDER_CHOICES)
    async def unlink(
        self, interaction: discord.Interaction[SeedanceBot], provider: app_commands.Choice[str]
    ) -> None:
        _ = gettext_for(interaction.locale)
        name = provider_name(provider.value)
        linked = await self.bot.keys.get(interaction.user.id, provider.value)
        if linked is None:
            await reply(
                interaction,
                _(
                    "You have no {name} key linked, so there is nothing to remove. /key status "
                    "lists the keys you have.",
                    name=name,
                ),
            )
            return
        view = ConfirmUnlink(self.bot, interaction, linked)
        await interaction.response.send_message(
            _(
                "Remove your **{name}** key `{masked}`? Your unfinished {name} jobs will stop, "
                "and new ones need a key again.",
                name=name,
                masked=linked.masked,
            ),
            view=view,
            ephemeral=True,
        )


async def setup(bot: SeedanceBot) -> None:
    await bot.add_cog(Keys(bot))
