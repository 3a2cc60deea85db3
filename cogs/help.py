"""/help: linking a key, what every model accepts and costs, and how to write a good prompt.

The models part is generated from the request models and the /video and /image model choices, and
the prices from the provider descriptions' documented tables, so the help can never drift from what
the bot actually accepts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import N_, LocaleLike, Translate, gettext_for
from bot.models import InvalidParameters, MediaKind, ProviderRequest, Seed2Request
from bot.providers.registry import DESCRIPTIONS, description
from cogs._text import clip, provider_name
from cogs.generate import (
    ALL_MODELS,
    IMAGE_MODELS,
    VIDEO_MODELS,
    Inputs,
    ModelChoice,
    build_request,
)

if TYPE_CHECKING:
    from bot.app import SeedanceBot

TOPICS: dict[str, str] = {
    "keys": "Linking your API key",
    "models": "Models: settings, files and prices",
    "prompts": "Writing prompts",
}

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits);
# every text here is far below the title and description limits.
FIELD_VALUE_MAX, MESSAGE_EMBEDS_MAX, MESSAGE_EMBED_CHARS_MAX = 1024, 10, 6000

COLOUR = discord.Colour.blurple()
DASH = "\N{EN DASH}"

#: Options the bot fills in from the files given, unless the user sets them.
_INFERRED = {"mode": N_("guessed from your files"), "type": N_("guessed from your images")}
#: Media request fields in words: (one of them, up to ``{count}`` of them).
_MEDIA_WORDS: dict[str, tuple[str, str]] = {
    "image_url": (N_("a start frame image"), N_("up to {count} start frame images")),
    "end_image_url": (
        N_("an end frame image (together with a start frame)"),
        N_("up to {count} end frame images (together with a start frame)"),
    ),
    "media_urls": (
        N_("a reference, an image or a video (not together with frames)"),
        N_("up to {count} references, images or videos (not together with frames)"),
    ),
    "image_files": (
        N_("an image, the start frame included (@image_file_1 in the prompt)"),
        N_(
            "up to {count} images, the start frame included (@image_file_1, @image_file_2… in "
            "the prompt)"
        ),
    ),
    "video_files": (
        N_("a reference video (15 s in total)"),
        N_("up to {count} reference videos (15 s in total)"),
    ),
    "audio_files": (N_("an audio file"), N_("up to {count} audio files")),
}
#: ``image_urls``: seedanceapi's start frame, and the input images of the image models.
_START_FRAME_URLS = _MEDIA_WORDS["image_url"]
_INPUT_IMAGES = (N_("an input image"), N_("up to {count} input images"))
_MEDIA_OPTIONS = {"start_frame", "end_frame", "references", "images"}
_VERBS = ("is ", "are ", "needs ", "must ", "takes ")


# -- values -------------------------------------------------------------------------------------


def number(value: Any, _: Translate | None = None) -> str:
    """A whole number with the reader's digit grouping; anything else as it is."""
    if isinstance(value, int) and not isinstance(value, bool):
        return _.number(value) if _ is not None else f"{value:,}"
    return str(value)


def format_values(values: Sequence[str]) -> str:
    """``4-15`` (with an en dash) for a run of whole numbers, else the values in order."""
    if len(values) > 2 and all(v.lstrip("-").isdigit() for v in values):
        numbers = [int(v) for v in values]
        if numbers == list(range(numbers[0], numbers[-1] + 1)):
            return f"{numbers[0]}{DASH}{numbers[-1]}"
    return ", ".join(values)


def effective_defaults(choice: ModelChoice) -> dict[str, Any]:
    """What the bot sends for each field when the user gives only a prompt."""
    model = choice.request_model
    prompt_min = model.bounds("prompt").get("min_length", 1)
    try:
        request = build_request(choice, Inputs(prompt="x" * max(prompt_min, 1)))
    except InvalidParameters:  # a model that needs more than a prompt: its declared defaults
        return {**model.defaults(), **choice.fixed}
    return request.model_dump(exclude_none=True)


