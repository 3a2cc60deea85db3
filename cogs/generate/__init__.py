"""/video and /image, from the options to the result in a thread, and the buttons under it.

One concern a module, in the order a request travels:

- ``_commands``: the /video and /image options (limits from the request models), as one ``Ask``
- ``_requests``: options -> a validated provider request (plain data, no Discord objects)
- ``_flow``: model and key, queue, prompt form, then job, card, input copies, thread, send
- ``_threads``: the thread a result goes to, and the permissions that decide where it goes
- ``_card``: what the status card and the result message say
- ``_delivery``: the engine's delivery port: card edits, results, fallbacks, upload limits
- ``_buttons``: Re-roll, Edit, Extend, Animate, Details, Delete and Send again under a result;
  Cancel on the card of a job still waiting
- ``_edit``: the Edit button's form, pre-filled, checked like the commands
- ``_preferences``: a member's /preferences applied to the options left empty; who decides
  that results are private
- ``_inputs``: input files kept on the card, and their links signed afresh before a send

``setup`` plugs the delivery port and the input refresher into the engine and registers the
result buttons; /jobs and /help read jobs and models through the names exported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.generate._buttons import RESULT_BUTTONS, DeleteButton, card_view, result_view
from cogs.generate._card import (
    describe_duration,
    model_title,
    result_embed,
    result_text,
    status_embed,
)
from cogs.generate._commands import Image, Video
from cogs.generate._delivery import DiscordDelivery
from cogs.generate._flow import Generation
from cogs.generate._inputs import DiscordInputs
from cogs.generate._requests import (
    ALL_MODELS,
    IMAGE_MODELS,
    VIDEO_MODELS,
    Inputs,
    ModelChoice,
    build_request,
)

if TYPE_CHECKING:
    from bot.app import SeedanceBot

__all__ = [
    "ALL_MODELS",
    "IMAGE_MODELS",
    "VIDEO_MODELS",
    "DeleteButton",
    "Inputs",
    "ModelChoice",
    "build_request",
    "describe_duration",
    "model_title",
    "result_embed",
    "result_text",
    "result_view",
    "setup",
    "status_embed",
]


async def setup(bot: SeedanceBot) -> None:
    delivery = DiscordDelivery(
        bot, views=result_view, card_views=card_view, downloader=bot.downloader
    )
    bot.engine.connect_port(delivery, inputs=DiscordInputs(bot))
    # Buttons on results posted before a restart keep working.
    bot.add_dynamic_items(*RESULT_BUTTONS)
    generation = Generation(bot, delivery)
    await bot.add_cog(generation)  # closes the delivery port when unloaded
    await bot.add_cog(Video(generation))
    await bot.add_cog(Image(generation))


async def teardown(bot: SeedanceBot) -> None:
    bot.remove_dynamic_items(*RESULT_BUTTONS)
