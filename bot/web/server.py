"""The optional built-in HTTP server (aiohttp.web): health probe, metrics, provider callbacks.

Every route is registered in :func:`build_app`; nothing else adds routes.
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Iterable

from aiohttp import web

from bot.metrics import CONTENT_TYPE, Metrics
from bot.web.health import HealthCheck

log = logging.getLogger(__name__)

HEALTH: web.AppKey[HealthCheck] = web.AppKey("health", HealthCheck)
METRICS: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)

_NO_STORE = {"Cache-Control": "no-store"}


class WebServerError(Exception):
    """The server could not start; the message is one line, fit to print as is."""


async def healthz(request: web.Request) -> web.Response:
    """200 ``{"status":"ok"}``, or 503 ``{"status":"unhealthy","reasons":[...]}``."""
    report = await request.app[HEALTH].check()
    return web.json_response(
        report.as_json(), status=200 if report.healthy else 503, headers=_NO_STORE
    )


async def metrics_page(request: web.Request) -> web.Response:
    """Every metric, in the Prometheus text format."""
    body = await request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE, **_NO_STORE})


async def _close_checks(app: web.Application) -> None:
    await app[HEALTH].aclose()
    await app[METRICS].aclose()


def build_app(
    *,
    health: HealthCheck,
    metrics: Metrics,
    extra_routes: Iterable[web.AbstractRouteDef] = (),
) -> web.Application:
    """The application with every route the bot serves."""
    app = web.Application()
    app[HEALTH] = health
    app[METRICS] = metrics
    app.add_routes(
        [
            web.get("/healthz", healthz),
            web.get("/metrics", metrics_page),
        ]
    )
    # Other routes (provider callbacks: bot/web/callbacks.py) come in through ``extra_routes``;
    # keep them here so this is the one list of what is served.
    app.add_routes(list(extra_routes))
    app.on_cleanup.append(_close_checks)
    return app


def describe_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _reason(exc: OSError) -> str:
    if isinstance(exc, socket.gaierror):
        return "unknown host name"
    if exc.errno == errno.EADDRINUSE:
        return "address already in use"
    if exc.errno == errno.EACCES:
        return "permission denied (ports below 1024 need privileges)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "address not available on this machine"
    return (exc.strerror or str(exc) or type(exc).__name__).lower()


class WebServer:
    """Runs ``app`` on one host and port between :meth:`start` and :meth:`stop`."""

    def __init__(self, app: web.Application, *, shutdown_timeout: float = 5.0) -> None:
        self.app = app
        self.shutdown_timeout = shutdown_timeout
        self._runner: web.AppRunner | None = None

    @property
    def running(self) -> bool:
        return self._runner is not None

    @property
    def port(self) -> int | None:
        """The port actually listened on (useful after ``start(host, 0)``), or None."""
        if self._runner is None or not self._runner.addresses:
            return None
        return int(self._runner.addresses[0][1])

    async def start(self, host: str, port: int) -> None:
        """Listen on ``host:port``; raises :class:`WebServerError` when that is impossible."""
        if self._runner is not None:
            raise RuntimeError("the web server is already running")
        address = describe_address(host, port)
        # No access log: a probe every few seconds would drown the bot's own logging.
        runner = web.AppRunner(
            self.app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=self.shutdown_timeout,
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise WebServerError(f"cannot listen on {address}: {_reason(exc)}") from exc
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        log.info("HTTP server listening on %s", describe_address(host, self.port or port))

    async def stop(self) -> None:
        """Stop listening and close the application; safe to call when not running."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
            log.info("HTTP server stopped")
