"""RateGate: one connector's request budget, shared by every task that talks to that connector.

Bindbee allows a fixed number of requests per window per connector token (200 per minute) and
answers anything over it with a 429 that costs up to a whole window. The gate therefore never
bursts: it hands out send times spaced evenly so that no window can hold more requests than the
budget, keeps one request of headroom per window against clock differences between client and
server, corrects itself from the ``X-RateLimit-*`` headers, and after a 429 holds back every task
of the connector until the server's hint has passed.

Clocks and sleep are injected, so tests run the gate on a fake clock without real waiting.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

__all__ = ["RateGate", "parse_retry_after"]

#: A Reset header below this is a number of seconds, not a unix time (some APIs send deltas).
_UNIX_TIME_FLOOR: Final = 1_000_000_000


def _to_float(value: str | None) -> float | None:
    if value is None:
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
    >>> parse_retry_after("0", now=0.0) is None, parse_retry_after("soon", now=0.0) is None
    (True, True)
    >>> parse_retry_after("Thu, 01 Jan 1970 00:01:00 GMT", now=30.0)
    30.0
    """
    if value is None:
        return None
    seconds = _to_float(value)
    if seconds is None:
        try:
            moment = email.utils.parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            return None
        seconds = moment.timestamp() - now
    return seconds if seconds > 0 else None


