"""Server settings (/settings) and the server's jobs as its limits and usage read them."""

from __future__ import annotations

from bot.storage import (
    AllowedKind,
    CreditCap,
    Database,
    Destination,
    GuildSettingsStore,
    JobState,
    JobStore,
    server_key_owner,
    sponsor_guild,
)

GUILD = 700
REQUEST = {"prompt": "A lighthouse in fog", "duration": 5}


async def test_settings_round_trip_and_go_back_to_the_defaults(database: Database) -> None:
    store = GuildSettingsStore(database, clock=lambda: 5.0)

    await store.update(GUILD, max_running_per_user=2, max_jobs_per_day=9, private_results=True)
    assert await store.allow(GUILD, AllowedKind.CHANNEL, "11")
    assert not await store.allow(GUILD, AllowedKind.CHANNEL, "11")
    await store.allow(GUILD, AllowedKind.ROLE, "22")
    await store.allow(GUILD, AllowedKind.MODEL, "seedance")
    await store.set_credit_cap(GUILD, CreditCap("seed2", per_member=100))
    settings = await store.get(GUILD)

    assert settings.max_running_per_user == 2
    assert settings.max_waiting_per_user is None
    assert settings.max_jobs_per_day == 9
    assert settings.private_results
    assert settings.channels == {11}
    assert settings.roles == {22}
    assert settings.models == {"seedance"}
    assert settings.credit_caps == {"seed2": CreditCap("seed2", 100, None)}
    assert await store.running_caps() == {GUILD: 2}
    assert (await store.get(GUILD + 1)).channels == frozenset(), "other servers unaffected"

    await store.update(GUILD, max_running_per_user=None, private_results=False)
    assert await store.disallow(GUILD, AllowedKind.CHANNEL, "11")
    assert await store.clear(GUILD, AllowedKind.MODEL) == 1
    await store.set_credit_cap(GUILD, CreditCap("seed2"))
    settings = await store.get(GUILD)

    assert settings.max_running_per_user is None
    assert settings.max_jobs_per_day == 9, "only what was given changes"
    assert not settings.private_results
    assert settings.channels == frozenset()
    assert settings.models == frozenset()
    assert settings.credit_caps == {}
    assert await store.running_caps() == {}


async def test_whose_key_pays_and_privacy_are_kept_with_the_job(database: Database) -> None:
    jobs = JobStore(database)
    payer = server_key_owner(GUILD)

    job = await jobs.create(
        owner_id=1,
        provider="seed2",
        endpoint="seed2",
        request=REQUEST,
        destination=Destination(guild_id=GUILD, channel_id=3, message_id=4, private=True),
        paid_by=payer,
    )
    again = await jobs.get(job.id)

    assert again is not None
    assert again.paid_by == payer
    assert again.key_owner == payer
    assert again.sponsor_guild_id == GUILD
    assert sponsor_guild(payer) == GUILD
    assert sponsor_guild(1) is None
    assert again.destination.private
    own = await jobs.create(owner_id=1, provider="seed2", endpoint="seed2", request=REQUEST)
    assert (own.key_owner, own.sponsor_guild_id, own.destination.private) == (1, None, False)


async def test_usage_sums_jobs_and_net_credits_per_member_and_period(database: Database) -> None:
    now = [1_000_000.0]
    jobs = JobStore(database, clock=lambda: now[0])
    where = Destination(guild_id=GUILD)

    async def made(owner: int, *, days_ago: float, charged: int | None, refunded: int = 0,
                   state: JobState = JobState.DELIVERED, paid_by: int | None = None) -> None:  # fmt: skip
        now[0] = 1_000_000.0 - days_ago * 86_400
        job = await jobs.create(
            owner_id=owner, provider="seed2", endpoint="seed2", request=REQUEST,
            destination=where, paid_by=paid_by,
        )  # fmt: skip
        await jobs.update(
            job.id, state=state, credits_charged=charged, credits_refunded=refunded or None
        )

    await made(1, days_ago=1, charged=100)
    await made(1, days_ago=10, charged=300, refunded=300)  # failed and refunded
    await made(1, days_ago=20, charged=50, paid_by=server_key_owner(GUILD))
    await made(1, days_ago=2, charged=None, state=JobState.CANCELLED)  # never sent
    await made(2, days_ago=3, charged=70)
    await made(2, days_ago=40, charged=999)  # too old
    now[0] = 1_000_000.0

    rows = await jobs.guild_usage(GUILD, now[0] - 7 * 86_400, now[0] - 30 * 86_400)

    by_owner = {row.owner_id: row for row in rows}
    assert [row.owner_id for row in rows] == [1, 2], "busiest first"
    assert by_owner[1].jobs == (1, 3)
    assert by_owner[1].credits == (100, 150)
    assert by_owner[1].sponsored_jobs == (0, 1)
    assert by_owner[1].sponsored_credits == (0, 50)
    assert by_owner[2].jobs == (1, 1)
    assert by_owner[2].credits == (70, 70)
    assert await jobs.guild_usage(GUILD + 1, 0.0, 0.0) == []
