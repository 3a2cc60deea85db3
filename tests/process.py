"""``python -m bot`` as its own process, as users start it, for tests that drive the real program."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bot.settings import Settings
from tests.discord.fake import FakeDiscord
from tests.discord.payloads import BOT_TOKEN

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def bot_environment(fake: FakeDiscord | None, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh deployment: no setting inherited from the test run."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env.update(
        PYTHONPATH=str(PROJECT_ROOT),
        DISCORD_TOKEN=BOT_TOKEN,
        DATABASE_PATH=str(data_dir / "bot.sqlite3"),
        LOG_LEVEL="INFO",
    )
    if fake is not None:
        env["DISCORD_API_URL"] = fake.api_url
        env["DISCORD_GATEWAY_URL"] = fake.url.replace("http://", "ws://") + "/gateway"
    env.update(extra)
    return env


@dataclass
class BotProcess:
    """A running ``python -m bot`` whose stderr is read line by line as it comes."""

    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, cwd: Path, env: dict[str, str]) -> BotProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        bot = cls(process)
        bot._reader = asyncio.create_task(bot._read())
        return bot

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    async def wait_for_line(self, pattern: str, *, within: float = 30.0) -> str:
        """The first stderr line matching ``pattern``; fails with what was logged if none comes."""
        regex = re.compile(pattern)
        try:
            async with asyncio.timeout(within):
                while True:
                    for line in self.lines:
                        if regex.search(line):
                            return line
                    if self.process.returncode is not None and self._reader_done():
                        break
                    await asyncio.sleep(0.05)
        except TimeoutError:
            pass
        raise AssertionError(f"no line matching {pattern!r}; the bot logged:\n{self.stderr}")

    def _reader_done(self) -> bool:
        return self._reader is not None and self._reader.done()

    async def stop(self, signum: int = signal.SIGTERM, *, within: float = 30.0) -> int:
        """Send ``signum`` and wait for the exit code."""
        if self.process.returncode is None:
            self.process.send_signal(signum)
        return await self.wait(within=within)

    async def wait(self, *, within: float = 60.0) -> int:
        try:
            async with asyncio.timeout(within):
                code = await self.process.wait()
                if self._reader is not None:
                    await self._reader
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(f"the bot did not exit within {within}s:\n{self.stderr}") from None
        return code
