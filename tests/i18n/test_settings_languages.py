"""/settings, the server's rules, /jobs and /preferences in the readers' languages, end to end
through the Discord fake: an admin reads /settings in their Discord language, a member is
refused by a rule in theirs, the audit channel reads in the server's; and every answer fits one
Discord message however long its lists and numbers get.

The real cogs and engine on SQLite, the seedance2ai fake, and the fake Discord.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import discord
import pytest

from bot.app import SeedanceBot
from bot.i18n import enumeration, t, tn
from bot.models import Provider
from bot.storage import (
    CreditCap,
    DeliveryState,
    Destination,
    GuildSettings,
    GuildSettingsStore,
    Job,
    JobState,
    LinkedKey,
    MemberPreferences,
    MemberUsage,
    server_key_owner,
)
from cogs.jobs import list_embed, stats_embed
from cogs.preferences import show_embed
from cogs.settings import audit_line, describe_settings, describe_usage
from cogs.settings._rules import LISTED_MAX
from tests.cogs.bots import Start, bots_on, ephemeral_texts, settled
from tests.cogs.members.common import private_embeds
from tests.cogs.settings.admin import ADMIN_PERMISSIONS, add_role, add_text_channel, role_option
from tests.discord.fake import FakeDiscord
from tests.discord.fixtures import MakeSeedanceBot
from tests.discord.harness import dispatch
from tests.discord.payloads import MEMBER_PERMISSIONS, Payload, slash_command_interaction
from tests.fakes.seedance2ai import FakeSeedance2AI

KEY = "sk_live_settings_languages_0001"
SERVER_KEY = "sk_live_settings_languages_S3rv"
PROMPT = "A lighthouse keeper climbing the spiral stairs at dusk, handheld camera"
LOCALES = ("en-US", "nl", "ja", "zh-CN")
#: Discord's limits: message content, embed description, field value, all of a message's embeds.
CONTENT_MAX = 2000
DESCRIPTION_MAX = 4096
FIELD_MAX = 1024
EMBEDS_MAX = 6000


@pytest.fixture
async def provider() -> AsyncIterator[FakeSeedance2AI]:
    async with FakeSeedance2AI(keys={KEY: 1_000_000, SERVER_KEY: 1_000_000}) as fake:
        fake.serve_media_bytes = 16 * 1024
        yield fake


@pytest.fixture
async def start(
    make_seedance_bot: MakeSeedanceBot, provider: FakeSeedance2AI
) -> AsyncIterator[Start]:
    async with bots_on(make_seedance_bot, {p: provider.base_url for p in Provider}) as go:
        yield go


def as_admin(
    fake: FakeDiscord, subcommand: str, *, locale: str, group: str | None = None, **options: Any
) -> Payload:
    """``/settings [group] subcommand`` asked by the server's owner, whose Discord is in
    ``locale``."""
    return slash_command_interaction(
        "settings",
        subcommand=subcommand,
        group=group,
        options=options,
        channel=fake.text_channel,
        user=fake.owner_user,
        member_permissions=ADMIN_PERMISSIONS,
        locale=locale,
    )


async def admin_says(
    bot: SeedanceBot, fake: FakeDiscord, subcommand: str, *, locale: str, **options: Any
) -> str:
    ask = as_admin(fake, subcommand, locale=locale, **options)
    await dispatch(bot, ask)
    [text] = ephemeral_texts(fake, ask)
    return text


def as_member(
    fake: FakeDiscord,
    name: str,
    *,
    locale: str,
    subcommand: str | None = None,
    channel: Payload | None = None,
    **options: Any,
) -> Payload:
    return slash_command_interaction(
        name,
        subcommand=subcommand,
        options=options,
        channel=channel or fake.text_channel,
        user=fake.member_user,
        member_permissions=MEMBER_PERMISSIONS,
        locale=locale,
    )


# -- end to end ----------------------------------------------------------------------------------

#: What may stay in Latin letters in a Japanese or Chinese text: names of providers, models, the
#: commands and their options, and the error codes.
NAMES = re.compile(
    r"<[#@&]+\d+>|<t:\d+:R>|https?://\S+|`[^`]*`|/\w+( \w+)*|[\w.]+\.(io|org)|"
    r"Seedance[\w .]*|GPT Image 2|Nano Banana Pro|\(\w+\)|[A-Z]\w+Error|DMs?|API|ID"
)


def english_left(text: str) -> list[str]:
    """Words of three letters or more in a Japanese or Chinese text, names aside."""
    return re.findall(r"[A-Za-z]{3,}", NAMES.sub(" ", text))


async def test_an_admin_reads_settings_show_in_japanese(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    guild = int(discord_fake.guild["id"])
    studio = add_text_channel(discord_fake, "ai-studio")
    artists = add_role(discord_fake, "Artists")
    answers = [
        await admin_says(bot, discord_fake, "add", group="channels", channel=studio, locale="ja"),
        await admin_says(
            bot, discord_fake, "add", group="roles", role=role_option(artists), locale="ja"
        ),
        await admin_says(bot, discord_fake, "limits", running=2, per_day=20, locale="ja"),
        await admin_says(
            bot, discord_fake, "credits", provider="seedance2ai", per_member=5000, locale="ja"
        ),
        await admin_says(bot, discord_fake, "privacy", cards="private", locale="ja"),
    ]
    assert answers[0] == t(
        "ja",
        "Members can now generate in {what}. {now}",
        what=f"<#{studio['id']}>",
        now=t("ja", "Allowed channels: {list}.", list=f"<#{studio['id']}>"),
    )
    assert answers[3] == t(
        "ja",
        "{provider}: {caps}.",
        provider="seedance2ai.io",
        caps=t("ja", "{credits} per member", credits="5,000"),
    )

    shown = await admin_says(bot, discord_fake, "show", locale="ja")

    config = bot.engine.config
    assert shown == describe_settings(
        await GuildSettingsStore(bot.database).get(guild),
        [],
        running=config.max_running_per_user,
        waiting=config.max_waiting_per_user,
        locale="ja",
    )
    lines = shown.splitlines()
    assert len(lines) == 10, "one line per setting, and the credit cap on a line of its own"
    assert lines[0].startswith("**")
    assert lines[0].endswith("**")
    assert lines[6] == "- " + t(
        "ja",
        "{provider}: {caps}",
        provider="seedance2ai.io",
        caps=t("ja", "{credits} per member", credits="5,000"),
    )
    assert f"<#{studio['id']}>" in lines[1]
    assert f"<@&{artists['id']}>" in lines[2]
    for text in [*answers, shown]:
        assert english_left(text) == [], text

    # The same settings, asked by an admin whose Discord is in English.
    english = await admin_says(bot, discord_fake, "show", locale="en-GB")
    assert english.startswith("**Settings on this server**\nChannels: <#")
    assert "Credit caps in any 24 hours:\n- seedance2ai.io: 5,000 per member\n" in english


async def test_a_dutch_member_is_refused_by_a_channel_rule_in_dutch(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    alice = int(discord_fake.member_user["id"])
    await bot.keys.link(alice, "seedance2ai", KEY)
    studio = add_text_channel(discord_fake, "ai-studio")
    await admin_says(bot, discord_fake, "add", group="channels", channel=studio, locale="en-US")

    here = as_member(discord_fake, "video", locale="nl", prompt=PROMPT, model="seedance2")
    await dispatch(bot, here)

    rule = (
        "This server allows generating only in some channels, not here: try {channel}. Nothing "
        "was sent and nothing was charged."
    )
    dutch = t("nl", rule, channel=f"<#{studio['id']}>")
    assert dutch != rule.format(channel=f"<#{studio['id']}>")
    assert ephemeral_texts(discord_fake, here) == [dutch]
    assert await bot.jobs.recent_for_user(alice) == []
    assert [r for r in provider.requests if r.method != "GET"] == []


#: The role rule's refusal, which says what every rule refusal says: nothing sent or charged.
ROLE_RULE = (
    "Generating on this server is for members with one of these roles: {roles}. Nothing was sent "
    "and nothing was charged."
)


@pytest.mark.parametrize("locale", LOCALES)
async def test_the_channel_rule_says_nothing_was_sent_or_charged_like_every_rule(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI, locale: str
) -> None:
    bot = await start()
    await bot.keys.link(int(discord_fake.member_user["id"]), "seedance2ai", KEY)
    studio = add_text_channel(discord_fake, "ai-studio")
    await admin_says(bot, discord_fake, "add", group="channels", channel=studio, locale="en-US")

    here = as_member(discord_fake, "video", locale=locale, prompt=PROMPT, model="seedance2")
    await dispatch(bot, here)

    [refused] = ephemeral_texts(discord_fake, here)
    # The closing sentence as the role rule words it in this language.
    nothing = t(locale, ROLE_RULE, roles="\x00").split("\x00")[1].lstrip(".。 ")
    assert nothing, "the role rule's refusal ends with it"
    assert refused.endswith(nothing), refused
    assert f"<#{studio['id']}>" in refused
    assert [r for r in provider.requests if r.method != "GET"] == []


#: How each language writes the colon after a label (full width in Japanese and Chinese).
COLONS = {"en-US": ": ", "nl": ": ", "ja": "：", "zh-CN": "："}


@pytest.mark.parametrize("locale", LOCALES)
async def test_settings_usage_lines_use_the_admins_punctuation(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI, locale: str
) -> None:
    bot = await start()
    alice = int(discord_fake.member_user["id"])
    await bot.keys.link(alice, "seedance2ai", KEY)
    await dispatch(bot, as_member(discord_fake, "video", locale="en-US", prompt=PROMPT))
    [job] = await bot.jobs.recent_for_user(alice)
    await settled(bot, job.id, JobState.DELIVERED)

    usage = await admin_says(bot, discord_fake, "usage", locale=locale)

    [line] = [line for line in usage.splitlines() if f"<@{alice}>" in line]
    colon = COLONS[locale]
    assert line.startswith(f"• <@{alice}>{colon}"), line
    if colon != ": ":
        assert ": " not in line, line


async def test_a_dutch_member_reads_the_daily_limit_with_the_right_plural(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    alice = int(discord_fake.member_user["id"])
    await bot.keys.link(alice, "seedance2ai", KEY)
    await admin_says(bot, discord_fake, "limits", per_day=1, locale="en-US")
    await dispatch(bot, as_member(discord_fake, "video", locale="nl", prompt=PROMPT))
    [job] = await bot.jobs.recent_for_user(alice)
    await settled(bot, job.id, JobState.DELIVERED)

    again = as_member(discord_fake, "video", locale="nl", prompt=PROMPT)
    await dispatch(bot, again)

    [refused] = ephemeral_texts(discord_fake, again)
    when = f"<t:{int(job.created_at + 24 * 3600) + 1}:R>"
    assert refused == tn(
        "nl",
        "This server allows {count} job per member in any 24 hours, and you have made {made}. "
        "Nothing was sent and nothing was charged. You can generate here again {when}.",
        "This server allows {count} jobs per member in any 24 hours, and you have made {made}. "
        "Nothing was sent and nothing was charged. You can generate here again {when}.",
        1,
        made="1",
        when=when,
    )
    assert "1 taak " in refused, "the singular form"


async def test_jobs_stats_in_simplified_chinese(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    alice = int(discord_fake.member_user["id"])
    # One clip made (30 credits), one that failed (charged, then refunded).
    for video_url, refunded in (("https://cdn.seedance2ai.test/made.mp4", None), (None, 30)):
        job = await bot.jobs.create(
            owner_id=alice,
            provider="seedance2ai",
            endpoint="seedance2",
            request={"prompt": PROMPT},
            destination=Destination(),
        )
        await bot.jobs.update(
            job.id,
            state=JobState.DELIVERED,
            video_url=video_url,
            error_code=None if video_url else "InvalidRequestError",
            credits_charged=30,
            credits_refunded=refunded,
            delivery_state=DeliveryState.DELIVERED,
        )

    ask = as_member(discord_fake, "jobs", subcommand="stats", locale="zh-CN")
    await dispatch(bot, ask)

    [shown] = private_embeds(discord_fake, ask)
    assert shown["title"] == t("zh-CN", "Your jobs and credits") != "Your jobs and credits"
    [field] = shown["fields"]
    assert field["name"] == "seedance2ai.io"
    jobs = tn(
        "zh-CN",
        "{count} job ({outcomes})",
        "{count} jobs ({outcomes})",
        2,
        outcomes=enumeration(
            "zh-CN", [t("zh-CN", "{count} done", count=1), t("zh-CN", "{count} failed", count=1)]
        ),
    )
    charged = t(
        "zh-CN",
        "{credits} charged",
        credits=tn("zh-CN", "{count} credit", "{count} credits", 30),
    )
    assert field["value"].splitlines() == [
        t("zh-CN", "**Last {days} days**: {summary}", days=days, summary=f"{jobs} · {charged}")
        for days in (7, 30)
    ]
    assert "积分" in field["value"]
    for text in (shown["title"], field["value"], shown["footer"]["text"]):
        assert english_left(text) == [], text


async def test_the_audit_channel_reads_in_the_servers_language(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    # The server's primary language, whatever language the admin and the member read.
    discord_fake.guild["preferred_locale"] = "ja"
    bot = await start()
    alice = int(discord_fake.member_user["id"])
    await bot.keys.link(alice, "seedance2ai", KEY)
    log_channel = add_text_channel(discord_fake, "bot-log")
    said = await admin_says(bot, discord_fake, "audit", channel=log_channel, locale="nl")
    assert said.startswith(
        t(
            "nl",
            "Every finished job is now written to {channel}: who, model, "
            "cost and outcome. Lines are in the server's primary language, as set "
            "in its Community settings.",
            channel=f"<#{log_channel['id']}>",
        )
    )

    await dispatch(bot, as_member(discord_fake, "video", locale="nl", prompt=PROMPT))
    [job] = await bot.jobs.recent_for_user(alice)
    job = await settled(bot, job.id, JobState.DELIVERED)

    lines = await discord_fake.wait_for(lambda: discord_fake.messages_in(log_channel))
    [line] = [m["content"] for m in lines]
    assert line == audit_line(job, "ja")
    assert line.startswith(f"✅ {t('ja', 'Job #{job_id}', job_id=job.id)} · <@{alice}> · ")
    assert t("ja", "succeeded") in line
    assert english_left(line) == [], line


async def test_the_servers_key_is_linked_and_removed_in_the_admins_language(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    form = as_admin(discord_fake, "link", group="sponsor", provider="seedance2ai", locale="zh-CN")
    await dispatch(bot, form)
    [shown] = discord_fake.callbacks_for(form)
    assert shown.data is not None
    assert shown.data["title"] == t("zh-CN", "Link the server's API key")
    assert shown.data["title"] != "Link the server's API key"

    await bot.keys.link(server_key_owner(int(discord_fake.guild["id"])), "seedance2ai", SERVER_KEY)
    removed = await admin_says(
        bot, discord_fake, "unlink", group="sponsor", provider="seedance2ai", locale="zh-CN"
    )
    assert "**seedance2ai.io**" in removed
    assert "`••••S3rv`" in removed
    again = await admin_says(
        bot, discord_fake, "unlink", group="sponsor", provider="seedance2ai", locale="zh-CN"
    )
    for text in (removed, again):
        assert english_left(text) == [], text


async def test_preferences_read_in_the_members_language(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    saved = as_member(
        discord_fake, "preferences", subcommand="set", locale="ja", aspect_ratio="9:16"
    )
    await dispatch(bot, saved)
    [answer] = ephemeral_texts(discord_fake, saved)
    assert answer.splitlines()[0] == t("ja", "Saved.")
    assert t("ja", "**{label}**: {value}", label=t("ja", "Aspect ratio"), value="9:16") in answer
    assert english_left(answer) == [], answer

    cleared = as_member(
        discord_fake, "preferences", subcommand="clear", locale="nl", which="aspect_ratio"
    )
    await dispatch(bot, cleared)
    assert ephemeral_texts(discord_fake, cleared) == [
        t("nl", "Cleared your aspect ratio preference.")
    ]


# -- within Discord's limits, in every language ---------------------------------------------------


def a_key(provider: str, *, rejected: bool = False, readable: bool = True) -> LinkedKey:
    now = time.time()
    return LinkedKey(
        user_id=-1,
        provider=provider,
        fingerprint="9999",
        verified_at=now,
        created_at=now,
        updated_at=now,
        readable=readable,
        rejected_at=now if rejected else None,
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_settings_show_fits_one_message_with_every_list_long(locale: str) -> None:
    many = frozenset(range(10**18, 10**18 + 200))
    settings = GuildSettings(
        guild_id=1,
        channels=many,
        roles=many,
        models=frozenset(["seedance", "seedance2", "seed2-fast", "seed2", "gpt-image-2"]),
        max_running_per_user=999,
        max_waiting_per_user=999,
        max_jobs_per_day=10_000,
        credit_caps={p.value: CreditCap(p.value, 1_000_000_000, 1_000_000_000) for p in Provider},
        private_results=True,
        audit_channel_id=10**18,
    )
    sponsors = [
        a_key(Provider.SEED2.value, rejected=True),
        a_key(Provider.SEEDANCE2AI.value, readable=False),
        a_key(Provider.SEEDANCEAPI.value),
    ]

    shown = describe_settings(settings, sponsors, running=1000, waiting=1000, locale=locale)

    assert len(shown) <= CONTENT_MAX
    assert not shown.endswith("…"), "every line shows, the lists are cut short instead"
    # The first of the lists, and how many more there are.
    assert shown.count("<#") == LISTED_MAX + 1
    assert "185" in shown


@pytest.mark.parametrize("locale", LOCALES)
def test_usage_lists_as_many_members_as_fit_and_counts_the_rest(locale: str) -> None:
    rows = [
        MemberUsage(
            owner_id=10**18 + member,
            provider=provider.value,
            jobs=(9_999, 99_999),
            credits=(999_999_999, 9_999_999_999),
            sponsored_jobs=(9_999, 99_999),
            sponsored_credits=(999_999_999, 9_999_999_999),
        )
        for member in range(200)
        for provider in Provider
    ]

    usage = describe_usage(rows, locale)

    lines = usage.splitlines()
    assert len(usage) <= CONTENT_MAX
    members = [line for line in lines if line.startswith("• <@")]
    assert 1 <= len(members) <= 25
    # Whole lines only: the rest are counted, and what the server's key paid still shows.
    assert lines[-2].startswith("-# ")
    assert str(200 - len(members)) in lines[-2]
    assert "|" in lines[-1]
    assert not usage.endswith("…")


def some_jobs() -> list[Job]:
    """A job in every state, with the longest prompt, ids and credits there are."""
    now = time.time()
    return [
        Job(
            id=10**12 + i,
            owner_id=1,
            destination=Destination(guild_id=10**18, channel_id=10**18, message_id=10**18),
            provider="seed2",
            endpoint="seed2",
            request={"prompt": "A very long prompt about a lighthouse in a storm " * 200},
            idempotency_key=f"key-{i}",
            state=state,
            created_at=now - 3600 * i,
            updated_at=now,
            submitted_at=now - 3600 * i,
            credits_charged=999_999_999,
            credits_refunded=99_999_999 if i % 2 else None,
            video_url="https://cdn.seed2.test/clip.mp4" if i % 3 else None,
            error_code=None if i % 3 else "InsufficientCreditsError",
            delivery_state=list(DeliveryState)[i % len(DeliveryState)],
            paid_by=-1 if i % 4 == 0 else None,
        )
        for i, state in enumerate(JobState)
    ]


def within_embed_limits(embed: discord.Embed) -> None:
    assert len(embed.title or "") <= 256
    assert len(embed.description or "") <= DESCRIPTION_MAX
    for field in embed.fields:
        assert 1 <= len(field.name or "") <= 256
        assert 1 <= len(field.value or "") <= FIELD_MAX
    assert len(embed.footer.text or "") <= 2048
    assert len(embed) <= EMBEDS_MAX


@pytest.mark.parametrize("locale", LOCALES)
def test_jobs_list_stats_and_preferences_fit_discords_embeds(locale: str) -> None:
    jobs = some_jobs()
    now = time.time()
    within_embed_limits(list_embed(jobs[:10], {job.id: 99 for job in jobs}, now, locale))
    within_embed_limits(stats_embed(jobs, now, locale))
    within_embed_limits(
        show_embed(MemberPreferences(user_id=1, aspect_ratio="21:9", private_results=True), locale)
    )


@pytest.mark.parametrize("locale", ["ja", "zh-CN"])
def test_the_audit_line_has_nothing_left_in_english(locale: str) -> None:
    [job] = some_jobs()[:1]
    failed = replace(
        job, state=JobState.DELIVERED, error_code="InsufficientCreditsError", paid_by=-1
    )
    line = audit_line(failed, locale)
    assert english_left(line) == [], line
    assert "InsufficientCreditsError" in line
