"""The overall deadline of a load: how long it may take before it stops with what it has.

Retries, request deadlines and pauses each have bounds, but together they can still add up to
hours (a server that answers 429 for ever, one that never answers, a listing whose cursor never
ends). Every load therefore has one deadline. The default follows the work: what the rate
budget needs for the requests known so far, twice over, plus a slack of two request deadlines
and the longest pause a 429 may impose (an attempt that runs out, a pause, an attempt that works);
and a load that keeps receiving pages may go on, so the deadline is never earlier than one
slack after the last page received. A listing reveals its length page by page, and a server
slower than the budget is still making progress: neither is cut off. A server that stops
delivering (it trickles, never answers, or answers 429 for ever) is caught one slack after
its last page: six minutes with the client's defaults.

``deadline_s=<seconds>`` fixes it instead, from the start of the load; ``None`` disables it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Final, Literal, TypeAlias

from offer_analytics.errors import ConfigurationError

__all__ = ["DEADLINE_PACE_FACTOR", "DeadlineArg", "LoadDeadline", "check_deadline"]

#: ``deadline_s=``: seconds, ``None`` (no deadline) or ``"auto"`` (follows the work).
DeadlineArg: TypeAlias = float | Literal["auto"] | None
#: The default deadline gives the rate budget's time for the known requests this many times over:
#: room for retries, 429 pauses and a server slower than the budget.
DEADLINE_PACE_FACTOR: Final = 2.0
#: Request deadlines in the slack (one attempt that runs out, one that succeeds).
_SLACK_REQUESTS: Final = 2


def check_deadline(deadline_s: object) -> DeadlineArg:
    """Validate ``deadline_s=``.

    Examples
    --------
    >>> check_deadline("auto"), check_deadline(None), check_deadline(90)
    ('auto', None, 90.0)
    >>> check_deadline(0)
    Traceback (most recent call last):
    ...
    offer_analytics.errors.ConfigurationError: deadline_s must be a positive number of seconds, \
None (no deadline) or "auto", not 0.
    """
    if deadline_s is None or deadline_s == "auto":
        return deadline_s
    if (
        isinstance(deadline_s, int | float)
        and not isinstance(deadline_s, bool)
        and math.isfinite(deadline_s)
        and deadline_s > 0
    ):
        return float(deadline_s)
    msg = (
        'deadline_s must be a positive number of seconds, None (no deadline) or "auto", '
        f"not {deadline_s!r}."
    )
    raise ConfigurationError(msg)


class LoadDeadline:
    """Seconds from a load's start to its deadline, as the load learns how much work it has.

    Parameters
    ----------
    setting
        What ``deadline_s=`` said (checked).
    planned
        Per connector, the requests known to be needed so far (grows while the load runs).
    interval_s
        Per connector label, the seconds its rate budget puts between two requests.
    request_deadline_s
        The longest one attempt may take.
    max_pause_s
        The longest pause a 429 (or a 5xx's ``Retry-After``) may impose on a connector.

    Examples
    --------
    >>> planned = {"acme": 10, "globex": 30}
    >>> deadline = LoadDeadline("auto", planned=planned, interval_s=lambda label: 0.3,
    ...                         request_deadline_s=120.0, max_pause_s=120.0)
    >>> deadline.seconds()  # 2 x 30 requests x 0.3 s, plus 2 x 120 s and 120 s
    378.0
    >>> planned["globex"] = 300
    >>> deadline.seconds()
    540.0
    >>> deadline.progressed(900.0)  # a page arrived 900 s into the load
    >>> deadline.seconds()
    1260.0
    >>> LoadDeadline(60.0, planned=planned, interval_s=lambda label: 0.3,
    ...              request_deadline_s=120.0, max_pause_s=120.0).seconds()
    60.0
    """

    def __init__(
        self,
        setting: DeadlineArg,
        *,
        planned: Mapping[str, int],
        interval_s: Callable[[str], float],
        request_deadline_s: float,
        max_pause_s: float,
    ) -> None:
        self.setting = setting
        self._planned = planned
        self._interval_s = interval_s
        self._slack_s = _SLACK_REQUESTS * request_deadline_s + max_pause_s
        self._longest = 0.0

    @property
    def follows_the_work(self) -> bool:
        """Whether the deadline moves as the load learns of more requests."""
        return self.setting == "auto"

    def progressed(self, elapsed_s: float) -> None:
        """A page arrived ``elapsed_s`` seconds into the load: allow one slack from now."""
        self._longest = max(self._longest, elapsed_s + self._slack_s)

    def seconds(self) -> float | None:
        """Seconds from the load's start; None without a deadline. Never moves earlier."""
        if self.setting is None or isinstance(self.setting, float):
            return self.setting
        budget = max(
            (n * self._interval_s(label) for label, n in self._planned.items()), default=0.0
        )
        self._longest = max(self._longest, DEADLINE_PACE_FACTOR * budget + self._slack_s)
        return self._longest
