"""From /video, /image or a result button to a queued job: the steps every generation takes.

In order: the model (asked for, or the first of a linked provider) and its key; the member's
queue (refused privately when full); the prompt (the option, a .txt file, or a form for long
ones); the request, validated before anything is public; then the job recorded, its status card
posted, its input files kept on the card, its thread opened, and only then the job sent.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
from discord.ext import commands

from bot.i18n import N_, LocaleLike, listing, t, tn
from bot.jobs import KeyRejectedError, NoLinkedKeyError
from bot.models import InvalidParameters, MediaKind, ProviderRequest
from bot.storage import Destination, Job, KeyDecryptionError
from cogs._errors import UserFacingError, describe_problems, reply, report
from cogs._text import clip, provider_name
from cogs.generate._delivery import DiscordDelivery, upload_limit
from cogs.generate._inputs import keep_on_card, map_urls
from cogs.generate._policy import OPEN, Clearance, GenerationPolicy, Place
from cogs.generate._preferences import (
    preferred_model,
    ratio_note,
    results_private,
    with_preferences,
)
from cogs.generate._requests import (
    ALL_MODELS,
    Attachment,
    Inputs,
    ModelChoice,
    build_request,
    default_model,
    split_urls,
)
from cogs.generate._threads import describe_missing_permissions, missing_permissions, open_thread
from cogs.keys import link_key_view

if TYPE_CHECKING:
    from bot.app import SeedanceBot

log = logging.getLogger(__name__)

PROMPT_FILE_MAX_BYTES = 64 * 1024
#: A modal holds at most five text inputs of at most 4,000 characters each.
MODAL_PARTS, MODAL_PART_MAX = 5, 4000
#: Discord's limit on a form's title.
TITLE_MAX = 45

#: Where the server, or the member (/preferences), keeps cards and results private: the DM
#: that becomes the card, until the job exists; what the command answers (privately) once it
#: does; and DMs closed to the bot.
PRIVATE_CARD_PLACEHOLDER = N_("Preparing your job…")
PRIVATE_CARD_NOTE = N_(
    "Your generations are private here: job #{job_id}'s status card and its result are in "
    "your DMs: {link}"
)
PRIVATE_DMS_CLOSED = N_(
    "Your generations are private here (this server keeps them private, or you chose so in "
    "/preferences), so their cards and results go to your DMs, but I cannot send you direct "
    "messages. Nothing was sent and nothing was charged. Allow direct messages from this "
    "server's members (Privacy Settings), then try again."
)
#: The server's sponsor key would pay, but it cannot be used now.
SERVER_KEY_UNUSABLE = N_(
    "This server's {provider} key would pay for this, but it cannot be used right now (refused "
    "by {provider}, or no longer readable). Nothing was sent and nothing was charged. Ask a "
    "server admin to link it again with /settings sponsor link, or link your own key with "
    "/key link."
)


@dataclass
class Ask:
    """Everything one /video or /image invocation gave, before a model is applied."""

    kind: MediaKind
    model_key: str | None
    prompt: str | None
    prompt_file: discord.Attachment | None = None
    options: dict[str, Any] = field(default_factory=dict)
    start_frame: discord.Attachment | None = None
    end_frame: discord.Attachment | None = None
    files: list[discord.Attachment] = field(default_factory=list)
    urls: str | None = None


def to_attachment(attachment: discord.Attachment | None) -> Attachment | None:
    if attachment is None:
        return None
    return Attachment(attachment.url, attachment.filename, attachment.content_type, attachment.size)


def inputs_for(ask: Ask, prompt: str) -> Inputs:
    return Inputs(
        prompt=prompt,
        options={k: v for k, v in ask.options.items() if v is not None},
        start_frame=to_attachment(ask.start_frame),
        end_frame=to_attachment(ask.end_frame),
        files=[a for a in map(to_attachment, ask.files) if a is not None],
        urls=split_urls(ask.urls),
    )


class Generation(commands.Cog):
    """Turns a request into a queued job with its card and thread; holds the delivery port.

    The /video and /image commands and the result buttons all come here; the buttons, which
    discord.py builds from a custom id, find it with :meth:`of`.
    """

    def __init__(self, bot: SeedanceBot, delivery: DiscordDelivery) -> None:
        self.bot = bot
        self.delivery = delivery
        #: The server rules every generation passes before anything is recorded (plugged in by
        #: the ``cogs.settings`` extension; without it, none).
        self.policy: GenerationPolicy = OPEN

    @classmethod
    def of(cls, client: discord.Client) -> Generation:
        """The loaded instance, for callbacks that only have the interaction's client."""
        cog = client.get_cog(cls.__cog_name__) if isinstance(client, commands.Bot) else None
        if not isinstance(cog, cls):
            raise RuntimeError("the cogs.generate extension is not loaded")
        return cog

    async def _clear(
        self,
        interaction: discord.Interaction,
        choice: ModelChoice,
        request: ProviderRequest | None,
    ) -> Clearance:
        """The server's rules for this generation (:attr:`policy`), with the member's own
        "private results" (/preferences): the stricter of the two decides where the card goes
        (in a DM with the bot there is no one else to hide it from)."""
        clearance = await self.policy.clear(interaction, choice, request)
        if interaction.guild_id is None:
            return clearance
        preferences = await self.bot.preferences.get(interaction.user.id)
        private = results_private(clearance.private, preferences.private_results)
        return clearance if private == clearance.private else replace(clearance, private=private)

    async def cog_unload(self) -> None:
        # After the engine has stopped (the bot closes it first): nothing is delivered any more.
        await self.delivery.aclose()

    async def start(
        self, interaction: discord.Interaction, ask: Ask, *, prompt: str | None = None
    ) -> None:
        """Run one generation request from a command (or the prompt form) to a queued job."""
        # Refused privately here if the server does not let this member generate here.
        linked, place = await self.usable(interaction)
        preferences = await self.bot.preferences.get(interaction.user.id)
        # A model named in the command wins; else the member's default (/preferences), if the
        # server allows it.
        choice = (
            ALL_MODELS.get(ask.model_key or "")
            or _allowed(preferred_model(preferences, ask.kind), place)
            or default_model(ask.kind, linked, place.models)
        )
        # The server's rules (models, limits, credit caps) come before anything else.
        clearance = await self._clear(interaction, choice, None) if choice else Clearance()
        if choice is None or choice.provider not in linked:
            await ask_for_key(interaction, choice, kind=ask.kind, place=place)
            return
        # A full queue, or a key the provider refused or the bot cannot read: refused privately
        # before anything else (no form to fill in, no card, no thread, nothing charged).
        await self._admit(interaction, choice, clearance)
        prompt = prompt if prompt is not None else ask.prompt
        if prompt is None and ask.prompt_file is None:
            form = PromptModal(self, ask, choice, interaction.locale)
            await interaction.response.send_modal(form)
            return
        if ask.prompt_file is not None:
            _check_prompt_file(ask.prompt_file)
        options, ratio_skipped = with_preferences(choice, ask.options, preferences)
        ask = replace(ask, options=options)
        request: ProviderRequest | None = None
        if prompt is not None and ask.prompt_file is None:
            request = build_request(choice, inputs_for(ask, prompt))  # errors reach the tree
        await interaction.response.defer(thinking=True, ephemeral=clearance.private)
        if request is None:
            try:
                prompt = await _read_prompt(ask.prompt_file)
                request = build_request(choice, inputs_for(ask, prompt))
            except (InvalidParameters, UserFacingError) as error:
                await interaction.delete_original_response()
                message = (
                    describe_problems(error, interaction.locale)
                    if isinstance(error, InvalidParameters)
                    else error.translated(interaction.locale)
                )
                await interaction.followup.send(message, ephemeral=True)
                return
        given = [a for a in (ask.start_frame, ask.end_frame, *ask.files) if a is not None]
        await self.queue(interaction, choice, request, given)
        if ratio_skipped is not None:
            await interaction.followup.send(
                ratio_note(choice, ratio_skipped, request, interaction.locale), ephemeral=True
            )

    async def queue(
        self,
        interaction: discord.Interaction,
        choice: ModelChoice,
        request: ProviderRequest,
        given: list[discord.Attachment] | None = None,
    ) -> None:
        """Record the job, post its public status card, start its thread and queue it (the job
        is written before anything public or anything reaches the provider; the card and thread
        exist before it can finish)."""
        card_id: int | None = None
        clearance: Clearance | None = None
        if not interaction.response.is_done():
            # Refused privately (ephemeral) while nothing public exists yet.
            clearance = await self._clear(interaction, choice, request)
            await self._admit(interaction, choice, clearance)
            acknowledged = await interaction.response.defer(
                thinking=True, ephemeral=clearance.private
            )
            card_id = acknowledged.message_id if acknowledged is not None else None
        try:
            if clearance is None:
                # Deferred by /video or /image: the rules again, now with the request's price.
                clearance = await self._clear(interaction, choice, request)
                await self._admit(interaction, choice, clearance)
            if card_id is None:
                card_id = (await interaction.original_response()).id
            job = await self._post_card_and_queue(
                interaction, choice, request, given, card_id, clearance
            )
        except Exception:
            # The public "thinking…"/card message must not turn into a public error: remove it,
            # so the tree handler's answer arrives as a private follow-up instead.
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()
            raise
        log.info("Job %d queued by %d on %s", job.id, interaction.user.id, choice.key)
        # The job goes ahead (results fall back to the channel, links or DMs); the member is
        # told up front what will look different, and who can fix it; and why it may wait.
        notes = [*clearance.notes, "" if clearance.private else _permission_note(interaction)]
        note = "\n".join(n for n in notes if n)
        if note:
            await interaction.followup.send(note, ephemeral=True)

    async def usable(self, interaction: discord.Interaction) -> tuple[list[str], Place]:
        """The providers the member can generate with here (their own keys, then those the
        server's key pays for) and what the server allows; raises (naming the rule) when the
        server does not let them generate here."""
        place = await self.policy.place(interaction)
        own = [key.provider for key in await self.bot.keys.for_user(interaction.user.id)]
        return [*own, *sorted(place.sponsored - set(own))], place

    async def _admit(
        self, interaction: discord.Interaction, choice: ModelChoice, clearance: Clearance
    ) -> None:
        """The engine's own checks (a usable key, room in the member's queue), with the
        server's key named when it is the one that cannot be used."""
        try:
            await self.bot.engine.admit(
                interaction.user.id, choice.provider, paid_by=clearance.paid_by
            )
        except (KeyRejectedError, NoLinkedKeyError, KeyDecryptionError):
            if clearance.paid_by is None:
                raise
            name = provider_name(choice.provider)
            raise UserFacingError(SERVER_KEY_UNUSABLE, provider=name) from None

    async def _post_card_and_queue(
        self,
        interaction: discord.Interaction,
        choice: ModelChoice,
        request: ProviderRequest,
        given: list[discord.Attachment] | None,
        card_id: int,
        clearance: Clearance,
    ) -> Job:
        """Record the job held (nothing is sent yet) with the id of the message that becomes
        its card, show the card, start the thread, then let the engine send it.

        A job that cannot be recorded has nothing public (the "thinking…" message is removed
        by the caller). A process killed after recording leaves a job the next start runs,
        editing this card. Any other failure cancels the job and removes its thread.

        Where the server keeps generations private the card is a DM, sent before the job is
        recorded (DMs closed to the bot: refused, nothing recorded); the command's own answer,
        private, points to it, and the result follows it there.
        """
        engine = self.bot.engine
        private_card = await _open_private_card(interaction) if clearance.private else None
        # Kept with the job: the engine edits the card and posts the result in this language.
        locale = card_locale(interaction, private=private_card is not None)
        destination = (
            Destination(
                guild_id=interaction.guild_id,
                channel_id=interaction.channel_id,
                message_id=card_id,
                locale=locale,
                owner_locale=interaction.locale.value,
            )
            if private_card is None
            else Destination(
                guild_id=interaction.guild_id,
                channel_id=private_card.channel.id,
                message_id=private_card.id,
                private=True,
                locale=locale,
                owner_locale=interaction.locale.value,
            )
        )
        try:
            job = await engine.enqueue(
                owner_id=interaction.user.id,
                request=request,
                destination=destination,
                hold=True,
                paid_by=clearance.paid_by,
            )
        except BaseException:
            if private_card is not None:
                with contextlib.suppress(discord.HTTPException):
                    await private_card.delete()
            raise
        # Held: the engine cannot have delivered the job yet.
        self.delivery.follow(job.id, interaction)
        thread_id: int | None = None
        card: discord.Message
        try:
            if private_card is None:
                card = await interaction.edit_original_response(
                    embed=self.delivery.status_card(job)
                )
            else:
                card = await private_card.edit(content=None, embed=self.delivery.status_card(job))
                note = t(interaction.locale, PRIVATE_CARD_NOTE, job_id=job.id, link=card.jump_url)
                await interaction.edit_original_response(content=note)
            copied: ProviderRequest | None = None
            if given:
                copies = await keep_on_card(card, given, upload_limit(interaction=interaction))
                if copies:
                    data = map_urls(
                        request.model_dump(mode="json", exclude_none=True),
                        lambda u: copies.get(u, u),
                    )
                    request = copied = choice.request_model.parse(data)
            thread_id = await open_thread(
                card,
                request,
                channel=interaction.channel if private_card is None else card.channel,
                app_permissions=interaction.app_permissions,
                locale=locale,
            )
            return await engine.release(job.id, request=copied, thread_id=thread_id)
        except Exception:
            await self._abandon(job, thread_id)
            raise

    async def _abandon(self, job: Job, thread_id: int | None) -> None:
        """Undo a job whose card could not be finished: never sent, and no empty thread left."""
        try:
            await self.bot.engine.discard(job.id)
        except Exception:
            log.exception("Job %d could not be cancelled after its card failed", job.id)
        if thread_id is not None:
            try:
                await self.bot.http.delete_channel(
                    thread_id, reason=f"job {job.id} could not be queued"
                )
            except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
                log.warning(
                    "Thread %d of abandoned job %d not removed: %s", thread_id, job.id, error
                )


