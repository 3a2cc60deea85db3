"""The real bot on the provider fakes, as the cog tests drive it: started with fast polling and
retries, asked slash commands by the fake Discord's member, waited on until a job settles, and
read back as the member saw it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from bot.app import SeedanceBot
from bot.jobs import EngineConfig, PollPlan
from bot.models import Provider
from bot.providers import RetryPolicy, build_clients
from bot.storage import Job, JobState
from tests.clock import eventually
from tests.discord.fake import FakeDiscord
from tests.discord.fixtures import MakeSeedanceBot
from tests.discord.payloads import Payload, modal_submit_interaction, slash_command_interaction
from tests.discord.world import EPHEMERAL

#: Polls as fast as the test allows: the fakes finish a task on its second poll.
FAST = EngineConfig(
    plan=PollPlan.every(0.05),
    delivery_retry_delay=0.05,
)
#: Client retries that give up quickly.
FAST_RETRY = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02)

#: ``await start()`` or ``await start(config)``: a logged-in bot.
Start = Callable[..., Awaitable[SeedanceBot]]


@asynccontextmanager
async def bots_on(
    make_seedance_bot: MakeSeedanceBot, urls: Mapping[Provider, str]
) -> AsyncIterator[Start]:
    """Starts bots whose provider clients reach ``urls``; a second bot is a restart on the same
    database. They are closed before their clients' HTTP session: a running engine uses it."""
    async with aiohttp.ClientSession() as session:
        made: list[SeedanceBot] = []

        async def start(config: EngineConfig = FAST) -> SeedanceBot:
            clients = build_clients(session, urls, timeout=5.0, retry=FAST_RETRY)
            made.append(await make_seedance_bot(clients=clients, engine_config=config))
            return made[-1]

        yield start
        for bot in made:
            if not bot.is_closed():
                await bot.close()


def member(fake: FakeDiscord) -> int:
    return int(fake.member_user["id"])


def command(
    fake: FakeDiscord,
    name: str,
    *,
    subcommand: str | None = None,
    user: Payload | None = None,
    **options: Any,
) -> Payload:
    """``/name [subcommand] options...`` asked by ``user`` (the member) in the text channel."""
    return slash_command_interaction(
        name,
        options=options,
        subcommand=subcommand,
        channel=fake.text_channel,
        user=user or fake.member_user,
    )


def video(fake: FakeDiscord, user: Payload | None = None, **options: Any) -> Payload:
    return command(fake, "video", user=user, **options)


def image(fake: FakeDiscord, user: Payload | None = None, **options: Any) -> Payload:
    return command(fake, "image", user=user, **options)


def prompt_form_submit(fake: FakeDiscord, form: Payload, parts: Sequence[str]) -> Payload:
    """The member sends the long-prompt ``form`` (the modal a command answered with), each of
    its text inputs filled with one of ``parts``."""
    inputs = [c for row in form["components"] for c in row["components"]]
    rows = [
        {"type": 1, "components": [{"type": 4, "custom_id": c["custom_id"], "value": text}]}
        for c, text in zip(inputs, parts, strict=True)
    ]
    return modal_submit_interaction(
        form["custom_id"], components=rows, channel=fake.text_channel, user=fake.member_user
    )


def buttons(message: Payload) -> dict[str, str]:
    """The custom id of each button under ``message``, by its label."""
    return {
        c["label"]: c["custom_id"]
        for row in message.get("components", [])
        for c in row.get("components", [])
        if c.get("custom_id")
    }


def ephemeral_texts(fake: FakeDiscord, interaction: Payload) -> list[str]:
    """Everything the member alone saw in answer to ``interaction``: callbacks and follow-ups."""
    texts = [
        str(c.data.get("content"))
        for c in fake.callbacks_for(interaction)
        if c.type == 4 and c.data and c.data.get("flags", 0) & EPHEMERAL
    ]
    record = fake.world.interactions[interaction["token"]]
    for message_id in record.message_ids:
        message = fake.world.messages.get(message_id)
        if message is not None and message["flags"] & EPHEMERAL:
            texts.append(message["content"])
    return list(dict.fromkeys(texts))


async def settled(bot: SeedanceBot, job_id: int, *states: JobState, within: float = 10.0) -> Job:
    """Job ``job_id`` once it is in one of ``states`` (fails after ``within`` seconds)."""

    async def reached() -> Job | None:
        job = await bot.jobs.get(job_id)
        return job if job is not None and job.state in states else None

    return await eventually(reached, within=within)