def _range(low: Any, high: Any, _: Translate) -> str:
    if isinstance(low, int) and low < 0:
        return _("{low} to {high}", low=number(low, _), high=number(high, _))
    return f"{number(low, _)}{DASH}{number(high, _)}"


def _option_line(
    choice: ModelChoice, option: str, field: str, default: Any, _: Translate
) -> str | None:
    model = choice.request_model
    values = model.choices(field)
    bounds = model.bounds(field)
    if values:
        text = format_values(values)
    elif "ge" in bounds and "le" in bounds:
        text = _range(bounds["ge"], bounds["le"], _)
    elif model.model_fields[field].annotation is bool:
        if default:
            return _("`{option}` on unless you say otherwise", option=option)
        return _("`{option}` off unless you say otherwise", option=option)
    else:
        return None
    if option == "duration":
        text = _("{seconds} s", seconds=text)
        default = None if default is None else _("{seconds} s", seconds=default)
    if option in _INFERRED:
        return _(
            "`{option}` {values} ({how})", option=option, values=text, how=_(_INFERRED[option])
        )
    if default is not None:
        return _(
            "`{option}` {values} (default {default})", option=option, values=text, default=default
        )
    return f"`{option}` {text}"


def option_lines(choice: ModelChoice, _: Translate | None = None) -> list[str]:
    """Every setting the model takes, with its values and default, as /video or /image names it."""
    _ = _ or gettext_for(None)
    defaults = effective_defaults(choice)
    lines = []
    for option, field in choice.options.items():
        if option == "prompt" or option in _MEDIA_OPTIONS:
            continue
        line = _option_line(choice, option, field, defaults.get(field), _)
        if line:
            lines.append(line)
    return lines


def input_lines(choice: ModelChoice, _: Translate | None = None) -> list[str]:
    """The files and URLs a model takes, with the documented maxima."""
    _ = _ or gettext_for(None)
    model = choice.request_model
    image_urls = _START_FRAME_URLS if choice.kind is MediaKind.VIDEO else _INPUT_IMAGES
    lines = []
    for field in model.model_fields:
        words = image_urls if field == "image_urls" else _MEDIA_WORDS.get(field)
        if words is None:
            continue
        most = model.bounds(field).get("max_length")
        one, many = words
        lines.append(_(many, count=number(most, _)) if most and most > 1 else _(one))
    return lines


def rule_lines(choice: ModelChoice, _: Translate | None = None) -> list[str]:
    """The model's cross-field rules in its own words, found by trying every pair of settings."""
    _ = _ or gettext_for(None)
    model = choice.request_model
    reverse = {field: option for option, field in choice.options.items()}
    enumerated = [
        field
        for option, field in choice.options.items()
        if model.choices(field) and option not in _INFERRED
    ]
    base: dict[str, Any] = {**model.defaults(), **choice.fixed}
    for option, field in choice.options.items():
        lowest = model.bounds(field).get("ge")
        if lowest is not None and field not in base and option not in _MEDIA_OPTIONS:
            base[field] = lowest  # optional numbers (seed) take part in rules only when given
    found: dict[str, None] = {}
    for first in enumerated:
        for value in model.choices(first):
            probes = [{first: value}] + [
                {first: value, second: other}
                for second in enumerated
                if second != first
                for other in model.choices(second)
            ]
            for probe in probes:
                for problem in model.rule_problems({**base, **probe}):
                    name = reverse.get(problem.field, problem.field)
                    reason = problem.reason(_.locale)
                    # "`seed` is not supported…" goes on from the option; "`resolution`: 4k…"
                    if problem.message.startswith(_VERBS):
                        line = _("`{option}` {problem}", option=name, problem=reason)
                    else:
                        line = _("`{option}`: {problem}", option=name, problem=reason)
                    found[line] = None
    return list(found)


# -- prices -------------------------------------------------------------------------------------


