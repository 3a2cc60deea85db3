"""Poll timing: learned times are a distribution, and polls go where they buy the most.

Nothing learned: a poll every 10 s from the submit, as a naive 10 s poller would: never later,
never more requests. Learned: sparse before the low quantile, tight (as the square root of the hazard asks)
between the low and high quantiles, regular after; fewer requests than a naive 10 s poller.
"""

from __future__ import annotations

import itertools
import math
import random

import pytest

from bot.jobs import GenerationTimes, PollPlan
from bot.jobs.timing import Durations, Ladder, learned_ladder, naive_requests

VIDEO = {"resolution": "720p", "duration": "5"}


def lognormal(median: float, sigma: float, count: int, seed: int = 7) -> list[float]:
    rng = random.Random(seed)
    return [median * rng.lognormvariate(0.0, sigma) for _ in range(count)]


def learned(samples: list[float], plan: PollPlan | None = None) -> GenerationTimes:
    times = GenerationTimes(plan=plan)
    for seconds in samples:
        times.learn("seed2", VIDEO, seconds)
    return times


def notice(ladder: Ladder, finished: float) -> tuple[float, int]:
    """When the poller first sees a job that finished ``finished`` s after its submit (lag), and
    the requests it made for it (its submit and its polls)."""
    at, requests = 0.0, 1
    while True:
        at = ladder.next_after(at)
        requests += 1
        if at >= finished:
            return at - finished, requests


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# -- nothing learned -----------------------------------------------------------------------------


def test_a_class_nothing_is_learned_for_is_polled_every_10_s_from_its_submit() -> None:
    times = GenerationTimes()
    assert times.first_poll("seed2", VIDEO) == 10.0
    for elapsed in (10.0, 18.2, 100.0, 595.0):
        delay = times.next_poll_delay("seed2", VIDEO, elapsed)
        assert 0 < delay <= 10.0
        # On the grid from the submit: late answers do not push the polls later.
        assert (elapsed + delay) % 10.0 == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("render", [10.0, 20.0, 47.0, 120.0, 600.0])
def test_cold_a_lone_job_is_never_noticed_later_than_by_a_naive_10_s_poller(render: float) -> None:
    cold = GenerationTimes().ladder("seed2", VIDEO)
    naive = Ladder.grid(10.0)
    # Wherever in its last poll gap it finishes, it is noticed no later, for no more requests.
    for finished in (render + offset / 10 for offset in range(100)):
        (lag, requests), (naive_lag, naive_made) = notice(cold, finished), notice(naive, finished)
        assert lag <= naive_lag + 1e-9
        assert requests <= naive_made


# -- learned: a distribution ---------------------------------------------------------------------


def test_learned_times_are_a_distribution_not_a_midpoint() -> None:
    times = learned(lognormal(120.0, 0.1, 40))
    durations = times.durations("seed2", VIDEO)

    assert durations.samples == 40
    assert times.expected("seed2", VIDEO) == pytest.approx(120.0, rel=0.05)
    low, median, high = (durations.quantile(q) for q in (0.02, 0.5, 0.98))
    assert 80.0 < low < 0.9 * median < median < 1.1 * median < high < 170.0
    assert durations.cdf(low) == pytest.approx(0.02, abs=0.005)
    # Other sizes keep their own (here: the provider's prior).
    assert times.durations("seed2", {"resolution": "720p", "duration": "10"}).samples == 0


def test_one_sample_is_a_wide_guess_and_many_make_it_sharp() -> None:
    one = learned([100.0]).durations("seed2", VIDEO)
    many = learned(lognormal(100.0, 0.05, 50)).durations("seed2", VIDEO)
    assert one.quantile(0.98) / one.quantile(0.02) > 2.5
    assert many.quantile(0.98) / many.quantile(0.02) < 1.4


def test_only_the_most_recent_durations_are_kept() -> None:
    plan = PollPlan(samples_kept=5)
    times = learned([500.0] * 5 + [60.0] * 5, plan)
    assert times.expected("seed2", VIDEO) == pytest.approx(60.0, rel=0.05)
    last = times.learn("seed2", VIDEO, 61.0)
    assert last.count == 11
    assert last.recent == (60.0, 60.0, 60.0, 60.0, 61.0)
    assert last.mean == pytest.approx(60.2)
    assert last.size_class == "720p/5"


def test_what_was_learned_before_a_restart_plans_the_same_polls() -> None:
    samples = lognormal(45.0, 0.2, 30)
    before = learned(samples)
    after = GenerationTimes({("seed2", "720p/5"): samples})
    assert after.ladder("seed2", VIDEO).points == before.ladder("seed2", VIDEO).points


# -- learned: where the polls go -----------------------------------------------------------------


def test_a_learned_plan_is_sparse_early_tight_in_the_middle_and_regular_late() -> None:
    plan = PollPlan()
    durations = Durations.learned(lognormal(600.0, 0.1, 40), plan)
    low, high = durations.quantile(0.02), durations.quantile(0.98)
    points = learned_ladder(durations, plan).points

    early = [p for p in points if p < low]
    middle = [p for p in points if low <= p <= high]
    gaps = [b - a for a, b in itertools.pairwise(points)]
    early_gaps = gaps[: len(early)]
    assert early[0] == plan.early_interval
    assert all(gap <= plan.early_interval + 1e-9 for gap in early_gaps)
    core_gaps = [b - a for a, b in itertools.pairwise(middle)]
    assert all(
        plan.core_interval - 1e-9 <= gap <= plan.core_max_interval + 1e-9 for gap in core_gaps
    )
    # Tightest around the median, where most jobs end.
    around = [b - a for a, b in itertools.pairwise(middle) if 560 < a < 640]
    assert max(around) < 6.0 < max(early_gaps)
    # Late: every 9 s.
    ladder = learned_ladder(durations, plan)
    late = ladder.next_after(high + 30)
    assert ladder.next_after(late) - late == plan.tail_interval