class PromptModal(discord.ui.Modal):
    """For prompts longer than a slash-command option allows: up to 20,000 characters."""

    def __init__(
        self, generation: Generation, ask: Ask, choice: ModelChoice, locale: LocaleLike = None
    ) -> None:
        title = t(locale, "Prompt for {model}", model=choice.label)
        super().__init__(title=clip(title, TITLE_MAX), timeout=900)
        self.generation = generation
        self.ask = ask
        self.choice = choice
        self.parts: list[discord.ui.TextInput[PromptModal]] = [
            discord.ui.TextInput(
                label=t(locale, "Prompt")
                if i == 0
                else t(locale, "Prompt, continued ({number})", number=i + 1),
                style=discord.TextStyle.paragraph,
                max_length=MODAL_PART_MAX,
                required=i == 0,
            )
            for i in range(MODAL_PARTS)
        ]
        for part in self.parts:
            self.add_item(part)

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        prompt = "".join(part.value for part in self.parts)
        await self.generation.start(interaction, self.ask, prompt=prompt)

    async def on_error(
        self,
        interaction: discord.Interaction,
        error: Exception,
        item: discord.ui.Item[Any] | None = None,  # only in a view's signature: a form has none
        /,
    ) -> None:
        # Answered as the command would be: privately, naming what to change (discord.py's
        # default only logs it, and the member sees "interaction failed").
        await report(interaction, error)