def price_text(choice: ModelChoice, _: Translate | None = None) -> str:
    _ = _ or gettext_for(None)
    described = description(choice.provider)
    if described is not None and described.price_text is not None:
        return described.price_text(choice, _)
    return _(
        "{provider} publishes no price list: the credits a job uses show once the provider has "
        "accepted it (and in /jobs list).",
        provider=provider_name(choice.provider),
    )


# -- embeds -------------------------------------------------------------------------------------


def _field_value(lines: Iterable[str]) -> str:
    return clip("\n".join(f"• {line}" for line in lines), FIELD_VALUE_MAX)


def model_embed(choice: ModelChoice, _: Translate | None = None) -> discord.Embed:
    _ = _ or gettext_for(None)
    model: type[ProviderRequest] = choice.request_model
    prompt_max = model.bounds("prompt").get("max_length")
    command = "/video" if choice.kind is MediaKind.VIDEO else "/image"
    parts = [command, _("key from {provider}", provider=provider_name(choice.provider))]
    if prompt_max:
        parts.append(_("prompt up to {count} characters", count=number(prompt_max, _)))
    embed = discord.Embed(title=choice.label, description=" · ".join(parts), colour=COLOUR)
    if options := option_lines(choice, _):
        embed.add_field(name=_("Settings"), value=_field_value(options), inline=False)
    if inputs := input_lines(choice, _):
        embed.add_field(name=_("Files and URLs"), value=_field_value(inputs), inline=False)
    if rules := rule_lines(choice, _):
        embed.add_field(name=_("Rules"), value=_field_value(rules), inline=False)
    embed.add_field(name=_("Price"), value=price_text(choice, _), inline=False)
    return embed


def models_embeds(locale: LocaleLike = None) -> list[discord.Embed]:
    _ = gettext_for(locale)
    intro = discord.Embed(
        title=_("Models"),
        description=_(
            "Pick one with the `model` option of /video or /image; without it the bot uses the "
            "first model of a provider you linked a key for. Settings you leave out use the "
            "default shown. Autocomplete only offers values the chosen model accepts."
        ),
        colour=COLOUR,
    )
    for kind, models in ((_("Video"), VIDEO_MODELS), (_("Image"), IMAGE_MODELS)):
        command = "/video" if models is VIDEO_MODELS else "/image"
        intro.add_field(
            name=f"{kind} ({command})",
            value=_field_value(m.label for m in models.values()),
        )
    return [intro, *(model_embed(choice, _) for choice in ALL_MODELS.values())]


def keys_embed(locale: LocaleLike = None) -> discord.Embed:
    _ = gettext_for(locale)
    lines = [
        _(
            "Every job is paid from your own account with the provider, or with the server's key "
            "where an admin linked one for that provider; your own key always wins."
        ),
        _(
            "**/key link** opens a private form: choose the provider and paste the key there, "
            "never in a channel or a command option."
        ),
        "• " + _("The key is checked with a request that spends no credits before it is saved."),
        "• "
        + _(
            "It is stored encrypted, never written to logs, and only ever shown masked (its last "
            "4 characters)."
        ),
        "• " + _("**/key status** lists your linked keys and when they were checked."),
        "• " + _("**/key unlink** removes a key; the bot forgets it at once."),
    ]
    embed = discord.Embed(
        title=_("Linking your API key"), description="\n".join(lines), colour=COLOUR
    )
    for provider, described in DESCRIPTIONS.items():
        names = [m.label.split(" (")[0] for m in ALL_MODELS.values() if m.provider == provider]
        source = _("Key from {source}.", source=_(described.key_source))
        embed.add_field(name=described.name, value=f"{', '.join(names)}\n{source}", inline=False)
    return embed


