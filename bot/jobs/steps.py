"""The steps of a job's life before it ends: send it, poll it, and pick it up again from its
stored state after a restart or an unexpected error. (How it ends: ``endings.py``.)

Every change to a job goes through the ledger (:meth:`JobLedger.move`), which keeps the
owner's queue and running slots in step with it.
"""

from __future__ import annotations

import logging

from bot.jobs.board import Phase
from bot.jobs.callbacks import CallbackUrls, fallback_delay
from bot.jobs.endings import JobEndings
from bot.jobs.errors import (
    FAILED_BEFORE_SENDING,
    FAILED_EACH_SEND,
    FAILED_WHILE_SENDING,
    INTERNAL_ERROR,
    PROVIDER_TIMEOUT,
    RESTARTED_WHILE_SENDING,
    TIMED_OUT,
    TIMED_OUT_AT_PROVIDER,
)
from bot.jobs.ports import InputUnavailableError, ProgressKind
from bot.jobs.scheduler import Step
from bot.models import endpoint
from bot.providers import ProviderError, TaskState, TaskStatus, errors
from bot.providers.http import RequestGate
from bot.storage import AWAITING_DELIVERY, DeliveryState, Job, JobState
from bot.storage.jobs import image_urls_json, raw_json, request_json

log = logging.getLogger(__name__)

#: Poll failures that mean the provider is not answering (as opposed to a 429 or a refusal).
_OUTAGES = (errors.ServerError, errors.ConnectionFailedError, errors.MalformedResponseError)


