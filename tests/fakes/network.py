"""Network failures no fake can play itself: an address where nobody listens."""

from __future__ import annotations

import socket
from typing import Any

import aiohttp


def closed_url() -> str:
    """``http://127.0.0.1:PORT`` on a port nobody listens on: a connection there is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


class RefuseFirstConnections:
    """An HTTP session whose first ``count`` requests go to :func:`closed_url`: each is refused
    before anything leaves, as when the provider is down."""

    def __init__(self, session: aiohttp.ClientSession, count: int) -> None:
        self._session = session
        self.count = count
        self._closed = closed_url()

    def request(self, method: str, url: str, **options: Any) -> Any:
        if self.count > 0:
            self.count -= 1
            url = self._closed + "/" + url.split("/", 3)[-1]
        return self._session.request(method, url, **options)
