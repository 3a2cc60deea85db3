"""Result downloads: public https hosts only, checked where the connection is made (8.4).

A local server on 127.0.0.1 counts every request, so "refused" also means "never connected".
A fake resolver makes public-looking names point at private addresses.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from pydantic import SecretStr

from bot.net import Download, Downloader, DownloadOutcome, is_public_address
from bot.settings import Settings

LOOPBACK = ipaddress.ip_address("127.0.0.1")
BODY = bytes(range(256)) * 40  # 10,240 bytes


class FakeResolver(AbstractResolver):
    """Answers from a table, as DNS would: ``{"cdn.example": "10.0.0.7"}``."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        if host not in self.names:
            raise OSError(f"no such host {host}")
        ip = self.names[host]
        kind = socket.AF_INET6 if ":" in ip else socket.AF_INET
        return [
            {"hostname": host, "host": ip, "port": port, "family": kind, "proto": 0, "flags": 0}
        ]

    async def close(self) -> None:
        pass


@dataclass
class Server:
    port: int = 0
    hits: list[str] = field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()

    async def file(request: web.Request) -> web.StreamResponse:
        state.hits.append(request.path)
        return web.Response(body=BODY, content_type="image/png")

    async def chunked(request: web.Request) -> web.StreamResponse:
        state.hits.append(request.path)
        response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(8):
            await response.write(BODY)
        await response.write_eof()
        return response

    async def redirect(request: web.Request) -> web.StreamResponse:
        state.hits.append(request.path)
        raise web.HTTPFound(request.query["to"])

    async def hop(request: web.Request) -> web.StreamResponse:
        state.hits.append(request.path)
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"/hop/{n + 1}" if n < 10 else "/file.png")

    app = web.Application()
    app.router.add_get("/file.png", file)
    app.router.add_get("/chunked.mp4", chunked)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/hop/{n}", hop)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield state
    await runner.cleanup()


def place_in(
    directory: Path, calls: list[str | None] | None = None
) -> Callable[[str | None], Path]:
    def place(content_type: str | None) -> Path:
        if calls is not None:
            calls.append(content_type)
        return directory / "result.bin"

    return place


def files_in(directory: Path) -> list[Path]:
    return list(directory.iterdir())


async def fetch(downloader: Downloader, url: str, tmp_path: Path, limit: int = 1 << 20) -> Download:
    try:
        return await downloader.fetch(url, limit=limit, place=place_in(tmp_path))
    finally:
        await downloader.aclose()


# -- which addresses are public ------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.8.9.10", "10.0.0.7", "172.16.5.4", "192.168.1.1", "169.254.169.254",
        "100.64.0.1", "100.127.255.254", "0.0.0.0", "224.0.0.1"  # noqa: S104, "239.255.255.250",
        "255.255.255.255", "240.0.0.1", "198.18.0.1", "192.0.0.8", "192.0.2.1",
        "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "2001:db8::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1",
        "2002:7f00:1::1", "2002:a9fe:a9fe::1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::1",
        "fe80::1%eth0", "not an address",
    ],
)  # fmt: skip
def test_private_and_special_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"],
)
def test_internet_addresses_are_public(address: str) -> None:
    assert is_public_address(address)


# -- refused before any connection -----------------------------------------------------------------


@pytest.mark.parametrize(
    "resolved", ["127.0.0.1", "10.0.0.7", "169.254.169.254", "::1", "::ffff:127.0.0.1", "100.64.1.1", "fd00::5"]
)  # fmt: skip
async def test_a_public_looking_name_resolving_to_a_private_address_is_refused(
    server: Server, tmp_path: Path, resolved: str
) -> None:
    resolver = FakeResolver({"cdn.example": resolved})
    downloader = Downloader(allow_http=True, resolver=resolver)

    got = await fetch(downloader, server.url("/file.png", host="cdn.example"), tmp_path)

    assert got.outcome is DownloadOutcome.REFUSED
    assert "not public" in got.detail
    assert resolver.asked == ["cdn.example"]
    assert server.hits == []
    assert files_in(tmp_path) == []


async def test_the_real_resolver_is_checked_too(server: Server, tmp_path: Path) -> None:
    got = await fetch(Downloader(allow_http=True), server.url("/file.png", "localhost"), tmp_path)

    assert got.outcome is DownloadOutcome.REFUSED
    assert server.hits == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/file.png",
        "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "https://10.0.0.1/x.png",
        "https://192.168.0.10/x.png",
        "https://[::1]:{port}/file.png",
        "https://[::ffff:127.0.0.1]:{port}/file.png",
        "http://2130706433:{port}/file.png",
        "http://127.1:{port}/file.png",
        "https://0.0.0.0/x.png",
    ],
)
async def test_literal_private_addresses_are_refused(
    server: Server, tmp_path: Path, url: str
) -> None:
    resolver = FakeResolver({})
    downloader = Downloader(allow_http=True, resolver=resolver)

    got = await fetch(downloader, url.format(port=server.port), tmp_path)

    assert got.outcome is DownloadOutcome.REFUSED
    assert server.hits == []


