"""The URL type every provider accepts: public https only."""

from __future__ import annotations

import ipaddress
import socket
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from bot.i18n import N_, Text

# Host names that can never be reached by a provider's servers.
_PRIVATE_SUFFIXES = (".local", ".localhost", ".internal", ".lan", ".home.arpa")


def check_public_https(value: str) -> str:
    """Reject URLs a remote API cannot fetch, so no credits go to a request doomed to fail."""
    if any(ch.isspace() for ch in value):
        raise _refused(N_("must be a URL without spaces."))
    parts = urlsplit(value)
    if parts.scheme != "https":
        raise _refused(N_("must start with https://."))
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise _refused(N_("must name a host after https://."))
    if not _is_public_host(host):
        raise _refused(N_("must point at a public host, not {host}."), host=host)
    return value


def _refused(message: str, **values: str) -> PydanticCustomError:
    """The error for a URL no provider can fetch: pydantic's message in English (settings name
    it so to operators), and its ``text`` for members, in their language (see ``problems``)."""
    return PydanticCustomError(
        "public_https_url", message, {**values, "text": Text(message, values)}
    )


def _is_public_host(host: str) -> bool:
    if host == "localhost" or host.endswith(_PRIVATE_SUFFIXES):
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        pass
    try:
        # Shorthand IPv4 forms ("127.1", "0x7f.0.0.1") that resolvers still honour.
        return ipaddress.ip_address(socket.inet_ntoa(socket.inet_aton(host))).is_global
    except OSError:
        # A bare name like "intranet" only resolves inside a private network.
        return "." in host


PublicHttpsUrl = Annotated[str, AfterValidator(check_public_https)]
