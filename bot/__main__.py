"""``python -m bot``: read settings, set up logging, open the database and HTTP session, run.

Every way this can fail ends in one ``error: ...`` line on stderr and an exit code, never a
traceback: 2 for something the operator must change before starting again (a setting, the
database path), 1 for everything else (Discord unreachable or refusing, an unexpected error).
SIGTERM (``docker stop``) and SIGINT stop the bot cleanly with exit code 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route
from pydantic import ValidationError

from bot.app import SeedanceBot
from bot.jobs import CALLBACK_PATH
from bot.logs import RedactingFilter, setup_logging
from bot.metrics import Metrics
from bot.providers import build_clients
from bot.settings import Settings, describe_settings_error, load_settings
from bot.startup import StartupError, describe_gateway_closure, open_database
from bot.storage import ApiKeyStore, Database, KeyCipher, load_or_create_secret
from bot.web import (
    HealthCheck,
    WebServer,
    WebServerError,
    build_app,
    callback_routes,
    database_writable,
)

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILURE, EXIT_CONFIGURATION = 0, 1, 2


def key_cipher(settings: Settings, redactor: RedactingFilter) -> KeyCipher:
    """The cipher for users' API keys: the configured secret, or one generated on first start."""
    if settings.key_encryption_secret is not None:
        primary = settings.key_encryption_secret.get_secret_value()
    else:
        try:
            primary = load_or_create_secret(settings.database_path.parent)
        except OSError as exc:
            raise StartupError(
                f"cannot create the key encryption secret in {settings.database_path.parent} "
                f"({exc.strerror or exc}); make DATABASE_PATH's folder writable or set "
                "KEY_ENCRYPTION_SECRET",
                exit_code=EXIT_CONFIGURATION,
            ) from exc
        redactor.add_secret(primary)
    previous = settings.key_encryption_secret_previous
    return KeyCipher([primary, *([previous.get_secret_value()] if previous else [])])


async def run_bot(settings: Settings, redactor: RedactingFilter) -> None:
    """Run the client until it is closed; the database and HTTP session live as long as it."""
    database = await open_database(settings.database_path)
    try:
        cipher = key_cipher(settings, redactor)
        keys = ApiKeyStore(database, cipher)
        if settings.key_encryption_secret_previous is not None:
            await keys.rotate()
        await report_unreadable_keys(keys)
        # Keys with no known prefix (seedanceapi) are hidden from the log only once registered.
        for api_key in await keys.readable_keys():
            redactor.add_secret(api_key)
        await _run_client(settings, database, cipher, redactor)
    finally:
        await database.close()


async def report_unreadable_keys(keys: ApiKeyStore) -> None:
    """One error line when the configured secret cannot read stored keys; the bot runs on."""
    unreadable, total = await keys.unreadable_count()
    if unreadable:
        log.error(
            "KEY_ENCRYPTION_SECRET cannot read %d of %d stored API key(s): the secret changed or "
            "was lost. Their owners must link them again with /key link (set "
            "KEY_ENCRYPTION_SECRET_PREVIOUS to the old secret to keep them instead)",
            unreadable,
            total,
        )


async def _run_client(
    settings: Settings, database: Database, cipher: KeyCipher, redactor: RedactingFilter
) -> None:
    # Proxies (or local stand-ins) in front of Discord's REST API and gateway, when configured.
    Route.BASE = settings.discord_api_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)
    timeout = aiohttp.ClientTimeout(total=settings.http_timeout_seconds)
    metrics = Metrics()
    async with aiohttp.ClientSession(timeout=timeout) as session:
        clients = build_clients(
            session, settings.base_urls(), timeout=settings.http_timeout_seconds, metrics=metrics
        )
        bot = SeedanceBot(
            settings=settings,
            session=session,
            clients=clients,
            database=database,
            cipher=cipher,
            redactor=redactor,
            metrics=metrics,
        )
        # Started before logging in, so a port in use fails at once with one line.
        server = await start_web_server(settings, bot, database)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            # A handler of our own: as PID 1 in a container, SIGTERM would otherwise be ignored.
            loop.add_signal_handler(signum, bot.begin_stop, signal.Signals(signum).name)
        try:
            async with bot:
                await bot.start(settings.discord_token.get_secret_value())
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
            if server is not None:
                await server.stop()
        if bot.stopping:
            log.info("Stopped cleanly; unfinished jobs resume at the next start")


