"""Private results (/preferences): a member's status cards and results go to their DMs, not the
channel; the stricter of the server's setting and the member's own decides.

The real cogs and engine on SQLite, the seedance2ai fake, and the fake Discord.
"""

from __future__ import annotations

import pytest

from bot.storage import JobState
from cogs.generate._preferences import results_private
from tests.cogs.bots import EPHEMERAL, Start, command, ephemeral_texts, member, settled, video
from tests.cogs.members.common import KEY, PROMPT, card_of, jobs_of, result_post
from tests.discord.fake import FakeDiscord
from tests.discord.harness import dispatch
from tests.fakes.seedance2ai import FakeSeedance2AI


@pytest.mark.parametrize(
    ("server", "member_pref", "private"),
    [
        (None, None, False),  # a server without the setting is public
        (False, None, False),
        (False, False, False),
        (False, True, True),
        (True, False, True),
        (True, None, True),
        (None, True, True),
    ],
)
def test_the_stricter_of_server_and_member_wins(
    server: bool | None, member_pref: bool | None, private: bool
) -> None:
    assert results_private(server, member_pref) is private


async def test_a_member_who_wants_private_results_gets_card_and_result_by_dm(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    alice = member(discord_fake)
    await bot.keys.link(alice, "seedance2ai", KEY)
    await dispatch(
        bot, command(discord_fake, "preferences", subcommand="set", private_results=True)
    )

    ask = video(discord_fake, prompt=PROMPT, model="seedance2")
    await dispatch(bot, ask)

    [job] = await jobs_of(bot, alice)
    job = await settled(bot, job.id, JobState.DELIVERED)
    dm = discord_fake.dm_channel(discord_fake.member_user)
    assert job.destination.private
    assert job.destination.channel_id == int(dm["id"])
    assert card_of(discord_fake, job)["channel_id"] == dm["id"]
    post = await result_post(discord_fake, job)
    assert post["channel_id"] == dm["id"]
    [told] = ephemeral_texts(discord_fake, ask)
    assert "private" in told
    assert "DMs" in told
    public = [
        m for m in discord_fake.messages_in(discord_fake.text_channel) if not m["flags"] & EPHEMERAL
    ]
    assert public == []
    assert discord_fake.threads_of(discord_fake.text_channel) == []
    assert len(provider.posts()) == 1

    # Turned off again: back in the channel.
    await dispatch(
        bot, command(discord_fake, "preferences", subcommand="set", private_results=False)
    )
    await dispatch(bot, video(discord_fake, prompt=PROMPT, model="seedance2"))
    second = (await jobs_of(bot, alice))[-1]
    second = await settled(bot, second.id, JobState.DELIVERED)
    assert not second.destination.private
    assert card_of(discord_fake, second)["channel_id"] == discord_fake.text_channel["id"]
