"""Reading the rate-limit headers: the boundaries between "said" and "not said"."""

from __future__ import annotations

import dataclasses

import pytest

from offer_analytics.bindbee._rate_headers import RateLimitHeaders, parse_retry_after, read_headers

NOW = 1_700_000_000.2  # a unix time a little past a whole second


@pytest.mark.parametrize(
    ("value", "unix"),
    [("1000000000", True), ("999999999", False)],
    ids=["one-billion", "just-below"],
)
def test_a_reset_from_one_billion_on_is_a_unix_time_below_it_seconds_from_now(
    value: str, unix: bool
) -> None:
    said = read_headers({"X-RateLimit-Reset": value}, now=NOW)
    assert said.reset_is_unix_time is unix
    assert said.reset == (1_000_000_000.0 if unix else float(1_700_000_000 + 999_999_999 + 1))


def test_a_reset_under_a_second_from_now_is_rounded_up_to_the_next_whole_second() -> None:
    said = read_headers({"X-RateLimit-Reset": "0.5"}, now=NOW)
    assert said == RateLimitHeaders(reset=1_700_000_001.0)


def test_a_limit_of_one_and_a_remaining_of_zero_are_said() -> None:
    said = read_headers({"X-RateLimit-Limit": "1", "X-RateLimit-Remaining": "0"}, now=NOW)
    assert (said.limit, said.remaining) == (1, 0)


@pytest.mark.parametrize(
    ("policy", "window"),
    [("10;w=0.5", 0.5), ("10;w=1", 1.0), ("10;w=0", None), ("10", None), ("w=60", None)],
)
def test_any_positive_policy_window_is_said_and_zero_or_garbage_is_not(
    policy: str, window: float | None
) -> None:
    assert read_headers({"RateLimit-Policy": policy}, now=NOW).window == window


@pytest.mark.parametrize(("value", "seconds"), [("0.5", 0.5), ("1", 1.0)])
def test_any_positive_retry_after_is_a_hint_even_under_a_second(value: str, seconds: float) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


def test_a_retry_after_given_as_a_future_http_date_is_the_seconds_until_it() -> None:
    # 2023-11-14 22:13:30 GMT is 1_700_000_010: 9.8 s after NOW.
    waited = parse_retry_after("Tue, 14 Nov 2023 22:13:30 GMT", now=NOW)
    assert waited == pytest.approx(9.8)


def test_rate_limit_headers_once_read_cannot_be_changed() -> None:
    said = read_headers({"X-RateLimit-Remaining": "4"}, now=NOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        said.remaining = 5  # type: ignore[misc]


def test_the_readers_take_now_by_keyword_only() -> None:
    with pytest.raises(TypeError):
        parse_retry_after("1", NOW)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        read_headers({}, NOW)  # type: ignore[call-arg]


@pytest.mark.parametrize("value", ["-5", "-0.5", "0"])
def test_a_reset_of_zero_or_less_is_not_said(value: str) -> None:
    assert read_headers({"X-RateLimit-Reset": value}, now=NOW).reset is None
