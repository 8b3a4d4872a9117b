"""The fixed-window rate limit: per key, aligned windows, refusals cost nothing."""

from __future__ import annotations

import itertools

import pytest

from offer_analytics.sandbox._window import FixedWindowLimiter


def test_budget_per_key_and_window() -> None:
    limiter = FixedWindowLimiter(limit=3, window_s=10)
    states = [limiter.hit("a", now=100.0 + i) for i in range(5)]
    assert [s.allowed for s in states] == [True, True, True, False, False]
    assert [s.remaining for s in states] == [2, 1, 0, 0, 0]
    assert {s.reset for s in states} == {110.0}
    assert limiter.hit("b", now=105.0).allowed
    assert limiter.hit("a", now=110.0).remaining == 2


def test_headers() -> None:
    limiter = FixedWindowLimiter(limit=1, window_s=0.5)
    ok = limiter.hit("a", now=10.1)
    assert ok.headers(10.1) == {
        "x-ratelimit-limit": "1",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": "11",  # 10.5 rounded up to a whole Unix second
    }
    refused = limiter.hit("a", now=10.2)
    assert refused.headers(10.2)["retry-after"] == "1"  # never 0


@pytest.mark.parametrize(("limit", "window"), [(0, 1.0), (1, 0.0)])
def test_invalid_limits(limit: int, window: float) -> None:
    with pytest.raises(ValueError, match="rate"):
        FixedWindowLimiter(limit=limit, window_s=window)


def test_consecutive_windows_name_resets_one_window_apart() -> None:
    # What a client learns the window's length from, as it would from Bindbee.
    limiter = FixedWindowLimiter(limit=2, window_s=6)
    resets = [
        int(limiter.hit("a", now=1_700_000_000.0 + t).headers(0.0)["x-ratelimit-reset"])
        for t in (0.5, 1.0, 6.5, 13.0)
    ]
    assert [b - a for a, b in itertools.pairwise(resets)] == [0, 6, 6]


def test_a_flat_retry_after_is_sent_whatever_the_window_has_left() -> None:
    limiter = FixedWindowLimiter(limit=1, window_s=6, retry_after_s=60)
    assert limiter.hit("a", now=100.0).allowed
    refused = limiter.hit("a", now=101.5)  # 0.5 s left in the window ending at 102
    headers = refused.headers(101.5)
    assert (headers["retry-after"], headers["x-ratelimit-reset"]) == ("60", "102")
    with pytest.raises(ValueError, match="Retry-After"):
        FixedWindowLimiter(limit=1, window_s=6, retry_after_s=0)