class RateGate:
    """The request budget of one connector, spent evenly by all of its tasks.

    Parameters
    ----------
    limit
        Requests allowed per window (Bindbee: 200). Replaced by ``X-RateLimit-Limit`` once seen.
    window_s
        Length of the window in seconds (Bindbee: 60).
    headroom
        Requests per window left unused, so that timing differences between the client's and the
        server's clock never push a window over the budget.
    backoff_initial_s, backoff_max_s
        The pause after a 429 that carries neither a usable ``Retry-After`` nor ``Reset``: doubles
        with every such 429 in a row, plus up to 50% jitter.
    clock, wall_clock, sleep
        Monotonic clock, unix-time clock (``Reset`` is a unix time) and the sleep coroutine;
        injected so that tests need no real waiting.

    Examples
    --------
    Ten requests through a gate of 5 per second take two seconds of budget, evenly spaced:

    >>> import asyncio
    >>> t = [0.0]
    >>> async def fake_sleep(seconds: float) -> None:
    ...     t[0] += seconds
    >>> gate = RateGate(limit=5, window_s=1.0, headroom=0, clock=lambda: t[0],
    ...                 wall_clock=lambda: t[0], sleep=fake_sleep)
    >>> async def ten() -> list[float]:
    ...     sent = []
    ...     for _ in range(10):
    ...         await gate.acquire()
    ...         sent.append(round(t[0], 3))
    ...         gate.release(status=200, headers={})
    ...     return sent
    >>> asyncio.run(ten())
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8]
    """

    def __init__(
        self,
        *,
        limit: int = 200,
        window_s: float = 60.0,
        headroom: int = 1,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("RateGate needs limit >= 1 and window_s > 0")
        self._limit = limit
        self._window_s = window_s
        self._headroom = max(headroom, 0)
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._next_at = -float("inf")
        self._blocked_until = -float("inf")
        self._lock: asyncio.Lock | None = None
        self._last_sent = -float("inf")
        self._in_flight = 0
        self._rate_limited_in_a_row = 0
        self.waited_s = 0.0
        """Seconds the budget held this connector back (pacing and 429 pauses)."""
        self.rate_limited = 0
        """429 responses seen."""

    def __repr__(self) -> str:
        return (
            f"RateGate(limit={self._limit}, window_s={self._window_s}, "
            f"in_flight={self._in_flight}, rate_limited={self.rate_limited})"
        )

    @property
    def limit(self) -> int:
        """Requests per window, as last announced by the server (or as configured)."""
        return self._limit

    @property
    def interval_s(self) -> float:
        """The spacing between two requests of this connector."""
        return self._window_s / max(self._limit - self._headroom, 1)

    @property
    def blocked_until(self) -> float:
        """Monotonic time before which no request may be sent (a 429 pause or a spent window)."""
        return self._blocked_until

    async def acquire(self) -> float:
        """Wait until this connector may send its next request.

        Every call must be followed by exactly one :meth:`release` (with the response's status
        and headers, or ``status=None`` when no response arrived).

        Returns
        -------
        float
            Seconds this call held the connector's queue back (slept at its head). Summed over
            calls this is the time the budget, not the network, set the pace; tasks merely
            queued behind the head are not counted twice.
        """
        if self._lock is None:
            self._lock = asyncio.Lock()
        slept = 0.0
        # Tasks queue in order on the lock and only the head sleeps, so that it always sleeps
        # against the latest schedule: a 429 or a spent window that arrives meanwhile is seen when
        # it wakes, and a burst after a pause is impossible.
        async with self._lock:
            while True:
                now = self._clock()
                target = max(self._next_at, self._blocked_until)
                if now >= target:
                    break
                await self._sleep(target - now)
                slept += self._clock() - now
            self._last_sent = now
            # Space from the planned slot when this task woke only a little late, or the loop's
            # timer lag would add up to a slower pace (the headroom absorbs the catch-up); after
            # an idle spell, space from now.
            late = now - target
            base = target if late <= 0.25 * self.interval_s else now
            self._next_at = base + self.interval_s
            self._in_flight += 1
        self.waited_s += slept
        return slept

    def release(self, *, status: int | None, headers: Mapping[str, str]) -> None:
        """Record the outcome of a request sent after :meth:`acquire`.

        Parameters
        ----------
        status
            The HTTP status, or ``None`` when the request got no response.
        headers
            The response headers (case-insensitive mapping, e.g. ``httpx.Headers``).
        """
        self._in_flight = max(self._in_flight - 1, 0)
        if status is None:
            return
        headers = {name.lower(): value for name, value in headers.items()}
        limit = _to_float(headers.get("x-ratelimit-limit"))
        if limit is not None and limit >= 1 and int(limit) != self._limit:
            self._limit = int(limit)
            self._next_at = self._last_sent + self.interval_s  # re-space at the server's pace
        if status == 429:
            self._on_rate_limited(headers)
            return
        self._rate_limited_in_a_row = 0
        remaining = _to_float(headers.get("x-ratelimit-remaining"))
        reset_at = self._reset_at(headers)
        # Requests still in flight were sent after this one may have been counted: the server
        # may already have spent them, so count them against what is left.
        if remaining is not None and reset_at is not None and remaining - self._in_flight <= 0:
            self._block(reset_at)

    def _reset_at(self, headers: Mapping[str, str]) -> float | None:
        """The ``Reset`` header as a time on the monotonic clock, when it lies in the future."""
        reset = _to_float(headers.get("x-ratelimit-reset"))
        if reset is None or reset <= 0:
            return None
        now = self._clock()
        seconds = reset if reset < _UNIX_TIME_FLOOR else reset - self._wall_clock()
        return now + seconds if seconds > 0 else None

    def _on_rate_limited(self, headers: Mapping[str, str]) -> None:
        self.rate_limited += 1
        self._rate_limited_in_a_row += 1
        now = self._clock()
        hint = parse_retry_after(headers.get("retry-after"), now=self._wall_clock())
        if hint is not None:
            until = now + hint
        elif (reset_at := self._reset_at(headers)) is not None:
            until = reset_at
        else:
            base = self._backoff_initial_s * 2 ** (self._rate_limited_in_a_row - 1)
            pause = min(base, self._backoff_max_s)
            until = now + pause * (1 + random.uniform(0, 0.5))  # jitter, not crypto
        self._block(until)

    def _block(self, until: float) -> None:
        self._blocked_until = max(self._blocked_until, until)
