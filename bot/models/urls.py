"""The URL type every provider accepts: public https only."""

from __future__ import annotations

import ipaddress
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

# Host names that can never be reached by a provider's servers.
_PRIVATE_SUFFIXES = (".local", ".localhost", ".internal", ".lan", ".home.arpa")


def check_public_https(value: str) -> str:
    """Reject URLs a remote API cannot fetch, so no credits go to a request doomed to fail."""
    if any(ch.isspace() for ch in value):
        raise PydanticCustomError("public_https_url", "must be a URL without spaces")
    parts = urlsplit(value)
    if parts.scheme != "https":
        raise PydanticCustomError("public_https_url", "must start with https://")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise PydanticCustomError("public_https_url", "must name a host after https://")
    if (
        host == "localhost"
        or host.endswith(_PRIVATE_SUFFIXES)
        or ("." not in host and ":" not in host)
    ):
        raise PydanticCustomError(
            "public_https_url", "must point at a public host, not {host}", {"host": host}
        )
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return value
    if not address.is_global:
        raise PydanticCustomError(
            "public_https_url", "must point at a public host, not {host}", {"host": host}
        )
    return value


PublicHttpsUrl = Annotated[str, AfterValidator(check_public_https)]
