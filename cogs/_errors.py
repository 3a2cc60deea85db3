"""One place that turns any exception into a message a member can act on.

The command tree hands every command error to :func:`report` (plugged in by the
``cogs.error_handler`` extension); buttons and forms call it themselves.
"""

from __future__ import annotations

import logging
import secrets
from typing import ClassVar

import discord
from discord import app_commands

from bot.i18n import N_, LocaleLike, Text, listing, t, tn, translate_stored
from bot.jobs import (
    ENGINE_MESSAGES,
    INPUT_EXPIRED,
    INTERNAL_ERROR,
    KEY_REJECTED,
    KEY_UNREADABLE,
    NO_LINKED_KEY,
    PROVIDER_TIMEOUT,
    KeyRejectedError,
    NoLinkedKeyError,
    TooManyWaitingJobsError,
)
from bot.models import InvalidParameters
from bot.providers import ProviderError, errors
from bot.storage import Job, KeyDecryptionError
from cogs._text import clip, provider_name

log = logging.getLogger(__name__)

#: Error code of a job the provider said succeeded without sending any file.
NO_MEDIA = "no_media"

#: Advice for each error code a failed job can carry (the codes stored in the database).
_JOB_ERRORS: dict[str, str] = {
    errors.UnauthorizedError.error_code: errors.UnauthorizedError.advice,
    errors.InvalidRequestError.error_code: errors.InvalidRequestError.advice,
    errors.InsufficientCreditsError.error_code: errors.InsufficientCreditsError.advice,
    errors.NotFoundError.error_code: errors.NotFoundError.advice,
    # Said once the engine stopped retrying, not the error's own "the bot will try again".
    errors.RateLimitedError.error_code: N_(
        "The provider kept rate limiting this key. Try again in a few minutes."
    ),
    errors.ServerError.error_code: errors.ServerError.advice,
    errors.MalformedResponseError.error_code: errors.MalformedResponseError.advice,
    errors.ConnectionFailedError.error_code: errors.ConnectionFailedError.advice,
    errors.IdempotencyConflictError.error_code: errors.IdempotencyConflictError.advice,
    errors.SubmitOutcomeUnknownError.error_code: errors.SubmitOutcomeUnknownError.advice,
    # Codes the engine gives the jobs it ends itself.
    PROVIDER_TIMEOUT: N_(
        "The provider never finished this job. Nothing more will be charged; try again."
    ),
    NO_LINKED_KEY: N_("Link an API key for this provider with /key link, then try again."),
    KEY_UNREADABLE: N_(
        "The bot can no longer read your stored key (its encryption secret changed). Link the "
        "key again with /key link, then try again."
    ),
    KEY_REJECTED: N_(
        "The provider refused your API key (revoked, expired or mistyped), so nothing more is "
        "sent with it. Check it in your account at the provider, link it again with /key link, "
        "then try again."
    ),
    INTERNAL_ERROR: N_("Something went wrong in the bot with this job. Please try again."),
    INPUT_EXPIRED: N_(
        "One of this job's input files could no longer be fetched from Discord, so the job was "
        "never sent."
    ),
    NO_MEDIA: N_(
        "The provider said it finished but sent no file. Try again; check your balance for a "
        "refund."
    ),
}
#: Advice instead, where the server's sponsor key paid: the key is the server admins' to fix.
_SERVER_KEY_JOB_ERRORS: dict[str, str] = {
    NO_LINKED_KEY: N_(
        "This server's key for this provider was removed before the job was sent. Link your own "
        "key with /key link, or ask a server admin to link the server's again."
    ),
    KEY_UNREADABLE: N_(
        "The bot can no longer read this server's stored key (its encryption secret changed). "
        "Ask a server admin to link it again with /settings sponsor link."
    ),
    KEY_REJECTED: N_(
        "The provider refused this server's key, so nothing more is sent with it. Ask a server "
        "admin to check it and link it again with /settings sponsor link, or link your own key "
        "with /key link."
    ),
    errors.InsufficientCreditsError.error_code: N_(
        "This server's key has run out of credits at the provider. Ask a server admin to top "
        "it up, or link your own key with /key link."
    ),
}
#: Said for a code no version of the bot gave (a newer one's, say).
_UNKNOWN_FAILURE = N_("The provider could not make this.")

