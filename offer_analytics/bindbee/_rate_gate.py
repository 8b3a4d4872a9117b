"""RateGate: one connector's request budget, shared by every task that talks to that connector.

Bindbee allows a fixed number of requests per window per connector token (200 per minute) and
answers anything over it with a 429 that costs up to a whole window. Every 2xx says how much of
the current window is left (``X-RateLimit-Remaining``) and when it ends (``X-RateLimit-Reset``,
unix seconds). The gate spends what it *knows* is left at once and paces only when it must:

- **Known budget is spent without pacing.** While the gate holds a snapshot of the current
  window, requests go as fast as the tasks ask, as long as the local credit lasts: the reported
  ``Remaining``, minus every request that the server may not have counted yet when it reported
  it (see :meth:`RateGate.release`), minus one request of headroom. A response of the same window
  can only lower the credit, never raise it, so late responses carrying an older, higher
  ``Remaining`` change nothing.
- **Spent budget waits for the reset.** When the credit runs out, every task of the connector
  waits until ``Reset`` plus a safety margin (``reset_margin_s``, widened by any clock lead the
  gate has observed). Nothing is sent between ``Reset`` and the end of the margin either: in that
  gap the client cannot tell which window a request would land in.
- **Unknown budget is spent evenly.** Without a snapshot (the first request, or once ``Reset``
  and the margin have passed), the gate falls back to even pacing, ``window / (limit -
  headroom)`` apart: the first request goes at once and the next ones are paced until a
  response brings a snapshot (which also wakes a task that is waiting for its paced slot).
- **A 429 pauses everything.** Every task of the connector waits until ``Retry-After`` (or
  ``Reset``, or a jittered backoff when neither is usable), and the snapshot is dropped: the gate
  paces again until a fresh 2xx arrives.
- **No pause is longer than ``max_pause_s``** (two windows, at least a minute, by default). A
  ``Retry-After`` of a year, or a ``Reset`` far in the future, is a server bug or a proxy's
  invention; obeying it would hang the load with no sign of life. The gate caps it, says so once
  (a warning and :attr:`RateGate.notes`), and lets the retry policy decide: a server that keeps
  refusing ends the load with a :class:`~offer_analytics.errors.RateLimitedError` after the last
  attempt.

Which clock error is dangerous: ``Reset`` is the server's unix time, converted with the client's.
A client clock *ahead* of the server's makes the window seem to end early, so the gate would
resume while the server still counts the spent window: 429s. A client clock behind only makes
the gate wait a little longer. A server that rounds ``Reset`` down errs the same dangerous way.
The margin (0.25 s by default: 0.4% of Bindbee's minute) covers NTP-sized errors of that
direction and timer lag; a larger one shows itself when a response
carries a ``Reset`` that the client's clock had already passed when it sent the request, and
the gate then adds that lead to the margin for the rest of its life.

Clocks and sleep are injected, so tests run the gate on a fake clock without real waiting.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from offer_analytics.bindbee._rate_headers import RateLimitHeaders, parse_retry_after, read_headers

__all__ = ["Permit", "RateGate", "parse_retry_after"]

logger = logging.getLogger(__name__)


@dataclass(eq=False, slots=True)
class Permit:
    """One request's place in a connector's budget, from :meth:`RateGate.acquire` to release.

    The gate needs to know, when the response arrives, which requests were already answered
    before this one was sent: only those are certainly counted in the ``Remaining`` it reports.
    """

    waited_s: float
    """Seconds this request held the connector's queue back (slept at its head)."""
    settled_before: int = field(repr=False)
    sent_wall: float = field(repr=False)
    released: bool = field(default=False, repr=False)


@dataclass(slots=True)
class _Snapshot:
    """What the server last said about the current window."""

    window: float  # Reset as a unix time: the same for every response of one window
    reset_at: float  # the same moment on the monotonic clock
    sendable: int  # requests may go while fewer than this many have been sent in all


