"""Embeds for a job: the public status card and the result posted when it ends.

Pure builders (no HTTP): everything they show comes from the stored job, so a card or a result
can be rebuilt hours later, after a restart, or for ``/jobs show``.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import discord

from bot.i18n import CATALOGS, N_, LocaleLike, gettext_for, number, t, tn
from bot.jobs import INPUT_EXPIRED, KEY_REJECTED, KEY_UNREADABLE, Progress, ProgressKind
from bot.models import Provider, endpoint
from bot.providers import CostEstimate, errors
from bot.storage import Job, JobOutcome, JobState
from cogs._errors import NO_MEDIA, describe_job_failure
from cogs._text import MAX_CONTENT, clip, excerpt, provider_name
from cogs.generate._requests import choice_of
from cogs.keys import ACCOUNT_PAGES

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
    # i18n: a parameter's name on a status card, before its value ("aspect ratio 16:9")
    "model": N_("model"),
    "mode": N_("mode"),
    "type": N_("type"),
    "quality_tier": N_("quality"),
    "channel": N_("channel"),
    "aspect_ratio": N_("aspect ratio"),
    "ratio": N_("aspect ratio"),
    "image_size": N_("aspect ratio"),
    "resolution": N_("resolution"),
    "duration": N_("duration"),
    "batch_count": N_("images"),
    "output_format": N_("format"),
    "generate_audio": N_("audio"),
    "fixed_lens": N_("fixed lens"),
    "seed": N_("seed"),
}
_INPUTS: dict[str, str] = {
    # i18n: an input file on a status card, alone or counted ("3 × reference")
    "image_url": N_("start frame"),
    "end_image_url": N_("end frame"),
    "media_urls": N_("reference"),
    "image_urls": N_("input image"),
    "image_files": N_("image"),
    "video_files": N_("video"),
    "audio_files": N_("audio file"),
}
#: What a card's title says a job makes.
_KINDS = {"video": N_("video"), "image": N_("image")}
_HIDDEN = frozenset({"prompt", "callback_url"})

#: Failures only their owner can act on, and that may tell about their account (its balance,
#: its key) or their files (an input that is gone): said to the owner privately, never in the
#: public thread. The public card only says the job could not be started.
PRIVATE_FAILURES = frozenset(
    {KEY_UNREADABLE, KEY_REJECTED, INPUT_EXPIRED, errors.InsufficientCreditsError.error_code}
)

#: The footer of a result embed; also how a repeated delivery recognises one already posted (in
#: any language).
RESULT_FOOTER = N_("Job #{job_id}")
CARD_FOOTER = N_("Job #{job_id} · status")
#: Who pays, on the card of a job the server's sponsor key pays for (a member's own key: no line).
PAID_BY_FIELD = N_("Paid by")
PAID_BY_SERVER = N_("the server's key")


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


def describe_duration(seconds: float, locale: LocaleLike = None) -> str:
    """``42 s``, ``3 min 5 s``, ``1 h 2 min`` (``42秒``, ``3分5秒`` …)."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return t(locale, "{hours} h {minutes} min", hours=hours, minutes=minutes)
    if minutes and secs:
        return t(locale, "{minutes} min {seconds} s", minutes=minutes, seconds=secs)
    if minutes:
        return t(locale, "{minutes} min", minutes=minutes)
    return t(locale, "{seconds} s", seconds=secs)


def describe_parameters(
    request: Mapping[str, Any], endpoint_id: str | None = None, locale: LocaleLike = None
) -> str:
    """The parameters that shape the result, one short phrase each (the prompt excluded, and
    what the model's name already says)."""
    _ = gettext_for(locale)
    choice = choice_of(endpoint_id, request) if endpoint_id else None
    implied = set(choice.fixed) if choice else set()
    parts: list[str] = []
    for name, value in request.items():
        if name in _HIDDEN or name in implied or value is None:
            continue
        if name in _INPUTS:
            count = len(value) if isinstance(value, list) else 1
            label = _(_INPUTS[name])
            parts.append(
                label if count == 1 and not isinstance(value, list) else f"{count} × {label}"
            )
            continue
        label = _(_LABELS[name]) if name in _LABELS else name.replace("_", " ")
        if isinstance(value, bool):
            state = _("on") if value else _("off")
            parts.append(f"{label} {state}")
        elif name == "duration":
            seconds = _("{seconds} s", seconds=value)
            parts.append(f"{label} {seconds}")
        else:
            parts.append(f"{label} {value}")
    return " · ".join(parts) or _("defaults")


