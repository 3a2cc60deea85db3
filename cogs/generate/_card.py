"""Embeds for a job: the public status card and the result posted when it ends.

Pure builders (no HTTP): everything they show comes from the stored job, so a card or a result
can be rebuilt hours later, after a restart, or for ``/jobs show``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import discord

from bot.jobs import INPUT_EXPIRED, KEY_REJECTED, KEY_UNREADABLE, Progress, ProgressKind
from bot.models import Provider, endpoint
from bot.providers import CostEstimate, errors
from bot.storage import Job, JobOutcome, JobState
from cogs._errors import NO_MEDIA, describe_job_failure
from cogs._text import MAX_CONTENT, clip, excerpt
from cogs.generate._requests import choice_of
from cogs.keys import ACCOUNT_PAGES, provider_name

#: Discord's limit for an embed field value.
FIELD_LIMIT = 1024
#: How much of the prompt a card shows; the full prompt stays in Details.
PROMPT_EXCERPT = 300

COLOURS: dict[str, discord.Colour] = {
    "queued": discord.Colour.light_grey(),
    "submitted": discord.Colour.blurple(),
    "running": discord.Colour.blue(),
    "succeeded": discord.Colour.green(),
    "failed": discord.Colour.red(),
    "uncertain": discord.Colour.orange(),
    "cancelled": discord.Colour.dark_grey(),
}

#: Request fields (Python names) -> how a card names them. Lists of URLs are counted instead.
_LABELS: dict[str, str] = {
    "model": "model",
    "mode": "mode",
    "type": "type",
    "quality_tier": "quality",
    "channel": "channel",
    "aspect_ratio": "aspect ratio",
    "ratio": "aspect ratio",
    "image_size": "aspect ratio",
    "resolution": "resolution",
    "duration": "duration",
    "batch_count": "images",
    "output_format": "format",
    "generate_audio": "audio",
    "fixed_lens": "fixed lens",
    "seed": "seed",
}
_INPUTS: dict[str, str] = {
    "image_url": "start frame",
    "end_image_url": "end frame",
    "media_urls": "reference",
    "image_urls": "input image",
    "image_files": "image",
    "video_files": "video",
    "audio_files": "audio file",
}
_HIDDEN = frozenset({"prompt", "callback_url"})

#: Failures only their owner can act on, and that may tell about their account (its balance,
#: its key) or their files (an input that is gone): said to the owner privately, never in the
#: public thread. The public card only says the job could not be started.
PRIVATE_FAILURES = frozenset(
    {KEY_UNREADABLE, KEY_REJECTED, INPUT_EXPIRED, errors.InsufficientCreditsError.error_code}
)

#: The footer of a result embed; also how a repeated delivery recognises one already posted.
RESULT_FOOTER = "Job #{job_id}"
_RESULT_FOOTER = re.compile(r"^Job #(\d+)$")
CARD_FOOTER = "Job #{job_id} · status"
#: Who pays, on the card of a job the server's sponsor key pays for (a member's own key: no line).
PAID_BY_FIELD = "Paid by"
PAID_BY_SERVER = "the server's key"


def title_of(endpoint_id: str, request: Mapping[str, Any]) -> str:
    """The model as the /video and /image ``model`` option names it, else the endpoint's title."""
    choice = choice_of(endpoint_id, request)
    if choice is not None:
        return choice.label
    try:
        return endpoint(endpoint_id).title
    except KeyError:
        return endpoint_id


def model_title(job: Job) -> str:
    """The model as the /video and /image ``model`` option names it (two choices may share an
    endpoint)."""
    return title_of(job.endpoint, job.request)


def media_kind(job: Job) -> str:
    try:
        return endpoint(job.endpoint).kind.value
    except KeyError:
        return "video" if job.video_url else "image"


def prompt_excerpt(prompt: str) -> str:
    """The start of a prompt, on one line, as a card shows it."""
    return discord.utils.escape_markdown(excerpt(prompt, PROMPT_EXCERPT))


