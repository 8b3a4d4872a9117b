"""InFlightCap: how many requests one client has in flight, and when one connector may burst.

One ``httpx.AsyncClient`` gets slower per request as its open connections grow (its pool checks
every connection on every request and response), so a client keeps ``base`` requests in flight
at most. That cap made no sense where a connector's own budget asks for more at once: a window
of 50 id batches went out 16 at a time, four round trips where one would do. So a connector may
have more than ``base`` in flight, up to ``burst``, with requests its rate gate let through on
budget it *knows* is left: the cap then follows that budget, which is already spent at once and
cannot earn a 429. Requests paced blind (budget unknown) never burst. Other connectors' requests
still wait for the base cap: many connectors with one request each (serial listings) stay at
``base`` in flight.

Waiting requests are served in arrival order, except that one whose connector may burst passes
those waiting for the base cap. While no connector bursts, every step is O(1); while one does, a
release looks through the waiting requests for one that may pass.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Hashable

__all__ = ["InFlightCap"]


class InFlightCap:
    """Requests in flight: ``base`` at most, ``burst`` for one connector's known budget.

    Parameters
    ----------
    base
        Requests in flight at most, across all connectors, for requests that do not burst.
    burst
        Requests in flight at most while one connector has more requests sent on known
        budget than ``base`` (at least ``base``).

    Examples
    --------
    >>> import asyncio
    >>> async def main() -> tuple[int, int]:
    ...     cap = InFlightCap(base=2, burst=4)
    ...     for _ in range(3):
    ...         await cap.acquire("acme", known=True)  # acme's gate vouches for 3 at once
    ...     waiting = asyncio.ensure_future(cap.acquire("beta", known=False))
    ...     await asyncio.sleep(0)
    ...     blocked = cap.in_flight
    ...     for _ in range(3):
    ...         cap.release("acme", known=True)
    ...     await waiting
    ...     return blocked, cap.in_flight
    >>> asyncio.run(main())
    (3, 1)
    """

    def __init__(self, *, base: int, burst: int) -> None:
        if base < 1:
            raise ValueError("InFlightCap needs base >= 1")
        self._base = base
        self._burst = max(burst, base)
        self.in_flight = 0
        """Requests holding a place now."""
        self._known: dict[
            Hashable, int
        ] = {}  # per connector: known-budget requests holding or waiting
        self._bursting: set[Hashable] = set()  # connectors with more known requests than base
        self._waiting: deque[tuple[Hashable, bool, asyncio.Future[None]]] = deque()

    def _limit(self, key: Hashable, known: bool) -> int:
        return self._burst if known and key in self._bursting else self._base

    def would_wait(self, key: Hashable, *, known: bool) -> bool:
        """Whether a request of connector ``key`` asking now would wait for a place."""
        return bool(self._waiting) or self.in_flight >= self._limit(key, known)

    async def acquire(self, key: Hashable, *, known: bool) -> None:
        """Wait for a place for a request of connector ``key`` (e.g. its gate; ``known``: sent on
        budget the gate knows is left)."""
        if known:
            count = self._known[key] = self._known.get(key, 0) + 1
            if count > self._base:
                self._bursting.add(key)
        if not self._waiting and self.in_flight < self._limit(key, known):
            self.in_flight += 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (key, known, future)
        self._waiting.append(entry)
        self._wake()  # this request's own burst may let it pass the queue
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release(key, known=known)  # granted, then cancelled before it was used
            else:
                self._waiting.remove(entry)
                self._forget(key, known)
            raise

    def release(self, key: Hashable, *, known: bool) -> None:
        """Give back the place of a request of connector ``key``."""
        self.in_flight -= 1
        self._forget(key, known)
        self._wake()

    def _forget(self, key: Hashable, known: bool) -> None:
        if known:
            left = self._known[key] - 1
            if left:
                self._known[key] = left
            else:
                del self._known[key]
            if left <= self._base:
                self._bursting.discard(key)

    def _wake(self) -> None:
        limit = self._burst if self._bursting else self._base
        if not self._waiting or self.in_flight >= limit:
            return
        passed: list[tuple[Hashable, bool, asyncio.Future[None]]] = []
        for entry in self._waiting:
            if self.in_flight >= limit:
                break
            key, known, future = entry
            if future.done():  # cancelled: its task removes it when it runs
                continue
            if self.in_flight < self._limit(key, known):
                self.in_flight += 1
                future.set_result(None)
                passed.append(entry)
        for entry in passed:
            self._waiting.remove(entry)