def _allowed(choice: ModelChoice | None, place: Place) -> ModelChoice | None:
    """``choice`` if the server allows it here, else None."""
    if choice is None or place.models is None or choice.key in place.models:
        return choice
    return None


def card_locale(interaction: discord.Interaction, *, private: bool) -> str:
    """The Discord locale a job's card and result are shown in: the server's preferred one for
    a public card (everyone in the channel reads it), the member's own for a private one or in
    a DM with the bot."""
    if private or interaction.guild_id is None:
        return interaction.locale.value
    guild = interaction.guild
    server = interaction.guild_locale or (guild.preferred_locale if guild is not None else None)
    return (server or interaction.locale).value


async def _open_private_card(interaction: discord.Interaction) -> discord.Message:
    """The DM that becomes the card of a private job; refused (naming the setting) when the
    member's DMs are closed to the bot, before anything is recorded."""
    try:
        channel = interaction.user.dm_channel or await interaction.user.create_dm()
        return await channel.send(t(interaction.locale, PRIVATE_CARD_PLACEHOLDER))
    except discord.Forbidden:
        raise UserFacingError(PRIVATE_DMS_CLOSED) from None


async def ask_for_key(
    interaction: discord.Interaction,
    choice: ModelChoice | None,
    *,
    kind: MediaKind = MediaKind.VIDEO,
    place: Place | None = None,
) -> None:
    """No key for the model asked for: say so privately, with a button that opens the form."""
    locale = interaction.locale
    if choice is not None:
        # The site the member signs up on, as every other message names the provider.
        text = t(
            locale,
            "{model} needs your own {provider} API key. Link it, then try again.",
            model=choice.label,
            provider=provider_name(choice.provider),
        )
        await reply(interaction, text, view=link_key_view(choice.provider, locale))
        return
    makers = _providers_making(kind)
    sponsored = sorted(place.sponsored) if place is not None else []
    if kind is MediaKind.IMAGE and sponsored and not makers & set(sponsored):
        # The server's key pays for providers without image models: the generic "link a key"
        # would read as if the server's key should have worked.
        sites = [provider_name(p) for p in sorted(makers)]
        # i18n: {sponsored} names the site (or sites) the server's key is for; {sites} the
        # site (or sites) with image models. The plural follows the number of {sponsored}.
        text = tn(
            locale,
            "This server's key pays only for {sponsored}, which has no image models, so it "
            "cannot make images. To make images, link your own {sites} key with /key link "
            "(it uses your own credits), or ask a server admin to link one for the server "
            "with /settings sponsor link.",
            "This server's keys pay only for {sponsored}, which have no image models, so they "
            "cannot make images. To make images, link your own {sites} key with /key link "
            "(it uses your own credits), or ask a server admin to link one for the server "
            "with /settings sponsor link.",
            len(sponsored),
            sponsored=listing(locale, (provider_name(p) for p in sponsored)),
            sites=listing(locale, sites, alternatives=True),
        )
        only = next(iter(makers)) if len(makers) == 1 else None
        await reply(interaction, text, view=link_key_view(only, locale))
        return
    text = t(
        locale,
        "Link an API key for one of the providers first; your generations use your own credits.",
    )
    await reply(interaction, text, view=link_key_view(None, locale))