class JobSteps(JobEndings):
    """What the engine does for one job; the engine runs each step as a task of its own."""

    #: Where providers that call back are to call (set by the engine); None: no callbacks.
    callbacks: CallbackUrls | None = None

    # -- sending -------------------------------------------------------------------------------

    async def submit(self, job: Job, api_key: str, gate: RequestGate) -> None:
        """Send a job chosen to start (it holds one of its owner's running slots)."""
        prepared = await self._prepare_inputs(job)
        if prepared is None:  # not sent: failed, or waiting to try again
            return
        job = prepared
        callback_url, token_hash = self._callback_for(job)
        notes = self._notes(job)
        notes.called_back_at, notes.callback_pending = None, False  # about an earlier attempt
        # Written before the POST, so a crash mid-request is known on restart (and a callback
        # that comes before the answer finds its job).
        sending = await self._ledger.move(
            job,
            Phase.SUBMITTING,
            expect=(JobState.QUEUED, JobState.SUBMITTING),
            state=JobState.SUBMITTING,
            submit_attempts=job.submit_attempts + 1,
            callback_token_hash=token_hash,
        )
        if sending is None:  # cancelled meanwhile
            self._ledger.place(job, None)
            return
        await self._ledger.publish_queue(job.owner_id)
        client = self._clients[job.provider].gated(gate)
        request = endpoint(job.endpoint).request_model.parse(job.request)
        try:
            submission = await client.submit(
                request, api_key, sending.idempotency_key, callback_url=callback_url
            )
        except errors.SubmitOutcomeUnknownError as error:
            await self.mark_uncertain(sending, error.message)
            return
        except errors.UnauthorizedError as error:
            await self._reject_key(sending, error)
            return
        except ProviderError as error:
            if error.retryable and sending.submit_attempts < self._config.max_submit_attempts:
                await self._requeue(sending, error)
            else:
                await self._fail(sending, error.error_code, error.message)
            return
        now = self._clock.now()
        first_poll = now + self.times.first_poll(job.endpoint, job.request)
        first_poll = now + self._until_next_poll(sending, 0.0, first_poll - now)
        await self._ledger.move(
            job,
            Phase.RUNNING,
            at=first_poll,
            show=ProgressKind.SUBMITTED,
            elapsed=0.0,
            state=JobState.RUNNING,
            remote_task_id=submission.task_id,
            submitted_at=now,
            credits_charged=submission.credits_charged,
            next_poll_at=first_poll,
        )
        log.info("Job %d submitted to %s as task %s", job.id, job.provider, submission.task_id)
        self._poll_if_called_back(job)

    async def _prepare_inputs(self, job: Job) -> Job | None:
        """``job`` as it is to be sent: with its input links refreshed (and stored) if it waited
        long enough for them to expire. None when it must not be sent now: an input can no longer
        be had (the job fails, nothing sent) or cannot be had right now (it waits, then tries
        again)."""
        if self.inputs is None or not self._may_replace_request(job):
            return job
        notes = self._notes(job)
        now = self._clock.now()
        fresh_at = job.created_at if notes.inputs_fresh_at is None else notes.inputs_fresh_at
        if now - fresh_at < self._config.refresh_inputs_after:
            return job
        try:
            fresh = await self.inputs.refresh(job)
        except InputUnavailableError as error:
            notes.refresh_failures += 1
            failures = notes.refresh_failures
            if error.retryable and failures < self._config.max_submit_attempts:
                delay = self._config.submit_retry_delay * failures
                await self._ledger.move(job, Phase.QUEUED, next_poll_at=now + delay)
                log.warning(
                    "Job %d: inputs not refreshed (%s); trying again in %.0fs", job.id, error, delay
                )
                return None
            await self._fail(job, error.error_code, error.message)
            await self._ledger.publish_queue(job.owner_id)
            return None
        notes.refresh_failures = 0
        notes.inputs_fresh_at = now
        data = endpoint(job.endpoint).request_model.parse(dict(fresh))
        refreshed = data.model_dump(mode="json", exclude_none=True)
        if refreshed == job.request:
            return job
        stored = await self._ledger.move(
            job, Phase.STARTING, expect=(JobState.QUEUED,), request_json=request_json(refreshed)
        )
        if stored is None:  # cancelled meanwhile
            self._ledger.place(job, None)
            return None
        log.info("Job %d: input links refreshed before sending", job.id)
        return stored

    def _may_replace_request(self, job: Job) -> bool:
        """Whether ``job`` may be sent with another body than before: not under an
        Idempotency-Key the provider may already hold with the first body (it would refuse the
        new one, and the task it may have made would be lost). An API without idempotency keys
        is only sent a job again on proof that no task was made."""
        if job.state is not JobState.QUEUED:
            return False  # resent after a crash mid-submit: the same body under the same key
        return job.submit_attempts == 0 or not self._clients[job.provider].honours_idempotency

    async def _requeue(self, job: Job, error: ProviderError) -> None:
        delay = max(error.retry_after or 0.0, self._config.submit_retry_delay * job.submit_attempts)
        await self._ledger.move(
            job, Phase.QUEUED, state=JobState.QUEUED, next_poll_at=self._clock.now() + delay
        )
        log.warning("Job %d submit refused (%s); retrying in %.0fs", job.id, error, delay)

    # -- polling -------------------------------------------------------------------------------

    async def poll(self, job: Job, api_key: str, gate: RequestGate) -> None:
        """Ask the provider how a running job is doing; end it, or poll it again later."""
        assert job.remote_task_id is not None
        self._notes(job).callback_pending = False  # this request answers the callback
        client = self._clients[job.provider].gated(gate)
        asked_at = self._clock.now()
        try:
            state = await client.status(job.remote_task_id, api_key)
        except errors.UnauthorizedError as error:
            await self._reject_key(job, error)
            return
        except errors.NotFoundError as error:
            await self._fail(job, error.error_code, error.message)
            return
        except ProviderError as error:
            # Past its deadline the job ends whether or not the provider answers: a provider
            # that stays down (or keeps refusing polls) must not keep it, and its slot, forever.
            if await self._timed_out(job):
                return
            # Asked again at its next planned poll (at the earliest when the provider says).
            planned = self.times.next_poll_delay(
                job.endpoint, job.request, self._elapsed(job), submitted_at=job.submitted_at
            )
            delay = max(error.retry_after or 0.0, planned, self._config.plan.core_interval)
            polled = await self._poll_later(job, delay)
            if isinstance(error, _OUTAGES):
                await self._publish_outage(polled, asked_at)
            return
        self._notes(job).failing_since = None
        if state.status.finished:
            await self._finish(job, state)
            return
        if await self._timed_out(job):
            return
        elapsed = self._elapsed(job)
        planned = self.times.next_poll_delay(
            job.endpoint, job.request, elapsed, submitted_at=job.submitted_at
        )
        polled = await self._poll_later(job, planned)
        await self._ledger.publish(polled, ProgressKind.RUNNING, elapsed=elapsed)

    async def _timed_out(self, job: Job) -> bool:
        """Fail ``job`` if it has been running longer than its deadline (six times its expected
        time, within the plan's bounds), whatever its last poll said; True if it did."""
        if not self._past_deadline(job):
            return False
        minutes = round(self._elapsed(job) / 60)
        await self._fail(job, PROVIDER_TIMEOUT, TIMED_OUT_AT_PROVIDER.format(minutes=minutes))
        return True

    async def _publish_outage(self, job: Job, asked_at: float) -> None:
        """The provider failed a poll (after the client's retries); the job keeps going, and its
        card says since when the provider has not been answering."""
        notes = self._notes(job)
        if notes.failing_since is None:
            notes.failing_since = asked_at
        since = self._clock.now() - notes.failing_since
        log.warning("Job %d: %s failing its polls since %.0fs", job.id, job.provider, since)
        await self._ledger.publish(job, ProgressKind.RUNNING, elapsed=self._elapsed(job))

    async def _poll_later(self, job: Job, delay: float) -> Job:
        when = self._clock.now() + self._until_next_poll(job, self._elapsed(job), delay)
        polled = await self._ledger.move(
            job, Phase.RUNNING, at=when, poll_count=job.poll_count + 1, next_poll_at=when
        )
        self._poll_if_called_back(job)
        return polled

    # -- provider callbacks --------------------------------------------------------------------

    def _callback_for(self, job: Job) -> tuple[str | None, str | None]:
        """A new callback URL for this submit of ``job`` and the digest of its token, when its
        provider calls back and the bot can be reached; else (None, None). A callback URL the
        request itself carries is left alone (its receiver tells the engine)."""
        field = self._clients[job.provider].callback_field
        if self.callbacks is None or field is None or field in job.request:
            return None, None
        return self.callbacks.issue(job.provider)

    def _expects_callback(self, job: Job) -> bool:
        field = self._clients[job.provider].callback_field
        if field is None:
            return False
        return (job.callback_token_hash is not None and self.callbacks is not None) or (
            field in job.request
        )

    def _until_next_poll(self, job: Job, elapsed: float, planned: float) -> float:
        """``planned``; or, while a callback is expected, the slower fallback (callbacks.py)."""
        if not self._expects_callback(job):
            return planned
        expected = self.times.expected(job.endpoint, job.request)
        deadline = self.times.deadline(expected)
        interval = self._config.callback_fallback_interval
        return fallback_delay(elapsed, expected, deadline, interval, planned)

    def _poll_if_called_back(self, job: Job) -> None:
        """A callback came while this step ran (and scheduled its next poll later): the status
        request it asked for is due after all."""
        notes, phase = self._notes(job), self._ledger.board.phase(job.id)
        if notes.callback_pending and notes.called_back_at is not None and phase is Phase.RUNNING:
            self._ledger.due(job.id, max(self._clock.now(), notes.called_back_at))

    async def _finish(self, job: Job, state: TaskState) -> None:
        now = self._clock.now()
        if self._expects_callback(job) and self._notes(job).called_back_at is None:
            # Found by a fallback poll: maybe the callback URL does not reach the bot.
            log.warning(
                "Job %d: %s finished it without calling back; is /callbacks/ forwarded to the bot?",
                job.id,
                job.provider,
            )
        succeeded = state.status is TaskStatus.SUCCEEDED
        charged = job.credits_charged if state.credits_charged is None else state.credits_charged
        finished = await self._ledger.move(
            job,
            Phase.ENDED,
            state=JobState.SUCCEEDED if succeeded else JobState.FAILED,
            finished_at=now,
            poll_count=job.poll_count + 1,
            video_url=state.video_url,
            image_urls_json=image_urls_json(state.image_urls),
            last_frame_url=state.last_frame_url,
            seed=state.seed,
            credits_charged=charged,
            credits_refunded=state.credits_refunded,
            error_code=state.error_code,
            error_message=state.error_message,
            raw_json=raw_json(state.raw),
        )
        if succeeded and job.submitted_at is not None:
            # It finished between the previous poll and this one: learn the midpoint, not the
            # moment we noticed, or every late notice would teach us to poll later still.
            previous = job.updated_at if job.poll_count else job.submitted_at
            finished_at = (max(previous, job.submitted_at) + now) / 2
            called_back = self._notes(job).called_back_at
            if called_back is not None and called_back > previous:
                finished_at = min(called_back, now)  # the callback came as it finished
            learned = self.times.learn(
                job.endpoint, job.request, finished_at - job.submitted_at, at=now
            )
            await self._ledger.store.save_generation_time(
                job.endpoint, learned.size_class, learned.count, learned.mean, learned.recent
            )
        await self._ledger.move(
            finished, Phase.ENDED, at=self._clock.now(), show=ProgressKind.FINISHED
        )

    # -- picking a job up again ----------------------------------------------------------------

    async def resume(self, job: Job) -> None:
        """Take a stored job back after a restart, from whatever step it was at."""
        if job.state is JobState.QUEUED:
            self._ledger.place(job, Phase.QUEUED)
        elif job.state is JobState.SUBMITTING:
            if self._clients[job.provider].honours_idempotency:
                # Same Idempotency-Key: the provider answers with the task it may already have.
                self._ledger.place(job, Phase.QUEUED)
            else:
                await self.mark_uncertain(job, RESTARTED_WHILE_SENDING)
        elif job.state is JobState.RUNNING:
            self._ledger.place(job, Phase.RUNNING, at=job.next_poll_at or self._clock.now())
        else:
            self._ledger.place(job, Phase.ENDED, at=job.next_delivery_at or self._clock.now())

    def crash_delay(self, job_id: int) -> float:
        """How long to wait before continuing a job whose steps keep failing (doubling)."""
        live = self._ledger.board.get(job_id)
        repeats = max(live.crashes if live is not None else 0, 1) - 1
        return min(
            self._config.max_delivery_retry_delay, self._config.crash_retry_delay * 2.0**repeats
        )

    async def recover(self, job: Job, *, after: Step | None = None) -> None:
        """After an unexpected error (in the step ``after``, if any): continue ``job`` from the
        state it is stored in."""
        stored = await self._ledger.store.get(job.id)
        if stored is None or not (
            stored.state.unfinished
            or (
                stored.state in AWAITING_DELIVERY and stored.delivery_state is DeliveryState.PENDING
            )
        ):
            self._ledger.place(job, None)
            return
        now = self._clock.now()
        delay = self.crash_delay(job.id)
        if stored.state is JobState.QUEUED:
            # Failed before it was marked as being sent: nothing reached the provider.
            await self._fail(stored, INTERNAL_ERROR, FAILED_BEFORE_SENDING)
        elif stored.state is JobState.SUBMITTING:
            await self._recover_submit(stored, now + delay)
        elif stored.state is JobState.RUNNING:
            if self._past_deadline(stored):
                minutes = round(self._elapsed(stored) / 60)
                await self._fail(stored, PROVIDER_TIMEOUT, TIMED_OUT.format(minutes=minutes))
            else:
                self._ledger.place(stored, Phase.RUNNING, at=now + delay)
        elif after is Step.DELIVER:  # ended, not delivered yet: try again later
            self._ledger.place(stored, Phase.ENDED, at=now + delay)
        else:
            uncertain = stored.state is JobState.UNCERTAIN
            kind = ProgressKind.UNCERTAIN if uncertain else ProgressKind.FINISHED
            await self._ledger.move(stored, Phase.ENDED, at=now, show=kind)

    async def _recover_submit(self, stored: Job, retry_at: float) -> None:
        """The request may have left: handled as after a restart mid-submit."""
        if not self._clients[stored.provider].honours_idempotency:
            await self.mark_uncertain(stored, FAILED_WHILE_SENDING)
        elif stored.submit_attempts < self._config.max_submit_attempts:
            # Resent later with the same Idempotency-Key: never a second task.
            await self._ledger.move(
                stored, Phase.QUEUED, state=JobState.QUEUED, next_poll_at=retry_at
            )
        else:
            await self._fail(stored, INTERNAL_ERROR, FAILED_EACH_SEND)