def _status_line(job: Job, progress: Progress | None, locale: LocaleLike) -> tuple[str, str]:
    """(colour key, what the card says about the job's state)."""
    _ = gettext_for(locale)
    kind = progress.kind if progress else None
    if kind is ProgressKind.CANCELLED or job.state is JobState.CANCELLED:
        return "cancelled", _("Cancelled before it was sent. Nothing was charged.")
    outcome = job.outcome
    if kind is ProgressKind.UNCERTAIN or outcome is JobOutcome.UNCERTAIN:
        return "uncertain", _("The provider did not confirm this job. See the message below.")
    if outcome is JobOutcome.FAILED and job.error_code in PRIVATE_FAILURES:
        return "failed", _("Could not be started. Its owner was told why, privately.")
    if outcome is JobOutcome.FAILED:
        return "failed", _("Failed. The reason is posted below.")
    if outcome is JobOutcome.SUCCEEDED:
        took = _took(job, locale)
        if took:
            return "succeeded", _("Done in {took}. The result is posted below.", took=took)
        return "succeeded", _("Done. The result is posted below.")
    if kind is ProgressKind.QUEUED or job.state is JobState.QUEUED:
        position = progress.queue_position if progress else None
        if position == 1:
            return "queued", _("Queued: next to start.")
        if position:
            return "queued", tn(
                locale,
                "Queued: {count} of your jobs ahead of it.",
                "Queued: {count} of your jobs ahead of it.",
                position - 1,
            )
        return "queued", _("Queued.")
    if job.state is JobState.SUBMITTING or kind is ProgressKind.SUBMITTED:
        line = _("Sent to the provider; waiting for it to start.")
        estimate = _estimate_line(progress, 0.0, locale)
        return "submitted", f"{line}\n{estimate}" if estimate else line
    elapsed = progress.elapsed if progress else None
    so_far = describe_duration(elapsed, locale) if elapsed is not None else None
    # A Discord timestamp keeps counting on every client between two edits of the card.
    started = f"<t:{int(job.submitted_at)}:R>" if job.submitted_at else None
    if so_far is not None and started is not None:
        line = _(
            "Generating: {elapsed} so far (started {started}).", elapsed=so_far, started=started
        )
    elif so_far is not None:
        line = _("Generating: {elapsed} so far.", elapsed=so_far)
    elif started is not None:
        line = _("Generating (started {started}).", started=started)
    else:
        line = _("Generating.")
    estimate = _estimate_line(progress, elapsed, locale)
    if estimate:
        line += "\n" + estimate
    failing_since = progress.failing_since if progress else None
    if failing_since is not None:
        line += "\n" + _outage_line(job, failing_since, elapsed, locale)
    return "running", line


#: Cells of a status card's progress bar.
BAR_CELLS = 10


def progress_bar(elapsed: float, expected: float) -> str:
    """``▰▰▰▱▱▱▱▱▱▱``: the share of the expected time gone, in tenths; never full while the job
    runs (it is full only once done)."""
    share = elapsed / expected if expected > 0 else 0.0
    filled = max(0, min(BAR_CELLS - 1, math.floor(share * BAR_CELLS)))
    return "▰" * filled + "▱" * (BAR_CELLS - filled)


def _estimate_line(
    progress: Progress | None, elapsed: float | None, locale: LocaleLike
) -> str | None:
    """The progress bar and when the job should be done (the median of jobs like it, as a
    Discord relative timestamp), or "any moment now" once that is past; None without an
    estimate."""
    if progress is None or progress.expected is None or progress.eta is None:
        return None
    gone = elapsed or 0.0
    bar = progress_bar(gone, progress.expected)
    if gone >= progress.expected:
        return t(locale, "{bar} Should be done any moment now.", bar=bar)
    when = f"<t:{math.ceil(progress.eta)}:R>"
    return t(locale, "{bar} Should be done {when}.", bar=bar, when=when)


def _outage_line(job: Job, since: float, elapsed: float | None, locale: LocaleLike) -> str:
    """The provider keeps failing this job's polls: since when, and that the bot keeps trying."""
    site, clock_time = provider_name(job.provider), f"<t:{int(since)}:t>"
    if elapsed is None or not job.submitted_at:
        return t(
            locale,
            "⚠️ {site} has not been answering since {time} — still trying.",
            site=site,
            time=clock_time,
        )
    # ``elapsed`` was measured when the event was made, on the clock ``since`` comes from.
    down = describe_duration(job.submitted_at + elapsed - since, locale)
    return t(
        locale,
        "⚠️ {site} has not been answering for {duration} (since {time}) — still trying.",
        site=site,
        duration=down,
        time=clock_time,
    )


def _took(job: Job, locale: LocaleLike = None) -> str | None:
    start = job.submitted_at or job.created_at
    if job.finished_at is None or not start:
        return None
    return describe_duration(job.finished_at - start, locale)