async def start_web_server(
    settings: Settings, bot: SeedanceBot, database: Database
) -> WebServer | None:
    """The health and metrics server when ``HTTP_PORT`` is set, with the provider callback
    route when ``PUBLIC_URL`` is set too; ``None`` otherwise."""
    metrics = bot.metrics
    metrics.set_job_counts(bot.jobs.count_by_provider_and_state)

    def copy_budgets() -> None:
        for (provider, digest), budget in bot.engine.budgets.items():
            metrics.budget_use(provider, digest, budget.limit - budget.available(), budget.limit)

    metrics.add_scrape_hook(copy_budgets)
    if settings.http_port is None:
        if settings.public_url is not None:
            log.warning("PUBLIC_URL is set but HTTP_PORT is not: no provider callbacks, only polls")
        return None
    health = HealthCheck(
        gateway_connected=bot.gateway_connected,
        database_writable=lambda: database_writable(database),
        engine_alive=lambda: bot.engine.running,
    )
    callbacks = bot.engine.callbacks
    routes = callback_routes(bot.engine, metrics) if callbacks is not None else []
    server = WebServer(build_app(health=health, metrics=metrics, extra_routes=routes))
    try:
        await server.start(settings.http_host, settings.http_port)
    except WebServerError as exc:
        raise StartupError(
            f"{exc}; set HTTP_PORT to a free port or unset it", exit_code=EXIT_CONFIGURATION
        ) from exc
    log.info(
        "Health and metrics on http://%s:%d/healthz and /metrics", settings.http_host, server.port
    )
    if callbacks is not None:
        log.info(
            "Provider callbacks on %s%s/<provider>/<token> (forward only that path to this server)",
            callbacks.base,
            CALLBACK_PATH,
        )
    return server


def main() -> int:
    """Start the bot; the return value is the process exit code."""
    try:
        settings = load_settings()
    except ValidationError as exc:
        # A configuration mistake is the operator's to fix: one line, no traceback.
        print(f"error: {describe_settings_error(exc)}", file=sys.stderr)
        return EXIT_CONFIGURATION

    redactor = setup_logging(settings.log_level, settings.secrets())
    # Whatever the bot or SQLite creates (database, -wal, -shm, secret) is owner-only.
    umask = os.umask(0o077)
    try:
        asyncio.run(run_bot(settings, redactor))
    except StartupError as exc:
        return _fail(redactor, str(exc), exc.exit_code)
    except discord.LoginFailure as exc:
        reason = redactor.redact(str(exc)) or "no reason given"
        return _fail(
            redactor,
            f"Discord rejected DISCORD_TOKEN ({reason}); copy a fresh token from the Bot page "
            "of your application in the Discord developer portal",
            EXIT_FAILURE,
        )
    except discord.ConnectionClosed as exc:
        return _fail(redactor, describe_gateway_closure(exc), EXIT_FAILURE)
    except discord.PrivilegedIntentsRequired:
        return _fail(redactor, describe_gateway_closure(None), EXIT_FAILURE)
    except discord.HTTPException as exc:
        return _fail(
            redactor,
            f"Discord answered HTTP {exc.status} ({exc.text or 'no reason given'}) while "
            "starting; try again later",
            EXIT_FAILURE,
        )
    except (aiohttp.ClientConnectionError, OSError, discord.GatewayNotFound) as exc:
        # Raised before the gateway connects (DNS, firewall, proxy): an operator problem, not a bug.
        return _fail(
            redactor,
            f"cannot reach Discord ({exc}); check this machine's network connection and try again",
            EXIT_FAILURE,
        )
    except KeyboardInterrupt:
        log.info("Stopped by keyboard interrupt")
    except Exception as exc:
        # A bug: one line for the operator; the traceback is logged at DEBUG for a report.
        log.debug("Unexpected error", exc_info=exc)
        return _fail(
            redactor,
            f"unexpected {type(exc).__name__}: {exc} (run with LOG_LEVEL=DEBUG for details)",
            EXIT_FAILURE,
        )
    finally:
        os.umask(umask)
    return EXIT_OK


def _fail(redactor: RedactingFilter, message: str, code: int) -> int:
    print(f"error: {redactor.redact(message)}", file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