# -- an input file that is gone ----------------------------------------------------------------
# Said when a job's input can no longer be had (see cogs.generate._inputs): right away to a
# member pressing a button, or stored by the engine in English with the job it fails, and read
# back from these texts wherever that job is shown (see describe_job_failure). Changing one
# leaves jobs stored with the old one in English: keep them stable.

#: What each URL field is to the member, naming an input that is gone (``{file}``: its name).
INPUT_LABELS: dict[str, str] = {
    "image_url": N_("the start frame `{file}`"),
    "end_image_url": N_("the end frame `{file}`"),
    "media_urls": N_("the reference `{file}`"),
    "image_urls": N_("the image `{file}`"),
    "image_files": N_("the image `{file}`"),
    "video_files": N_("the video `{file}`"),
    "audio_files": N_("the audio `{file}`"),
}
ANY_INPUT = N_("the input `{file}`")
INPUT_GONE = N_(
    "Cannot use {inputs} of job #{job_id}: {why}. Nothing was sent and nothing was charged; "
    "{advice}."
)
#: Why (``{why}``) and what to do (``{advice}``).
NO_CARD = N_("the job has no status card to keep its files on")
CARD_GONE = N_("its copy on the job's status card was deleted or can no longer be read")
NO_FRESH_LINK = N_("Discord did not hand out a fresh link")
NOT_ON_CARD = N_("it is not kept on the job's status card")
START_OVER = N_("start a new request with the file attached")
TRY_AGAIN_SOON = N_("try again in a moment")

#: Every text the bot stores with a job it ends itself, and the texts its values were (read
#: back from the stored English, see :func:`bot.i18n.translate_stored`).
_STORED_MESSAGES = (*ENGINE_MESSAGES, INPUT_GONE)
_STORED_PARTS = {
    "inputs": (*dict.fromkeys(INPUT_LABELS.values()), ANY_INPUT),
    "why": (NO_CARD, CARD_GONE, NO_FRESH_LINK, NOT_ON_CARD),
    "advice": (START_OVER, TRY_AGAIN_SOON),
}

#: Discord's own names for the permissions the bot asks for (its invite link), as its apps show
#: them in each language; any other permission is named by its API name.
_PERMISSIONS: dict[str, str] = {
    "view_channel": N_("View Channels"),
    "send_messages": N_("Send Messages"),
    "create_public_threads": N_("Create Public Threads"),
    "send_messages_in_threads": N_("Send Messages in Threads"),
    "attach_files": N_("Attach Files"),
    "embed_links": N_("Embed Links"),
    "read_message_history": N_("Read Message History"),
}


class UserFacingError(Exception):
    """An error whose message is meant for the member: a catalog text (marked with ``N_``) and
    the values to fill in (``Text`` values are translated too), shown in the reader's language;
    ``str()`` is the English text, for logs."""

    #: Stable name of this failure (subclasses name theirs).
    error_code: ClassVar[str] = "UserFacing"

    def __init__(self, message: str = "", /, **values: object) -> None:
        self.text = Text(message, values)
        super().__init__(str(self.text))

    def translated(self, locale: LocaleLike) -> str:
        return self.text.translated(locale)


def describe_problems(error: InvalidParameters, locale: LocaleLike = None) -> str:
    """Every problem on its own line, naming the option and the allowed values."""
    lines = [t(locale, "Nothing was sent and nothing was charged. Please change:")]
    lines += [f"• {problem.translated(locale)}" for problem in error.problems]
    return clip("\n".join(lines))


def describe_provider_error(error: ProviderError, locale: LocaleLike = None) -> str:
    return clip(f"{t(locale, error.advice)}\n-# {error.provider}: {error.message}")


def describe_job_failure(job: Job, locale: LocaleLike = None) -> str:
    """What happened to a failed job, and what to do about it (the provider's own words as
    they came; the engine's in the reader's language)."""
    code = job.error_code or ""
    if job.sponsor_guild_id is not None and code in _SERVER_KEY_JOB_ERRORS:
        advice = t(locale, _SERVER_KEY_JOB_ERRORS[code])
    else:
        advice = t(locale, _JOB_ERRORS.get(code, _UNKNOWN_FAILURE))
    if job.error_message:
        what = translate_stored(locale, job.error_message, _STORED_MESSAGES, _STORED_PARTS)
    else:
        what = t(locale, "No reason was given.")
    return clip(f"{advice}\n-# {job.provider}: {what}")


