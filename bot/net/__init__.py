"""Network helpers that are neither a provider API nor Discord."""

from bot.net.downloads import (
    AddressCheck,
    Download,
    Downloader,
    DownloadOutcome,
    PublicOnlyResolver,
    RefusedAddressError,
    is_public_address,
)

__all__ = [
    "AddressCheck",
    "Download",
    "DownloadOutcome",
    "Downloader",
    "PublicOnlyResolver",
    "RefusedAddressError",
    "is_public_address",
]
