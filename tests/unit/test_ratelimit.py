"""The per-person command limit: a token bucket per sender, one warning per burst, bounded memory."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_config
from bot.ratelimit import PRUNE_ABOVE, CommandLimiter, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_runs_then_one_warning_then_silence() -> None:
    clock = Clock()
    limiter = CommandLimiter(burst=3, per_minute=6, clock=clock)
    verdicts = [limiter.take("@a:x") for _ in range(7)]
    assert verdicts == [Verdict.RUN] * 3 + [Verdict.WARN] + [Verdict.DROP] * 3


def test_the_bucket_refills_at_the_configured_rate() -> None:
    clock = Clock()
    limiter = CommandLimiter(burst=2, per_minute=6, clock=clock)  # one command per 10 s
    assert [limiter.take("@a:x") for _ in range(3)] == [Verdict.RUN, Verdict.RUN, Verdict.WARN]
    clock.now += 9
    assert limiter.take("@a:x") is Verdict.DROP
    clock.now += 1.5
    assert limiter.take("@a:x") is Verdict.RUN
    assert limiter.take("@a:x") is Verdict.DROP  # still the same burst: no second warning


def test_a_flood_at_a_steady_rate_is_warned_once_not_at_every_refill() -> None:
    clock = Clock()
    limiter = CommandLimiter(burst=5, per_minute=60, clock=clock)
    verdicts = []
    for _ in range(300):  # ten commands a second for half a minute
        verdicts.append(limiter.take("@flood:x"))
        clock.now += 0.1
    assert verdicts.count(Verdict.WARN) == 1
    assert 5 + 28 <= verdicts.count(Verdict.RUN) <= 5 + 31  # the burst, then one a second


def test_after_a_pause_long_enough_to_refill_a_new_burst_gets_its_own_warning() -> None:
    clock = Clock()
    limiter = CommandLimiter(burst=2, per_minute=60, clock=clock)
    assert [limiter.take("@a:x") for _ in range(3)][-1] is Verdict.WARN
    clock.now += 2.5
    assert [limiter.take("@a:x") for _ in range(3)] == [Verdict.RUN, Verdict.RUN, Verdict.WARN]


def test_each_person_has_their_own_bucket() -> None:
    limiter = CommandLimiter(burst=1, per_minute=1, clock=Clock())
    assert limiter.take("@flood:x") is Verdict.RUN
    assert limiter.take("@flood:x") is Verdict.WARN
    assert limiter.take("@other:x") is Verdict.RUN


def test_memory_stays_bounded_full_buckets_are_forgotten() -> None:
    clock = Clock()
    limiter = CommandLimiter(burst=2, per_minute=60, clock=clock)
    for n in range(PRUNE_ABOVE):
        limiter.take(f"@u{n}:x")
    clock.now += 5  # everyone's bucket is full again
    limiter.take("@new:x")
    assert len(limiter) == 1
    for n in range(3 * PRUNE_ABOVE):  # many people at once, none quiet: pruning stays amortised
        limiter.take(f"@busy{n}:x")
    assert len(limiter) == 3 * PRUNE_ABOVE + 1


def test_the_limit_is_configurable_and_checked(tmp_path) -> None:
    path = tmp_path / "config.yaml"
    base = 'homeserver: {url: "http://127.0.0.1:8008"}\nbot:\n  user_id: "@bot:localhost"\n'
    path.write_text(base + "  command_rate: {burst: 4, per_minute: 12}\n")
    rate = load_config(path).bot.command_rate
    assert (rate.enabled, rate.burst, rate.per_minute) == (True, 4, 12)
    path.write_text(base)
    assert load_config(path).bot.command_rate.burst == 10
    path.write_text(base + "  command_rate: {burst: 0}\n")
    with pytest.raises(ConfigError, match="bot.command_rate.burst"):
        load_config(path)
    path.write_text(base + "  command_rate: {per_minute: -1}\n")
    with pytest.raises(ConfigError, match="bot.command_rate.per_minute"):
        load_config(path)
