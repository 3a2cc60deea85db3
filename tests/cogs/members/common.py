"""What the members' feature tests share: keys, and reading back what a member saw or pressed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.app import SeedanceBot
from bot.storage import Job
from tests.cogs.bots import buttons
from tests.discord.fake import FakeDiscord
from tests.discord.payloads import Payload, component_interaction, modal_submit_interaction
from tests.discord.world import EPHEMERAL

KEY = "sk_live_members_alice_key_0001"
BOB_KEY = "sk_live_members_bob_key_00002"
PROMPT = "A heron stepping through shallow reeds at dawn, slow dolly shot, mist on the water"


def private_embeds(fake: FakeDiscord, interaction: Payload) -> list[Payload]:
    """The embeds of the ephemeral answers to ``interaction``."""
    found: list[Payload] = []
    for callback in fake.callbacks_for(interaction):
        data = callback.data or {}
        if callback.type == 4 and data.get("flags", 0) & EPHEMERAL:
            found += data.get("embeds", [])
    return found


def embed_text(embed: Mapping[str, Any]) -> str:
    parts = [str(embed.get("title", "")), str(embed.get("description", ""))]
    for field in embed.get("fields", []):
        parts += [field["name"], field["value"]]
    parts.append(str(embed.get("footer", {}).get("text", "")))
    return "\n".join(parts)


def card_of(fake: FakeDiscord, job: Job) -> Payload:
    """The job's status card as Discord shows it now."""
    return fake.world.messages[str(job.destination.message_id)]


def click(fake: FakeDiscord, message: Payload, label: str, user: Payload | None = None) -> Payload:
    """``user`` (the member by default) presses the button labelled ``label`` under ``message``."""
    return component_interaction(
        message,
        buttons(message)[label],
        channel=fake.channel(message["channel_id"]),
        user=user or fake.member_user,
    )


def form_inputs(form: Payload) -> dict[str, Payload]:
    """The text inputs of a form the bot answered with, by label."""
    inputs = [c for row in form["components"] for c in row["components"]]
    return {c["label"]: c for c in inputs}


def submit_form(
    fake: FakeDiscord,
    form: Payload,
    changes: Mapping[str, str],
    *,
    channel: Payload,
    user: Payload | None = None,
) -> Payload:
    """The member sends ``form`` with each input as pre-filled, except those in ``changes``
    (by label)."""
    rows = [
        {
            "type": 1,
            "components": [
                {
                    "type": 4,
                    "custom_id": c["custom_id"],
                    "value": changes.get(c["label"], c.get("value", "")),
                }
            ],
        }
        for c in form_inputs(form).values()
    ]
    return modal_submit_interaction(
        form["custom_id"], components=rows, channel=channel, user=user or fake.member_user
    )


async def result_post(fake: FakeDiscord, job: Job, within: float = 10.0) -> Payload:
    """The message with ``job``'s result (the one with its Details button)."""

    def post() -> Payload | None:
        wanted = f"job:details:{job.id}"
        return next(
            (m for m in fake.world.messages.values() if wanted in buttons(m).values()), None
        )

    return await fake.wait_for(post, within=within)


async def jobs_of(bot: SeedanceBot, user_id: int) -> list[Job]:
    """The member's jobs, oldest first."""
    return list(reversed(await bot.jobs.recent_for_user(user_id, limit=100)))
