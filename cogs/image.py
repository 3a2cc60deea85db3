"""/image: generate images with GPT Image 2 or Nano Banana Pro on the member's own key."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.models import GptImage2Request, MediaKind
from cogs._generate import OPTION_PROMPT_MAX, Ask, choice_autocomplete, start
from cogs._requests import IMAGE_MODELS

if TYPE_CHECKING:
    from bot.app import SeedanceBot

BATCH_MIN = GptImage2Request.bounds("batch_count")["ge"]
BATCH_MAX = GptImage2Request.bounds("batch_count")["le"]
IMAGE = MediaKind.IMAGE


class Image(commands.Cog):
    def __init__(self, bot: SeedanceBot) -> None:
        self.bot = bot

    @app_commands.command(name="image", description="Generate images with your own API key.")
    @app_commands.describe(
        prompt="What to draw (or leave empty for a long-prompt form)",
        model="Which model; default: GPT Image 2 if you linked seedance2ai",
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
        interaction: discord.Interaction,
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
        await start(interaction, ask)


async def setup(bot: SeedanceBot) -> None:
    await bot.add_cog(Image(bot))
