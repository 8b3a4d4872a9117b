"""Seeded fault injection: what can go wrong between a client and the offers API.

A real integration meets slow responses, gateway errors, spurious 429s, connections that drop,
bodies that break off or trickle in, and HTML error pages served with status 200; and APIs whose
pagination loops, never ends or moves under the client, and whose records drift from the
documented shape. :class:`Faults` says how often or whether each of those happens;
:class:`FaultPlan` draws the per-request ones from a seeded generator so that the same seed
gives the same sequence of faults for the same sequence of requests.

Every request that passed authentication and the rate limit makes exactly two draws from the fault
generator, whatever it turns out to be, so the sequence does not shift when one rate changes from
zero to non-zero elsewhere. Latency uses a generator of its own for the same reason.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = [
    "FAULT_KINDS",
    "FaultDecision",
    "FaultKind",
    "FaultPlan",
    "Faults",
    "SchemaDrift",
    "TruncateStyle",
    "drift_body",
]

FaultKind = Literal["error", "storm", "drop", "truncate", "non_json", "trickle"]
#: The fault kinds in the order their probability slices are laid out on ``[0, 1)`` (a kind added
#: later goes last, so the slices of the others, and their seeded sequences, do not move).
FAULT_KINDS: Final[tuple[FaultKind, ...]] = (
    "error",
    "storm",
    "drop",
    "truncate",
    "non_json",
    "trickle",
)
#: How served records depart from the documented shape: an unknown extra field on every offer,
#: a wrong JSON type in one offer's field, or one offer without its required ``id``.
SchemaDrift = Literal["extra_field", "wrong_type", "missing_field"]

TruncateStyle = Literal["cut", "short", "mixed"]
_ERROR_STATUSES: Final = (500, 502, 503, 504)


@dataclass(frozen=True, kw_only=True)
class Faults:
    """How often the sandbox misbehaves; every rate is a probability per request.

    The rates of the six exclusive faults (``error_rate``, ``rate_limit_storm_rate``,
    ``drop_rate``, ``truncate_rate``, ``non_json_rate``, ``trickle_rate``) must add up to at
    most 1.

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
    trickle_rate
        A 200 whose body arrives a few bytes at a time, ``trickle_bytes_per_s`` (each read
        within any read timeout, the whole far too slow).
    trickle_bytes_per_s
        The pace of a trickled body.
    repeat_cursor
        Every listing page fetched with a cursor returns that same cursor again: a cursor loop.
    endless_cursor
        The last page of a listing carries a cursor all the same, and so does every (empty)
        page after it, each a new one: pagination that never ends.
    overlap_pages
        Every page fetched with a cursor starts with the last offer of the page before: the
        same offer on two pages, as when a page boundary moves under a listing.
    schema_drift
        Records depart from the documented shape (see :data:`SchemaDrift`); the offer that
        breaks it (for ``"wrong_type"`` and ``"missing_field"``) is named by
        :attr:`SandboxServer.drifted_offers <offer_analytics.sandbox.SandboxServer>`.

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
    trickle_rate: float = 0.0
    trickle_bytes_per_s: float = 64.0
    repeat_cursor: bool = False
    endless_cursor: bool = False
    overlap_pages: bool = False
    schema_drift: SchemaDrift | None = None

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
        if not (math.isfinite(self.trickle_bytes_per_s) and self.trickle_bytes_per_s > 0):
            raise ValueError("trickle_bytes_per_s must be a finite number > 0")
        if self.schema_drift not in (None, "extra_field", "wrong_type", "missing_field"):
            raise ValueError(
                "schema_drift must be None, extra_field, wrong_type or missing_field, "
                f"not {self.schema_drift!r}"
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
    "trickle_rate",
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


#: The field an ``extra_field`` drift adds: nested, so a reader that chokes on objects would show.
_EXTRA_FIELD: Final = {"x_vendor_note": {"source": "ats-sync", "flags": [1, "two", None]}}


def _drift_offer(offer: Any, drift: SchemaDrift, target: str | None) -> bool:
    """Change one offer in place as ``drift`` says; whether it changed."""
    if not isinstance(offer, dict):
        return False
    if drift == "extra_field":
        offer.update(_EXTRA_FIELD)
        return True
    if offer.get("id") != target:
        return False
    if drift == "wrong_type":
        offer["sent_at"] = 1_700_000_000  # a unix time where an ISO string belongs
    else:
        del offer["id"]
    return True


def drift_body(body: bytes, drift: SchemaDrift, target: str | None) -> bytes | None:
    """A list page or offer body with ``drift`` applied; None when nothing in it changed.

    Examples
    --------
    >>> drift_body(b'{"items": [{"id": "a"}, {"id": "b"}]}', "missing_field", "b")
    b'{"items":[{"id":"a"},{}]}'
    >>> drift_body(b'{"id": "a", "sent_at": null}', "wrong_type", "a")
    b'{"id":"a","sent_at":1700000000}'
    >>> drift_body(b'{"id": "a"}', "wrong_type", "b") is None
    True
    """
    doc = json.loads(body)
    items = doc.get("items") if isinstance(doc, dict) and "items" in doc else [doc]
    changed = [_drift_offer(offer, drift, target) for offer in items or ()]
    if not any(changed):
        return None
    return json.dumps(doc, separators=(",", ":")).encode()