class RateGate:
    """The request budget of one connector: known budget at once, unknown budget evenly.

    See the module docstring for the policy. Every :meth:`acquire` returns a :class:`Permit`
    that must be handed back to :meth:`release` exactly once, with the response's status and
    headers (or ``status=None`` when no response arrived).

    Parameters
    ----------
    limit
        Requests allowed per window (Bindbee: 200). Replaced by ``X-RateLimit-Limit`` once seen.
    window_s
        Length of the window in seconds (Bindbee: 60).
    headroom
        Requests per window left unused, against requests the gate cannot see (another process
        using the same token) and timing differences between client and server.
    reset_margin_s
        Seconds added to ``Reset`` before a spent connector sends again: covers a client clock
        slightly ahead of the server's and a ``Reset`` rounded down. A larger lead observed in
        responses is added to it.
    backoff_initial_s, backoff_max_s
        The pause after a 429 that carries neither a usable ``Retry-After`` nor ``Reset``: doubles
        with every such 429 in a row, plus up to 50% jitter.
    max_pause_s
        The longest pause any header may impose (``Retry-After`` after a 429, a spent window's
        ``Reset``); ``None`` means two windows but at least a minute (servers count penalties in
        seconds to minutes, whatever their window). A longer one is cut to this and noted once.
    label
        The connector's label, named in the note about a capped pause.
    clock, wall_clock, sleep
        Monotonic clock, unix-time clock (``Reset`` is a unix time) and the sleep coroutine;
        injected so that tests need no real waiting.

    Examples
    --------
    Without rate-limit headers the gate knows nothing about the budget: ten requests through a
    gate of 5 per second are spaced evenly and take two seconds of budget.

    >>> import asyncio
    >>> t = [0.0]
    >>> async def fake_sleep(seconds: float) -> None:
    ...     t[0] += seconds
    >>> def fake_gate() -> RateGate:
    ...     return RateGate(limit=5, window_s=1.0, headroom=0, reset_margin_s=0.1,
    ...                     clock=lambda: t[0], wall_clock=lambda: 1_700_000_000 + t[0],
    ...                     sleep=fake_sleep)
    >>> async def send(gate: RateGate, n: int, first: dict[str, str]) -> list[float]:
    ...     sent = []
    ...     for i in range(n):
    ...         permit = await gate.acquire()
    ...         sent.append(round(t[0], 3))
    ...         gate.release(permit, status=200, headers=first if i == 0 else {})
    ...     return sent
    >>> asyncio.run(send(fake_gate(), 10, first={}))
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8]

    When the first response says that 4 requests are left until the window resets one second
    later, those 4 go at once; the sixth waits for the reset plus the margin, and from there the
    gate paces again until a response brings news of the new window.

    >>> t[0] = 0.0
    >>> window = {"X-RateLimit-Remaining": "4", "X-RateLimit-Reset": "1700000001"}
    >>> asyncio.run(send(fake_gate(), 7, first=window))
    [0.0, 0.0, 0.0, 0.0, 0.0, 1.1, 1.3]
    """

    def __init__(
        self,
        *,
        limit: int = 200,
        window_s: float = 60.0,
        headroom: int = 1,
        reset_margin_s: float = 0.25,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 60.0,
        max_pause_s: float | None = None,
        label: str = "",
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if limit < 1 or window_s <= 0 or reset_margin_s < 0:
            raise ValueError("RateGate needs limit >= 1, window_s > 0 and reset_margin_s >= 0")
        self._limit = limit
        self._window_s = window_s
        self._headroom = max(headroom, 0)
        self._base_margin_s = reset_margin_s
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._max_pause_s = max(2 * window_s, 60.0) if max_pause_s is None else max_pause_s
        if self._max_pause_s <= 0:
            raise ValueError("RateGate needs max_pause_s > 0")
        self._label = label
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._next_at = -float("inf")
        self._blocked_until = -float("inf")
        self._lock: asyncio.Lock | None = None
        self._last_sent = -float("inf")
        self._in_flight = 0
        self._sent = 0  # requests acquired, ever
        self._settled = 0  # requests released, ever
        self._snapshot: _Snapshot | None = None
        self._news: asyncio.Event | None = None  # set when a snapshot arrives
        self._clock_lead_s = 0.0
        self._rate_limited_in_a_row = 0
        self.waited_s = 0.0
        """Seconds the budget held this connector back (pacing, spent windows, 429 pauses)."""
        self.rate_limited = 0
        """429 responses seen."""
        self.notes: list[str] = []
        """Things worth telling the user (a capped pause), each said once."""

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
        """The spacing between two requests while the remaining budget is unknown."""
        return self._window_s / max(self._limit - self._headroom, 1)

    @property
    def reset_margin_s(self) -> float:
        """Seconds waited past ``Reset``: the configured margin plus any clock lead observed."""
        return self._base_margin_s + self._clock_lead_s

    @property
    def credit(self) -> int | None:
        """Requests that may go at once in the current window, or ``None`` when unknown."""
        snapshot = self._current_snapshot(self._clock())
        return None if snapshot is None else max(snapshot.sendable - self._sent, 0)

    @property
    def blocked_until(self) -> float:
        """Monotonic time before which no request may be sent after a 429."""
        return self._blocked_until

    async def acquire(self) -> Permit:
        """Wait until this connector may send its next request.

        Returns
        -------
        Permit
            To hand to :meth:`release`. Its ``waited_s`` is the time this call held the
            connector's queue back (slept at its head). Summed over calls this is the time the
            budget, not the network, set the pace; tasks merely queued behind the head are not
            counted twice.
        """
        if self._lock is None:
            self._lock = asyncio.Lock()
        slept = 0.0
        # Tasks queue in order on the lock and only the head sleeps, so that it always sleeps
        # against the latest state: a 429 or a spent window that arrives meanwhile is seen when
        # it wakes, and a burst beyond the known budget is impossible.
        async with self._lock:
            while True:
                now = self._clock()
                target, paced = self._earliest(now)
                if now >= target:
                    break
                await self._wait(target - now, wake_on_news=paced)
                slept += self._clock() - now
            if paced:
                # Space from the planned slot when this task woke only a little late, or the
                # loop's timer lag would add up to a slower pace (the headroom absorbs the
                # catch-up); after an idle spell, space from now.
                late = now - target
                base = target if late <= 0.25 * self.interval_s else now
                self._next_at = base + self.interval_s
            self._last_sent = now
            permit = Permit(slept, settled_before=self._settled, sent_wall=self._wall_clock())
            self._sent += 1
            self._in_flight += 1
        self.waited_s += slept
        return permit

    async def _wait(self, seconds: float, *, wake_on_news: bool) -> None:
        """Sleep; a paced wait also ends early when a response brings a snapshot."""
        if not wake_on_news:
            await self._sleep(seconds)
            return
        self._news = news = asyncio.Event()
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        listener = asyncio.ensure_future(news.wait())
        try:
            await asyncio.wait({sleeper, listener}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._news = None
            sleeper.cancel()
            listener.cancel()

    def release(self, permit: Permit, *, status: int | None, headers: Mapping[str, str]) -> None:
        """Record the outcome of the request that ``permit`` let through.

        A 2xx with ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` updates the snapshot of
        the window. The server may or may not have counted the requests still in flight when it
        answered, and one answered meanwhile may have been counted after this one, so the
        gate counts against ``Remaining`` every request sent except those already answered
        before this one was sent: only they are certainly included in it.

        Parameters
        ----------
        permit
            What :meth:`acquire` returned for this request.
        status
            The HTTP status, or ``None`` when the request got no response.
        headers
            The response headers (case-insensitive mapping, e.g. ``httpx.Headers``).

        Raises
        ------
        ValueError
            When the permit was already released.
        """
        if permit.released:
            raise ValueError("this Permit was already released")
        permit.released = True
        self._in_flight = max(self._in_flight - 1, 0)
        # A request given up on (no response) counts as settled too: if the server counted it,
        # it did so on arrival, long before the client's timeout or the dropped connection.
        self._settled += 1
        if status is None:
            return
        said = read_headers(headers, now=self._wall_clock())
        if said.limit is not None and said.limit != self._limit:
            self._limit = said.limit
            self._next_at = self._last_sent + self.interval_s  # re-space at the server's pace
        window = said.reset
        if window is not None and said.reset_is_unix_time:
            # The server counted this request inside the window that ends at `window`, yet the
            # client's clock had passed that moment when sending it: the client runs ahead by
            # at least the difference (or Reset was rounded down by as much).
            lead = min(permit.sent_wall - window, self._window_s)
            self._clock_lead_s = max(self._clock_lead_s, lead)
        if status == 429:
            self._snapshot = None  # the snapshot was wrong or the server is storming: relearn
            self._on_rate_limited(said)
            return
        self._rate_limited_in_a_row = 0
        if said.remaining is None or window is None:
            return
        sendable = said.remaining - self._headroom + permit.settled_before + 1
        self._observe(window, sendable)

    def _observe(self, window: float, sendable: int) -> None:
        now = self._clock()
        reset_at = self._capped(now, now + window - self._wall_clock(), "X-RateLimit-Reset")
        if now >= reset_at + self.reset_margin_s:
            return  # a response about a window that is over
        snapshot = self._current_snapshot(now)
        if snapshot is None or window > snapshot.window:
            self._snapshot = _Snapshot(window, reset_at, sendable)
            if self._news is not None:
                self._news.set()  # the head of the queue may be pacing for nothing
        elif window == snapshot.window:
            # Within one window the server's count only grows: a response that arrives late
            # with a higher Remaining says nothing new, so the lower bound wins.
            snapshot.sendable = min(snapshot.sendable, sendable)
            snapshot.reset_at = max(snapshot.reset_at, reset_at)
        # window < snapshot.window: about a window that is over; nothing to learn

    def _current_snapshot(self, now: float) -> _Snapshot | None:
        snapshot = self._snapshot
        if snapshot is not None and now >= snapshot.reset_at + self.reset_margin_s:
            self._snapshot = snapshot = None
        return snapshot

    def _earliest(self, now: float) -> tuple[float, bool]:
        """When the next request may go, and whether it is paced (budget unknown)."""
        snapshot = self._current_snapshot(now)
        if snapshot is None:
            return max(self._next_at, self._blocked_until), True
        if now < snapshot.reset_at and self._sent < snapshot.sendable:
            return self._blocked_until, False
        # Spent, or past Reset but inside the margin, where a request could land in either
        # window: wait for the margin's end, when the snapshot expires and pacing takes over.
        return max(snapshot.reset_at + self.reset_margin_s, self._blocked_until), False

    def _on_rate_limited(self, said: RateLimitHeaders) -> None:
        self.rate_limited += 1
        self._rate_limited_in_a_row += 1
        now = self._clock()
        if said.retry_after is not None:
            until = self._capped(now, now + said.retry_after, "Retry-After")
        elif said.reset is not None and (seconds := said.reset - self._wall_clock()) > 0:
            until = self._capped(now, now + seconds, "X-RateLimit-Reset")
        else:
            base = self._backoff_initial_s * 2 ** (self._rate_limited_in_a_row - 1)
            pause = min(base, self._backoff_max_s)
            until = now + pause * (1 + random.uniform(0, 0.5))  # jitter, not crypto
        self._block(until)

    def _capped(self, now: float, until: float, header: str) -> float:
        """``until``, or ``max_pause_s`` from now when the server asked for a longer pause."""
        if until - now <= self._max_pause_s:
            return until
        if not self.notes:
            who = f"Connector {self._label!r}" if self._label else "The server"
            note = (
                f"{who} asked for a pause of {until - now:,.0f} s ({header}); waiting "
                f"{self._max_pause_s:g} s at most before trying again."
            )
            self.notes.append(note)
            logger.warning(note)
        return now + self._max_pause_s

    def _block(self, until: float) -> None:
        self._blocked_until = max(self._blocked_until, until)
