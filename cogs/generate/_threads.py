"""The thread a job's result goes to, and what the bot needs to post there.

A thread is started from the job's status card and named after its prompt; where none can be
(a thread, a forum, a DM) or the bot may not make one, the result goes to the channel itself.
Before a job is queued, the member is told which missing permission will change that.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import discord

from bot.i18n import N_, LocaleLike, listing, t
from bot.models import ProviderRequest
from bot.storage import Job

log = logging.getLogger(__name__)

#: Channel types a thread can be started in from a message.
_THREADABLE = frozenset({discord.ChannelType.text, discord.ChannelType.news})
_THREADS = frozenset(
    {
        discord.ChannelType.public_thread,
        discord.ChannelType.private_thread,
        discord.ChannelType.news_thread,
    }
)
_DIRECT = frozenset({discord.ChannelType.private, discord.ChannelType.group})

#: Where an interaction can come from (``discord.Interaction.channel``).
InteractionChannel = (
    discord.abc.GuildChannel
    | discord.Thread
    | discord.DMChannel
    | discord.GroupChannel
    | discord.abc.PrivateChannel
    | discord.PartialMessageable
    | None
)


def thread_name(prompt: str, job_id: int | None = None, locale: LocaleLike = None) -> str:
    """A thread title from the prompt: one line, no mentions, at most 100 characters."""
    text = re.sub(r"<(?:@[!&]?|#)\d+>|@(everyone|here)", " ", prompt)
    text = " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", text).split()).strip(" -_*~`|>#")
    if len(text) > 100:
        cut = text[:99]
        text = (cut.rsplit(" ", 1)[0] if " " in cut[50:] else cut).rstrip(" ,.;:") + "…"
    if text:
        return text
    return t(locale, "Job #{job_id}", job_id=job_id) if job_id else t(locale, "Generation")


def _channel_type(channel: InteractionChannel) -> discord.ChannelType | None:
    kind = getattr(channel, "type", None)
    return kind if isinstance(kind, discord.ChannelType) else None


async def open_thread(
    card_message: discord.Message,
    job: Job | ProviderRequest | str,
    *,
    channel: InteractionChannel,
    app_permissions: discord.Permissions | None = None,
    locale: LocaleLike = None,
) -> int | None:
    """Start a public thread from the status card; None to deliver in the channel itself.
    A prompt with nothing to name the thread after names it in ``locale`` (the card's).

    ``job`` names the thread from its prompt; the request or the prompt alone will do when the
    job does not exist yet (the thread id goes into the job's destination). No thread where one cannot exist
    (a thread, a forum, a DM, a voice or stage chat), nor where the bot may not create one or
    may not post in it.
    """
    if _channel_type(channel) not in _THREADABLE:
        return None
    if app_permissions is not None and not (
        app_permissions.create_public_threads and app_permissions.send_messages_in_threads
    ):
        return None
    if isinstance(job, Job):
        prompt = str(job.request.get("prompt", ""))
    else:
        prompt = job if isinstance(job, str) else str(getattr(job, "prompt", ""))
    name = thread_name(prompt, job.id if isinstance(job, Job) else None, locale)
    try:
        if isinstance(channel, discord.TextChannel):  # NewsChannel is a TextChannel too
            # Works when the card came back without guild data (e.g. a partial message).
            thread = await channel.create_thread(name=name, message=card_message)
        else:
            thread = await card_message.create_thread(name=name)
    except discord.HTTPException as error:
        log.info(
            "Card %d: no thread (HTTP %d, code %d); results go to the channel",
            card_message.id, error.status, error.code,
        )  # fmt: skip
        return None
    except ValueError:  # the card carries no guild (not cached): nowhere to start one
        return None
    return thread.id


#: Permission attribute -> its name in Discord's settings (in English; each language's names are
#: in the catalogs).
_PERMISSION_NAMES = {
    "send_messages": N_("Send Messages"),
    "send_messages_in_threads": N_("Send Messages in Threads"),
    "embed_links": N_("Embed Links"),
    "attach_files": N_("Attach Files"),
    "create_public_threads": N_("Create Public Threads"),
}


def missing_permissions(
    app_permissions: discord.Permissions, channel: InteractionChannel
) -> list[str]:
    """The permissions the bot lacks here to show a card, a thread and the result (names as in
    Discord's settings). Thread permissions count only where a thread would be created."""
    kind = _channel_type(channel)
    if kind in _DIRECT:
        return []
    if kind in _THREADS:
        needed = ["send_messages_in_threads", "embed_links", "attach_files"]
    else:
        needed = ["send_messages", "embed_links", "attach_files"]
        if kind in _THREADABLE:
            needed += ["create_public_threads", "send_messages_in_threads"]
    return [_PERMISSION_NAMES[name] for name in needed if not getattr(app_permissions, name)]


#: What each missing permission changes, told before a job is queued.
_EFFECTS = {
    _PERMISSION_NAMES["send_messages"]: N_(
        "I cannot post the result here, so it will come to you by DM"
    ),
    _PERMISSION_NAMES["send_messages_in_threads"]: N_(
        "I cannot post in threads, so the result goes to the channel (or your DMs)"
    ),
    _PERMISSION_NAMES["create_public_threads"]: N_(
        "the result will be posted in this channel instead of a thread"
    ),
    _PERMISSION_NAMES["attach_files"]: N_("results will be links instead of files"),
    _PERMISSION_NAMES["embed_links"]: N_("the status card and result details will not show"),
}


def describe_missing_permissions(missing: Sequence[str], locale: LocaleLike = None) -> str:
    """What a member is told when ``missing_permissions`` found something ('' when nothing)."""
    if not missing:
        return ""
    names = listing(locale, (t(locale, name) for name in missing))
    lines = [
        t(
            locale,
            "I am missing permissions here: {permissions}. Until a server admin grants them:",
            permissions=names,
        )
    ]
    lines += [f"• {t(locale, _EFFECTS[name])}" for name in missing if name in _EFFECTS]
    return "\n".join(lines)
