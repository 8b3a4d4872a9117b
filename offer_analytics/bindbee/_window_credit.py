"""WindowCredit: how many more requests the current window takes, counted exactly.

Every 2xx reports ``Remaining`` as the server counted it *when that request arrived*. Requests
still in flight at that moment may have arrived before it (and are inside that count) or after
(and are not): the gate cannot tell until their own answers come back. Within one window the
server's count only grows, so an answer with a higher ``Remaining`` than the lowest seen arrived
earlier and is inside the lowest count; one with a lower ``Remaining`` is the new lowest.

So the credit is the lowest ``Remaining`` of the window minus the requests that may not be inside
it: those in flight when it was reported or sent since, and those that ended without saying
(no response, no headers) after the lowest one was sent. When every answer has come back with
its headers, the credit is exactly what the server has left, and the gate can spend all of it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

__all__ = ["BlindAnswers", "WindowCredit"]

#: Answers without headers remembered; enough for any number of requests in flight at once.
_BLIND_KEPT: Final = 4_096


class BlindAnswers:
    """Requests that ended without saying how the server counted them, in the order they ended.

    Examples
    --------
    >>> blind = BlindAnswers()
    >>> blind.add(settled_index=3, request=7)
    >>> blind.since(3), blind.since(4)
    ({7}, set())
    """

    def __init__(self) -> None:
        self._items: deque[tuple[int, int]] = deque(maxlen=_BLIND_KEPT)

    def add(self, *, settled_index: int, request: int) -> None:
        """Request ``request`` ended without news as the ``settled_index``-th answer overall."""
        self._items.append((settled_index, request))

    def since(self, settled_index: int) -> set[int]:
        """Requests that ended without news as answer ``settled_index`` or later."""
        out: set[int] = set()
        for index, request in reversed(self._items):
            if index < settled_index:
                break
            out.add(request)
        return out


@dataclass(slots=True)
class WindowCredit:
    """What the server said about the current window, and the requests it may not count yet.

    Examples
    --------
    Requests 1 and 2 were in flight when request 0 reported 10 left; request 1 then reports 12,
    so it arrived before request 0 and is inside its count; request 2 is still unsure:

    >>> credit = WindowCredit(window=60.0, reset_at=60.0, remaining=10, unsure={1, 2})
    >>> credit.credit
    8
    >>> credit.answered(request=1, remaining=12, unsure=())
    >>> credit.credit
    9
    """

    window: float  # Reset as a unix time: the same for every response of one window
    reset_at: float  # the same moment on the monotonic clock
    remaining: int  # the lowest Remaining reported in this window
    unsure: set[int] = field(default_factory=set)  # requests maybe not inside that count

    @property
    def credit(self) -> int:
        """Requests the server surely still takes in this window."""
        return self.remaining - len(self.unsure)

    def sent(self, request: int) -> None:
        """A request went out on this window's credit."""
        self.unsure.add(request)

    def answered(self, *, request: int, remaining: int, unsure: Iterable[int]) -> None:
        """Request ``request`` reported ``remaining`` in this window; ``unsure`` are the requests
        that may not be inside that count (used only if it is the new lowest)."""
        if remaining < self.remaining:
            self.remaining, self.unsure = remaining, set(unsure)
        else:
            self.unsure.discard(request)  # it arrived before the lowest one: inside its count

    def counted_elsewhere(self, request: int) -> None:
        """Request ``request`` was counted in another window: none of this one's budget."""
        self.unsure.discard(request)
