"""Downloading result media safely: public https hosts only, a byte cap, few redirects.

Result URLs come from a provider's answer, and the file is re-posted publicly; a URL naming the
bot's own machine or network (``http://127.0.0.1/…``, ``169.254.169.254``, ``10.…``) must never
be fetched. The address is checked where the connection is made: a resolver that refuses names
resolving to anything but public addresses, on a session of its own, so DNS tricks (a public name
pointing inside) and redirects (each hop is followed by hand and checked again) are covered too.

Production builds a :class:`Downloader` with :meth:`Downloader.from_settings`, which can only turn
plain http on (``ALLOW_HTTP_DOWNLOADS``); which addresses count as reachable is not a setting.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

if TYPE_CHECKING:
    from bot.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Whether a connection to this address may be made.
AddressCheck = Callable[[IPAddress], bool]

#: Redirects followed for one file, each checked like the first URL.
MAX_REDIRECTS = 3
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024

#: Ranges ``is_global`` lets through (or, in some Python versions, gets wrong) that are not
#: reachable Internet hosts.
_NOT_PUBLIC = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network"
        "100.64.0.0/10",  # carrier-grade NAT
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
        "240.0.0.0/4",  # reserved, and the broadcast address
        "64:ff9b:1::/48",  # local-use NAT64
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
    )
)
#: IPv6 ranges that carry an IPv4 address in their last 32 bits (checked as that address).
_EMBEDS_IPV4 = tuple(ipaddress.ip_network(net) for net in ("::/96", "64:ff9b::/96"))


def is_public_address(address: IPAddress | str) -> bool:
    """Whether ``address`` is a public unicast Internet address.

    Not: loopback, private, link-local, multicast, reserved, unspecified, carrier-grade NAT,
    nor an IPv6 form of one of those (IPv4-mapped, IPv4-compatible, 6to4, NAT64).
    """
    try:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return False
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and any(ip in net for net in _EMBEDS_IPV4):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:  # reaches (or names) that IPv4 address: judged as it
            return is_public_address(embedded)
    return (
        ip.is_global
        and not ip.is_multicast
        and not ip.is_reserved
        and not ip.is_unspecified
        and not ip.is_loopback
        and not ip.is_link_local
        and not ip.is_private
        and not any(ip in net for net in _NOT_PUBLIC)
    )


class RefusedAddressError(OSError):
    """A host resolved to an address downloads may not connect to."""


class PublicOnlyResolver(AbstractResolver):
    """Wraps a resolver; a name with any address ``allow`` refuses raises :class:`RefusedAddressError`.

    A refused name is refused as a whole (not narrowed to its other addresses): a result CDN
    never mixes public and private addresses.
    """

    def __init__(
        self, inner: AbstractResolver | None = None, *, allow: AddressCheck = is_public_address
    ) -> None:
        self._inner = inner if inner is not None else aiohttp.DefaultResolver()
        self._allow = allow

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            try:
                ip = ipaddress.ip_address(result["host"])
            except ValueError:
                raise RefusedAddressError(f"{host} resolved to {result['host']!r}") from None
            if not self._allow(ip):
                raise RefusedAddressError(f"{host} resolves to {ip}, which is not public")
        if not results:
            raise OSError(f"{host} has no address")
        return results

    async def close(self) -> None:
        await self._inner.close()


class DownloadOutcome(StrEnum):
    #: The whole file is at ``Download.path``.
    SAVED = "saved"
    #: Larger than the limit: announced so, or it went past it while streaming (nothing kept).
    TOO_LARGE = "too_large"
    #: Not fetched, by policy: scheme, address, or too many redirects. No connection was made
    #: to the refused address.
    REFUSED = "refused"
    #: Tried, and it did not work (HTTP error, connection or timeout).
    FAILED = "failed"


@dataclass(frozen=True)
class Download:
    """What became of one URL."""

    url: str
    outcome: DownloadOutcome
    path: Path | None = None
    #: Bytes saved (SAVED) or announced by the server (TOO_LARGE), where known.
    size: int | None = None
    content_type: str | None = None
    #: Why it was refused or failed, for the log (never shown to members).
    detail: str = ""


class Downloader:
    """Fetches result files over a session of its own whose resolver refuses non-public hosts.

    ``allow_http`` admits plain http (``ALLOW_HTTP_DOWNLOADS``, for local test servers);
    ``allow_address`` decides which addresses may be connected to. Tests pass one admitting
    loopback, or a fake ``resolver``; :meth:`from_settings` never does.
    """

    def __init__(
        self,
        *,
        allow_http: bool = False,
        timeout: float = 30.0,
        max_redirects: int = MAX_REDIRECTS,
        allow_address: AddressCheck = is_public_address,
        resolver: AbstractResolver | None = None,
    ) -> None:
        self.allow_http = allow_http
        self.max_redirects = max_redirects
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
        self._allow = allow_address
        self._resolver = resolver
        self._session: aiohttp.ClientSession | None = None
        self._public_only: PublicOnlyResolver | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Downloader:
        """The production downloader: public addresses only; http only if the setting says so."""
        return cls(allow_http=settings.allow_http_downloads, timeout=settings.http_timeout_seconds)

    def refusal(self, url: str | URL) -> str | None:
        """Why ``url`` may not be fetched before any connection (scheme, host, IP literal), or None.

        Names are checked when resolved; literal addresses never reach a resolver, so here.
        """
        try:
            parsed = URL(url) if isinstance(url, str) else url
            host = parsed.host
        except (ValueError, TypeError):
            return "not a URL"
        schemes = ("https", "http") if self.allow_http else ("https",)
        if parsed.scheme not in schemes:
            return f"scheme {parsed.scheme or '(none)'} is not allowed"
        if not host:
            return "no host"
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            # aiohttp takes an all-digit host ("2130706433", "127.1") for an address too.
            if host.replace(".", "").isdigit() or ":" in host:
                return f"{host} is not a plain address"
            return None
        return None if self._allow(ip) else f"{ip} is not a public address"

    async def fetch(self, url: str, *, limit: int, place: Callable[[str | None], Path]) -> Download:
        """Stream ``url`` to the file ``place(content_type)`` names, at most ``limit`` bytes.

        Never raises for the URL's sake: every problem is an outcome. A partial file is removed.
        """
        current = URL(url) if _parses(url) else None
        if current is None:
            return Download(url, DownloadOutcome.REFUSED, detail="not a URL")
        for _hop in range(self.max_redirects + 1):
            refused = self.refusal(current)
            if refused:
                return Download(url, DownloadOutcome.REFUSED, detail=refused)
            try:
                async with self._client().get(current, allow_redirects=False) as response:
                    if response.status in _REDIRECT_STATUSES:
                        location = response.headers.get("Location")
                        if not location:
                            return Download(url, DownloadOutcome.FAILED, detail="empty redirect")
                        current = response.url.join(URL(location))
                        continue
                    if response.status != 200:
                        return Download(
                            url, DownloadOutcome.FAILED, detail=f"HTTP {response.status}"
                        )
                    return await _save(url, response, limit, place)
            except aiohttp.ClientConnectorError as error:
                if isinstance(error.os_error, RefusedAddressError):
                    return Download(url, DownloadOutcome.REFUSED, detail=str(error.os_error))
                return Download(url, DownloadOutcome.FAILED, detail=repr(error))
            except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as error:
                return Download(url, DownloadOutcome.FAILED, detail=repr(error))
        return Download(url, DownloadOutcome.REFUSED, detail="too many redirects")

    async def aclose(self) -> None:
        """Close the session (a later ``fetch`` opens a new one)."""
        session, self._session = self._session, None
        resolver, self._public_only = self._public_only, None
        if session is not None:
            await session.close()
        if resolver is not None:  # a connector closes only a resolver it made itself
            await resolver.close()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if self._public_only is None:
                self._public_only = PublicOnlyResolver(self._resolver, allow=self._allow)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=self._public_only, limit_per_host=4),
                timeout=self._timeout,
                # No proxy from the environment: the address checked must be the one connected to.
                trust_env=False,
                # The cap counts the bytes of the file, not of a compressed stream.
                headers={"Accept-Encoding": "identity"},
                connector_owner=True,
            )
        return self._session


def _parses(url: str) -> bool:
    try:
        URL(url)
    except (ValueError, TypeError):
        return False
    return True


async def _save(
    url: str, response: aiohttp.ClientResponse, limit: int, place: Callable[[str | None], Path]
) -> Download:
    content_type = response.content_type
    announced = response.content_length
    if announced is not None and announced > limit:
        response.close()
        return Download(url, DownloadOutcome.TOO_LARGE, size=announced, content_type=content_type)
    path = place(content_type)
    size = 0
    try:
        with path.open("wb") as out:
            async for chunk in response.content.iter_chunked(_CHUNK):
                size += len(chunk)
                if size > limit:
                    response.close()  # stop the transfer, not just the reading
                    break
                out.write(chunk)
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    if size > limit:
        with contextlib.suppress(OSError):
            path.unlink()
        return Download(url, DownloadOutcome.TOO_LARGE, content_type=content_type)
    return Download(url, DownloadOutcome.SAVED, path=path, size=size, content_type=content_type)
