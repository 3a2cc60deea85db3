"""``python -m bot``: read settings, set up logging, open the HTTP session, run the client."""

from __future__ import annotations

import asyncio
import logging
import sys

import aiohttp
import discord
from pydantic import ValidationError

from bot.app import SeedanceBot
from bot.logs import setup_logging
from bot.providers import build_clients
from bot.settings import Settings, describe_settings_error, load_settings

log = logging.getLogger(__name__)


async def run_bot(settings: Settings) -> None:
    """Run the client until it is closed; the HTTP session lives exactly as long as the bot."""
    timeout = aiohttp.ClientTimeout(total=settings.http_timeout_seconds)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        clients = build_clients(
            session, settings.base_urls(), timeout=settings.http_timeout_seconds
        )
        bot = SeedanceBot(settings=settings, session=session, clients=clients)
        async with bot:
            await bot.start(settings.discord_token.get_secret_value())


def main() -> int:
    """Start the bot; the return value is the process exit code."""
    try:
        settings = load_settings()
    except ValidationError as exc:
        # A configuration mistake is the operator's to fix: one line, no traceback.
        print(f"error: {describe_settings_error(exc)}", file=sys.stderr)
        return 2

    redactor = setup_logging(settings.log_level, settings.secrets())
    try:
        asyncio.run(run_bot(settings))
    except discord.LoginFailure as exc:
        reason = redactor.redact(str(exc)) or "no reason given"
        print(
            f"error: Discord rejected DISCORD_TOKEN ({reason}); copy a fresh token from the "
            "Bot page of your application in the Discord developer portal",
            file=sys.stderr,
        )
        return 1
    except (aiohttp.ClientConnectionError, OSError) as exc:
        # Raised before the gateway connects (DNS, firewall, proxy): an operator problem, not a bug.
        print(
            f"error: cannot reach Discord ({redactor.redact(str(exc))}); check this machine's "
            "network connection and try again",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        log.info("Stopped by keyboard interrupt")
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
