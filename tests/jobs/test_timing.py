"""Poll timing: nothing before a result is plausible, tight around the expected finish."""

from __future__ import annotations

from bot.jobs import GenerationTimes, PollPlan

VIDEO = {"resolution": "720p", "duration": "5"}


def test_the_first_poll_waits_for_half_the_expected_time() -> None:
    times = GenerationTimes()
    expected = times.expected("seedance2", VIDEO)
    assert times.first_poll(expected) == expected / 2
    assert times.next_poll_delay(10.0, expected) == expected / 2 - 10.0


def test_polls_are_tightest_around_the_expected_finish_and_never_sparser_than_naive() -> None:
    times, plan = GenerationTimes(), PollPlan()
    expected = 120.0
    delays = {ratio: times.next_poll_delay(ratio * expected, expected) for ratio in (0.6, 1.0, 2.0)}
    assert delays[1.0] < delays[0.6]
    assert delays[1.0] < delays[2.0]
    # Until the long tail, a finished job is noticed sooner than by a 10-second poller.
    assert max(delays.values()) < 10.0
    assert times.next_poll_delay(4 * expected, expected) == plan.tail_interval


def test_longer_and_sharper_clips_are_expected_to_take_longer() -> None:
    times = GenerationTimes()
    short = times.expected("seedance2", {"resolution": "720p", "duration": "4"})
    long = times.expected("seedance2", {"resolution": "720p", "duration": "15"})
    sharp = times.expected("seedance2", {"resolution": "4k", "duration": "4"})
    assert short < long
    assert short < sharp


def test_learned_times_replace_the_prior_and_move_gradually() -> None:
    times = GenerationTimes()
    prior = times.expected("seed2", VIDEO)
    times.learn("seed2", VIDEO, 300.0)
    assert times.expected("seed2", VIDEO) == 300.0
    _, samples, mean = times.learn("seed2", VIDEO, 200.0)
    assert samples == 2
    assert 200.0 < mean < 300.0
    assert prior != 300.0
    # Other sizes keep their own estimate.
    assert times.expected("seed2", {"resolution": "720p", "duration": "10"}) != mean


def test_the_deadline_is_generous_and_bounded() -> None:
    times, plan = GenerationTimes(), PollPlan()
    assert times.deadline(30.0) == plan.min_deadline
    assert times.deadline(1200.0) == 1200.0 * plan.deadline_factor
    assert times.deadline(10_000.0) == plan.max_deadline
