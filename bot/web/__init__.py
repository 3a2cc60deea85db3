"""The optional HTTP server: ``/healthz``, ``/metrics`` and provider callbacks. No discord import."""

from bot.web.callbacks import CallbackReceiver, callback_routes, callback_urls
from bot.web.health import HealthCheck, HealthReport, database_writable
from bot.web.server import WebServer, WebServerError, build_app

__all__ = [
    "CallbackReceiver",
    "HealthCheck",
    "HealthReport",
    "WebServer",
    "WebServerError",
    "build_app",
    "callback_routes",
    "callback_urls",
    "database_writable",
]