def cost_text(cost: CostEstimate, locale: LocaleLike = None) -> str:
    """A documented price as the reader reads it: "2,900 credits ($0.29)", "2.900 credits
    ($0.29)"."""
    # Whole cents as usual, but never rounded: 19 credits on seedanceapi cost $0.095.
    cents = cost.usd.quantize(Decimal("0.01"))
    usd = f"${cents}" if cents == cost.usd else f"${cost.usd.normalize():f}"
    return tn(locale, "{count} credit ({usd})", "{count} credits ({usd})", cost.credits, usd=usd)


def status_embed(
    job: Job, progress: Progress | None, cost: CostEstimate | None, locale: LocaleLike = None
) -> discord.Embed:
    """The status card of ``job`` at ``progress``: prompt, model, parameters, cost, state, in
    ``locale`` (where the card is shown, see ``Destination.locale``)."""
    _ = gettext_for(locale)
    colour, status = _status_line(job, progress, locale)
    try:
        kind = _(_KINDS[endpoint(job.endpoint).kind.value])
    except KeyError:
        kind = _("generation")
    embed = discord.Embed(
        title=f"{model_title(job)} · {kind}",
        description=prompt_excerpt(str(job.request.get("prompt", ""))),
        colour=COLOURS[colour],
    )
    embed.add_field(name=_("Status"), value=status, inline=False)
    parameters = describe_parameters(job.request, job.endpoint, locale)
    embed.add_field(name=_("Parameters"), value=clip(parameters, FIELD_LIMIT), inline=False)
    if cost is not None:
        embed.add_field(name=_("Cost estimate"), value=cost_text(cost, locale), inline=True)
    embed.add_field(name=_("Requested by"), value=f"<@{job.owner_id}>", inline=True)
    if job.sponsor_guild_id is not None:
        embed.add_field(name=_(PAID_BY_FIELD), value=_(PAID_BY_SERVER), inline=True)
    embed.set_footer(text=_(CARD_FOOTER, job_id=job.id))
    return embed


def _credits(job: Job, locale: LocaleLike) -> str:
    _ = gettext_for(locale)
    charged, refunded = job.credits_charged, job.credits_refunded
    if charged is None and refunded is None:
        return _("not reported")
    if charged is not None and refunded:
        return _(
            "{charged} charged, {refunded} refunded",
            charged=number(locale, charged),
            refunded=number(locale, refunded),
        )
    if charged is not None:
        return _("{credits} charged", credits=number(locale, charged))
    if refunded:
        return _("{credits} refunded", credits=number(locale, refunded))
    return _("none")


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
    JobOutcome.SUCCEEDED: N_("done"),
    JobOutcome.FAILED: N_("failed"),
    JobOutcome.UNCERTAIN: N_("not confirmed"),
}


def result_embed(job: Job, locale: LocaleLike = None) -> discord.Embed:
    """The embed under a job's result: the prompt, model, seed, credits, time and the job id.

    What happened (and what to do) is in the message text, which shows even where embeds don't.
    """
    _ = gettext_for(locale)
    kind = result_kind(job)
    title = model_title(job)
    embed = discord.Embed(
        title=f"{title} · {_(_HEADINGS[kind])}",
        description=prompt_excerpt(str(job.request.get("prompt", ""))),
        colour=COLOURS[kind],
    )
    embed.add_field(name=_("Model"), value=title, inline=True)
    if kind is JobOutcome.SUCCEEDED:
        seed = str(job.seed) if job.seed is not None else _("not reported")
        embed.add_field(name=_("Seed"), value=seed, inline=True)
    embed.add_field(name=_("Credits"), value=_credits(job, locale), inline=True)
    took = _took(job, locale)
    if took and kind is not JobOutcome.UNCERTAIN:
        embed.add_field(name=_("Took"), value=took, inline=True)
    embed.set_footer(text=_(RESULT_FOOTER, job_id=job.id))
    return embed


@functools.cache
def _result_footers() -> tuple[re.Pattern[str], ...]:
    """The result footer in every language, the job id captured (a repeated delivery finds a
    result whatever language it was posted in)."""
    found = []
    for language in dict.fromkeys([None, *CATALOGS]):
        before, _, after = t(language, RESULT_FOOTER).partition("{job_id}")
        found.append(re.compile(rf"^{re.escape(before)}(\d+){re.escape(after)}$"))
    return tuple(dict.fromkeys(found))


def result_job_id(embed: discord.Embed) -> int | None:
    """The job a result embed belongs to (None for anything else, status cards included)."""
    text = embed.footer.text or ""
    for footer in _result_footers():
        match = footer.match(text)
        if match:
            return int(match.group(1))
    return None


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


