"""A per-person command rate limit: a token bucket for each sender, so that one person flooding
the bot with commands cannot delay everyone else's replies. Memory stays bounded: a bucket
that has filled up again holds nothing worth keeping and is forgotten."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from typing import Callable

PRUNE_ABOVE = 4096  # buckets kept before the full ones are forgotten


class Verdict(enum.Enum):
    RUN = "run"  # within the limit
    WARN = "warn"  # the first command over the limit in this burst: say "slow down" once
    DROP = "drop"  # over the limit again: dropped without a reply


@dataclass
class _Bucket:
    tokens: float
    at: float
    warned: bool = False


class CommandLimiter:
    """Up to ``burst`` commands at once, then ``per_minute`` on average. The warning is given once
    per burst: again only after the person has been quiet long enough for the bucket to fill."""

    def __init__(self, burst: int, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = float(burst)
        self.per_second = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._prune_at = PRUNE_ABOVE

    def take(self, who: str) -> Verdict:
        now = self.clock()
        bucket = self._buckets.get(who)
        if bucket is None:
            if len(self._buckets) >= self._prune_at:
                self._forget_full(now)
                self._prune_at = max(PRUNE_ABOVE, 2 * len(self._buckets))  # amortised: never each call
            bucket = self._buckets[who] = _Bucket(tokens=self.burst, at=now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.per_second)
            bucket.at = now
            if bucket.tokens >= self.burst:
                bucket.warned = False  # quiet long enough: a new burst
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return Verdict.RUN
        if bucket.warned:
            return Verdict.DROP
        bucket.warned = True
        return Verdict.WARN

    def _forget_full(self, now: float) -> None:
        full = [who for who, b in self._buckets.items()
                if b.tokens + (now - b.at) * self.per_second >= self.burst]
        for who in full:
            del self._buckets[who]

    def __len__(self) -> int:
        return len(self._buckets)
