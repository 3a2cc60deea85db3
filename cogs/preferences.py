"""/preferences: a member's own defaults for /video and /image — show, set and clear them.

They fill only the options a member leaves empty (see ``cogs.generate._preferences``); the
stricter of their "private results" and the server's setting decides where cards go. Every answer
is in the member's Discord language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import N_, LocaleLike, enumeration, gettext_for, listing, t
from bot.storage import MemberPreferences
from cogs._errors import UserFacingError, reply
from cogs.generate import ALL_MODELS, IMAGE_MODELS, VIDEO_MODELS
from cogs.generate._preferences import every_aspect_ratio, models_without_ratio

if TYPE_CHECKING:
    from bot.app import SeedanceBot

#: Discord shows at most 25 autocomplete choices.
AUTOCOMPLETE_LIMIT = 25

# -- what the commands say ---------------------------------------------------------------------

#: Each preference's name, as /preferences show and the ``which`` choices of /preferences clear
#: name it (those through the command translator).
LABELS = {
    "video_model": N_("Video model"),
    "image_model": N_("Image model"),
    "aspect_ratio": N_("Aspect ratio"),
    "private_results": N_("Private results"),
}
#: What /preferences clear says for one preference (whole sentences: a name alone would have to
#: change its case and form inside another language's sentence).
CLEARED_ONE = {
    "video_model": N_("Cleared your video model preference."),
    "image_model": N_("Cleared your image model preference."),
    "aspect_ratio": N_("Cleared your aspect ratio preference."),
    "private_results": N_("Cleared your private results preference."),
}
WHAT_ALL = "everything"


def model_text(key: str | None, locale: LocaleLike = None) -> str:
    choice = ALL_MODELS.get(key or "")
    if choice is not None:
        return choice.label
    return t(locale, "not set: the first model of a provider you linked")


def summary(preferences: MemberPreferences, locale: LocaleLike = None) -> str:
    """Each preference on its own line."""
    _ = gettext_for(locale)
    if preferences.private_results:
        private = _("on: your status cards and results go to your DMs")
    else:
        private = _("off: shown in the channel, unless the server keeps results private")
    values = {
        "video_model": model_text(preferences.video_model, locale),
        "image_model": model_text(preferences.image_model, locale),
        "aspect_ratio": preferences.aspect_ratio or _("not set: each model's default"),
        "private_results": private,
    }
    return "\n".join(
        _("**{label}**: {value}", label=_(LABELS[name]), value=value)
        for name, value in values.items()
    )


def show_embed(preferences: MemberPreferences, locale: LocaleLike = None) -> discord.Embed:
    _ = gettext_for(locale)
    intro = _("Used when you leave the option empty on /video and /image; an option you give wins.")
    embed = discord.Embed(
        title=_("Your preferences"),
        description=f"{intro}\n\n{summary(preferences, locale)}",
        colour=discord.Colour.blurple(),
    )
    embed.set_footer(text=_("/preferences set changes one · /preferences clear forgets them"))
    return embed


def check_ratio(ratio: str, locale: LocaleLike = None) -> str | None:
    """Refuse a ratio no model takes; a note naming the models that do not take it, or None."""
    allowed = every_aspect_ratio()
    if ratio not in allowed:
        raise UserFacingError(
            t(
                locale,
                "No model takes the aspect ratio `{ratio}`. Allowed: {allowed}.",
                ratio=ratio,
                allowed=enumeration(locale, allowed),
            )
        )
    without = models_without_ratio(ratio)
    if not without:
        return None
    note = t(
        locale,
        "{ratio} is not available on {models}: those use their own default and tell you so.",
        ratio=ratio,
        models=listing(locale, (c.label for c in without)),
    )
    return f"-# {note}"


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
        embed = show_embed(preferences, interaction.locale)
        await interaction.response.send_message(embed=embed, ephemeral=True)

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
            note = check_ratio(ratio, interaction.locale)
            changes["aspect_ratio"] = ratio
        if private_results is not None:
            changes["private_results"] = private_results
        if not changes:
            await reply(
                interaction,
                t(
                    interaction.locale,
                    "Give at least one preference to set, e.g. "
                    "`/preferences set aspect_ratio:9:16`.",
                ),
            )
            return
        saved = await self.bot.preferences.update(interaction.user.id, **changes)
        lines = [t(interaction.locale, "Saved."), summary(saved, interaction.locale)]
        await reply(interaction, "\n".join([*lines, note] if note else lines))

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
            await reply(
                interaction,
                t(
                    interaction.locale,
                    "Your preferences are cleared: every option uses the model's default again.",
                ),
            )
            return
        await self.bot.preferences.update(user, **{which: None})
        await reply(interaction, t(interaction.locale, CLEARED_ONE[which]))


async def setup(bot: SeedanceBot) -> None:
    await bot.add_cog(Preferences(bot))