def only_loopback(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Stands in for "public" so the local server can play a CDN: 127.0.0.1 and nothing else."""
    return ip == LOOPBACK


async def test_plain_http_is_refused_unless_the_setting_allows_it(
    server: Server, tmp_path: Path
) -> None:
    off = Downloader(allow_http=False, allow_address=only_loopback)
    got = await fetch(off, server.url("/file.png"), tmp_path)
    assert got.outcome is DownloadOutcome.REFUSED
    assert "scheme http" in got.detail
    assert server.hits == []
    for scheme in ("ftp", "file", "data", "ws"):
        assert off.refusal(f"{scheme}://cdn.example/x.png") is not None
    assert off.refusal("https://cdn.example/x.png") is None

    on = Downloader(allow_http=True, allow_address=only_loopback)
    got = await fetch(on, server.url("/file.png"), tmp_path)
    assert got.outcome is DownloadOutcome.SAVED
    assert got.path is not None
    assert got.path.read_bytes() == BODY
    assert got.content_type == "image/png"


def test_the_setting_is_off_by_default_and_cannot_admit_private_addresses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ALLOW_HTTP_DOWNLOADS", raising=False)
    strict = Downloader.from_settings(Settings(_env_file=None, discord_token=SecretStr("t")))
    assert strict.allow_http is False
    assert strict.refusal("http://cdn.example/x.png") is not None
    monkeypatch.setenv("ALLOW_HTTP_DOWNLOADS", "true")
    relaxed = Downloader.from_settings(Settings(_env_file=None, discord_token=SecretStr("t")))
    assert relaxed.allow_http is True
    assert relaxed.refusal("http://127.0.0.1/x.png") is not None
    assert relaxed.refusal("http://[::1]/x.png") is not None


# -- redirects -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "http://internal.example/secret.png",  # a name resolving to 10.0.0.5
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/file.png",
        "http://localhost.example:{port}/file.png",  # a name resolving to ::1
        "ftp://cdn.example/file.png",
    ],
)
async def test_a_redirect_into_the_private_network_is_refused(
    server: Server, tmp_path: Path, target: str
) -> None:
    resolver = FakeResolver(
        {"cdn.example": "127.0.0.1", "internal.example": "10.0.0.5", "localhost.example": "::1"}
    )
    downloader = Downloader(allow_http=True, allow_address=only_loopback, resolver=resolver)
    start = server.url("/redirect", "cdn.example")

    got = await downloader.fetch(
        f"{start}?to={target.format(port=server.port)}", limit=1 << 20, place=place_in(tmp_path)
    )
    await downloader.aclose()

    assert got.outcome is DownloadOutcome.REFUSED
    assert server.hits == ["/redirect"], "the public-looking hop only"


async def test_a_redirect_to_a_public_place_is_followed(server: Server, tmp_path: Path) -> None:
    resolver = FakeResolver({"cdn.example": "127.0.0.1", "files.example": "127.0.0.1"})
    downloader = Downloader(allow_http=True, allow_address=only_loopback, resolver=resolver)
    target = server.url("/file.png", "files.example")

    got = await fetch(downloader, server.url(f"/redirect?to={target}", "cdn.example"), tmp_path)

    assert got.outcome is DownloadOutcome.SAVED
    assert server.hits == ["/redirect", "/file.png"]
    assert resolver.asked == ["cdn.example", "files.example"]


async def test_at_most_three_redirects_are_followed(server: Server, tmp_path: Path) -> None:
    downloader = Downloader(allow_http=True, allow_address=only_loopback)

    got = await fetch(downloader, server.url("/hop/1"), tmp_path)

    assert got.outcome is DownloadOutcome.REFUSED
    assert got.detail == "too many redirects"
    assert server.hits == ["/hop/1", "/hop/2", "/hop/3", "/hop/4"]


# -- the byte cap ----------------------------------------------------------------------------------


async def test_an_announced_size_over_the_cap_is_not_downloaded(
    server: Server, tmp_path: Path
) -> None:
    downloader = Downloader(allow_http=True, allow_address=only_loopback)
    placed: list[str | None] = []

    got = await downloader.fetch(
        server.url("/file.png"), limit=len(BODY) - 1, place=place_in(tmp_path, placed)
    )
    await downloader.aclose()

    assert got.outcome is DownloadOutcome.TOO_LARGE
    assert got.size == len(BODY)
    assert placed == [], "no file was even opened"
    assert files_in(tmp_path) == []


async def test_a_stream_going_over_the_cap_stops_and_leaves_nothing(
    server: Server, tmp_path: Path
) -> None:
    downloader = Downloader(allow_http=True, allow_address=only_loopback)

    got = await fetch(downloader, server.url("/chunked.mp4"), tmp_path, limit=3 * len(BODY))

    assert got.outcome is DownloadOutcome.TOO_LARGE
    assert got.size is None
    assert files_in(tmp_path) == []

    exact = Downloader(allow_http=True, allow_address=only_loopback)
    got = await fetch(exact, server.url("/chunked.mp4"), tmp_path, limit=8 * len(BODY))
    assert got.outcome is DownloadOutcome.SAVED
    assert got.size == 8 * len(BODY)
