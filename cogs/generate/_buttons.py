"""Buttons on results that keep working after a restart (discord.py DynamicItem).

Each button's custom id carries only the job id; everything else is read from the database
when it is pressed, days later if need be.
"""

from __future__ import annotations

import json
import logging
import random
import re
from typing import Any, ClassVar, Self

import discord

from bot.i18n import N_, LocaleLike, gettext_for, t
from bot.models import MediaKind, ProviderRequest, endpoint
from bot.providers.registry import extension_for
from bot.storage import Job, JobOutcome, JobState
from cogs._errors import reply, report
from cogs._text import clip
from cogs.generate._card import SEND_AGAIN
from cogs.generate._edit import open_edit_form
from cogs.generate._flow import Generation, ask_for_key
from cogs.generate._inputs import is_discord_cdn, map_urls, refresh_inputs
from cogs.generate._requests import (
    Attachment,
    Inputs,
    ModelChoice,
    animating_model,
    build_request,
    choice_of,
)
from cogs.keys import link_key_view

log = logging.getLogger(__name__)

#: Put before the prompt of an extension, for the model (the prompt guide's words, in English).
EXTEND_PREFIX = "Continue from the supplied previous clip. "


def _result_file(interaction: discord.Interaction, kind: str) -> discord.Attachment | None:
    """The result file uploaded on the clicked message (freshly signed), if there is one."""
    for attachment in interaction.message.attachments if interaction.message else []:
        if (attachment.content_type or "").startswith(kind):
            return attachment
    return None


async def _start(
    generation: Generation,
    interaction: discord.Interaction,
    choice: ModelChoice,
    request: ProviderRequest,
    given: list[discord.Attachment] | None = None,
) -> None:
    usable, _ = await generation.usable(interaction)  # refused here if the server says so
    if choice.provider not in usable:
        # The clicker pays with their own key (or the server's, where it pays for members
        # without one); without one there is no job, so no card either.
        await ask_for_key(interaction, choice)
        return
    # ``given`` files are kept on the new card, so a re-roll of this job days later finds them.
    await generation.queue(interaction, choice, request, given)


class _JobButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"job:_:(?P<id>\d+)"):
    """A button under a result whose custom id is ``job:<action>:<job id>``.

    Subclasses name their ``action`` and ``label`` (marked with ``N_``, shown in the language
    of the message it is on) and implement :meth:`act`; finding the job and answering errors
    (discord.py would only log them) is done here once.
    """

    action: ClassVar[str]
    label: ClassVar[str]
    emoji: ClassVar[str]
    style: ClassVar[discord.ButtonStyle] = discord.ButtonStyle.secondary

    def __init_subclass__(cls, *, action: str, **kwargs: Any) -> None:
        super().__init_subclass__(template=rf"job:{action}:(?P<id>\d+)", **kwargs)
        cls.action = action

    def __init__(self, job_id: int, locale: LocaleLike = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=t(locale, self.label), emoji=self.emoji, style=self.style,
                custom_id=f"job:{self.action}:{job_id}",
            )
        )  # fmt: skip
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            generation = Generation.of(interaction.client)
            job = await generation.bot.jobs.get(self.job_id)
            if job is None:
                text = t(interaction.locale, "Job #{job_id} no longer exists.", job_id=self.job_id)
                await reply(interaction, text)
            else:
                await self.act(generation, interaction, job)
        except Exception as error:
            await report(interaction, error)

    async def act(self, generation: Generation, interaction: discord.Interaction, job: Job) -> None:
        raise NotImplementedError


class RerollButton(_JobButton, action="reroll"):
    """Same parameters, a new seed, charged to whoever presses it."""

    label = N_("Re-roll")
    emoji = "🎲"
    style = discord.ButtonStyle.primary

    async def act(self, generation: Generation, interaction: discord.Interaction, job: Job) -> None:
        choice = choice_of(job.endpoint, job.request)
        if choice is None:
            raise LookupError(job.endpoint)  # a model no longer offered: reported as a bug
        # Freshly signed links from this job's card (refused here if one is gone); the files
        # are copied onto the new card too, so a re-roll of this re-roll finds them days later.
        data, kept = await refresh_inputs(generation.bot, job)
        if (
            "seed" in choice.request_model.model_fields
            and data.get("channel") != "real"
            and (data.get("quality_tier") != "mini")
        ):
            data["seed"] = random.randint(0, 4_294_967_295)
        await _start(generation, interaction, choice, choice.request_model.parse(data), kept)


