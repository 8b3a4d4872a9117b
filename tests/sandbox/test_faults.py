"""Fault plans: the configured rates, reproducibly, and only valid configurations."""

from __future__ import annotations

import collections
from typing import Any

import pytest

from offer_analytics.sandbox import Faults
from offer_analytics.sandbox._faults import FAULT_KINDS, FaultPlan


def test_each_kind_is_drawn_at_its_rate() -> None:
    faults = Faults(
        seed=3,
        error_rate=0.05,
        rate_limit_storm_rate=0.1,
        drop_rate=0.02,
        truncate_rate=0.15,
        non_json_rate=0.01,
    )
    plan = FaultPlan(faults)
    n = 40_000
    counts = collections.Counter(plan.draw().kind for _ in range(n))
    for kind, rate in faults.rates.items():
        assert abs(counts[kind] / n - rate) < 0.01, (kind, counts[kind])
    assert abs(counts[None] / n - (1 - faults.total_rate)) < 0.01


def test_the_sequence_depends_only_on_the_seed() -> None:
    def kinds(faults: Faults) -> list[Any]:
        plan = FaultPlan(faults)
        return [plan.draw().kind for _ in range(300)]

    base = Faults(seed=8, error_rate=0.2, drop_rate=0.2)
    assert kinds(base) == kinds(Faults(seed=8, error_rate=0.2, drop_rate=0.2))
    assert kinds(base) != kinds(Faults(seed=9, error_rate=0.2, drop_rate=0.2))
    # Latency draws from its own generator: turning it on does not move the faults.
    assert kinds(base) == kinds(Faults(seed=8, error_rate=0.2, drop_rate=0.2, latency_ms=5))


def test_truncate_styles_and_error_statuses() -> None:
    cut = FaultPlan(Faults(truncate_rate=1, truncate_style="cut"))
    short = FaultPlan(Faults(truncate_rate=1, truncate_style="short"))
    mixed = FaultPlan(Faults(truncate_rate=1))
    assert all(cut.draw().cut for _ in range(50))
    assert not any(short.draw().cut for _ in range(50))
    assert {mixed.draw().cut for _ in range(50)} == {True, False}
    errors = FaultPlan(Faults(error_rate=1))
    assert {errors.draw().status for _ in range(200)} == {500, 502, 503, 504}


def test_latency_stays_within_its_jitter() -> None:
    plan = FaultPlan(Faults(latency_ms=50, latency_jitter_ms=10))
    delays = [plan.latency_s() for _ in range(500)]
    assert 0.040 <= min(delays) < 0.042
    assert 0.058 < max(delays) <= 0.060
    assert FaultPlan(Faults(latency_ms=1, latency_jitter_ms=5)).latency_s() >= 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"error_rate": -0.1}, "error_rate"),
        ({"drop_rate": 1.5}, "drop_rate"),
        ({"latency_ms": float("nan")}, "latency_ms"),
        ({"truncate_rate": 0.6, "non_json_rate": 0.6}, "add up"),
        ({"truncate_style": "sideways"}, "truncate_style"),
    ],
)
def test_invalid_faults_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Faults(**kwargs)


def test_retry_after_header_is_whole_seconds_at_least_one() -> None:
    assert Faults(storm_retry_after_s=0).retry_after_header == 1
    assert Faults(storm_retry_after_s=2.1).retry_after_header == 3
    assert list(Faults().rates) == list(FAULT_KINDS)
