"""/video and /image: their options, from the request models, turned into one :class:`Ask`.

Limits come from the request models, so Discord and the API rules cannot drift apart; the
enumerated options autocomplete with only what the chosen model accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.models import GptImage2Request, MediaKind, Seedance2Request
from cogs.generate._flow import Ask, Generation
from cogs.generate._requests import (
    ALL_MODELS,
    IMAGE_MODELS,
    VIDEO_MODELS,
    allowed_values,
    default_model,
)

if TYPE_CHECKING:
    from bot.app import SeedanceBot

#: Discord's own limit on a string option; longer prompts come as a .txt file or from the form.
OPTION_PROMPT_MAX = 6000
_DURATIONS = [int(d) for d in Seedance2Request.choices("duration")]
DURATION_MIN, DURATION_MAX = min(_DURATIONS), max(_DURATIONS)
SEED_MIN = Seedance2Request.bounds("seed")["ge"]
SEED_MAX = Seedance2Request.bounds("seed")["le"]
BATCH_MIN = GptImage2Request.bounds("batch_count")["ge"]
BATCH_MAX = GptImage2Request.bounds("batch_count")["le"]
VIDEO, IMAGE = MediaKind.VIDEO, MediaKind.IMAGE

#: An autocomplete callback for one option.
Complete = Callable[
    [discord.Interaction["SeedanceBot"], str], Coroutine[Any, Any, list[app_commands.Choice[str]]]
]


def choice_autocomplete(option: str, kind: MediaKind) -> Complete:
    """Autocomplete for an enumerated option: only what the chosen model accepts right now."""

    async def complete(
        interaction: discord.Interaction[SeedanceBot], current: str
    ) -> list[app_commands.Choice[str]]:
        namespace = interaction.namespace
        choice = ALL_MODELS.get(getattr(namespace, "model", None) or "")
        if choice is None:
            linked = [
                k.provider for k in await interaction.client.keys.for_user(interaction.user.id)
            ]
            choice = default_model(kind, linked) or next(
                iter((VIDEO_MODELS if kind is MediaKind.VIDEO else IMAGE_MODELS).values())
            )
        given = {
            name: value for name, value in namespace if not isinstance(value, discord.Attachment)
        }
        values = allowed_values(choice, option, given)
        typed = current.lower().strip()
        return [app_commands.Choice(name=v, value=v) for v in values if typed in v.lower()][:25]

    return complete


class Video(commands.Cog):
    """/video: a clip on any of the video endpoints, with the member's own key (or the server's
    sponsor key, for members without one)."""

    def __init__(self, generation: Generation) -> None:
        self.generation = generation

    @app_commands.command(
        name="video",
        description="Generate a video clip with your own API key, or the server's where an admin "
        "linked one",
    )
    @app_commands.describe(
        prompt="What to film: subject, action, scene, camera, style (or leave empty for a long-prompt form)",
        model="Which model and provider; default: your /preferences model, else the first with a key",
        prompt_file="A .txt file with a prompt longer than 6,000 characters",
        mode="text-to-video, image-to-video or media-to-video (guessed from your files if empty)",
        quality_tier="Quality tier (seedance2ai): mini, standard or pro",
        render_channel="Rendering channel (seedance2ai): standard, real or wild",
        aspect_ratio="Frame shape, e.g. 16:9 or 9:16 (choices depend on the model)",
        duration="Length in seconds (seedanceapi: 4, 8 or 12)",
        resolution="Output resolution (choices depend on the model and tier)",
        generate_audio="Generate a soundtrack",
        fixed_lens="Keep the camera still",
        seed="Seed for repeatable results (-1 = random; not on the real channel or mini tier)",
        start_frame="Image to start from (on seed2 it is @image_file_1)",
        end_frame="Image to end on (seedance2ai image-to-video)",
        reference_urls="More reference URLs, space separated (up to 12 on seedance2ai)",
        reference_1="Reference image/video/audio; on seed2 images are @image_file_2, _3… in order",
        reference_2="Another reference file",
        reference_3="Another reference file",
        reference_4="Another reference file",
        reference_5="Another reference file",
    )
    @app_commands.choices(
        model=[app_commands.Choice(name=m.label, value=m.key) for m in VIDEO_MODELS.values()]
    )
    @app_commands.autocomplete(
        mode=choice_autocomplete("mode", VIDEO),
        quality_tier=choice_autocomplete("quality_tier", VIDEO),
        render_channel=choice_autocomplete("render_channel", VIDEO),
        aspect_ratio=choice_autocomplete("aspect_ratio", VIDEO),
        resolution=choice_autocomplete("resolution", VIDEO),
    )
    async def video(
        self,
        interaction: discord.Interaction[SeedanceBot],
        prompt: app_commands.Range[str, 1, OPTION_PROMPT_MAX] | None = None,
        model: str | None = None,
        prompt_file: discord.Attachment | None = None,
        mode: str | None = None,
        quality_tier: str | None = None,
        render_channel: str | None = None,
        aspect_ratio: str | None = None,
        duration: app_commands.Range[int, DURATION_MIN, DURATION_MAX] | None = None,
        resolution: str | None = None,
        generate_audio: bool | None = None,
        fixed_lens: bool | None = None,
        seed: app_commands.Range[int, SEED_MIN, SEED_MAX] | None = None,
        start_frame: discord.Attachment | None = None,
        end_frame: discord.Attachment | None = None,
        reference_urls: str | None = None,
        reference_1: discord.Attachment | None = None,
        reference_2: discord.Attachment | None = None,
        reference_3: discord.Attachment | None = None,
        reference_4: discord.Attachment | None = None,
        reference_5: discord.Attachment | None = None,
    ) -> None:
        options = {
            "mode": mode, "quality_tier": quality_tier, "render_channel": render_channel,
            "aspect_ratio": aspect_ratio, "duration": duration, "resolution": resolution,
            "generate_audio": generate_audio, "fixed_lens": fixed_lens, "seed": seed,
        }  # fmt: skip
        files = [f for f in (reference_1, reference_2, reference_3, reference_4, reference_5) if f]
        ask = Ask(
            VIDEO,
            model,
            prompt,
            prompt_file,
            options,
            start_frame,
            end_frame,
            files,
            reference_urls,
        )
        await self.generation.start(interaction, ask)


class Image(commands.Cog):
    """/image: images with GPT Image 2 or Nano Banana Pro, with the member's own key (or the
    server's sponsor key, for members without one)."""

    def __init__(self, generation: Generation) -> None:
        self.generation = generation

    @app_commands.command(
        name="image",
        description="Generate images with your own API key, or the server's where an admin linked "
        "one",
    )
    @app_commands.describe(
        prompt="What to draw (or leave empty for a long-prompt form)",
        model="Which model; default: your /preferences image model, else GPT Image 2 if seedance2ai has a key",
        prompt_file="A .txt file with a prompt longer than 6,000 characters",
        type="text-to-image or image-to-image (guessed from your images if empty)",
        render_channel="GPT Image 2 channel: standard, or economy (cheaper, slower)",
        resolution="1K, 2K or 4K (GPT Image 2: auto ratio only at 1K; no 4K for 1:1 on standard)",
        aspect_ratio="Image shape, e.g. 1:1, 16:9, auto (choices depend on the model)",
        batch_count="How many images (GPT Image 2, 1-4)",
        output_format="png or jpeg (Nano Banana Pro)",
        image_urls="Input image URLs, space separated (GPT Image 2: up to 10, Nano Banana Pro: 8)",
        image_1="Input image for image-to-image",
        image_2="Another input image",
        image_3="Another input image",
        image_4="Another input image",
        image_5="Another input image",
        image_6="Another input image",
    )
    @app_commands.choices(
        model=[app_commands.Choice(name=m.label, value=m.key) for m in IMAGE_MODELS.values()]
    )
    @app_commands.autocomplete(
        type=choice_autocomplete("type", IMAGE),
        render_channel=choice_autocomplete("render_channel", IMAGE),
        resolution=choice_autocomplete("resolution", IMAGE),
        aspect_ratio=choice_autocomplete("aspect_ratio", IMAGE),
        output_format=choice_autocomplete("output_format", IMAGE),
    )
    async def image(
        self,
        interaction: discord.Interaction[SeedanceBot],
        prompt: app_commands.Range[str, 1, OPTION_PROMPT_MAX] | None = None,
        model: str | None = None,
        prompt_file: discord.Attachment | None = None,
        type: str | None = None,
        render_channel: str | None = None,
        resolution: str | None = None,
        aspect_ratio: str | None = None,
        batch_count: app_commands.Range[int, BATCH_MIN, BATCH_MAX] | None = None,
        output_format: str | None = None,
        image_urls: str | None = None,
        image_1: discord.Attachment | None = None,
        image_2: discord.Attachment | None = None,
        image_3: discord.Attachment | None = None,
        image_4: discord.Attachment | None = None,
        image_5: discord.Attachment | None = None,
        image_6: discord.Attachment | None = None,
    ) -> None:
        options = {
            "type": type, "render_channel": render_channel, "resolution": resolution,
            "aspect_ratio": aspect_ratio, "batch_count": batch_count,
            "output_format": output_format,
        }  # fmt: skip
        files = [f for f in (image_1, image_2, image_3, image_4, image_5, image_6) if f]
        ask = Ask(IMAGE, model, prompt, prompt_file, options, None, None, files, image_urls)
        await self.generation.start(interaction, ask)
