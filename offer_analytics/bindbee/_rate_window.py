"""What the rate-limit headers reveal beyond one response: the window's length and the clock lead.

Two facts a :class:`~offer_analytics.bindbee._rate_gate.RateGate` needs are never stated outright
by Bindbee's headers, but show in them over time:

- **The window's length.** ``X-RateLimit-Reset`` names the unix second at which the current
  window ends, the same for every response of one window. Two windows seen one after the other
  differ by exactly one window; windows skipped while idle differ by a multiple, so the
  shortest difference seen is the length. A ``RateLimit-Policy`` header (``w=``), where a
  server sends one, says it directly and wins.
- **How far this client's clock runs ahead of the server's.** A request that the server counted
  in the window ending at ``Reset`` although the client's clock had already passed ``Reset`` when
  sending it shows a lead of at least the difference (or a ``Reset`` rounded down by as much).
  One client talks to one server, so its gates share this evidence: a lead learned on one
  connector protects every other from the same early request.
"""

from __future__ import annotations

__all__ = ["ClockLead", "WindowLength"]


class ClockLead:
    """The largest lead of the client's clock over the server's that any response has shown.

    Examples
    --------
    >>> lead = ClockLead()
    >>> lead.observe(sent_wall=100.4, reset=100.0, cap_s=60.0)
    >>> lead.observe(sent_wall=99.0, reset=100.0, cap_s=60.0)  # sent in time: shows nothing
    >>> round(lead.seconds, 3)
    0.4
    """

    def __init__(self) -> None:
        self.seconds = 0.0

    def observe(self, *, sent_wall: float, reset: float, cap_s: float) -> None:
        """A request sent at ``sent_wall`` (client clock) was counted in the window ending at
        ``reset`` (server clock); a lead beyond ``cap_s`` is taken for a server bug, not a clock.
        """
        self.seconds = max(self.seconds, min(sent_wall - reset, cap_s))


class WindowLength:
    """The rate-limit window's length: as configured until the server's headers show it.

    Parameters
    ----------
    told_s
        The configured length, used until evidence arrives.

    Examples
    --------
    Nobody said the window is 6 s (the configuration assumed Bindbee's minute); two consecutive
    windows' ``Reset`` values show it:

    >>> window = WindowLength(60.0)
    >>> window.observe(reset=1_700_000_006.0, policy_s=None)
    >>> window.observe(reset=1_700_000_012.0, policy_s=None)
    >>> window.seconds, window.learned
    (6.0, True)
    """

    def __init__(self, told_s: float) -> None:
        self.seconds = told_s
        self.learned = False
        self._from_policy = False
        self._last_reset: float | None = None

    def observe(self, *, reset: float | None, policy_s: float | None) -> None:
        """Learn from one response: its ``Reset`` as a unix time (``None``: not given as one)
        and its ``RateLimit-Policy`` window (``None``: not sent)."""
        if policy_s is not None:
            self.seconds, self.learned, self._from_policy = policy_s, True, True
        if reset is None:
            return
        last = self._last_reset
        if last is None or reset > last:
            self._last_reset = reset
        if last is None or reset <= last or self._from_policy:
            return
        step = reset - last
        # The first step replaces the configured guess; later ones can only shorten it (a step
        # over windows skipped while idle is a multiple of the length, never less).
        if not self.learned or step < self.seconds:
            self.seconds, self.learned = step, True