def prompts_embed(locale: LocaleLike = None) -> discord.Embed:
    _ = gettext_for(locale)
    embed = discord.Embed(
        title=_("Writing a Seedance prompt"),
        description=_(
            "Write it like instructions to a film director: **who or what** is in the shot, "
            "**what happens**, **where**, how the **camera** moves, the **look** you want, and "
            "anything that must not happen. Concrete beats poetic: “a slow dolly-in on a red "
            "bicycle leaning on a wet brick wall at dusk, neon reflections, 35 mm film look” "
            "works better than “a moody city scene”."
        ),
        colour=COLOUR,
    )
    embed.add_field(
        name=_("Say what each file is for"),
        value=_(
            "`start_frame` is the opening shot and `end_frame` the closing one. References carry "
            "a character, a motion, a style, a video to edit or a clip to continue. Name their "
            "role in plain words (“the woman from the first reference image”, “the dance moves "
            "of the reference video”), never file names, asset ids, `asset://` links or app "
            "labels such as @图片1."
        ),
        inline=False,
    )
    embed.add_field(
        name=_("Edits and extensions"),
        # i18n: the two quoted openings are written into the prompt as they are (in English).
        value=_(
            "To change a video, attach it as a reference and start with “Strictly edit the "
            "supplied source video: …”. To make a clip longer, attach the previous clip and "
            "write “Continue from the supplied previous clip: …” followed by what happens next."
        ),
        inline=False,
    )
    embed.add_field(
        name=_("Complex scenes"),
        value=_(
            "List the shots in order (“Shot 1: wide view of the harbour at dawn. Shot 2: "
            "close-up of the fisherman's hands…”), then one style line and one constraints "
            "line: stable faces, natural motion, no deformation, no watermark, no logo, no "
            "subtitles unless you want them."
        ),
        inline=False,
    )
    images = Seed2Request.bounds("image_files").get("max_length")
    embed.add_field(
        name=_("Images on seed2: @image_file_N"),
        value=_(
            "seed2 numbers your images in the order given: `start_frame` is @image_file_1, "
            "then each reference image @image_file_2, @image_file_3… (up to {count}). Use "
            "those names in the prompt: “@image_file_1 walks into the café from "
            "@image_file_2”. The bot stops a prompt that names an image you did not attach "
            "before anything is sent or charged.",
            count=images,
        ),
        inline=False,
    )
    embed.add_field(
        name=_("Long prompts"),
        value=_(
            "A slash-command option holds {count} characters; the models take more (see /help "
            "topic:models). Attach a .txt file as `prompt_file`, or leave `prompt` empty to "
            "get a larger form.",
            count=_.number(6000),
        ),
        inline=False,
    )
    return embed


def help_embeds(topic: str | None, locale: LocaleLike = None) -> list[discord.Embed]:
    """Every embed of one topic, or of all of them when ``topic`` is None, in ``locale``."""
    if topic == "keys":
        return [keys_embed(locale)]
    if topic == "models":
        return models_embeds(locale)
    if topic == "prompts":
        return [prompts_embed(locale)]
    return [keys_embed(locale), *models_embeds(locale), prompts_embed(locale)]


def into_messages(embeds: Sequence[discord.Embed]) -> list[list[discord.Embed]]:
    """Group embeds into messages within Discord's 10 embeds and 6,000 characters per message."""
    messages: list[list[discord.Embed]] = []
    size = 0
    for embed in embeds:
        length = len(embed)
        if (
            not messages
            or len(messages[-1]) == MESSAGE_EMBEDS_MAX
            or size + length > MESSAGE_EMBED_CHARS_MAX
        ):
            messages.append([])
            size = 0
        messages[-1].append(embed)
        size += length
    return messages


class Help(commands.Cog):
    def __init__(self, bot: SeedanceBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="help", description="How to link a key, what each model takes and costs, prompt tips"
    )
    @app_commands.describe(topic="Show only one part (default: everything)")
    @app_commands.choices(
        topic=[app_commands.Choice(name=name, value=value) for value, name in TOPICS.items()]
    )
    async def help(
        self, interaction: discord.Interaction[SeedanceBot], topic: str | None = None
    ) -> None:
        messages = into_messages(help_embeds(topic, interaction.locale))
        first, *rest = messages
        await interaction.response.send_message(embeds=first, ephemeral=True)
        for embeds in rest:
            await interaction.followup.send(embeds=embeds, ephemeral=True)


async def setup(bot: SeedanceBot) -> None:
    await bot.add_cog(Help(bot))
