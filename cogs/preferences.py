"""/preferences: a member's own defaults for /video and /image — show, set and clear them.

They fill only the options a member leaves empty (see ``cogs.generate._preferences``); the
stricter of their "private results" and the server's setting decides where cards go.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.storage import MemberPreferences
from cogs._errors import UserFacingError, reply
from cogs.generate import ALL_MODELS, IMAGE_MODELS, VIDEO_MODELS
from cogs.generate._preferences import every_aspect_ratio, models_without_ratio

if TYPE_CHECKING:
    from bot.app import SeedanceBot

#: Discord shows at most 25 autocomplete choices.
AUTOCOMPLETE_LIMIT = 25

# -- what the commands say ---------------------------------------------------------------------

SHOW_TITLE = "Your preferences"
SHOW_INTRO = "Used when you leave the option empty on /video and /image; an option you give wins."
SHOW_FOOTER = "/preferences set changes one · /preferences clear forgets them"
LABELS = {
    "video_model": "Video model",
    "image_model": "Image model",
    "aspect_ratio": "Aspect ratio",
    "private_results": "Private results",
}
MODEL_UNSET = "not set: the first model of a provider you linked"
RATIO_UNSET = "not set: each model's default"
PRIVATE_ON = "on: your status cards and results go to your DMs"
PRIVATE_OFF = "off: shown in the channel, unless the server keeps results private"
SET_NOTHING = "Give at least one preference to set, e.g. `/preferences set aspect_ratio:9:16`."
UNKNOWN_RATIO = "No model takes the aspect ratio `{ratio}`. Allowed: {allowed}."
SAVED = "Saved. {summary}"
RATIO_NOT_EVERYWHERE = (
    "-# {ratio} is not available on {models}: those use their own default and tell you so."
)
CLEARED_ALL = "Your preferences are cleared: every option uses the model's default again."
CLEARED_ONE = "Cleared your {label} preference."
WHAT_ALL = "everything"


def model_text(key: str | None) -> str:
    choice = ALL_MODELS.get(key or "")
    return choice.label if choice is not None else MODEL_UNSET


def summary(preferences: MemberPreferences) -> str:
    """Each preference on its own line."""
    private = PRIVATE_ON if preferences.private_results else PRIVATE_OFF
    values = {
        "video_model": model_text(preferences.video_model),
        "image_model": model_text(preferences.image_model),
        "aspect_ratio": preferences.aspect_ratio or RATIO_UNSET,
        "private_results": private,
    }
    return "\n".join(f"**{LABELS[name]}**: {value}" for name, value in values.items())


def show_embed(preferences: MemberPreferences) -> discord.Embed:
    embed = discord.Embed(
        title=SHOW_TITLE,
        description=f"{SHOW_INTRO}\n\n{summary(preferences)}",
        colour=discord.Colour.blurple(),
    )
    embed.set_footer(text=SHOW_FOOTER)
    return embed


def check_ratio(ratio: str) -> str | None:
    """Refuse a ratio no model takes; a note naming the models that do not take it, or None."""
    allowed = every_aspect_ratio()
    if ratio not in allowed:
        raise UserFacingError(UNKNOWN_RATIO.format(ratio=ratio, allowed=", ".join(allowed)))
    without = models_without_ratio(ratio)
    if not without:
        return None
    return RATIO_NOT_EVERYWHERE.format(ratio=ratio, models=", ".join(c.label for c in without))


class Preferences(
    commands.GroupCog,
    group_name="preferences",
    group_description="Your defaults for /video and /image",
):
    """/preferences show, /preferences set, /preferences clear."""

    def __init__(self, bot: SeedanceBot) -> None:
        self.bot = bot
        super().__init__()

    async def complete_ratio(
        self, interaction: discord.Interaction[SeedanceBot], current: str
    ) -> list[app_commands.Choice[str]]:
        typed = current.strip().lower()
        return [
            app_commands.Choice(name=ratio, value=ratio)
            for ratio in every_aspect_ratio()
            if typed in ratio.lower()
        ][:AUTOCOMPLETE_LIMIT]

    @app_commands.command(name="show", description="Your defaults for /video and /image")
    async def show(self, interaction: discord.Interaction[SeedanceBot]) -> None:
        preferences = await self.bot.preferences.get(interaction.user.id)
        await interaction.response.send_message(embed=show_embed(preferences), ephemeral=True)

    @app_commands.command(
        name="set", description="Set defaults used when you leave an option empty"
    )
    @app_commands.describe(
        video_model="Used when /video names no model",
        image_model="Used when /image names no model",
        aspect_ratio="Used when you give none and the model takes it, e.g. 9:16",
        private_results="Send your status cards and results to your DMs instead of the channel",
    )
    @app_commands.choices(
        video_model=[app_commands.Choice(name=m.label, value=m.key) for m in VIDEO_MODELS.values()],
        image_model=[app_commands.Choice(name=m.label, value=m.key) for m in IMAGE_MODELS.values()],
    )
    @app_commands.autocomplete(aspect_ratio=complete_ratio)
    async def set_preferences(
        self,
        interaction: discord.Interaction[SeedanceBot],
        video_model: str | None = None,
        image_model: str | None = None,
        aspect_ratio: str | None = None,
        private_results: bool | None = None,
    ) -> None:
        changes: dict[str, object] = {}
        note = None
        if video_model is not None:
            changes["video_model"] = VIDEO_MODELS[video_model].key
        if image_model is not None:
            changes["image_model"] = IMAGE_MODELS[image_model].key
        if aspect_ratio is not None:
            ratio = aspect_ratio.strip()
            note = check_ratio(ratio)
            changes["aspect_ratio"] = ratio
        if private_results is not None:
            changes["private_results"] = private_results
        if not changes:
            await reply(interaction, SET_NOTHING)
            return
        saved = await self.bot.preferences.update(interaction.user.id, **changes)
        text = SAVED.format(summary=summary(saved))
        await reply(interaction, f"{text}\n{note}" if note else text)

    @app_commands.command(name="clear", description="Forget one of your defaults, or all of them")
    @app_commands.describe(which="Which preference to forget (default: all of them)")
    @app_commands.choices(
        which=[
            app_commands.Choice(name=WHAT_ALL, value="all"),
            *(app_commands.Choice(name=label, value=name) for name, label in LABELS.items()),
        ]
    )
    async def clear(
        self, interaction: discord.Interaction[SeedanceBot], which: str = "all"
    ) -> None:
        user = interaction.user.id
        if which == "all":
            await self.bot.preferences.clear(user)
            await reply(interaction, CLEARED_ALL)
            return
        await self.bot.preferences.update(user, **{which: None})
        await reply(interaction, CLEARED_ONE.format(label=LABELS[which].lower()))


async def setup(bot: SeedanceBot) -> None:
    await bot.add_cog(Preferences(bot))