class ExtendButton(_JobButton, action="extend"):
    """Continue from this clip, per the prompt guide (endpoints whose description says how)."""

    label = N_("Extend")
    emoji = "⏩"

    async def act(self, generation: Generation, interaction: discord.Interaction, job: Job) -> None:
        uploaded = _result_file(interaction, "video")
        clip_url = uploaded.url if uploaded is not None else job.video_url
        found = extension_for(job.endpoint)
        if clip_url is None or found is None:
            await reply(
                interaction, t(interaction.locale, "This result has no clip to continue from.")
            )
            return
        choice, extension = found
        data = {k: job.request[k] for k in extension.keep if k in job.request}
        prompt = EXTEND_PREFIX + str(job.request.get("prompt", ""))
        prompt_max = choice.request_model.bounds("prompt").get("max_length")
        data.update(extension.fixed)
        data.update({extension.clip_field: [clip_url], "prompt": prompt[:prompt_max]})
        given = [uploaded] if uploaded is not None else None
        await _start(generation, interaction, choice, choice.request_model.parse(data), given)


class AnimateButton(_JobButton, action="animate"):
    """Turn an image result into the start frame of a video."""

    label = N_("Animate")
    emoji = "🎬"

    async def act(self, generation: Generation, interaction: discord.Interaction, job: Job) -> None:
        uploaded = _result_file(interaction, "image")
        image = (
            uploaded.url
            if uploaded is not None
            else (job.image_urls[0] if job.image_urls else None)
        )
        linked, _ = await generation.usable(interaction)
        choice = animating_model(linked)
        locale = interaction.locale
        if image is None:
            await reply(interaction, t(locale, "This result has no image."))
            return
        if choice is None:
            text = t(locale, "Animating uses a video model with your own key: link one first.")
            await reply(interaction, text, view=link_key_view(None, locale))
            return
        frame = Attachment(
            image, image.rsplit("/", 1)[-1].split("?")[0] or "frame.png", "image/png"
        )
        prompt = str(job.request.get("prompt", ""))
        request = build_request(choice, Inputs(prompt, start_frame=frame))
        given = [uploaded] if uploaded is not None else None
        await _start(generation, interaction, choice, request, given)


class DetailsButton(_JobButton, action="details"):
    """Every parameter the job was made with, for the one who asks."""

    label = N_("Details")
    emoji = "📋"
    style = discord.ButtonStyle.secondary

    async def act(self, generation: Generation, interaction: discord.Interaction, job: Job) -> None:
        _ = gettext_for(interaction.locale)
        # Single links and lists alike: signed Discord links are noise, and expire anyway.
        discord_file = _("(Discord file)")
        shown = map_urls(job.request, lambda u: discord_file if is_discord_cdn(u) else u)
        charged = "—" if job.credits_charged is None else _.number(job.credits_charged)
        if job.credits_refunded:
            credits = _(
                "Credits: {charged} charged, {refunded} refunded",
                charged=charged,
                refunded=_.number(job.credits_refunded),
            )
        else:
            credits = _("Credits: {charged} charged", charged=charged)
        lines = [
            _(
                "**Job #{job_id}** · {model} · {state}",
                job_id=job.id,
                model=endpoint(job.endpoint).title,
                state=job.state.value,
            ),
            _("Provider task: `{task}`", task=job.remote_task_id or "—"),
            credits,
            "```json\n" + json.dumps(shown, indent=1, ensure_ascii=False)[:1500] + "\n```",
        ]
        await reply(interaction, clip("\n".join(lines)))


class DeleteButton(_JobButton, action="delete"):
    """Remove a result: its requester, or members who may manage messages."""

    label = N_("Delete")
    emoji = "🗑️"
    style = discord.ButtonStyle.danger

    async def act(self, generation: Generation, interaction: discord.Interaction, job: Job) -> None:
        if interaction.message is None:
            return
        member = interaction.user
        allowed = job.owner_id == member.id or (
            isinstance(member, discord.Member)
            and interaction.channel is not None
            and interaction.permissions.manage_messages
        )
        locale = interaction.locale
        if not allowed:
            text = t(locale, "Only the member who asked for it, or moderators, can delete this.")
            await reply(interaction, text)
            return
        await interaction.response.defer(ephemeral=True)
        await interaction.message.delete()
        await interaction.followup.send(t(locale, "Deleted."), ephemeral=True)


