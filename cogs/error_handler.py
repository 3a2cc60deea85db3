"""The tree-level error handler: every command's error answered privately, in one place.

The messages are in :mod:`cogs._errors`; this extension plugs :func:`~cogs._errors.report` into
the command tree (:class:`bot.tree.SeedanceTree`), and takes it out again when unloaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs._errors import report

if TYPE_CHECKING:
    from bot.app import SeedanceBot


async def setup(bot: SeedanceBot) -> None:
    bot.tree.use_error_reporter(report)


async def teardown(bot: SeedanceBot) -> None:
    bot.tree.use_error_reporter(None)
