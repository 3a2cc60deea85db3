"""/settings show and /settings usage: every setting of the server, and what its members and
its key spent, in the admin's language; and how each setting reads, for the other /settings
answers too."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import discord

from bot.i18n import LocaleLike, gettext_for, number, t, tn
from bot.storage import CreditCap, GuildSettings, LinkedKey, MemberUsage, server_key_owner
from cogs._errors import reply
from cogs._text import MAX_CONTENT, clip, provider_name
from cogs.settings._groups import SETTINGS, SettingsPart, guild_of
from cogs.settings._rules import listed, model_labels, role_mentions
from cogs.settings._spending import DAY

if TYPE_CHECKING:
    from bot.app import SeedanceBot

#: How many members /settings usage lists (the busiest first).
USAGE_MEMBERS = 25


# -- how settings read -----------------------------------------------------------------------


def channels_text(ids: frozenset[int], locale: LocaleLike) -> str:
    return listed(locale, (f"<#{c}>" for c in sorted(ids))) if ids else t(locale, "anywhere")


def roles_text(ids: frozenset[int], locale: LocaleLike) -> str:
    return listed(locale, role_mentions(ids)) if ids else t(locale, "everyone")


def models_text(keys: frozenset[str], locale: LocaleLike) -> str:
    return model_labels(keys, locale) if keys else t(locale, "all")


def limit_text(value: int | None, bot_limit: int, locale: LocaleLike) -> str:
    if value is not None:
        return number(locale, value)
    return t(locale, "{limit} (the bot's limit)", limit=number(locale, bot_limit))


def per_day_text(value: int | None, locale: LocaleLike) -> str:
    if value is None:
        return t(locale, "no daily limit")
    return tn(locale, "{count} job in any 24 hours", "{count} jobs in any 24 hours", value)


def cap_text(cap: CreditCap, locale: LocaleLike) -> str:
    parts = []
    if cap.per_member is not None:
        parts.append(t(locale, "{credits} per member", credits=number(locale, cap.per_member)))
    if cap.per_server is not None:
        parts.append(t(locale, "{credits} for the server", credits=number(locale, cap.per_server)))
    return listed(locale, parts) if parts else t(locale, "no credit cap")


def privacy_text(private: bool, locale: LocaleLike) -> str:
    if private:
        return t(locale, "private, in each member's DMs")
    return t(locale, "public, in the channel (a thread per job)")


def _when(timestamp: float) -> str:
    return discord.utils.format_dt(datetime.fromtimestamp(timestamp, UTC), "R")


def _sponsor(key: LinkedKey, locale: LocaleLike) -> str:
    _ = gettext_for(locale)
    name, masked = provider_name(key.provider), key.masked
    if not key.readable:
        return _(
            "{provider} `{masked}` ⚠️ unreadable (the bot's secret changed): link it again",
            provider=name,
            masked=masked,
        )
    if key.rejected_at is not None:
        # i18n: {when} is a time Discord shows in the reader's language, such as "2 days ago".
        return _(
            "{provider} `{masked}` ⚠️ refused by {provider} {when}: link it again",
            provider=name,
            masked=masked,
            when=_when(key.rejected_at),
        )
    # i18n: {when} is a time Discord shows in the reader's language, such as "2 days ago".
    return _(
        "{provider} `{masked}` (checked {when})",
        provider=name,
        masked=masked,
        when=_when(key.verified_at or key.updated_at),
    )


def _bullets(items: list[str]) -> str:
    """Several items, each on its own line under the line that names them: no columns to
    align, so it reads the same in every script."""
    return "".join(f"\n- {item}" for item in items)


def describe_settings(
    settings: GuildSettings,
    sponsors: list[LinkedKey],
    *,
    running: int,
    waiting: int,
    locale: LocaleLike = None,
) -> str:
    """/settings show: every setting, and the server's keys masked (``running`` and
    ``waiting``: the bot's own limits), in ``locale``."""
    _ = gettext_for(locale)
    caps = [
        _("{provider}: {caps}", provider=provider_name(p), caps=cap_text(c, locale))
        for p, c in sorted(settings.credit_caps.items())
    ]
    audit = f"<#{settings.audit_channel_id}>" if settings.audit_channel_id else _("off")
    sponsor = [_sponsor(key, locale) for key in sponsors]
    # i18n: {caps} and {sponsor} are one word ("none") or a list, each item on its own line.
    # {running} and {waiting} are numbers, each maybe followed by "(the bot's limit)".
    text = _(
        "**Settings on this server**\n"
        "Channels: {channels}\n"
        "Roles: {roles}\n"
        "Models: {models}\n"
        "Per member: {running} running at once · {waiting} waiting · {per_day}\n"
        "Credit caps in any 24 hours: {caps}\n"
        "Cards and results: {privacy}\n"
        "Audit channel: {audit}\n"
        "Server key: {sponsor}",
        channels=channels_text(settings.channels, locale),
        roles=roles_text(settings.roles, locale),
        models=models_text(settings.models, locale),
        running=limit_text(settings.max_running_per_user, running, locale),
        waiting=limit_text(settings.max_waiting_per_user, waiting, locale),
        per_day=per_day_text(settings.max_jobs_per_day, locale),
        caps=_bullets(caps) if caps else _("none"),
        privacy=privacy_text(settings.private_results, locale),
        audit=audit,
        sponsor=_bullets(sponsor) if sponsor else _("none (members use their own keys)"),
    )
    # A list starts on the next line: no space left dangling after the label.
    return "\n".join(line.rstrip() for line in text.splitlines())


