"""Which failures are worth another attempt, and how long to wait before it.

The waiting itself is done by `stamina <https://stamina.hynek.me>`_ (exponential backoff with
jitter, a bounded number of attempts, retries visible to its instrumentation hooks). Two rules
are ours:

- a 429 is retried with *no* stamina backoff, because the connector's
  :class:`~offer_analytics.bindbee._rate_gate.RateGate` already holds back every task of that
  connector until ``Retry-After``/``Reset`` has passed; sleeping again here would only waste budget;
- 400, 401, 403, 404 and 422 are never retried: asking again cannot fix a wrong key, token or
  parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from offer_analytics.errors import RateLimitedError, ServerError, TransportError

__all__ = ["RETRIED_STATUSES", "RetryPolicy", "should_retry"]

#: Statuses that may succeed when asked again.
RETRIED_STATUSES: Final = frozenset({429, 500, 502, 503, 504})


def should_retry(exc: Exception) -> bool | float:
    """Stamina hook: ``True`` = back off, ``0.0`` = the rate gate waits, ``False`` = give up.

    Examples
    --------
    >>> should_retry(ServerError("boom", status_code=503))
    True
    >>> should_retry(RateLimitedError("slow down", status_code=429))
    0.0
    >>> should_retry(ServerError("not implemented", status_code=501))
    False
    """
    if isinstance(exc, RateLimitedError):
        return 0.0
    if isinstance(exc, ServerError):
        return exc.status_code in RETRIED_STATUSES
    return isinstance(exc, TransportError)


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How often and how patiently a failed request is tried again.

    Parameters
    ----------
    attempts
        Tries per request in total, the first included.
    wait_initial_s, wait_max_s, wait_jitter_s
        Backoff before the n-th retry: ``min(wait_max_s, wait_initial_s * 2**(n-1))`` plus a uniform
        jitter in ``[0, wait_jitter_s]``, so that many tasks failing together do not retry together.
    timeout_s
        Give up once this many seconds have passed since the first try (``None``: only attempts
        count). Waiting for the rate budget counts too.

    Examples
    --------
    >>> RetryPolicy(attempts=3, wait_initial_s=0.01)
    RetryPolicy(attempts=3, wait_initial_s=0.01, wait_max_s=15.0, wait_jitter_s=0.5, timeout_s=None)
    """

    attempts: int = 8
    wait_initial_s: float = 0.5
    wait_max_s: float = 15.0
    wait_jitter_s: float = 0.5
    timeout_s: float | None = None

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")