def describe_duration(seconds: float) -> str:
    """``42 s``, ``3 min 5 s``, ``1 h 2 min``."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def describe_parameters(request: Mapping[str, Any], endpoint_id: str | None = None) -> str:
    """The parameters that shape the result, one short phrase each (the prompt excluded, and
    what the model's name already says)."""
    choice = choice_of(endpoint_id, request) if endpoint_id else None
    implied = set(choice.fixed) if choice else set()
    parts: list[str] = []
    for name, value in request.items():
        if name in _HIDDEN or name in implied or value is None:
            continue
        if name in _INPUTS:
            count = len(value) if isinstance(value, list) else 1
            label = _INPUTS[name]
            parts.append(
                label if count == 1 and not isinstance(value, list) else f"{count} × {label}"
            )
            continue
        label = _LABELS.get(name, name.replace("_", " "))
        if isinstance(value, bool):
            parts.append(f"{label} {'on' if value else 'off'}")
        elif name == "duration":
            parts.append(f"{label} {value} s")
        else:
            parts.append(f"{label} {value}")
    return " · ".join(parts) or "defaults"


def _status_line(job: Job, progress: Progress | None) -> tuple[str, str]:
    """(colour key, what the card says about the job's state)."""
    kind = progress.kind if progress else None
    if kind is ProgressKind.CANCELLED or job.state is JobState.CANCELLED:
        return "cancelled", "Cancelled before it was sent. Nothing was charged."
    outcome = job.outcome
    if kind is ProgressKind.UNCERTAIN or outcome is JobOutcome.UNCERTAIN:
        return "uncertain", "The provider did not confirm this job. See the message below."
    if outcome is JobOutcome.FAILED and job.error_code in PRIVATE_FAILURES:
        return "failed", "Could not be started. Its owner was told why, privately."
    if outcome is JobOutcome.FAILED:
        return "failed", "Failed. The reason is posted below."
    if outcome is JobOutcome.SUCCEEDED:
        took = _took(job)
        return "succeeded", f"Done{f' in {took}' if took else ''}. The result is posted below."
    if kind is ProgressKind.QUEUED or job.state is JobState.QUEUED:
        position = progress.queue_position if progress else None
        if position == 1:
            return "queued", "Queued: next to start."
        if position:
            return "queued", f"Queued: {position - 1} of your jobs ahead of it."
        return "queued", "Queued."
    if job.state is JobState.SUBMITTING or kind is ProgressKind.SUBMITTED:
        line = "Sent to the provider; waiting for it to start."
        estimate = _estimate_line(progress, 0.0)
        return "submitted", f"{line}\n{estimate}" if estimate else line
    elapsed = progress.elapsed if progress else None
    line = "Generating"
    if elapsed is not None:
        line += f": {describe_duration(elapsed)} so far"
    if job.submitted_at:
        # A Discord timestamp keeps counting on every client between two edits of the card.
        line += f" (started <t:{int(job.submitted_at)}:R>)"
    line += "."
    estimate = _estimate_line(progress, elapsed)
    if estimate:
        line += "\n" + estimate
    failing_since = progress.failing_since if progress else None
    if failing_since is not None:
        line += "\n" + _outage_line(job, failing_since, elapsed)
    return "running", line


#: Cells of a status card's progress bar.
BAR_CELLS = 10


def progress_bar(elapsed: float, expected: float) -> str:
    """``▰▰▰▱▱▱▱▱▱▱``: the share of the expected time gone, in tenths; never full while the job
    runs (it is full only once done)."""
    share = elapsed / expected if expected > 0 else 0.0
    filled = max(0, min(BAR_CELLS - 1, math.floor(share * BAR_CELLS)))
    return "▰" * filled + "▱" * (BAR_CELLS - filled)


def _estimate_line(progress: Progress | None, elapsed: float | None) -> str | None:
    """The progress bar and when the job should be done (the median of jobs like it, as a
    Discord relative timestamp), or "any moment now" once that is past; None without an
    estimate."""
    if progress is None or progress.expected is None or progress.eta is None:
        return None
    gone = elapsed or 0.0
    bar = progress_bar(gone, progress.expected)
    if gone >= progress.expected:
        return f"{bar} Should be done any moment now."
    return f"{bar} Should be done <t:{math.ceil(progress.eta)}:R>."


def _outage_line(job: Job, since: float, elapsed: float | None) -> str:
    """The provider keeps failing this job's polls: since when, and that the bot keeps trying."""
    site, clock_time = provider_name(job.provider), f"<t:{int(since)}:t>"
    if elapsed is None or not job.submitted_at:
        return f"⚠️ {site} has not been answering since {clock_time} — still trying."
    # ``elapsed`` was measured when the event was made, on the clock ``since`` comes from.
    down = describe_duration(job.submitted_at + elapsed - since)
    return f"⚠️ {site} has not been answering for {down} (since {clock_time}) — still trying."


def _took(job: Job) -> str | None:
    start = job.submitted_at or job.created_at
    if job.finished_at is None or not start:
        return None
    return describe_duration(job.finished_at - start)


def status_embed(job: Job, progress: Progress | None, cost: CostEstimate | None) -> discord.Embed:
    """The public status card of ``job`` at ``progress``: prompt, model, parameters, cost, state."""
    colour, status = _status_line(job, progress)
    try:
        kind = endpoint(job.endpoint).kind.value
    except KeyError:
        kind = "generation"
    embed = discord.Embed(
        title=f"{model_title(job)} · {kind}",
        description=prompt_excerpt(str(job.request.get("prompt", ""))),
        colour=COLOURS[colour],
    )
    embed.add_field(name="Status", value=status, inline=False)
    parameters = describe_parameters(job.request, job.endpoint)
    embed.add_field(name="Parameters", value=clip(parameters, FIELD_LIMIT), inline=False)
    if cost is not None:
        embed.add_field(name="Cost estimate", value=str(cost), inline=True)
    embed.add_field(name="Requested by", value=f"<@{job.owner_id}>", inline=True)
    if job.sponsor_guild_id is not None:
        embed.add_field(name=PAID_BY_FIELD, value=PAID_BY_SERVER, inline=True)
    embed.set_footer(text=CARD_FOOTER.format(job_id=job.id))
    return embed


def _credits(job: Job) -> str:
    if job.credits_charged is None and job.credits_refunded is None:
        return "not reported"
    parts = []
    if job.credits_charged is not None:
        parts.append(f"{job.credits_charged:,} charged")
    if job.credits_refunded:
        parts.append(f"{job.credits_refunded:,} refunded")
    return ", ".join(parts) or "none"


def result_kind(job: Job) -> JobOutcome:
    """What a result message has to say: the job's outcome (a job with none reads as failed)."""
    return job.outcome or JobOutcome.FAILED


def failure_of(job: Job) -> Job:
    """The job as a failure with a reason, also when none was recorded (a delivered job that
    holds no file and no error code)."""
    if job.error_code or job.error_message:
        return job
    return replace(job, error_code=NO_MEDIA)


_HEADINGS = {
    JobOutcome.SUCCEEDED: "done",
    JobOutcome.FAILED: "failed",
    JobOutcome.UNCERTAIN: "not confirmed",
}


def result_embed(job: Job) -> discord.Embed:
    """The embed under a job's result: the prompt, model, seed, credits, time and the job id.

    What happened (and what to do) is in the message text, which shows even where embeds don't.
    """
    kind = result_kind(job)
    title = model_title(job)
    embed = discord.Embed(
        title=f"{title} · {_HEADINGS[kind]}",
        description=prompt_excerpt(str(job.request.get("prompt", ""))),
        colour=COLOURS[kind],
    )
    embed.add_field(name="Model", value=title, inline=True)
    if kind is JobOutcome.SUCCEEDED:
        seed = str(job.seed) if job.seed is not None else "not reported"
        embed.add_field(name="Seed", value=seed, inline=True)
    embed.add_field(name="Credits", value=_credits(job), inline=True)
    took = _took(job)
    if took and kind is not JobOutcome.UNCERTAIN:
        embed.add_field(name="Took", value=took, inline=True)
    embed.set_footer(text=RESULT_FOOTER.format(job_id=job.id))
    return embed


def result_job_id(embed: discord.Embed) -> int | None:
    """The job a result embed belongs to (None for anything else, status cards included)."""
    match = _RESULT_FOOTER.match(embed.footer.text or "")
    return int(match.group(1)) if match else None


# -- result messages ------------------------------------------------------------------------


class LinkReason(StrEnum):
    """Why a result file is posted as a link rather than uploaded."""

    TOO_LARGE = "too_large"
    #: Each file fits, but Discord refused them together in one message (HTTP 413).
    TOGETHER_TOO_LARGE = "together_too_large"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Media:
    """One result file: downloaded to ``path``, or only a link (and why)."""

    url: str
    filename: str
    path: Path | None = None
    #: Bytes, where known (downloaded, or announced by the server).
    size: int | None = None
    link_reason: LinkReason | None = None


def describe_size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size % (1024 * 1024) else f"{size // (1024 * 1024)} MB"


def result_text(job: Job, media: Sequence[Media], limit: int, *, mention: bool) -> list[str]:
    """The lines of a result message: what happened, links with why they are links, what to do."""
    who = f"<@{job.owner_id}> " if mention else ""
    kind = result_kind(job)
    if kind is JobOutcome.FAILED:
        what = "could not be started" if job.error_code in PRIVATE_FAILURES else "failed"
        return [_sentence(who, f"job #{job.id} {what}."), describe_job_failure(failure_of(job))]
    if kind is JobOutcome.UNCERTAIN:
        return _uncertain_text(job, who)
    noun = media_kind(job)
    headline = (
        f"your {noun} is ready." if len(media) == 1 else f"your {len(media)} {noun}s are ready."
    )
    lines = [_sentence(who, headline)]
    for index, item in enumerate(media, start=1):
        if item.link_reason is None:
            continue
        what = f"the {noun}" if len(media) == 1 else f"{noun} {index}"
        size = f" ({describe_size(item.size)})" if item.size else ""
        if item.link_reason is LinkReason.TOO_LARGE:
            why = (
                f"{what.capitalize()} is too large to upload here{size}: the limit is "
                f"{describe_size(limit)}, so here is a link instead:"
            )
        elif item.link_reason is LinkReason.TOGETHER_TOO_LARGE:
            why = f"The files are too large to upload together, so here is a link to {what}:"
        else:
            why = f"I could not download {what} from the provider, so here is its link:"
        lines.append(f"{why} {item.url}")
    if len(lines) > 1:
        lines.append("-# Provider links expire after a while: download the file soon.")
    return lines


def _uncertain_text(job: Job, who: str) -> list[str]:
    """A submit the provider never confirmed: what happened, what it may have cost, where to
    check, and what the Send again button does."""
    site = provider_name(job.provider)
    try:
        where = ACCOUNT_PAGES[Provider(job.provider)]
    except (KeyError, ValueError):
        where = f"your account at {site}"
    return [
        _sentence(
            who,
            f"job #{job.id} was sent to {site}, but no confirmation came back, so I cannot "
            "tell whether it started.",
        ),
        describe_job_failure(job),
        f"To check, open {where}: if the job, or a charge for it, is listed there, it did "
        "start (the result is there), so do not send it again. If nothing is there, press "
        "**Send again** to send it once more; should the first one have started after all, "
        "you pay for both.",
    ]


def _sentence(who: str, text: str) -> str:
    return f"{who}{text}" if who else text[0].upper() + text[1:]


def message_texts(lines: Sequence[str]) -> list[str]:
    """``lines`` packed into as few messages of at most 2,000 characters as possible."""
    messages: list[str] = []
    current = ""
    for line in (clip(line) for line in lines):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > MAX_CONTENT:
            messages.append(current)
            candidate = line
        current = candidate
    return [*messages, current] if current or not messages else messages
