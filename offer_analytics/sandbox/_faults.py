"""Seeded fault injection: what can go wrong between a client and the offers API.

A real integration meets slow responses, gateway errors, spurious 429s, connections that drop,
bodies that break off and HTML error pages served with status 200. :class:`Faults` says how often
each of those happens; :class:`FaultPlan` draws them from a seeded generator so that the same seed
gives the same sequence of faults for the same sequence of requests.

Every request that passed authentication and the rate limit makes exactly two draws from the fault
generator, whatever it turns out to be, so the sequence does not shift when one rate changes from
zero to non-zero elsewhere. Latency uses a generator of its own for the same reason.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["FAULT_KINDS", "FaultDecision", "FaultKind", "FaultPlan", "Faults", "TruncateStyle"]

FaultKind = Literal["error", "storm", "drop", "truncate", "non_json"]
#: The fault kinds in the order their probability slices are laid out on ``[0, 1)``.
FAULT_KINDS: Final[tuple[FaultKind, ...]] = ("error", "storm", "drop", "truncate", "non_json")

TruncateStyle = Literal["cut", "short", "mixed"]
_ERROR_STATUSES: Final = (500, 502, 503, 504)


@dataclass(frozen=True, kw_only=True)
class Faults:
    """How often the sandbox misbehaves; every rate is a probability per request.

    The rates of the five exclusive faults (``error_rate``, ``rate_limit_storm_rate``,
    ``drop_rate``, ``truncate_rate``, ``non_json_rate``) must add up to at most 1.

    Parameters
    ----------
    seed
        Seed of the fault and latency generators.
    latency_ms
        Added to every response, in milliseconds.
    latency_jitter_ms
        Uniform jitter around ``latency_ms`` (``± latency_jitter_ms``), never below zero.
    error_rate
        A 500, 502, 503 or 504 with ``{"detail": ...}``.
    rate_limit_storm_rate
        A spurious 429 with ``Retry-After`` and the ``X-RateLimit-*`` headers, inside the budget.
    storm_retry_after_s
        ``Retry-After`` of storm 429s; sent as whole seconds, at least 1.
    drop_rate
        The connection closes without any response.
    truncate_rate
        A 200 whose JSON body breaks off (see ``truncate_style``).
    truncate_style
        ``"cut"``: the headers promise the whole body, half of it is sent, then the connection
        closes (clients see a protocol error). ``"short"``: a complete HTTP response whose body is
        half a JSON document (clients see a JSON error). ``"mixed"``: either, drawn per fault.
    non_json_rate
        A 200 whose body is an HTML page, as a misconfigured proxy sends.
    repeat_cursor
        Every listing page fetched with a cursor returns that same cursor again: a cursor loop.

    Examples
    --------
    >>> round(Faults(error_rate=0.1, drop_rate=0.05).total_rate, 6)
    0.15
    >>> Faults(error_rate=0.7, drop_rate=0.5)
    Traceback (most recent call last):
    ...
    ValueError: fault rates add up to 1.2; at most 1 is possible
    """

    seed: int = 0
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    error_rate: float = 0.0
    rate_limit_storm_rate: float = 0.0
    storm_retry_after_s: float = 1.0
    drop_rate: float = 0.0
    truncate_rate: float = 0.0
    truncate_style: TruncateStyle = "mixed"
    non_json_rate: float = 0.0
    repeat_cursor: bool = False

    def __post_init__(self) -> None:
        for name in ("latency_ms", "latency_jitter_ms", "storm_retry_after_s", *_RATE_FIELDS):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        for name in _RATE_FIELDS:
            if getattr(self, name) > 1:
                raise ValueError(
                    f"{name} must be a probability in [0, 1], got {getattr(self, name)}"
                )
        if self.total_rate > 1 + 1e-9:
            raise ValueError(f"fault rates add up to {self.total_rate:g}; at most 1 is possible")
        if self.truncate_style not in ("cut", "short", "mixed"):
            raise ValueError(
                f"truncate_style must be cut, short or mixed, not {self.truncate_style!r}"
            )

    @property
    def total_rate(self) -> float:
        """The probability that a request meets any of the exclusive faults."""
        return sum(self.rates.values())

    @property
    def rates(self) -> dict[FaultKind, float]:
        """The rate of each fault kind, in :data:`FAULT_KINDS` order."""
        return {
            kind: float(getattr(self, field))
            for kind, field in zip(FAULT_KINDS, _RATE_FIELDS, strict=True)
        }

    @property
    def retry_after_header(self) -> int:
        """``storm_retry_after_s`` as the whole number of seconds a 429 announces."""
        return max(1, math.ceil(self.storm_retry_after_s))


_RATE_FIELDS: Final = (
    "error_rate",
    "rate_limit_storm_rate",
    "drop_rate",
    "truncate_rate",
    "non_json_rate",
)


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What to do with one request: ``kind`` is None for a normal response.

    ``status`` is the error status for ``"error"``; ``cut`` says whether a truncation closes the
    connection mid-body (True) or sends an honest, short body (False).
    """

    kind: FaultKind | None
    status: int = 200
    cut: bool = False


class FaultPlan:
    """Draw faults and latencies for a stream of requests from :class:`Faults`.

    Not thread-safe: the server calls it from its event loop only.

    Examples
    --------
    >>> plan = FaultPlan(Faults(seed=1, error_rate=0.5))
    >>> [d.kind for d in (plan.draw() for _ in range(6))]
    ['error', None, 'error', None, 'error', None]
    >>> FaultPlan(Faults(latency_ms=20)).latency_s()
    0.02
    """

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)
        # A separate stream, so enabling latency does not change the fault sequence.
        self._latency_rng = random.Random(faults.seed ^ 0x5A17)
        edges: list[tuple[float, FaultKind]] = []
        upper = 0.0
        for kind, rate in faults.rates.items():
            upper += rate
            edges.append((upper, kind))
        self._edges = edges

    def draw(self) -> FaultDecision:
        """Decide the fate of the next request (always two draws, see the module docstring)."""
        u = self._rng.random()
        v = self._rng.random()
        kind = next((k for upper, k in self._edges if u < upper), None)
        if kind is None:
            return FaultDecision(None)
        if kind == "error":
            return FaultDecision(kind, status=_ERROR_STATUSES[int(v * len(_ERROR_STATUSES))])
        if kind == "storm":
            return FaultDecision(kind, status=429)
        if kind == "truncate":
            style = self.faults.truncate_style
            return FaultDecision(kind, cut=style == "cut" or (style == "mixed" and v < 0.5))
        return FaultDecision(kind)

    def latency_s(self) -> float:
        """The delay to add to the next response, in seconds."""
        f = self.faults
        if f.latency_ms <= 0 and f.latency_jitter_ms <= 0:
            return 0.0
        jitter = self._latency_rng.uniform(-f.latency_jitter_ms, f.latency_jitter_ms)
        return max(0.0, f.latency_ms + jitter) / 1000
