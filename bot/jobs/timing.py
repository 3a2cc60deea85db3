"""How long a generation takes, learned from finished jobs, and when to poll because of it.

Learned times are a distribution, per endpoint and size class: the durations of the most recent
finished jobs, each smoothed in log space (a kernel whose width shrinks as samples come in). From
it come the poll plan of a job of that class, the chance that a job finished since it was last
polled (which jobs a short budget polls first), the median shown as a card's ETA, and the
deadline. A class nothing has been learned for yet is polled on a naive poller's own grid from
its submit, and its jobs switch to the learned plan once it is learned; the provider's
documented guess (the prior) only ranks its polls, sets its deadline and its first ETA.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.providers.registry import timing_priors

#: Starting guesses in seconds before anything is learned: (base, per second of video), per
#: endpoint from its provider's description; an endpoint not described gets the second.
_PRIORS: dict[str, tuple[float, float]] = timing_priors()
_UNKNOWN_PRIOR = (60.0, 10.0)
_RESOLUTION_FACTOR = {
    "480p": 0.7, "720p": 1.0, "1080p": 1.5, "1080p-plus": 1.8, "4k": 2.5,
    "1K": 1.0, "2K": 1.4, "4K": 2.0,
}  # fmt: skip
#: No generation is taken to last less than this (seconds): logs of zero are undefined.
_SHORTEST = 0.5
#: Points of the grid a learned plan is worked out on, between the low and high quantiles.
_GRID = 160
#: Points of the table a distribution is worked out on.
_TABLE = 256
#: Jobs that switch from the plain grid to a learned plan within this many seconds of each other
#: (after their submits) share the plan.
_SWITCH_STEP = 30.0


def size_class(endpoint: str, request: dict[str, Any]) -> str:
    """Jobs that should take about as long share a class: resolution and duration (or batch)."""
    resolution = str(request.get("resolution", "default"))
    amount = request.get("duration") or request.get("batch_count") or request.get("batchCount") or 1
    return f"{resolution}/{amount}"


@dataclass(frozen=True)
class PollPlan:
    """When to poll a running job (all in seconds from its submit).

    Nothing learned for its class: every ``interval`` from the submit, as a naive 10 s poller
    would: a job whose time nothing predicts is noticed no later than by one, and for no more
    requests (any sparser and some finish would be noticed later; any denser costs more).
    Learned: polls are spent where they buy the most, as the square root of the chance of
    finishing (the hazard) asks, within ``request_share`` of the requests a naive poller every
    ``naive_interval`` would make for the same distribution:

    - before the low quantile (a job finishing this early is unusual) at most ``early_interval``
      apart, so even such a job is noticed at most about 10 s later than a naive poller would;
    - between the low and high quantiles between ``core_interval`` and ``core_max_interval``
      apart (one poll just after the high quantile when they are closer than ``core_interval``);
    - after the high quantile (the job is late: the distribution was wrong) every
      ``tail_interval``.
    """

    interval: float = 10.0
    early_interval: float = 20.0
    core_interval: float = 3.0
    core_max_interval: float = 9.0
    tail_interval: float = 9.0
    low_quantile: float = 0.02
    high_quantile: float = 0.98
    request_share: float = 0.9
    naive_interval: float = 10.0
    #: A job still running after this many median times (and at least min_deadline) failed.
    deadline_factor: float = 6.0
    min_deadline: float = 30 * 60.0
    max_deadline: float = 6 * 3600.0
    #: Finished jobs remembered per class (the most recent ones).
    samples_kept: int = 50
    #: Width (in log space) of the prior, and of one learned sample; shrinks as 1/sqrt(samples).
    prior_spread: float = 0.7
    sample_spread: float = 0.3
    #: The narrowest a learned distribution's kernels get (log space: 3 %).
    min_spread: float = 0.03

    @classmethod
    def every(cls, seconds: float, **changes: Any) -> PollPlan:
        """A plan that polls every ``seconds`` whatever was learned (for tests)."""
        return cls(
            interval=seconds,
            early_interval=seconds,
            core_interval=seconds,
            core_max_interval=seconds,
            tail_interval=seconds,
            **changes,
        )


def _phi(z: float) -> float:
    """The standard normal distribution function."""
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


class Durations:
    """A distribution of generation times (seconds): a mixture of log-normal kernels of width
    ``spread``, one per sample. A prior is one kernel, and counts as no samples.

    Worked out once on a table (log-spaced, out to four kernel widths past the outermost
    samples) that everything else reads by interpolation: cheap enough for every poll's ranking.
    """

    #: Seconds after the submit from which this distribution speaks (see :meth:`after`).
    start = 0.0

    def __init__(self, centres: Iterable[float], spread: float, *, samples: int) -> None:
        logs = sorted(math.log(max(_SHORTEST, c)) for c in centres)
        if not logs:
            raise ValueError("a distribution needs at least one centre")
        self.samples = samples
        spread = max(spread, 1e-3)
        low, high = logs[0] - 4 * spread, logs[-1] + 4 * spread
        step = (high - low) / (_TABLE - 1)
        self._xs = [low + i * step for i in range(_TABLE)]
        count = len(logs)
        self._fs = [sum(_phi((x - c) / spread) for c in logs) / count for x in self._xs]
        self._fs[0], self._fs[-1] = 0.0, 1.0
        self._step = step

    @classmethod
    def prior(cls, median: float, spread: float) -> Durations:
        return cls([median], spread, samples=0)

    @classmethod
    def learned(cls, samples: Sequence[float], plan: PollPlan) -> Durations:
        """The smoothed distribution of ``samples``: kernels as wide as the samples' own spread
        suggests (Silverman's rule), and no narrower than one sample's width over sqrt(n)."""
        n = len(samples)
        logs = [math.log(max(_SHORTEST, s)) for s in samples]
        mean = math.fsum(logs) / n
        sd = math.sqrt(math.fsum((x - mean) ** 2 for x in logs) / (n - 1)) if n > 1 else 0.0
        spread = max(plan.min_spread, 1.06 * sd * n**-0.2, plan.sample_spread / math.sqrt(n))
        return cls(samples, spread, samples=n)

    def cdf(self, seconds: float) -> float:
        """The chance that a job has finished ``seconds`` after its submit."""
        if seconds <= 0:
            return 0.0
        position = (math.log(seconds) - self._xs[0]) / self._step
        if position <= 0:
            return 0.0
        index = int(position)
        if index >= _TABLE - 1:
            return 1.0
        fraction = position - index
        return self._fs[index] + fraction * (self._fs[index + 1] - self._fs[index])

    def survival(self, seconds: float) -> float:
        return 1.0 - self.cdf(seconds)

    def quantile(self, q: float) -> float:
        """The time by which a share ``q`` of jobs have finished."""
        index = max(1, min(_TABLE - 1, bisect.bisect_left(self._fs, q)))
        below, above = self._fs[index - 1], self._fs[index]
        fraction = 0.0 if above <= below else (q - below) / (above - below)
        return math.exp(self._xs[index - 1] + fraction * self._step)

    @property
    def median(self) -> float:
        return self.quantile(0.5)

    def finished_since(self, since: float, now: float) -> float:
        """The chance that a job still running ``since`` seconds after its submit finished by
        ``now`` seconds after it."""
        if now <= since:
            return 0.0
        before = self.cdf(since)
        if before >= 1.0:
            return 1.0
        return max(0.0, min(1.0, (self.cdf(now) - before) / (1.0 - before)))

    def after(self, start: float) -> Durations | None:
        """The distribution of jobs known to be still running ``start`` seconds after their
        submit (times still counted from the submit); None if next to none are."""
        if start <= 0:
            return self
        before = self.cdf(start)
        if before > 0.999:
            return None
        return _After(self, start, before)


class _After(Durations):
    """A distribution given that the job was still running at ``start``."""

    def __init__(self, base: Durations, start: float, before: float) -> None:
        self.samples = base.samples
        self.start = start
        self._base = base
        self._before = before

    def cdf(self, seconds: float) -> float:
        if seconds <= self.start:
            return 0.0
        return (self._base.cdf(seconds) - self._before) / (1.0 - self._before)

    def quantile(self, q: float) -> float:
        return self._base.quantile(self._before + q * (1.0 - self._before))


class Ladder:
    """The planned poll times of a job, in seconds from its submit: ``points``, then every
    ``tail`` after the last one."""

    def __init__(self, points: Sequence[float], tail: float) -> None:
        self.points = list(points)
        self.tail = tail

    @classmethod
    def grid(cls, interval: float) -> Ladder:
        return cls([], interval)

    def next_after(self, elapsed: float, *, spacing: float = 0.0) -> float:
        """The first planned poll later than ``elapsed + spacing`` (seconds from submit)."""
        at = elapsed + spacing
        index = bisect.bisect_right(self.points, at)
        if index < len(self.points):
            return self.points[index]
        last = self.points[-1] if self.points else 0.0
        steps = max(1, math.floor((at - last) / self.tail))
        while last + steps * self.tail <= at:
            steps += 1
        return last + steps * self.tail

    def expected_requests(self, durations: Durations, *, limit: int = 2000) -> float:
        """Requests per job (its submit and its polls) if ``durations`` is right: poll ``i`` is
        sent while the job was still running at poll ``i - 1``. For a distribution that starts
        later (:meth:`Durations.after`), the polls from its start."""
        total, previous, made = 1.0, durations.start, 0
        while made < limit:
            alive = durations.survival(previous)
            if alive < 1e-4:
                break
            total += alive
            made += 1
            previous = self.next_after(previous)
        return total


def naive_requests(durations: Durations, interval: float) -> float:
    """Requests per job of a naive poller every ``interval`` from submit (or from the start of
    ``durations``), if ``durations`` is right."""
    if durations.start > 0:
        return Ladder([durations.start + interval], interval).expected_requests(durations)
    return Ladder.grid(interval).expected_requests(durations)


def learned_ladder(durations: Durations, plan: PollPlan) -> Ladder:
    """The polls of a job of a learned class: sparse before the low quantile, spent as the square
    root of the hazard between the low and high quantiles within the plan's share of a naive
    poller's requests, regular after the high quantile (see :class:`PollPlan`)."""
    begin = durations.start  # later than the submit for a job that switches plans midway
    low = durations.quantile(plan.low_quantile)
    high = durations.quantile(plan.high_quantile)
    gaps = math.ceil((low - begin) / plan.early_interval)
    early = [begin + plan.early_interval * k for k in range(1, gaps)]
    early = [t for t in early if t < low]
    if high - low < plan.core_interval:
        return Ladder([*early, high], plan.tail_interval)
    # The planned polls so far, counted fractionally: where the core starts in the early rhythm.
    start = (low - begin) / plan.early_interval - len(early)
    # sqrt(hazard) on a log grid between the quantiles, from the distribution function.
    ratio = (high / low) ** (1.0 / _GRID)
    times = [low * ratio**i for i in range(_GRID + 1)]
    cdfs = [durations.cdf(t) for t in times]
    rates: list[float] = []
    for i in range(_GRID):
        width = times[i + 1] - times[i]
        alive = max(1e-9, 1.0 - (cdfs[i] + cdfs[i + 1]) / 2)
        rates.append(math.sqrt(max(0.0, cdfs[i + 1] - cdfs[i]) / width / alive))
    sparsest, densest = 1 / plan.core_max_interval, 1 / plan.core_interval

    def build(scale: float) -> Ladder:
        points, count = list(early), start
        for i in range(_GRID):
            density = min(densest, max(sparsest, scale * rates[i]))
            after = count + density * (times[i + 1] - times[i])
            due = math.floor(count) + 1
            while due <= after:
                points.append(times[i] + (due - count) / density)
                due += 1
            count = after
        if not points or points[-1] < low:
            points.append(high)  # at least one poll where the job is likely to end
        return Ladder(points, plan.tail_interval)

    def densest_within(requests: float) -> float:
        """The largest scale whose ladder makes at most ``requests`` per job (or the smallest
        scale, if even that makes more)."""
        sparse, dense = 1e-6, 1e6
        if build(sparse).expected_requests(durations) >= requests:
            return sparse
        if build(dense).expected_requests(durations) <= requests:
            return dense
        for _ in range(20):
            middle = math.sqrt(sparse * dense)
            if build(middle).expected_requests(durations) <= requests:
                sparse = middle
            else:
                dense = middle
        return sparse

    return build(
        densest_within(plan.request_share * naive_requests(durations, plan.naive_interval))
    )


class _Class:
    """What is known about one (endpoint, size class): recent durations, and what follows."""

    def __init__(self, samples: Iterable[float], keep: int) -> None:
        self.samples = list(samples)[-keep:]
        self.count = len(self.samples)
        self.durations: Durations | None = None
        self.ladder: Ladder | None = None
        #: When (clock seconds) its first duration was learned, if that was in this process:
        #: jobs submitted before then were polled on the plain grid until then.
        self.learned_at: float | None = None
        #: Their plans, by how long after their submit that was (rounded to ``_SWITCH_STEP``).
        self.switched: dict[float, Ladder] = {}
        #: Finished jobs learned from when ``switched`` was last cleared.
        self.switched_at = 0


@dataclass(frozen=True)
class Learned:
    """What to persist after learning one duration."""

    size_class: str
    #: Finished jobs learned from, ever.
    count: int
    #: Mean of the recent durations (for people reading the table).
    mean: float
    #: The most recent durations, oldest first.
    recent: tuple[float, ...]


class GenerationTimes:
    """Distributions of the time from submit to finish per (endpoint, size class), and the poll
    plans that follow from them."""

    def __init__(
        self,
        learned: Mapping[tuple[str, str], Sequence[float]] | None = None,
        plan: PollPlan | None = None,
    ) -> None:
        self.plan = plan or PollPlan()
        self._classes = {
            key: _Class(samples, self.plan.samples_kept)
            for key, samples in (learned or {}).items()
            if samples
        }
        self._priors: dict[tuple[str, str], Durations] = {}

    # -- what is known ---------------------------------------------------------------------------

    def prior_seconds(self, endpoint: str, request: dict[str, Any]) -> float:
        """The provider's documented guess for a job like this."""
        base, per_second = _PRIORS.get(endpoint, _UNKNOWN_PRIOR)
        seconds = float(request.get("duration") or 0)
        factor = _RESOLUTION_FACTOR.get(str(request.get("resolution")), 1.0)
        batch = float(request.get("batch_count") or request.get("batchCount") or 1)
        return (base + per_second * seconds) * factor * (1 + 0.3 * (batch - 1))

    def durations(self, endpoint: str, request: dict[str, Any]) -> Durations:
        """The learned distribution for a job like this one, or the prior if nothing is."""
        key = (endpoint, size_class(endpoint, request))
        known = self._classes.get(key)
        if known is not None:
            if known.durations is None:
                known.durations = Durations.learned(known.samples, self.plan)
            return known.durations
        prior = self._priors.get(key)
        if prior is None:
            median = self.prior_seconds(endpoint, request)
            prior = self._priors[key] = Durations.prior(median, self.plan.prior_spread)
        return prior

    def expected(self, endpoint: str, request: dict[str, Any]) -> float:
        """The median time from submit to finish of a job like this one (seconds)."""
        return self.durations(endpoint, request).median

    def learn(
        self, endpoint: str, request: dict[str, Any], seconds: float, *, at: float | None = None
    ) -> Learned:
        """Fold one observed duration in (learned ``at`` clock seconds); returns what to
        persist."""
        key = (endpoint, size_class(endpoint, request))
        known = self._classes.get(key)
        if known is None:
            known = self._classes[key] = _Class([], self.plan.samples_kept)
            known.learned_at = at
        known.samples = [*known.samples, max(_SHORTEST, seconds)][-self.plan.samples_kept :]
        known.count += 1
        known.durations = known.ladder = None
        # Switched plans are many (one per step of ``since``), so they are worked out again
        # only when what they rest on has doubled, not on every finish.
        if known.count >= 2 * known.switched_at:
            known.switched.clear()
            known.switched_at = known.count
        recent = tuple(known.samples)
        return Learned(key[1], known.count, math.fsum(recent) / len(recent), recent)

    # -- when to poll --------------------------------------------------------------------------

    def ladder(
        self, endpoint: str, request: dict[str, Any], *, submitted_at: float | None = None
    ) -> Ladder:
        """The planned polls of a job like this one, submitted at ``submitted_at`` (clock
        seconds) if known: a job submitted before its class was first learned has made a naive
        poller's requests on the plain grid so far; from then on it follows the learned plan
        within the plan's share of the requests a naive poller would still make, not the whole
        job's (whose sparse early polls it never had)."""
        key = (endpoint, size_class(endpoint, request))
        known = self._classes.get(key)
        if known is None:
            return Ladder.grid(self.plan.interval)
        if submitted_at is not None and known.learned_at is not None:
            since = known.learned_at - submitted_at
            if since > 0:
                return self._switched(known, self.durations(endpoint, request), since)
        if known.ladder is None:
            known.ladder = learned_ladder(self.durations(endpoint, request), self.plan)
        return known.ladder

    def _switched(self, known: _Class, durations: Durations, since: float) -> Ladder:
        step = math.floor(since / _SWITCH_STEP) * _SWITCH_STEP
        ladder = known.switched.get(step)
        if ladder is None:
            still_running = durations.after(step)
            if still_running is None:  # later than anything learned: the job is late
                ladder = Ladder.grid(self.plan.tail_interval)
            else:
                ladder = learned_ladder(still_running, self.plan)
            known.switched[step] = ladder
        return ladder

    def first_poll(self, endpoint: str, request: dict[str, Any]) -> float:
        """Seconds from the submit to the first poll."""
        return self.ladder(endpoint, request).next_after(0.0)

    def next_poll_delay(
        self,
        endpoint: str,
        request: dict[str, Any],
        elapsed: float,
        *,
        submitted_at: float | None = None,
    ) -> float:
        """Seconds from now (``elapsed`` after the submit) to the next planned poll; never
        closer than half the plan's tightest gap, so a late answer does not make a poll twice."""
        spacing = min(self.plan.core_interval, self.plan.interval) / 2
        ladder = self.ladder(endpoint, request, submitted_at=submitted_at)
        return ladder.next_after(elapsed, spacing=spacing) - elapsed

    def finished_since(
        self, endpoint: str, request: dict[str, Any], since: float, now: float
    ) -> float:
        """The chance that a job like this, running ``since`` seconds after its submit, has
        finished by ``now`` seconds after it."""
        return self.durations(endpoint, request).finished_since(since, now)

    def deadline(self, expected: float) -> float:
        """How long a job whose median time is ``expected`` may run before it has failed."""
        plan = self.plan
        return min(plan.max_deadline, max(plan.min_deadline, expected * plan.deadline_factor))
