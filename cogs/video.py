"""/video: generate a clip on any of the video endpoints with the member's own key."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.models import MediaKind, Seedance2Request
from cogs._generate import OPTION_PROMPT_MAX, Ask, choice_autocomplete, start
from cogs._requests import VIDEO_MODELS

if TYPE_CHECKING:
    from bot.app import SeedanceBot

# Limits come from the request models, so Discord and the API rules cannot drift apart.
_DURATIONS = [int(d) for d in Seedance2Request.choices("duration")]
DURATION_MIN, DURATION_MAX = min(_DURATIONS), max(_DURATIONS)
SEED_MIN = Seedance2Request.bounds("seed")["ge"]
SEED_MAX = Seedance2Request.bounds("seed")["le"]
VIDEO = MediaKind.VIDEO


class Video(commands.Cog):
    def __init__(self, bot: SeedanceBot) -> None:
        self.bot = bot

    @app_commands.command(name="video", description="Generate a video clip with your own API key.")
    @app_commands.describe(
        prompt="What to film: subject, action, scene, camera, style (or leave empty for a long-prompt form)",
        model="Which model and provider; default: the first one you linked a key for",
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
        interaction: discord.Interaction,
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
        await start(interaction, ask)


async def setup(bot: SeedanceBot) -> None:
    await bot.add_cog(Video(bot))
