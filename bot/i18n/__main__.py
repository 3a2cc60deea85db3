"""``python -m bot.i18n``: add new texts to the catalogs, drop gone ones (see :mod:`bot.i18n.extract`)."""

from __future__ import annotations

import asyncio

from bot.i18n.extract import PROJECT, update


def main() -> None:
    changed = asyncio.run(update())
    for path in changed:
        print(f"updated {path.relative_to(PROJECT)}")
    if not changed:
        print("catalogs up to date")


if __name__ == "__main__":
    main()