def _period(jobs: int, credits: dict[str, int], locale: LocaleLike) -> str:
    counted = tn(locale, "{count} job", "{count} jobs", jobs)
    spent = [f"{number(locale, n)} {provider_name(p)}" for p, n in sorted(credits.items()) if n]
    return f"{counted} · {listed(locale, spent)}" if spent else counted


#: Room kept for the line that says how many more members there are.
_MORE_ROOM = 100


def describe_usage(rows: list[MemberUsage], locale: LocaleLike = None) -> str:
    """/settings usage: jobs and credits per member (the busiest first), then what the server's
    key paid, over the last 7 and 30 days, in ``locale``: as many members as fit in one message
    (at most :data:`USAGE_MEMBERS`), then how many more there are."""
    _ = gettext_for(locale)
    if not rows:
        return _("No jobs on this server in the last 30 days.")
    members: dict[int, list[MemberUsage]] = defaultdict(list)
    for row in rows:
        members[row.owner_id].append(row)
    busiest = sorted(members.items(), key=lambda item: -sum(r.jobs[1] for r in item[1]))
    footer = []
    if any(row.sponsored_jobs[1] for row in rows):
        by_provider: dict[int, dict[str, int]] = {0: defaultdict(int), 1: defaultdict(int)}
        for row in rows:
            for i in (0, 1):
                by_provider[i][row.provider] += row.sponsored_credits[i]
        recent, longer = (
            _period(sum(r.sponsored_jobs[i] for r in rows), by_provider[i], locale) for i in (0, 1)
        )
        footer.append(
            _("Paid by the server's key: {recent} | {longer}", recent=recent, longer=longer)
        )
    # One line per member with both periods, "|" between them: no columns to align, so it reads
    # the same in every script.
    lines = [
        _(
            "**Usage on this server**, last 7 days | last 30 days (jobs · credits charged, by "
            "provider):"
        )
    ]
    shown = 0
    for member, usage in busiest[:USAGE_MEMBERS]:
        recent, longer = (
            _period(
                sum(r.jobs[i] for r in usage), {r.provider: r.credits[i] for r in usage}, locale
            )
            for i in (0, 1)
        )
        mention = f"<@{member}>"
        # i18n: {member} is the member's mention; {recent} and {longer} their jobs and credits
        # over the last 7 and the last 30 days.
        line = "• " + _(
            "{member}: {recent} | {longer}", member=mention, recent=recent, longer=longer
        )
        if len("\n".join([*lines, line, *footer])) + _MORE_ROOM > MAX_CONTENT:
            break
        lines.append(line)
        shown += 1
    if shown < len(busiest):
        more = tn(
            locale, "…and {count} more member.", "…and {count} more members.", len(busiest) - shown
        )
        lines.append(f"-# {more}")
    return clip("\n".join([*lines, *footer]))


class OverviewCommands(SettingsPart):
    """/settings show and /settings usage."""

    @SETTINGS.command(name="show", description="Show every setting of this server")
    async def show(self, interaction: discord.Interaction[SeedanceBot]) -> None:
        guild_id = guild_of(interaction)
        settings = await self.store.get(guild_id)
        sponsors = await self.bot.keys.for_user(server_key_owner(guild_id))
        config = self.bot.engine.config
        text = describe_settings(
            settings,
            sponsors,
            running=config.max_running_per_user,
            waiting=config.max_waiting_per_user,
            locale=interaction.locale,
        )
        await reply(interaction, text)

    @SETTINGS.command(
        name="usage", description="Jobs and credits per member over the last 7 and 30 days"
    )
    async def usage(self, interaction: discord.Interaction[SeedanceBot]) -> None:
        now = time.time()
        rows = await self.bot.jobs.guild_usage(guild_of(interaction), now - 7 * DAY, now - 30 * DAY)
        await reply(interaction, describe_usage(rows, interaction.locale))
