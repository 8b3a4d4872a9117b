"""Reading Bindbee's rate-limit headers, once per response, into numbers the RateGate acts on.

Every 2xx and 429 carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (unix seconds when the window ends; some APIs send seconds from now
instead); a 429 adds ``Retry-After`` (seconds, or an HTTP date). Garbage, ``0`` and negative
values read as "not said", never as "go at once". Servers that follow the IETF rate-limit headers
draft name the window's length in ``RateLimit-Policy`` (``100;w=60``, ``"default";q=100;w=60``).
"""

from __future__ import annotations

import email.utils
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = ["RateLimitHeaders", "parse_retry_after", "read_headers"]

#: A Reset header below this is a number of seconds, not a unix time (some APIs send deltas).
_UNIX_TIME_FLOOR: Final = 1_000_000_000
#: The ``w`` (window seconds) parameter of the first policy in ``RateLimit-Policy``.
_POLICY_WINDOW: Final = re.compile(r"^[^,]*?;\s*w\s*=\s*([0-9]+(?:\.[0-9]+)?)")


def _to_float(value: str | None) -> float | None:
    # ASCII only: float() also reads other scripts' digits ("٣"), which no server means to send.
    if value is None or not value.isascii():
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value, or ``None`` when it gives no usable hint.

    ``0``, negative numbers, dates in the past and garbage are "no hint": retrying at once would
    only earn another 429, so the caller falls back to the ``Reset`` header or to backoff.

    Parameters
    ----------
    value
        The header value: delta seconds or an HTTP date.
    now
        The current unix time, to turn an HTTP date into seconds.

    Examples
    --------
    >>> parse_retry_after("2", now=0.0)
    2.0
    >>> [parse_retry_after(v, now=0.0) for v in ("0", "soon", "²", "-5")]
    [None, None, None, None]
    >>> parse_retry_after("Thu, 01 Jan 1970 00:01:00 GMT", now=30.0)
    30.0
    """
    if value is None:
        return None
    seconds = _to_float(value)
    if seconds is None:
        if not value.isascii():
            return None
        try:
            moment = email.utils.parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError, OverflowError):  # a year past C's int: no hint
            return None
        seconds = moment.timestamp() - now
    return seconds if seconds > 0 else None


@dataclass(frozen=True, slots=True)
class RateLimitHeaders:
    """What one response said about its connector's budget; ``None`` = not said (or garbage).

    Attributes
    ----------
    limit
        Requests per window (``X-RateLimit-Limit``, at least 1).
    remaining
        Requests left in the window (``X-RateLimit-Remaining``).
    reset
        When the window ends, as a unix time: a ``Reset`` given as seconds from now is turned
        into one, rounded up to a whole second so that every response of a window names the
        same moment.
    reset_is_unix_time
        ``Reset`` was sent as a unix time (only then can it reveal a clock difference).
    retry_after
        Seconds to wait (``Retry-After``), positive.
    window
        The window's length in seconds, where ``RateLimit-Policy`` names it.
    """

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None
    reset_is_unix_time: bool = False
    retry_after: float | None = None
    window: float | None = None


def read_headers(headers: Mapping[str, str], *, now: float) -> RateLimitHeaders:
    """Read the rate-limit headers of a response.

    Parameters
    ----------
    headers
        The response headers (any case).
    now
        The current unix time, for relative ``Reset`` values and HTTP dates.

    Examples
    --------
    >>> read_headers({"X-RateLimit-Remaining": "4", "X-RateLimit-Reset": "1700000060"}, now=0.0)
    RateLimitHeaders(limit=None, remaining=4, reset=1700000060.0, reset_is_unix_time=True, \
retry_after=None, window=None)
    >>> read_headers({"x-ratelimit-reset": "2.5", "retry-after": "soon"}, now=100.0)
    RateLimitHeaders(limit=None, remaining=None, reset=103.0, reset_is_unix_time=False, \
retry_after=None, window=None)
    >>> read_headers({"RateLimit-Policy": '"default";q=200;w=60'}, now=0.0).window
    60.0
    """
    lower = {name.lower(): value for name, value in headers.items()}
    limit = _to_float(lower.get("x-ratelimit-limit"))
    remaining = _to_float(lower.get("x-ratelimit-remaining"))
    reset = _to_float(lower.get("x-ratelimit-reset"))
    absolute = reset is not None and reset >= _UNIX_TIME_FLOOR
    if reset is not None and not absolute:
        reset = float(math.ceil(now + reset)) if reset > 0 else None
    return RateLimitHeaders(
        limit=int(limit) if limit is not None and limit >= 1 else None,
        remaining=int(remaining) if remaining is not None and remaining >= 0 else None,
        reset=reset,
        reset_is_unix_time=absolute,
        retry_after=parse_retry_after(lower.get("retry-after"), now=now),
        window=_policy_window(lower.get("ratelimit-policy")),
    )


def _policy_window(value: str | None) -> float | None:
    """The first policy's window length in seconds, or ``None`` (absent, garbage or zero)."""
    match = _POLICY_WINDOW.match(value) if value is not None else None
    seconds = float(match.group(1)) if match is not None else 0.0
    return seconds if seconds > 0 else None
