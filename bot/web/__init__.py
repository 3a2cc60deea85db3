"""The optional HTTP server: ``/healthz``, ``/metrics`` (and provider callbacks later). No discord import."""

from bot.web.health import HealthCheck, HealthReport, database_writable
from bot.web.server import WebServer, WebServerError, build_app

__all__ = [
    "HealthCheck",
    "HealthReport",
    "WebServer",
    "WebServerError",
    "build_app",
    "database_writable",
]