def test_a_narrow_class_gets_one_poll_just_after_its_high_quantile() -> None:
    plan = PollPlan()
    durations = Durations.learned([10.0] * 50, plan)
    high = durations.quantile(0.98)
    assert high - durations.quantile(0.02) < plan.core_interval
    ladder = learned_ladder(durations, plan)
    assert ladder.points == [high]
    assert ladder.next_after(high) == high + plan.tail_interval


@pytest.mark.parametrize("median", [10.0, 30.0, 120.0, 600.0])
def test_once_learned_a_lone_job_is_noticed_within_3_s_for_fewer_requests(median: float) -> None:
    """The benchmark's targets, for the plan alone: notice lag p50 <= 3 s, p90 no worse than a
    naive 10 s poller's, fewer requests per job."""
    times = learned(lognormal(median, 0.1, 30, seed=1))
    ladder, naive = times.ladder("seed2", VIDEO), Ladder.grid(10.0)
    renders = lognormal(median, 0.1, 2000, seed=2)
    ours = [notice(ladder, t) for t in renders]
    theirs = [notice(naive, t) for t in renders]
    lags, naive_lags = [lag for lag, _ in ours], [lag for lag, _ in theirs]

    assert percentile(lags, 50) <= 3.0
    assert percentile(lags, 90) <= percentile(naive_lags, 90)
    requests = sum(r for _, r in ours) / len(ours)
    assert requests <= sum(r for _, r in theirs) / len(theirs)
    assert (
        requests
        <= PollPlan().request_share * naive_requests(times.durations("seed2", VIDEO), 10.0) + 0.05
    )


def test_a_job_polled_on_the_grid_switches_to_the_learned_plan_for_fewer_requests() -> None:
    """Jobs of a new kind start together and are polled on the plain grid; the first finishes
    600 s later. The others then follow what was learned within the plan's share of the
    requests a naive poller would still make from there, not the whole job's share (which
    would pay for tight polls with early ones they never skipped)."""
    times = GenerationTimes()
    assert times.ladder("seed2", VIDEO, submitted_at=0.0).points == []  # the plain grid
    times.learn("seed2", VIDEO, 600.0, at=1000.0)  # learned 1000 s into the clock
    started = 400.0  # submitted 600 s before: polled on the grid until now
    switched = times.ladder("seed2", VIDEO, submitted_at=started)
    believed = times.durations("seed2", VIDEO).after(600.0)
    assert believed is not None
    # Within the plan's share of what a naive poller would still make, or no denser than the
    # plan's widest core gap (9 s) where that share cannot be met.
    plan = PollPlan()
    cap = naive_requests(believed, 10.0) * max(plan.request_share, 10.0 / plan.core_max_interval)
    assert switched.expected_requests(believed) <= cap + 0.05
    assert all(point > 600.0 for point in switched.points)
    # Without the switch it would follow the whole job's plan: tight polls around 600 s.
    whole = times.ladder("seed2", VIDEO)
    assert whole.expected_requests(believed) > switched.expected_requests(believed)
    # A job submitted after the class was learned follows the whole learned plan.
    assert times.ladder("seed2", VIDEO, submitted_at=1000.0).points == whole.points


def test_the_chance_of_having_finished_is_highest_around_the_median() -> None:
    times = learned(lognormal(120.0, 0.1, 40))
    early = times.finished_since("seed2", VIDEO, 40.0, 60.0)
    around = times.finished_since("seed2", VIDEO, 110.0, 125.0)
    late = times.finished_since("seed2", VIDEO, 150.0, 151.0)
    assert early < 0.01 < late < around
    assert times.finished_since("seed2", VIDEO, 100.0, 100.0) == 0.0


def test_a_plan_that_polls_every_so_often_whatever_was_learned() -> None:
    times = learned(lognormal(120.0, 0.1, 40), PollPlan.every(0.05))
    for elapsed in (0.0, 10.0, 119.0, 500.0):
        assert times.next_poll_delay("seed2", VIDEO, elapsed) <= 0.05 + 1e-9


# -- the prior and the deadline -----------------------------------------------------------------


def test_longer_and_sharper_clips_are_expected_to_take_longer() -> None:
    times = GenerationTimes()
    short = times.expected("seedance2", {"resolution": "720p", "duration": "4"})
    long = times.expected("seedance2", {"resolution": "720p", "duration": "15"})
    sharp = times.expected("seedance2", {"resolution": "4k", "duration": "4"})
    assert short < long
    assert short < sharp


def test_the_deadline_is_six_medians_and_bounded() -> None:
    times, plan = GenerationTimes(), PollPlan()
    assert times.deadline(30.0) == plan.min_deadline
    assert times.deadline(1200.0) == 1200.0 * plan.deadline_factor
    assert times.deadline(10_000.0) == plan.max_deadline
    slow = learned([1000.0, 1100.0, 1200.0, 1300.0, 1400.0])
    assert slow.deadline(slow.expected("seed2", VIDEO)) == pytest.approx(6 * 1200.0, rel=0.05)
