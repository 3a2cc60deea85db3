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

from bot.jobs import (
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
from cogs._text import clip

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
    errors.RateLimitedError.error_code: "The provider kept rate limiting this key. Try again in a few minutes.",
    errors.ServerError.error_code: errors.ServerError.advice,
    errors.MalformedResponseError.error_code: errors.MalformedResponseError.advice,
    errors.ConnectionFailedError.error_code: errors.ConnectionFailedError.advice,
    errors.IdempotencyConflictError.error_code: errors.IdempotencyConflictError.advice,
    errors.SubmitOutcomeUnknownError.error_code: errors.SubmitOutcomeUnknownError.advice,
    # Codes the engine gives the jobs it ends itself.
    PROVIDER_TIMEOUT: "The provider never finished this job. Nothing more will be charged; try again.",
    NO_LINKED_KEY: "Link an API key for this provider with /key link, then try again.",
    KEY_UNREADABLE: "The bot can no longer read your stored key (its encryption secret changed). Link the key again with /key link, then try again.",
    KEY_REJECTED: "The provider refused your API key (revoked, expired or mistyped), so nothing more is sent with it. Check it in your account at the provider, link it again with /key link, then try again.",
    INTERNAL_ERROR: "Something went wrong in the bot with this job. Please try again.",
    INPUT_EXPIRED: "One of this job's input files could no longer be fetched from Discord, so the job was never sent.",
    NO_MEDIA: "The provider said it finished but sent no file. Try again; check your balance for a refund.",
}


class UserFacingError(Exception):
    """An error whose message is meant for the member as is."""

    #: Stable name of this failure (subclasses name theirs).
    error_code: ClassVar[str] = "UserFacing"


def describe_problems(error: InvalidParameters) -> str:
    """Every problem on its own line, naming the option and the allowed values."""
    lines = ["Nothing was sent and nothing was charged. Please change:"]
    lines += [f"• {problem}" for problem in error.problems]
    return clip("\n".join(lines))


def describe_provider_error(error: ProviderError) -> str:
    return clip(f"{error.advice}\n-# {error.provider}: {error.message}")


def describe_job_failure(job: Job) -> str:
    """What happened to a failed job, and what to do about it."""
    advice = _JOB_ERRORS.get(job.error_code or "", "The provider could not make this.")
    what = job.error_message or "No reason was given."
    return clip(f"{advice}\n-# {job.provider}: {what}")


def describe(error: BaseException) -> str | None:
    """The message for an expected error; None for a bug (shown with a reference instead)."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, InvalidParameters):
        return describe_problems(error)
    if isinstance(error, ProviderError):
        return describe_provider_error(error)
    if isinstance(error, KeyRejectedError):
        return (
            f"{error.provider} refused your API key, so nothing was sent and nothing was charged. "
            f"Check the key in your {error.provider} account, then link it again with /key link."
        )
    if isinstance(error, TooManyWaitingJobsError):
        return (
            f"You already have {error.limit} jobs waiting, the most one member can have; nothing "
            "was sent and nothing was charged. /jobs list shows them; /jobs cancel removes one "
            "you no longer need. Or try again when some have started."
        )
    if isinstance(error, NoLinkedKeyError):
        return f"You have no API key linked for {error.provider}. Link one with /key link."
    if isinstance(error, KeyDecryptionError):
        return "Your stored key can no longer be read (the bot's secret changed). Link it again with /key link."
    if isinstance(error, UserFacingError):
        return str(error)
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} seconds."
    if isinstance(error, app_commands.BotMissingPermissions):
        missing = ", ".join(p.replace("_", " ") for p in error.missing_permissions)
        return f"I am missing permissions here: {missing}. Ask a server admin to grant them."
    if isinstance(error, app_commands.MissingPermissions):
        missing = ", ".join(p.replace("_", " ") for p in error.missing_permissions)
        return f"You need these permissions: {missing}."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use this command here."
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
    message = describe(error)
    if message is None:
        reference = secrets.token_hex(4)
        if interaction.command is not None:
            where = f"/{interaction.command.qualified_name}"
        else:
            custom_id = dict(interaction.data or {}).get("custom_id", "?")
            where = f"component {custom_id}"
        log.error("Unexpected error in %s (ref %s)", where, reference, exc_info=error)
        message = f"Something went wrong on our side. If it keeps happening, report reference `{reference}`."
    await reply(interaction, message)
