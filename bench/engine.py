"""Benchmark: the job engine against a naive 10-second poller, on a simulated provider.

    .venv/bin/python bench/engine.py            # the full table (a few minutes on 2 cores)
    .venv/bin/python bench/engine.py --quick    # smaller runs, for a smoke test

Time is simulated (ScaledClock): one simulated second passes in 1/SPEED real seconds, so a
two-minute generation takes a few real seconds. The provider is an in-process fake with the
seedance2ai contract: 30 requests per 60 s per key (429 + Retry-After beyond), tasks that
finish after a log-normal time around two minutes. Each scenario runs in its own process so
peak RSS is its own. Event-loop lag is measured in real milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.jobs import DeliveryOutcome, EngineConfig, JobEngine, Progress, ScaledClock
from bot.models import Provider, ProviderRequest, Seedance2Request
from bot.providers import KeyCheck, ProviderClient, Submission, TaskState, TaskStatus
from bot.providers.errors import RateLimitedError
from bot.storage import ApiKeyStore, Database, Job, JobStore, KeyCipher

LIMIT, WINDOW = 30, 60.0
MEAN_SECONDS = 120.0  # what the engine's prior expects for a 5 s 720p Seedance 2 clip
NAIVE_INTERVAL = 10.0  # the seedanceapi guide's recommendation
LATENCY = 0.3  # simulated seconds per request
REQUEST = Seedance2Request.parse({"prompt": "A glass train crossing a snowy bridge"})


class SimulatedProvider(ProviderClient):
    """seedance2ai's contract in memory: per-key window, tasks with hidden finish times."""

    provider = Provider.SEEDANCE2AI
    honours_idempotency = True
    request_models = (Seedance2Request,)

    def __init__(self, clock: ScaledClock, seed: int) -> None:
        super().__init__(None, "sim://", sleep=clock.sleep, clock=clock.now)  # type: ignore[arg-type]
        self.clock = clock
        self.rng = random.Random(seed)
        self.hits: dict[str, deque[float]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        # Shared with the gated copies the engine makes, so counts cover every request.
        self.stats = {"requests": 0, "rate_limited": 0}

    async def _arrive(self, api_key: str) -> None:
        if self._gate is not None:
            await self._gate.acquire()
        await self.clock.sleep(LATENCY)
        now = self.clock.now()
        self.stats["requests"] += 1
        hits = self.hits.setdefault(api_key, deque())
        while hits and now - hits[0] >= WINDOW:
            hits.popleft()
        if len(hits) >= LIMIT:
            self.stats["rate_limited"] += 1
            retry_after = math.ceil(WINDOW - (now - hits[0]))
            if self._gate is not None:
                self._gate.rate_limited(retry_after)
            raise RateLimitedError(
                "Too many requests", provider="sim", status=429, retry_after=retry_after
            )
        hits.append(now)

    async def submit(
        self, request: ProviderRequest, api_key: str, idempotency_key: str
    ) -> Submission:
        await self._arrive(api_key)
        existing = self.by_key.get(idempotency_key)
        if existing is None:
            existing = f"sd2_{len(self.tasks) + 1:06d}"
            seconds = MEAN_SECONDS * self.rng.lognormvariate(0.0, 0.3)
            self.tasks[existing] = {"finish": self.clock.now() + seconds, "noticed": None}
            self.by_key[idempotency_key] = existing
        return Submission(existing, TaskStatus.RUNNING, credits_charged=30)

    async def status(self, task_id: str, api_key: str) -> TaskState:
        await self._arrive(api_key)
        task = self.tasks[task_id]
        now = self.clock.now()
        if now < task["finish"]:
            return TaskState(task_id, TaskStatus.RUNNING)
        if task["noticed"] is None:
            task["noticed"] = now
        return TaskState(task_id, TaskStatus.SUCCEEDED, video_url=f"https://cdn.test/{task_id}.mp4")

    async def check_key(self, api_key: str) -> KeyCheck:
        return KeyCheck.VALID

    def _submit_path(self, request: ProviderRequest) -> str:
        return "/"

    def _submission(self, payload: dict[str, Any]) -> Submission | None:
        return None

    def _error_from(self, status: int, payload: Any, retry_after: float | None) -> None:
        return None

    def notice_delays(self) -> list[float]:
        return [t["noticed"] - t["finish"] for t in self.tasks.values() if t["noticed"] is not None]

    def result_times(self, asked: float) -> list[float]:
        """Simulated seconds from the user asking to the result being seen (queue included)."""
        return [t["noticed"] - asked for t in self.tasks.values() if t["noticed"] is not None]


class CountingPort:
    def __init__(self) -> None:
        self.delivered = 0
        self.done = asyncio.Event()
        self.expected = 0

    async def deliver(self, job: Job, *, repeat: bool) -> DeliveryOutcome:
        self.delivered += 1
        if self.delivered >= self.expected:
            self.done.set()
        return DeliveryOutcome.DELIVERED

    async def deliver_fallback(self, job: Job) -> DeliveryOutcome:
        return DeliveryOutcome.DELIVERED

    async def publish(self, event: Progress) -> None:
        return None


class LagMonitor:
    """Real-time lateness of a 10 ms ticker: how long the event loop was busy elsewhere."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(0.01)
            self.samples.append((loop.time() - start - 0.01) * 1000)

    def start(self) -> None:
        self._task = asyncio.create_task(self._tick())

    def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()

    def p99(self) -> float:
        return _percentile(self.samples, 99)


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))]


def _key(n: int) -> str:
    return f"sk_live_bench_key_{n:06d}"


async def run_engine(keys: int, per_key: int, speed: float, seed: int) -> dict[str, Any]:
    clock = ScaledClock(speed)
    provider = SimulatedProvider(clock, seed)
    port = CountingPort()
    port.expected = keys * per_key
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "bench.sqlite3")
        cipher = KeyCipher(["bench"])
        jobs, key_store = JobStore(db, clock=clock.now), ApiKeyStore(db, cipher, clock=clock.now)
        for n in range(keys):
            await key_store.link(n, "seedance2ai", _key(n))
        config = EngineConfig(max_running_per_user=per_key, max_waiting_per_user=per_key)
        engine = JobEngine(
            jobs=jobs, keys=key_store, clients={"seedance2ai": provider}, port=port,
            config=config, clock=clock,
        )  # fmt: skip
        await engine.start()
        lag = LagMonitor()
        lag.start()
        started = time.perf_counter()
        asked = clock.now()
        for n in range(keys):
            for _ in range(per_key):
                await engine.enqueue(owner_id=n, request=REQUEST)
        await port.done.wait()
        wall = time.perf_counter() - started
        lag.stop()
        await engine.stop()
        await db.close()
    return _result(provider, keys * per_key, lag, wall, asked)


async def run_naive(keys: int, per_key: int, speed: float, seed: int) -> dict[str, Any]:
    clock = ScaledClock(speed)
    provider = SimulatedProvider(clock, seed)

    async def one(key: str, index: int) -> None:
        while True:
            try:
                submission = await provider.submit(REQUEST, key, f"{key}-{index}")
                break
            except RateLimitedError:
                await clock.sleep(NAIVE_INTERVAL)
        while True:
            await clock.sleep(NAIVE_INTERVAL)
            try:
                state = await provider.status(submission.task_id, key)
            except RateLimitedError:
                continue
            if state.status.finished:
                return

    lag = LagMonitor()
    lag.start()
    started = time.perf_counter()
    asked = clock.now()
    await asyncio.gather(*(one(_key(n), i) for n in range(keys) for i in range(per_key)))
    wall = time.perf_counter() - started
    lag.stop()
    return _result(provider, keys * per_key, lag, wall, asked)


def _result(
    provider: SimulatedProvider, jobs: int, lag: LagMonitor, wall: float, asked: float
) -> dict[str, Any]:
    delays = provider.notice_delays()
    return {
        "result_p95": _percentile(provider.result_times(asked), 95),
        "jobs": jobs,
        "requests_per_job": provider.stats["requests"] / jobs,
        "rate_limited": provider.stats["rate_limited"],
        "notice_p50": statistics.median(delays),
        "notice_p95": _percentile(delays, 95),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "lag_p99_ms": lag.p99(),
        "wall_s": wall,
    }


async def run_resume(count: int, keys: int) -> dict[str, Any]:
    """Start-up with ``count`` running jobs in the database: how soon is the first poll sent?"""
    clock = ScaledClock(1.0)
    provider = SimulatedProvider(clock, 1)
    first_poll: list[float] = []
    polled = asyncio.Event()
    original = provider.status

    async def status(task_id: str, api_key: str) -> TaskState:
        if not first_poll:
            first_poll.append(time.perf_counter())
            polled.set()
        return await original(task_id, api_key)

    provider.status = status  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "resume.sqlite3"
        db = await Database.open(path)
        jobs, key_store = JobStore(db, clock=clock.now), ApiKeyStore(db, KeyCipher(["bench"]))
        for n in range(keys):
            await key_store.link(n, "seedance2ai", _key(n))
        request = REQUEST.model_dump(mode="json", exclude_none=True)
        now = clock.now()
        rows = []
        for i in range(count):
            task_id = f"sd2_{i + 1:06d}"
            provider.tasks[task_id] = {"finish": now + 3600, "noticed": None}
            rows.append((i % keys, "seedance2ai", "seedance2", request, task_id, now - 60))
        await jobs.import_running(rows)
        await db.close()

        started = time.perf_counter()
        db = await Database.open(path)
        jobs, key_store = JobStore(db, clock=clock.now), ApiKeyStore(db, KeyCipher(["bench"]))
        engine = JobEngine(
            jobs=jobs, keys=key_store, clients={"seedance2ai": provider}, port=CountingPort(),
            clock=clock,
        )  # fmt: skip
        await engine.start()
        ready = time.perf_counter() - started
        await polled.wait()
        first = first_poll[0] - started
        await engine.stop()
        await db.close()
    return {
        "jobs": count,
        "start_s": ready,
        "first_poll_s": first,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


SCENARIOS = {
    # name: (keys, jobs per key, simulated speed)
    "1 job/key": (40, 1, 20.0),
    "10 jobs/key": (4, 10, 20.0),
    "100 jobs/key": (1, 100, 20.0),
    "1000 jobs/100 keys": (100, 10, 10.0),
}
QUICK = {
    "1 job/key": (10, 1, 40.0),
    "10 jobs/key": (2, 10, 40.0),
    "100 jobs/key": (1, 100, 40.0),
    "1000 jobs/100 keys": (50, 10, 20.0),
}


def _child(args: argparse.Namespace) -> None:
    if args.child == "resume":
        result = asyncio.run(run_resume(args.count, args.keys))
    else:
        runner = run_engine if args.child == "engine" else run_naive
        result = asyncio.run(runner(args.keys, args.per_key, args.speed, args.seed))
    print(json.dumps(result))


def _spawn(*argv: str) -> dict[str, Any]:
    # Each scenario in a fresh interpreter (this same file), so peak RSS is its own.
    out = subprocess.run(  # noqa: S603
        [sys.executable, __file__, *argv], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--keys", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--per-key", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--speed", type=float, default=20.0, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=7, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=10_000, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    scenarios = QUICK if args.quick else SCENARIOS
    header = (
        f"{'scenario':<20} {'poller':<7} {'jobs':>5} {'req/job':>8} {'429s':>6} "
        f"{'notice p50':>11} {'notice p95':>11} {'result p95':>11} {'peak RSS':>9} "
        f"{'lag p99':>8} {'wall':>6}"
    )
    print(f"limit {LIMIT} req/{WINDOW:.0f}s per key; generations ~{MEAN_SECONDS:.0f}s (log-normal)")
    print("notice = simulated seconds from the provider finishing to the poller seeing it")
    print("result = simulated seconds from the request to the result being seen, queue included")
    print(header)
    print("-" * len(header))
    for name, (keys, per_key, speed) in scenarios.items():
        for poller in ("engine", "naive"):
            r = _spawn("--child", poller, "--keys", str(keys), "--per-key", str(per_key),
                       "--speed", str(speed))  # fmt: skip
            print(
                f"{name:<20} {poller:<7} {r['jobs']:>5} {r['requests_per_job']:>8.2f} "
                f"{r['rate_limited']:>6} {r['notice_p50']:>10.1f}s {r['notice_p95']:>10.1f}s "
                f"{r['result_p95']:>10.0f}s "
                f"{r['peak_rss_mb']:>7.0f}MB {r['lag_p99_ms']:>6.1f}ms {r['wall_s']:>5.1f}s",
                flush=True,
            )
    count = 2_000 if args.quick else 10_000
    r = _spawn("--child", "resume", "--count", str(count), "--keys", "100")
    print(
        f"\nresume {r['jobs']:,} unfinished jobs: engine started in {r['start_s']:.2f}s, "
        f"first poll sent {r['first_poll_s']:.2f}s after start-up (peak RSS {r['peak_rss_mb']:.0f}MB)"
    )


if __name__ == "__main__":
    main()
