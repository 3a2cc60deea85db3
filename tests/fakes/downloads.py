"""Result downloads from the local fakes: plain http on 127.0.0.1, which production refuses.

The bot's :class:`~bot.net.Downloader` admits public addresses only, and http only with
``ALLOW_HTTP_DOWNLOADS``. The fakes serve result files on loopback over http, so tests opt in:
the setting on, and an address check that also admits loopback (no setting can do that).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from bot.net import Downloader, is_public_address
from bot.settings import Settings


def public_or_loopback(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_loopback or is_public_address(ip)


def loopback_downloader(settings: Settings | None = None, **options: Any) -> Downloader:
    """The production downloader, but loopback counts as reachable; http per ``settings``
    (allowed when no settings are given)."""
    options.setdefault("allow_http", settings.allow_http_downloads if settings else True)
    options.setdefault("timeout", settings.http_timeout_seconds if settings else 5.0)
    options.setdefault("allow_address", public_or_loopback)
    return Downloader(**options)
