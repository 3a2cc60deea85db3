"""``python -m bot``: read settings, set up logging, open the HTTP session, run the client."""

from __future__ import annotations

import asyncio
import logging
import sys

import aiohttp
import discord
from pydantic import ValidationError

from bot.app import SeedanceBot
from bot.logs import RedactingFilter, setup_logging
from bot.providers import build_clients
from bot.settings import Settings, describe_settings_error, load_settings
from bot.storage import ApiKeyStore, Database, KeyCipher, load_or_create_secret

log = logging.getLogger(__name__)


def key_cipher(settings: Settings, redactor: RedactingFilter) -> KeyCipher:
    """The cipher for users' API keys: the configured secret, or one generated on first start."""
    if settings.key_encryption_secret is not None:
        primary = settings.key_encryption_secret.get_secret_value()
    else:
        primary = load_or_create_secret(settings.database_path.parent)
        redactor.add_secret(primary)
    previous = settings.key_encryption_secret_previous
    return KeyCipher([primary, *([previous.get_secret_value()] if previous else [])])


async def run_bot(settings: Settings, redactor: RedactingFilter) -> None:
    """Run the client until it is closed; the database and HTTP session live as long as it."""
    cipher = key_cipher(settings, redactor)
    database = await Database.open(settings.database_path)
    try:
        if settings.key_encryption_secret_previous is not None:
            await ApiKeyStore(database, cipher).rotate()
        await _run_client(settings, database, cipher, redactor)
    finally:
        await database.close()


async def _run_client(
    settings: Settings, database: Database, cipher: KeyCipher, redactor: RedactingFilter
) -> None:
    timeout = aiohttp.ClientTimeout(total=settings.http_timeout_seconds)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        clients = build_clients(
            session, settings.base_urls(), timeout=settings.http_timeout_seconds
        )
        bot = SeedanceBot(
            settings=settings,
            session=session,
            clients=clients,
            database=database,
            cipher=cipher,
            redactor=redactor,
        )
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
        asyncio.run(run_bot(settings, redactor))
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