def _providers_making(kind: MediaKind) -> set[str]:
    """The providers with at least one model of ``kind``."""
    return {model.provider for model in ALL_MODELS.values() if model.kind is kind}


def _permission_note(interaction: discord.Interaction) -> str:
    if interaction.guild is None or interaction.channel is None:
        return ""
    missing = missing_permissions(interaction.app_permissions, interaction.channel)
    return describe_missing_permissions(missing, interaction.locale)


def _check_prompt_file(attachment: discord.Attachment) -> None:
    is_text = (attachment.content_type or "").startswith(
        "text/plain"
    ) or attachment.filename.endswith(".txt")
    if not is_text:
        raise UserFacingError(N_("`prompt_file` must be a .txt file with the prompt in it."))
    if attachment.size > PROMPT_FILE_MAX_BYTES:
        raise UserFacingError(N_("`prompt_file` is too large: the prompt must fit in 64 KB."))


async def _read_prompt(attachment: discord.Attachment | None) -> str:
    assert attachment is not None
    try:
        text = (await attachment.read()).decode("utf-8")
    except UnicodeDecodeError:
        raise UserFacingError(N_("`prompt_file` must be UTF-8 text.")) from None
    except discord.HTTPException:
        raise UserFacingError(N_("Could not read `prompt_file` from Discord; try again.")) from None
    return text.strip()