class SendAgainButton(_JobButton, action="again"):
    """An uncertain job: its owner chooses to send it again, knowing it may be charged twice."""

    label = SEND_AGAIN
    emoji = "🔁"
    style = discord.ButtonStyle.primary

    async def act(self, generation: Generation, interaction: discord.Interaction, job: Job) -> None:
        _ = gettext_for(interaction.locale)
        if job.owner_id != interaction.user.id:
            await reply(interaction, _("Only the member who asked for this job can send it again."))
            return
        undecided = _("Job #{job_id} is no longer waiting for a decision.", job_id=job.id)
        if job.state is not JobState.UNCERTAIN:
            await reply(interaction, undecided)
            return
        # The links signed when it was first sent may have expired since: sign them again
        # (refused here, before anything is sent, if an input is gone).
        request, _kept = await refresh_inputs(generation.bot, job)
        requeued = await generation.bot.engine.retry_uncertain(
            job.id, interaction.user.id, request=request
        )
        if requeued is None:
            await reply(interaction, undecided)
            return
        await reply(
            interaction,
            _(
                "Job #{job_id} is queued again. If the first attempt did reach the provider, you "
                "may be charged for both.",
                job_id=job.id,
            ),
        )


#: What the Cancel button answers, privately, to the one who pressed it.
CANCEL_NOT_OWNER = N_("Only the member who asked for job #{job_id} can cancel it.")
CANCEL_DONE = N_("Cancelled job #{job_id}. It was never sent, so nothing was charged.")
CANCEL_ALREADY = N_("Job #{job_id} is already cancelled.")
CANCEL_TOO_LATE = N_(
    "Job #{job_id} has already been sent to the provider, so it can no longer be cancelled. "
    "The result will be posted when it is ready."
)
CANCEL_FINISHED = N_("Job #{job_id} has already finished.")


class CancelButton(_JobButton, action="cancel"):
    """On the status card of a job still waiting in its owner's queue: cancel it, unsent."""

    label = N_("Cancel")
    emoji = "✖️"
    style = discord.ButtonStyle.danger

    async def act(self, generation: Generation, interaction: discord.Interaction, job: Job) -> None:
        locale = interaction.locale
        if job.owner_id != interaction.user.id:
            await reply(interaction, t(locale, CANCEL_NOT_OWNER, job_id=job.id))
            return
        # The engine removes it from the queue and tells its card (which drops this button).
        if await generation.bot.engine.cancel(job.id, job.owner_id) is not None:
            await reply(interaction, t(locale, CANCEL_DONE, job_id=job.id))
            return
        # Lost the race to the submit, or pressed twice: say what the job is now.
        now = await generation.bot.jobs.get(job.id) or job
        if now.state is JobState.CANCELLED:
            text = CANCEL_ALREADY
        elif now.state.unfinished:
            text = CANCEL_TOO_LATE
        else:
            text = CANCEL_FINISHED
        await reply(interaction, t(locale, text, job_id=job.id))


class EditButton(_JobButton, action="edit"):
    """A form with the prompt and main options of this job; what it sends is a new job,
    checked like the slash command and charged to whoever sends it."""

    label = N_("Edit")
    emoji = "✏️"

    async def act(self, generation: Generation, interaction: discord.Interaction, job: Job) -> None:
        await open_edit_form(generation, interaction, job, start=_start)


#: Every button a result or a status card can carry, registered once so they work on messages
#: of earlier runs.
RESULT_BUTTONS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    RerollButton, ExtendButton, AnimateButton, DetailsButton, DeleteButton, SendAgainButton,
    CancelButton, EditButton,
)  # fmt: skip


def card_view(job: Job, locale: LocaleLike = None) -> discord.ui.View:
    """The buttons on the status card of a job waiting in its owner's queue: Cancel (labelled
    in ``locale``, the card's language)."""
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(job.id, locale))
    return view


def result_view(job: Job, locale: LocaleLike = None) -> discord.ui.View:
    """The buttons under a result (or a failure: re-roll, edit, details and delete only),
    labelled in ``locale`` (the result's language)."""
    view = discord.ui.View(timeout=None)
    outcome = job.outcome
    if outcome is JobOutcome.UNCERTAIN:
        view.add_item(SendAgainButton(job.id, locale))
        view.add_item(DetailsButton(job.id, locale))
        return view
    view.add_item(RerollButton(job.id, locale))
    view.add_item(EditButton(job.id, locale))
    succeeded = outcome is JobOutcome.SUCCEEDED
    if succeeded and extension_for(job.endpoint) is not None and job.video_url:
        view.add_item(ExtendButton(job.id, locale))
    if succeeded and endpoint(job.endpoint).kind is MediaKind.IMAGE and job.image_urls:
        view.add_item(AnimateButton(job.id, locale))
    view.add_item(DetailsButton(job.id, locale))
    view.add_item(DeleteButton(job.id, locale))
    return view