def _permissions(locale: LocaleLike, names: list[str]) -> str:
    return listing(
        locale,
        (t(locale, _PERMISSIONS[n]) if n in _PERMISSIONS else n.replace("_", " ") for n in names),
    )


def describe(error: BaseException, locale: LocaleLike = None) -> str | None:
    """The message for an expected error; None for a bug (shown with a reference instead)."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, InvalidParameters):
        return describe_problems(error, locale)
    if isinstance(error, ProviderError):
        return describe_provider_error(error, locale)
    if isinstance(error, KeyRejectedError):
        return t(
            locale,
            "{provider} refused your API key, so nothing was sent and nothing was charged. "
            "Check the key in your {provider} account, then link it again with /key link.",
            provider=provider_name(error.provider),
        )
    if isinstance(error, TooManyWaitingJobsError):
        return tn(
            locale,
            "You already have {count} job waiting, the most one member can have; nothing was "
            "sent and nothing was charged. /jobs list shows it; /jobs cancel removes it if you "
            "no longer need it. Or try again when it has started.",
            "You already have {count} jobs waiting, the most one member can have; nothing "
            "was sent and nothing was charged. /jobs list shows them; /jobs cancel removes one "
            "you no longer need. Or try again when some have started.",
            error.limit,
        )
    if isinstance(error, NoLinkedKeyError):
        return t(
            locale,
            "You have no API key linked for {provider}. Link one with /key link.",
            provider=error.provider,
        )
    if isinstance(error, KeyDecryptionError):
        return t(
            locale,
            "Your stored key can no longer be read (the bot's secret changed). Link it again "
            "with /key link.",
        )
    if isinstance(error, UserFacingError):
        # Its text in the reader's language where the catalogs have it.
        return error.translated(locale)
    if isinstance(error, app_commands.CommandOnCooldown):
        return t(
            locale,
            "Slow down: try again in {seconds} seconds.",
            seconds=round(error.retry_after),
        )
    if isinstance(error, app_commands.BotMissingPermissions):
        return t(
            locale,
            "I am missing permissions here: {permissions}. Ask a server admin to grant them.",
            permissions=_permissions(locale, error.missing_permissions),
        )
    if isinstance(error, app_commands.MissingPermissions):
        return t(
            locale,
            "You need these permissions: {permissions}.",
            permissions=_permissions(locale, error.missing_permissions),
        )
    if isinstance(error, app_commands.CheckFailure):
        return t(locale, "You can't use this command here.")
    return None


async def reply(
    interaction: discord.Interaction,
    content: str,
    *,
    view: discord.ui.View | None = None,
) -> None:
    """Answer ephemerally whether or not the interaction was already acknowledged.

    An interaction whose token expired (after 15 minutes) can no longer be answered; that is
    logged rather than raised.
    """
    try:
        if interaction.response.is_done():
            if view is None:
                await interaction.followup.send(clip(content), ephemeral=True)
            else:
                await interaction.followup.send(clip(content), ephemeral=True, view=view)
        elif view is None:
            await interaction.response.send_message(clip(content), ephemeral=True)
        else:
            await interaction.response.send_message(clip(content), ephemeral=True, view=view)
    except (discord.NotFound, discord.HTTPException) as exc:
        log.warning("Could not answer interaction %s: %s", interaction.id, exc)


async def report(interaction: discord.Interaction, error: BaseException) -> None:
    """Answer the member for any exception: its message, or a reference that is in the log."""
    message = describe(error, interaction.locale)
    if message is None:
        reference = secrets.token_hex(4)
        if interaction.command is not None:
            where = f"/{interaction.command.qualified_name}"
        else:
            custom_id = dict(interaction.data or {}).get("custom_id", "?")
            where = f"component {custom_id}"
        log.error("Unexpected error in %s (ref %s)", where, reference, exc_info=error)
        message = t(
            interaction.locale,
            "Something went wrong on our side. If it keeps happening, report reference "
            "`{reference}`.",
            reference=reference,
        )
    await reply(interaction, message)
