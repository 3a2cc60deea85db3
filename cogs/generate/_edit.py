"""The Edit button's form: a result's prompt and main options, changed and sent as a new job.

The form is pre-filled with what the job was made with; what comes back is checked exactly as
/video and /image check their options (:func:`~cogs.generate._requests.edited_request` builds
the request through the same :func:`~cogs.generate._requests.build_request`), so a value the
API would refuse is answered privately, naming the allowed values, before anything is sent.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.i18n import N_, LocaleLike, Text, number, t
from bot.models import InvalidParameters, MediaKind, Problem, ProviderRequest
from bot.storage import Job
from cogs._errors import reply, report
from cogs._text import clip
from cogs.generate._flow import Generation
from cogs.generate._inputs import refresh_inputs
from cogs.generate._requests import (
    IMAGE_MODELS,
    VIDEO_MODELS,
    ModelChoice,
    choice_of,
    edited_request,
)

#: Discord's limits on a form: its title, a text input's label, placeholder and length.
TITLE_MAX, LABEL_MAX, PLACEHOLDER_MAX, INPUT_MAX = 45, 45, 100, 4000

#: The options the form offers for each kind of job, after the prompt and the model (a form
#: holds five inputs).
EDITABLE: dict[MediaKind, tuple[str, ...]] = {
    MediaKind.VIDEO: ("aspect_ratio", "duration", "resolution"),
    MediaKind.IMAGE: ("aspect_ratio", "resolution", "batch_count"),
}
#: Options Discord takes as whole numbers; typed into a form they arrive as text.
INTEGER_OPTIONS = frozenset({"duration", "batch_count"})

# -- what the form says ------------------------------------------------------------------------

FORM_TITLE = N_("Edit job #{job_id}")
PROMPT_LABEL = N_("Prompt")
MODEL_LABEL = N_("Model")
OPTION_LABELS = {
    "aspect_ratio": N_("Aspect ratio"),
    "duration": N_("Duration (seconds)"),
    "resolution": N_("Resolution"),
    "batch_count": N_("Number of images"),
}
ALLOWED_PLACEHOLDER = N_("Empty: the model's default. {values}")
DEFAULT_PLACEHOLDER = N_("Empty: the model's default.")
RANGE_TEXT = N_("{low} to {high}")
NOT_AVAILABLE_PLACEHOLDER = N_("Not available on {model}: leave empty")
PROMPT_TOO_LONG = N_(
    "The prompt of job #{job_id} is longer than a form holds ({limit} characters). To change "
    "it, use {command} with a `prompt_file`."
)
NO_LONGER_OFFERED = N_(
    "The model of job #{job_id} is no longer offered; start a new job with /video or /image."
)
UNKNOWN_MODEL = {
    MediaKind.VIDEO: Text(N_("is not a video model.")),
    MediaKind.IMAGE: Text(N_("is not an image model.")),
}

#: ``start(generation, interaction, choice, request, given)``: queue the new job on the
#: presser's own key (asking them to link one first if need be).
Start = Callable[
    [Generation, discord.Interaction, ModelChoice, ProviderRequest, list[discord.Attachment]],
    Awaitable[None],
]


def _models(kind: MediaKind) -> dict[str, ModelChoice]:
    return VIDEO_MODELS if kind is MediaKind.VIDEO else IMAGE_MODELS


def find_model(text: str, kind: MediaKind) -> ModelChoice:
    """The model typed into the form, by its key or its name (any case); refused naming the
    models of the same kind."""
    wanted = text.strip().casefold()
    models = _models(kind)
    for choice in models.values():
        if wanted in (choice.key.casefold(), choice.label.casefold()):
            return choice
    raise InvalidParameters([Problem.made("model", UNKNOWN_MODEL[kind], tuple(models))])


def option_value(option: str, text: str) -> Any:
    """What one text input means as a slash-command option: None when left empty; a whole
    number for the options Discord takes as integers (``8`` or ``8 s``); else the text."""
    text = text.strip()
    if not text:
        return None
    if option in INTEGER_OPTIONS:
        number = re.sub(r"\s*s(ec(ond)?s?)?$", "", text, flags=re.IGNORECASE)
        if re.fullmatch(r"[+-]?\d+", number):
            return int(number)
    return text


def current_value(choice: ModelChoice, request: dict[str, Any], option: str) -> str:
    """The option's value in the job's request, as the form shows it ('' when unset)."""
    field_name = choice.options.get(option)
    value = request.get(field_name) if field_name else None
    return "" if value is None else str(value)


def allowed_text(choice: ModelChoice, option: str, locale: LocaleLike = None) -> str:
    """The values ``choice`` takes for ``option``, for a placeholder."""
    field_name = choice.options.get(option)
    if field_name is None:
        return t(locale, NOT_AVAILABLE_PLACEHOLDER, model=choice.label)
    model = choice.request_model
    values = ", ".join(model.choices(field_name))
    if not values:
        bounds = model.bounds(field_name)
        if "ge" in bounds and "le" in bounds:
            values = t(locale, RANGE_TEXT, low=bounds["ge"], high=bounds["le"])
    if not values:
        return t(locale, DEFAULT_PLACEHOLDER)
    return t(locale, ALLOWED_PLACEHOLDER, values=values)


class EditForm(discord.ui.Modal):
    """The prompt, the model and the kind's main options of ``job``, pre-filled."""

    def __init__(
        self,
        generation: Generation,
        job: Job,
        choice: ModelChoice,
        start: Start,
        locale: LocaleLike = None,
    ) -> None:
        title = t(locale, FORM_TITLE, job_id=job.id)
        super().__init__(title=clip(title, TITLE_MAX), timeout=900)
        self.generation = generation
        self.job = job
        self.choice = choice
        self.start = start
        self.prompt: discord.ui.TextInput[EditForm] = discord.ui.TextInput(
            label=t(locale, PROMPT_LABEL),
            style=discord.TextStyle.paragraph,
            default=str(job.request.get("prompt", "")),
            max_length=INPUT_MAX,
        )
        self.model: discord.ui.TextInput[EditForm] = discord.ui.TextInput(
            label=t(locale, MODEL_LABEL),
            default=choice.key,
            placeholder=clip(", ".join(_models(choice.kind)), PLACEHOLDER_MAX),
            max_length=PLACEHOLDER_MAX,
        )
        self.add_item(self.prompt)
        self.add_item(self.model)
        self.options: dict[str, discord.ui.TextInput[EditForm]] = {}
        for option in EDITABLE[choice.kind]:
            field: discord.ui.TextInput[EditForm] = discord.ui.TextInput(
                label=clip(t(locale, OPTION_LABELS[option]), LABEL_MAX),
                default=current_value(choice, job.request, option) or None,
                placeholder=clip(allowed_text(choice, option, locale), PLACEHOLDER_MAX),
                max_length=PLACEHOLDER_MAX,
                required=False,
            )
            self.options[option] = field
            self.add_item(field)

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        choice = find_model(self.model.value, self.choice.kind)
        edited = {option: option_value(option, f.value) for option, f in self.options.items()}
        # The job's input files, freshly signed from its card (refused here, before anything
        # is sent, if one is gone); they are copied onto the new job's card too.
        data, kept = await refresh_inputs(self.generation.bot, self.job)
        request = edited_request(self.choice, data, choice, self.prompt.value, edited)
        await self.start(self.generation, interaction, choice, request, kept)

    async def on_error(
        self,
        interaction: discord.Interaction,
        error: Exception,
        item: discord.ui.Item[Any] | None = None,  # only in a view's signature: a form has none
        /,
    ) -> None:
        # Answered privately as the slash command would be, naming what to change.
        await report(interaction, error)


async def open_edit_form(
    generation: Generation, interaction: discord.Interaction, job: Job, *, start: Start
) -> None:
    """Answer the Edit button with the form, or privately with why there is none."""
    locale = interaction.locale
    choice = choice_of(job.endpoint, job.request)
    if choice is None:
        await reply(interaction, t(locale, NO_LONGER_OFFERED, job_id=job.id))
        return
    if len(str(job.request.get("prompt", ""))) > INPUT_MAX:
        command = f"/{choice.kind.value}"
        text = t(
            locale, PROMPT_TOO_LONG, job_id=job.id, limit=number(locale, INPUT_MAX), command=command
        )
        await reply(interaction, text)
        return
    await interaction.response.send_modal(EditForm(generation, job, choice, start, locale))
