"""RateGate: one connector's request budget, shared by every task that talks to that connector.

Bindbee allows a fixed number of requests per window per connector token (200 per minute) and
answers anything over it with a 429 that costs up to a whole window. Every 2xx says how much of
the current window is left (``X-RateLimit-Remaining``) and when it ends (``X-RateLimit-Reset``,
unix seconds). The gate spends what it *knows* is left at once and paces only when it must:

- **Known budget is spent to the last request.** While the gate holds a snapshot of the current
  window, requests go as fast as the tasks ask while the credit lasts: the lowest reported
  ``Remaining`` minus the requests that may not be inside it (see
  :mod:`~offer_analytics.bindbee._window_credit`). That accounting is exact for this gate's own
  requests, so none is held back, until a 429 that neither it nor the clock explains shows that
  something else spends the token: from then on one request per window stays unused.
- **Spent budget waits for the reset, and no longer than the clock evidence calls for.** When
  the credit runs out, every task of the connector waits until ``Reset`` plus a margin: a few
  milliseconds of timer slack (``reset_margin_s``) plus the lead of the client's clock over the
  server's that responses have shown (see :mod:`~offer_analytics.bindbee._rate_window`).
- **Unknown budget: one request, then the others wait for its news.** Without a snapshot (the
  first request, or once a window is over) the first request goes at once, and the next ones
  are paced ``window / (limit - 1)`` apart until a response brings a snapshot (which wakes them).
  The window's length is learned from the headers when nobody told it.
- **A 429 pauses everything.** Every task of the connector waits until the window's end when the
  429 names one that comes before ``Retry-After`` (Bindbee's documentation shows a flat
  ``Retry-After: 60`` whatever the window has left), else until ``Retry-After``, or a jittered
  backoff when neither is usable. A second 429 in a row is paused for the full ``Retry-After``.
  The snapshot is dropped: the gate relearns the window from the next 2xx.
- **No pause is longer than ``max_pause_s``** (two windows, at least a minute, by default). A
  ``Retry-After`` of a year, or a ``Reset`` far in the future, is a server bug or a proxy's
  invention; obeying it would hang the load with no sign of life. The gate caps it, says so once
  (a warning and :attr:`RateGate.notes`), and lets the retry policy decide: a server that keeps
  refusing ends the load with a :class:`~offer_analytics.errors.RateLimitedError` after the last
  attempt.

A client clock *ahead* of the server's (or a ``Reset`` rounded down) makes a window seem to end
early: the first response it earns shows the lead, and every gate of the client waits that much
longer from then on. A clock behind only makes the gate wait a little longer.

Clocks and sleep are injected, so tests run the gate on a fake clock without real waiting.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from offer_analytics.bindbee._rate_headers import RateLimitHeaders, parse_retry_after, read_headers
from offer_analytics.bindbee._rate_window import ClockLead, WindowLength
from offer_analytics.bindbee._window_credit import BlindAnswers, WindowCredit

__all__ = ["DEFAULT_RESET_MARGIN_S", "ClockLead", "Permit", "RateGate", "parse_retry_after"]

logger = logging.getLogger(__name__)

#: 5 ms of slack plus the resolution of the two clocks through which a window's end is converted
#: (``Reset`` is read against the unix clock and slept on the monotonic one): ~5 ms where the
#: clocks count in nanoseconds (Linux, macOS), ~36 ms where they tick every 15.6 ms (Windows).
DEFAULT_RESET_MARGIN_S: Final = (
    0.005 + time.get_clock_info("time").resolution + time.get_clock_info("monotonic").resolution
)


@dataclass(eq=False, slots=True)
class Permit:
    """One request's place in a connector's budget, from :meth:`RateGate.acquire` to release.

    The gate needs to know, when the response arrives, which requests were already answered
    before this one was sent: only those are surely inside the ``Remaining`` it reports.
    """

    waited_s: float
    """Seconds this request held the connector's queue back (slept at its head)."""
    request: int = field(repr=False)  # the gate's number for this request
    settled_before: int = field(repr=False)
    sent_wall: float = field(repr=False)
    known: bool = field(default=False, repr=False)  # sent on credit the gate believed it had
    released: bool = field(default=False, repr=False)


