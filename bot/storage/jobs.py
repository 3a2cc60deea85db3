"""Jobs: every generation request, written before anything is sent and updated at each step."""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.storage.database import Database
from bot.storage.records import (
    AWAITING_DELIVERY,
    UNFINISHED,
    DeliveryState,
    Destination,
    Job,
    JobState,
    MemberUsage,
)

#: Columns the engine may change through ``update``; anything else is a programming error.
_UPDATABLE = frozenset(
    {
        "state", "thread_id", "message_id", "channel_id", "remote_task_id", "submitted_at",
        "finished_at", "delivered_at", "next_poll_at", "submit_attempts", "poll_count",
        "delivery_attempts", "next_delivery_at", "delivery_state", "video_url",
        "image_urls_json", "last_frame_url", "seed", "credits_charged", "credits_refunded",
        "error_code", "error_message", "raw_json", "idempotency_key", "request_json",
        "callback_token_hash",
    }
)  # fmt: skip


def _job(row: aiosqlite.Row) -> Job:
    return Job(
        id=row["id"],
        owner_id=row["owner_id"],
        destination=Destination(
            row["guild_id"],
            row["channel_id"],
            row["thread_id"],
            row["message_id"],
            private=bool(row["private"]),
            locale=row["locale"],
            owner_locale=row["owner_locale"],
        ),
        provider=row["provider"],
        endpoint=row["endpoint"],
        request=json.loads(row["request_json"]),
        idempotency_key=row["idempotency_key"],
        state=JobState(row["state"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        remote_task_id=row["remote_task_id"],
        submitted_at=row["submitted_at"],
        finished_at=row["finished_at"],
        delivered_at=row["delivered_at"],
        next_poll_at=row["next_poll_at"],
        submit_attempts=row["submit_attempts"],
        poll_count=row["poll_count"],
        delivery_attempts=row["delivery_attempts"],
        next_delivery_at=row["next_delivery_at"],
        delivery_state=DeliveryState(row["delivery_state"]),
        video_url=row["video_url"],
        image_urls=tuple(json.loads(row["image_urls_json"])),
        last_frame_url=row["last_frame_url"],
        seed=row["seed"],
        credits_charged=row["credits_charged"],
        credits_refunded=row["credits_refunded"],
        error_code=row["error_code"],
        error_message=row["error_message"],
        raw=json.loads(row["raw_json"]) if row["raw_json"] else None,
        callback_token_hash=row["callback_token_hash"],
        paid_by=row["paid_by"],
    )


_NOWHERE = Destination()

#: Most row changes written in one transaction. Changes that come while one is being written go
#: in the next one together (with thousands of jobs running, one transaction per poll queued up
#: behind each other for seconds); bounded, so the rows read back are parsed a few at a time.
_WRITE_BATCH = 256


@dataclass(eq=False)
class _RowChange:
    """One ``update`` or ``transition`` waiting to be written."""

    job_id: int
    sql: str
    params: list[Any]
    #: A compare-and-set: its own statement, whose row count tells whether it matched.
    conditional: bool
    #: The row as written, or None (not in an expected state; for ``update``: no such job).
    done: asyncio.Future[Job | None]


def _settle(change: _RowChange, row: aiosqlite.Row | None) -> None:
    """Hand the caller of ``change`` its row as written (read here, so a row that cannot be read
    fails only its own caller)."""
    if change.done.done():  # the caller gave up meanwhile
        return
    try:
        job = None if row is None else _job(row)
    except Exception as error:
        change.done.set_exception(error)
    else:
        change.done.set_result(job)


def new_idempotency_key() -> str:
    return f"job-{uuid.uuid4().hex}"


class JobStore:
    def __init__(self, database: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = database
        self._clock = clock
        #: Row changes not written yet, in the order they were asked for.
        self._pending: deque[_RowChange] = deque()
        self._writer: asyncio.Task[None] | None = None

    @property
    def database(self) -> Database:
        """The database the jobs are kept in (the engine keeps its other records beside them)."""
        return self._db

    async def create(
        self,
        *,
        owner_id: int,
        provider: str,
        endpoint: str,
        request: dict[str, Any],
        destination: Destination = _NOWHERE,
        paid_by: int | None = None,
    ) -> Job:
        """Record a new queued job; its idempotency key exists before any request is sent.

        ``paid_by``: whose stored key pays, when not the owner's own (see ``Job.paid_by``)."""
        now = self._clock()
        async with self._db.write() as connection:
            cursor = await connection.execute(
                """
                INSERT INTO jobs (owner_id, guild_id, channel_id, thread_id, message_id, private,
                                  locale, owner_locale, provider, endpoint, request_json,
                                  idempotency_key, state, created_at, updated_at, paid_by)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                (
                    owner_id,
                    destination.guild_id,
                    destination.channel_id,
                    destination.thread_id,
                    destination.message_id,
                    int(destination.private),
                    destination.locale,
                    destination.owner_locale,
                    provider,
                    endpoint,
                    request_json(request),
                    new_idempotency_key(),
                    JobState.QUEUED.value,
                    now,
                    now,
                    paid_by,
                ),
            )
            job_id = cursor.lastrowid
        assert job_id is not None
        job = await self.get(job_id)
        assert job is not None
        return job

    async def import_running(
        self, rows: Iterable[tuple[int, str, str, dict[str, Any], str, float]]
    ) -> None:
        """Bulk-insert running jobs (owner, provider, endpoint, request, task id, submitted at).

        For load tests and benchmarks that need thousands of in-flight jobs at once.
        """
        now = self._clock()
        async with self._db.write() as connection:
            await connection.executemany(
                """
                INSERT INTO jobs (owner_id, provider, endpoint, request_json, idempotency_key,
                                  remote_task_id, state, created_at, updated_at, submitted_at,
                                  next_poll_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    (owner, provider, endpoint, json.dumps(request, sort_keys=True),
                     new_idempotency_key(), task_id, JobState.RUNNING.value, now, now,
                     submitted_at, now)
                    for owner, provider, endpoint, request, task_id, submitted_at in rows
                ],
            )  # fmt: skip

    async def get(self, job_id: int) -> Job | None:
        # One round trip to the database thread (execute, fetch and close would be three).
        rows = await self._db.connection.execute_fetchall(
            "SELECT * FROM jobs WHERE id = ?", (job_id,)
        )
        return _job(next(iter(rows))) if rows else None

    async def update(self, job_id: int, **changes: Any) -> Job:
        """Change the given columns (and ``updated_at``) and return the new row."""
        job = await self._set(job_id, changes, expected=None)
        if job is None:
            raise LookupError(f"job {job_id} does not exist")
        return job

    async def transition(
        self, job_id: int, expected: Iterable[JobState], **changes: Any
    ) -> Job | None:
        """Update only while the job is in one of ``expected`` states (compare-and-set).

        Returns None when the job had moved on, e.g. a cancel racing a submit.
        """
        return await self._set(job_id, changes, expected=[state.value for state in expected])

    async def _set(
        self, job_id: int, changes: dict[str, Any], *, expected: list[str] | None
    ) -> Job | None:
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        values = {k: (v.value if isinstance(v, JobState | DeliveryState) else v)
                  for k, v in changes.items()}  # fmt: skip
        values["updated_at"] = self._clock()
        # Column names come from the whitelist above, never from input.
        sql = f"UPDATE jobs SET {', '.join(f'{c} = ?' for c in values)} WHERE id = ?"  # noqa: S608
        params: list[Any] = [*values.values(), job_id]
        if expected is not None:
            sql += f" AND state IN ({', '.join('?' for _ in expected)})"
            params.extend(expected)
        loop = asyncio.get_running_loop()
        change = _RowChange(job_id, sql, params, expected is not None, loop.create_future())
        self._pending.append(change)
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write_pending(), name="job-store-writer")
        return await change.done

    async def _write_pending(self) -> None:
        """Write the pending row changes, a batch per transaction, until none is left (group
        commit: each costs a few round trips to the database thread, not a few per change)."""
        batch: list[_RowChange] = []
        try:
            while self._pending:
                batch = self._next_batch()
                if not batch:
                    continue
                try:
                    rows = await self._apply(batch)
                except Exception:
                    # One failing change must not fail the others: each on its own, as if it
                    # had been written alone.
                    for change in batch:
                        try:
                            (row,) = await self._apply([change])
                        except Exception as error:
                            if not change.done.done():
                                change.done.set_exception(error)
                        else:
                            _settle(change, row)
                else:
                    for change, row in zip(batch, rows, strict=True):
                        _settle(change, row)
                batch = []
        finally:
            # Cancelled (the loop is closing): nobody may wait for a write that never comes.
            for change in (*batch, *self._pending):
                if not change.done.done():
                    change.done.set_exception(RuntimeError("the job store stopped writing"))
            self._pending.clear()

    def _next_batch(self) -> list[_RowChange]:
        """The oldest pending changes, at most one per job (a job's second change goes in the
        next transaction, so each caller reads back the row as its own change left it)."""
        batch: list[_RowChange] = []
        jobs: set[int] = set()
        while self._pending and len(batch) < _WRITE_BATCH:
            change = self._pending[0]
            if change.done.done():  # its caller gave up before it was written
                self._pending.popleft()
                continue
            if change.job_id in jobs:
                break
            jobs.add(change.job_id)
            batch.append(self._pending.popleft())
        return batch

    async def _apply(self, batch: list[_RowChange]) -> list[aiosqlite.Row | None]:
        """Write ``batch`` in one transaction, in order; the rows as written (None for a change
        that matched no row)."""
        changed: list[bool] = []
        async with self._db.write() as connection:
            start = 0
            while start < len(batch):
                first = batch[start]
                if first.conditional:
                    cursor = await connection.execute(first.sql, first.params)
                    changed.append(cursor.rowcount > 0)
                    start += 1
                    continue
                # Consecutive plain updates of the same columns (every poll's, say): one
                # statement run for each. Each changes its row iff the row exists, which the
                # read below tells.
                end = start + 1
                while (
                    end < len(batch) and not batch[end].conditional and batch[end].sql == first.sql
                ):
                    end += 1
                await connection.executemany(first.sql, [c.params for c in batch[start:end]])
                changed.extend([True] * (end - start))
                start = end
            ids = [c.job_id for c, hit in zip(batch, changed, strict=True) if hit]
            rows: Iterable[aiosqlite.Row] = []
            if ids:
                marks = ", ".join("?" for _ in ids)
                rows = await connection.execute_fetchall(
                    f"SELECT * FROM jobs WHERE id IN ({marks})",  # noqa: S608
                    ids,
                )
        by_id = {row["id"]: row for row in rows}
        return [by_id.get(c.job_id) if hit else None for c, hit in zip(batch, changed, strict=True)]

    async def find_by_callback_token(self, provider: str, token_hash: str) -> int | None:
        """The id of ``provider``'s job whose callback URL ends in the token with this digest."""
        async with self._db.connection.execute(
            "SELECT id FROM jobs WHERE callback_token_hash = ? AND provider = ?",
            (token_hash, provider),
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else int(row["id"])

    async def count_by_provider_and_state(self) -> dict[tuple[str, str], int]:
        """How many jobs each provider has in each state (for the metrics page)."""
        async with self._db.connection.execute(
            "SELECT provider, state, COUNT(*) AS n FROM jobs GROUP BY provider, state"
        ) as cursor:
            return {(r["provider"], r["state"]): r["n"] for r in await cursor.fetchall()}

    async def unfinished(self) -> list[Job]:
        """Jobs to resume at start-up: not yet finished, or finished but not delivered."""
        running = [s.value for s in UNFINISHED]
        waiting = [s.value for s in AWAITING_DELIVERY]
        sql = (
            f"SELECT * FROM jobs WHERE state IN ({', '.join('?' for _ in running)})"  # noqa: S608
            f" OR (state IN ({', '.join('?' for _ in waiting)}) AND delivery_state = ?)"
            " ORDER BY id"
        )
        params = [*running, *waiting, DeliveryState.PENDING.value]
        async with self._db.connection.execute(sql, params) as cursor:
            return [_job(row) for row in await cursor.fetchall()]

    async def recent_for_user(self, owner_id: int, limit: int = 10) -> list[Job]:
        async with self._db.connection.execute(
            "SELECT * FROM jobs WHERE owner_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
            (owner_id, limit),
        ) as cursor:
            return [_job(row) for row in await cursor.fetchall()]

    async def for_user_since(self, owner_id: int, since: float) -> list[Job]:
        """The user's jobs created at ``since`` or later, oldest first (/jobs stats)."""
        async with self._db.connection.execute(
            "SELECT * FROM jobs WHERE owner_id = ? AND created_at >= ? ORDER BY created_at, id",
            (owner_id, since),
        ) as cursor:
            return [_job(row) for row in await cursor.fetchall()]

    async def in_guild_since(self, guild_id: int, since: float) -> list[Job]:
        """The server's jobs created at ``since`` or later, oldest first (daily limits and
        credit caps look at the last 24 hours)."""
        async with self._db.connection.execute(
            "SELECT * FROM jobs WHERE guild_id = ? AND created_at >= ? ORDER BY created_at, id",
            (guild_id, since),
        ) as cursor:
            return [_job(row) for row in await cursor.fetchall()]

    async def guild_usage(self, guild_id: int, recent: float, longer: float) -> list[MemberUsage]:
        """Per member and provider: the server's jobs created since ``recent`` and since
        ``longer`` (``longer`` <= ``recent``), and the credits charged for them net of refunds;
        cancelled jobs, which were never sent, are left out."""
        async with self._db.connection.execute(
            """
            SELECT owner_id, provider,
                   SUM(created_at >= :recent) AS jobs_recent,
                   COUNT(*) AS jobs_longer,
                   SUM(CASE WHEN created_at >= :recent THEN net ELSE 0 END) AS credits_recent,
                   SUM(net) AS credits_longer,
                   SUM(sponsored AND created_at >= :recent) AS sponsored_recent,
                   SUM(sponsored) AS sponsored_longer,
                   SUM(CASE WHEN sponsored AND created_at >= :recent THEN net ELSE 0 END)
                       AS sponsored_credits_recent,
                   SUM(CASE WHEN sponsored THEN net ELSE 0 END) AS sponsored_credits_longer
            FROM (
                SELECT owner_id, provider, created_at, paid_by IS NOT NULL AS sponsored,
                       MAX(0, COALESCE(credits_charged, 0) - COALESCE(credits_refunded, 0))
                           AS net
                FROM jobs
                WHERE guild_id = :guild AND created_at >= :longer AND state != :cancelled
            )
            GROUP BY owner_id, provider
            ORDER BY jobs_longer DESC, owner_id, provider
            """,
            {
                "guild": guild_id,
                "recent": recent,
                "longer": longer,
                "cancelled": JobState.CANCELLED.value,
            },
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            MemberUsage(
                owner_id=row["owner_id"],
                provider=row["provider"],
                jobs=(row["jobs_recent"], row["jobs_longer"]),
                credits=(row["credits_recent"], row["credits_longer"]),
                sponsored_jobs=(row["sponsored_recent"], row["sponsored_longer"]),
                sponsored_credits=(
                    row["sponsored_credits_recent"],
                    row["sponsored_credits_longer"],
                ),
            )
            for row in rows
        ]

    async def generation_times(self) -> dict[tuple[str, str], list[float]]:
        """The most recent learned durations (seconds, oldest first) per (endpoint, size class)."""
        async with self._db.connection.execute("SELECT * FROM generation_times") as cursor:
            rows = await cursor.fetchall()
        return {(r["endpoint"], r["size_class"]): _durations(r["recent_json"]) for r in rows}

    async def save_generation_time(
        self,
        endpoint: str,
        size_class: str,
        samples: int,
        mean_seconds: float,
        recent: Sequence[float] = (),
    ) -> None:
        """Keep what is learned for a class: how many jobs it is learned from, the mean of the
        recent durations, and the recent durations themselves."""
        async with self._db.write() as connection:
            await connection.execute(
                """
                INSERT INTO generation_times (endpoint, size_class, samples, mean_seconds,
                                              recent_json)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (endpoint, size_class) DO UPDATE SET
                    samples = excluded.samples, mean_seconds = excluded.mean_seconds,
                    recent_json = excluded.recent_json
                """,
                (endpoint, size_class, samples, mean_seconds, json.dumps(list(recent))),
            )


def _durations(text: str) -> list[float]:
    """Stored recent durations; anything unreadable counts as none learned."""
    try:
        values = json.loads(text)
    except ValueError:
        return []
    if not isinstance(values, list):
        return []
    numbers = (float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool))
    return [v for v in numbers if math.isfinite(v) and v > 0]


def image_urls_json(urls: Iterable[str]) -> str:
    return json.dumps(list(urls))


def request_json(request: dict[str, Any]) -> str:
    return json.dumps(request, separators=(",", ":"), sort_keys=True)


def raw_json(raw: dict[str, Any] | None) -> str | None:
    return json.dumps(raw, separators=(",", ":")) if raw is not None else None