def describe_size(size: int, locale: LocaleLike = None) -> str:
    """``12 MB``, ``1.5 MB`` (``1,5 MB`` …)."""
    megabytes = size / 1024 / 1024
    shown = size // (1024 * 1024) if size % (1024 * 1024) == 0 else round(megabytes, 1)
    return f"{number(locale, shown)} MB"


#: What a result message calls its file: the only one / one of several (``{index}``).
_THE_FILE = {"video": N_("the video"), "image": N_("the image")}
_NTH_FILE = {"video": N_("video {index}"), "image": N_("image {index}")}
#: The name of the button that sends an unconfirmed job once more (see ``_buttons``).
SEND_AGAIN = N_("Send again")


def result_text(
    job: Job, media: Sequence[Media], limit: int, *, mention: bool, locale: LocaleLike = None
) -> list[str]:
    """The lines of a result message: what happened, links with why they are links, what to do."""
    _ = gettext_for(locale)
    who = f"<@{job.owner_id}>" if mention else None
    kind = result_kind(job)
    if kind is JobOutcome.FAILED:
        if job.error_code in PRIVATE_FAILURES:
            headline = _("Job #{job_id} could not be started.", job_id=job.id)
        else:
            headline = _("Job #{job_id} failed.", job_id=job.id)
        return [_sentence(who, headline), describe_job_failure(failure_of(job), locale)]
    if kind is JobOutcome.UNCERTAIN:
        return _uncertain_text(job, who, locale)
    noun = "video" if media_kind(job) == "video" else "image"
    if len(media) != 1 and noun == "video":
        headline = tn(
            locale, "Your {count} video is ready.", "Your {count} videos are ready.", len(media)
        )
    elif len(media) != 1:
        headline = tn(
            locale, "Your {count} image is ready.", "Your {count} images are ready.", len(media)
        )
    else:
        headline = _("Your video is ready.") if noun == "video" else _("Your image is ready.")
    lines = [_sentence(who, headline)]
    for index, item in enumerate(media, start=1):
        if item.link_reason is None:
            continue
        what = _(_THE_FILE[noun]) if len(media) == 1 else _(_NTH_FILE[noun], index=index)
        if item.link_reason is LinkReason.TOO_LARGE and item.size:
            why = _(
                "{what} is too large to upload here ({size}): the limit is {limit}, so here is a "
                "link instead:",
                what=what,
                size=describe_size(item.size, locale),
                limit=describe_size(limit, locale),
            )
        elif item.link_reason is LinkReason.TOO_LARGE:
            why = _(
                "{what} is too large to upload here: the limit is {limit}, so here is a link "
                "instead:",
                what=what,
                limit=describe_size(limit, locale),
            )
        elif item.link_reason is LinkReason.TOGETHER_TOO_LARGE:
            why = _(
                "The files are too large to upload together, so here is a link to {what}:",
                what=what,
            )
        else:
            why = _(
                "I could not download {what} from the provider, so here is its link:", what=what
            )
        lines.append(f"{_upper_first(why)} {item.url}")
    if len(lines) > 1:
        lines.append(_("-# Provider links expire after a while: download the file soon."))
    return lines


def _uncertain_text(job: Job, who: str | None, locale: LocaleLike) -> list[str]:
    """A submit the provider never confirmed: what happened, what it may have cost, where to
    check, and what the Send again button does."""
    _ = gettext_for(locale)
    site = provider_name(job.provider)
    try:
        where = _(ACCOUNT_PAGES[Provider(job.provider)])
    except (KeyError, ValueError):
        where = _("your account at {site}", site=site)
    return [
        _sentence(
            who,
            _(
                "Job #{job_id} was sent to {site}, but no confirmation came back, so I cannot "
                "tell whether it started.",
                job_id=job.id,
                site=site,
            ),
        ),
        describe_job_failure(job, locale),
        _(
            "To check, open {where}: if the job, or a charge for it, is listed there, it did "
            "start (the result is there), so do not send it again. If nothing is there, press "
            "**{button}** to send it once more; should the first one have started after all, "
            "you pay for both.",
            where=where,
            button=_(SEND_AGAIN),
        ),
    ]


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence(who: str | None, text: str) -> str:
    """``text`` (a sentence) after a mention of its reader, or on its own."""
    if who is None:
        return _upper_first(text)
    # After the mention the sentence goes on: "<@1> your video is ready." (an acronym stays).
    first = text[:1] if text[1:2].isupper() else text[:1].lower()
    return f"{who} {first}{text[1:]}"


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