class RateGate:
    """The request budget of one connector: known budget at once, to the last request.

    See the module docstring for the policy. Every :meth:`acquire` returns a :class:`Permit`
    that must be handed back to :meth:`release` exactly once, with the response's status and
    headers (or ``status=None`` when no response arrived).

    Parameters
    ----------
    limit
        Requests allowed per window (Bindbee: 200). Replaced by ``X-RateLimit-Limit`` once seen.
    window_s
        Length of the window in seconds (Bindbee: 60). Replaced by what the headers show: a
        ``RateLimit-Policy`` window, or the step between two windows' ``Reset`` values.
    headroom
        Requests per window left unused from the start, against requests the gate cannot see
        (another process using the same token). 0 by default: the gate's own accounting is
        exact, and it adds one request of headroom by itself once a 429 shows such requests.
    reset_margin_s
        Seconds added to ``Reset`` before a spent connector sends again: timer slack. The lead
        of the client's clock over the server's, as responses show it, is added to it. By
        default :data:`DEFAULT_RESET_MARGIN_S`: the gate checks its clock again after every
        sleep, a request reaches the server after it was sent, and a clock ahead is learned from
        the first response that shows it, so the margin covers only the clocks' resolution; each
        millisecond of it is added to a listing once per window it crosses.
    backoff_initial_s, backoff_max_s
        The pause after a 429 that carries neither a usable ``Retry-After`` nor ``Reset``: doubles
        with every such 429 in a row, plus up to 50% jitter.
    max_pause_s
        The longest pause any header may impose (``Retry-After`` after a 429, a spent window's
        ``Reset``); ``None`` means two windows but at least a minute (servers count penalties in
        seconds to minutes, whatever their window). A longer one is cut to this and noted once.
    label
        The connector's label, named in the note about a capped pause.
    clock_lead
        Evidence of the client's clock lead, shared by every gate of one client.
    clock, wall_clock, sleep
        Monotonic clock, unix-time clock (``Reset`` is a unix time) and the sleep coroutine;
        injected so that tests need no real waiting.

    Examples
    --------
    Without rate-limit headers the gate knows nothing about the budget: ten requests through a
    gate of 5 per second are spaced evenly, keeping one request per window unused.

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
    [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25]

    When the first response says that 4 requests are left until the window resets one second
    later, those 4 go at once; the sixth waits for the reset plus the margin, and from there the
    gate paces again until a response brings news of the new window.

    >>> t[0] = 0.0
    >>> window = {"X-RateLimit-Remaining": "4", "X-RateLimit-Reset": "1700000001"}
    >>> asyncio.run(send(fake_gate(), 7, first=window))
    [0.0, 0.0, 0.0, 0.0, 0.0, 1.1, 1.35]
    """

    def __init__(
        self,
        *,
        limit: int = 200,
        window_s: float = 60.0,
        headroom: int = 0,
        reset_margin_s: float = DEFAULT_RESET_MARGIN_S,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 60.0,
        max_pause_s: float | None = None,
        label: str = "",
        clock_lead: ClockLead | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if limit < 1 or window_s <= 0 or reset_margin_s < 0:
            raise ValueError("RateGate needs limit >= 1, window_s > 0 and reset_margin_s >= 0")
        self._limit = limit
        self._window = WindowLength(window_s)
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
        self._sent = 0  # requests acquired, ever
        self._settled = 0  # requests released, ever
        self._in_flight_ids: set[int] = set()
        self._blind = BlindAnswers()
        self._snapshot: WindowCredit | None = None
        self._news: asyncio.Event | None = None  # set when a snapshot arrives
        self._lead = clock_lead if clock_lead is not None else ClockLead()
        self._rate_limited_in_a_row = 0
        self.waited_s = 0.0
        """Seconds the budget held this connector back (pacing, spent windows, 429 pauses)."""
        self.rate_limited = 0
        """429 responses seen."""
        self.notes: list[str] = []
        """Things worth telling the user (a capped pause), each said once."""

    def __repr__(self) -> str:
        return (
            f"RateGate(limit={self._limit}, window_s={self._window.seconds:g}, "
            f"in_flight={len(self._in_flight_ids)}, rate_limited={self.rate_limited})"
        )

    @property
    def limit(self) -> int:
        """Requests per window, as last announced by the server (or as configured)."""
        return self._limit

    @property
    def window_s(self) -> float:
        """The window's length: as configured, or as the server's headers showed it."""
        return self._window.seconds

    @property
    def headroom(self) -> int:
        """Requests per window kept unused (grows by one when a 429 shows unseen requests)."""
        return self._headroom

    @property
    def interval_s(self) -> float:
        """The spacing between two requests while the remaining budget is unknown."""
        # Pacing blind is where the accounting cannot be exact: keep a request of headroom.
        return self._window.seconds / max(self._limit - max(self._headroom, 1), 1)

    @property
    def reset_margin_s(self) -> float:
        """Seconds waited past ``Reset``: the configured slack plus the clock lead observed."""
        return self._base_margin_s + self._lead.seconds

    @property
    def credit(self) -> int | None:
        """Requests that may go at once in the current window, or ``None`` when unknown."""
        snapshot = self._current_snapshot(self._clock())
        return None if snapshot is None else max(snapshot.credit - self._headroom, 0)

    @property
    def blocked_until(self) -> float:
        """Monotonic time before which no request may be sent after a 429."""
        return self._blocked_until

    def would_wait(self) -> bool:
        """Whether a request asking now would wait: for the budget, or behind others queued."""
        if self._lock is not None and self._lock.locked():
            return True
        now = self._clock()
        return now < self._earliest(now)[0]

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
            permit = Permit(
                slept,
                request=self._sent,
                settled_before=self._settled,
                sent_wall=self._wall_clock(),
                known=not paced,
            )
            if self._snapshot is not None:
                self._snapshot.sent(self._sent)
            self._in_flight_ids.add(self._sent)
            self._sent += 1
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

        A 2xx with ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` updates the window's
        credit; every response may teach the window's length and the clock's lead.

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
        self._in_flight_ids.discard(permit.request)
        # A request given up on (no response) counts as settled too: if the server counted it,
        # it did so on arrival, long before the client's timeout or the dropped connection.
        settled_index, self._settled = self._settled, self._settled + 1
        said = read_headers(headers, now=self._wall_clock()) if status is not None else None
        if said is None or said.remaining is None or said.reset is None or status == 429:
            self._blind.add(settled_index=settled_index, request=permit.request)
        if status is None or said is None:
            return
        window = said.reset
        unix_reset = window if said.reset_is_unix_time else None
        self._window.observe(reset=unix_reset, policy_s=said.window)
        if said.limit is not None and said.limit != self._limit:
            self._limit = said.limit
            self._next_at = self._last_sent + self.interval_s  # re-space at the server's pace
        early = unix_reset is not None and permit.sent_wall > unix_reset
        if unix_reset is not None and early:
            # Counted in the window ending at Reset, though sent after it by the client's clock.
            self._lead.observe(
                sent_wall=permit.sent_wall, reset=unix_reset, cap_s=self._window.seconds
            )
        if status == 429:
            if permit.known and not early and self._rate_limited_in_a_row == 0:
                # Refused on credit the accounting vouched for, and not for a clock ahead:
                # requests this gate cannot see spend the same token (another process).
                self._headroom = max(self._headroom, 1)
            self._snapshot = None  # the snapshot was wrong or the server is storming: relearn
            self._on_rate_limited(said)
            return
        self._rate_limited_in_a_row = 0
        if said.remaining is None or window is None:
            return
        self._observe(permit, window, said.remaining)

    def _observe(self, permit: Permit, window: float, remaining: int) -> None:
        now = self._clock()
        reset_at = self._capped(now, now + window - self._wall_clock(), "X-RateLimit-Reset")
        snapshot = self._current_snapshot(now)
        if now >= reset_at + self.reset_margin_s or (snapshot and window < snapshot.window):
            if snapshot is not None:  # counted in a window that is over
                snapshot.counted_elsewhere(permit.request)
            return
        # Maybe not inside this answer's count: whatever is in flight now, and whatever ended
        # without news since this request went out.
        unsure = self._in_flight_ids | self._blind.since(permit.settled_before)
        if snapshot is None or window > snapshot.window:
            self._snapshot = WindowCredit(window, reset_at, remaining, unsure)
            if self._news is not None:
                self._news.set()  # the head of the queue may be pacing for nothing
        else:
            snapshot.answered(request=permit.request, remaining=remaining, unsure=unsure)
            snapshot.reset_at = max(snapshot.reset_at, reset_at)

    def _current_snapshot(self, now: float) -> WindowCredit | None:
        snapshot = self._snapshot
        if snapshot is not None and now >= snapshot.reset_at + self.reset_margin_s:
            self._snapshot = snapshot = None
            self._next_at = -float("inf")  # a new window: its first request need not wait
        return snapshot

    def _earliest(self, now: float) -> tuple[float, bool]:
        """When the next request may go, and whether it is paced (budget unknown)."""
        snapshot = self._current_snapshot(now)
        if snapshot is None:
            return max(self._next_at, self._blocked_until), True
        if now < snapshot.reset_at and snapshot.credit > self._headroom:
            return self._blocked_until, False
        # Spent, or past Reset but inside the margin, where a request could land in either
        # window: wait for the margin's end, when the snapshot expires and pacing takes over.
        return max(snapshot.reset_at + self.reset_margin_s, self._blocked_until), False

    def _on_rate_limited(self, said: RateLimitHeaders) -> None:
        self.rate_limited += 1
        self._rate_limited_in_a_row += 1
        now = self._clock()
        to_reset = None
        if said.reset is not None:
            to_reset = said.reset - self._wall_clock() + self.reset_margin_s
        # A fixed window ends at Reset whatever a flat Retry-After says; a second 429 in a row
        # shows that this server means its Retry-After, and gets it in full.
        sooner = to_reset is not None and 0 < to_reset < (said.retry_after or 0)
        if said.retry_after is not None and (self._rate_limited_in_a_row > 1 or not sooner):
            until = self._capped(now, now + said.retry_after, "Retry-After")
        elif to_reset is not None and to_reset > 0:
            until = self._capped(now, now + to_reset, "X-RateLimit-Reset")
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
