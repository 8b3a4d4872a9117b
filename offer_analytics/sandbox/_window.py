"""The sandbox's rate limit: a fixed window per connector token, as Bindbee enforces it.

Windows are aligned to multiples of the window length on the Unix clock, so ``X-RateLimit-Reset``
(the Unix second at which the window ends) is the same for every request of one window, and two
consecutive windows' values differ by the window's length. A refused request's ``Retry-After`` is
the whole seconds left in the window, or, as Bindbee's documentation shows it (``60``), a flat
number whatever the window has left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["FixedWindowLimiter", "WindowState"]


@dataclass(frozen=True, slots=True)
class WindowState:
    """The outcome of one request against the budget, and the headers that describe it."""

    allowed: bool
    limit: int
    remaining: int
    reset: float  # Unix time at which the current window ends
    retry_after_s: float | None = None  # flat Retry-After; None: the seconds left in the window

    def headers(self, now: float) -> dict[str, str]:
        """The ``X-RateLimit-*`` headers (plus ``Retry-After`` when the request was refused)."""
        out = {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(math.ceil(self.reset)),
        }
        if not self.allowed:
            seconds = self.reset - now if self.retry_after_s is None else self.retry_after_s
            out["retry-after"] = str(max(1, math.ceil(seconds)))
        return out


class FixedWindowLimiter:
    """Count requests per key in fixed windows of ``window_s`` seconds.

    Refused requests do not use up budget. Not thread-safe: the server calls it from its event loop.
    ``retry_after_s`` makes every 429's ``Retry-After`` that flat number of seconds.

    Examples
    --------
    >>> limiter = FixedWindowLimiter(limit=2, window_s=60)
    >>> [limiter.hit("acme", now=120.5).allowed for _ in range(3)]
    [True, True, False]
    >>> limiter.hit("acme", now=180.0).remaining  # the next window serves again
    1
    >>> limiter.hit("globex", now=130.0).headers(now=130.0)["x-ratelimit-reset"]
    '180'
    >>> flat = FixedWindowLimiter(limit=1, window_s=60, retry_after_s=60)
    >>> [flat.hit("acme", now=170.0).headers(now=170.0).get("retry-after") for _ in range(2)]
    [None, '60']
    """

    def __init__(self, *, limit: int, window_s: float, retry_after_s: float | None = None) -> None:
        if limit < 1:
            raise ValueError(f"rate limit must be >= 1 request, got {limit}")
        if not window_s > 0:
            raise ValueError(f"rate window must be > 0 seconds, got {window_s}")
        if retry_after_s is not None and not retry_after_s > 0:
            raise ValueError(f"a flat Retry-After must be > 0 seconds, got {retry_after_s}")
        self.limit = limit
        self.window_s = window_s
        self.retry_after_s = retry_after_s
        self._windows: dict[str, tuple[int, int]] = {}  # key -> (window index, used)

    def hit(self, key: str, *, now: float) -> WindowState:
        """Spend one request of ``key``'s budget if any is left."""
        index = math.floor(now / self.window_s)
        reset = (index + 1) * self.window_s
        current, used = self._windows.get(key, (index, 0))
        if current != index:
            used = 0
        if used >= self.limit:
            self._windows[key] = (index, used)
            return WindowState(False, self.limit, 0, reset, self.retry_after_s)
        used += 1
        self._windows[key] = (index, used)
        return WindowState(True, self.limit, self.limit - used, reset)
