"""Seeded synthetic offers, shaped exactly as the Bindbee offers API sends them.

The generator is vectorised with NumPy so that a million offers take seconds: every random draw is
made for a whole connector at once, timestamps are formatted with ``numpy.datetime_as_string``, and
only the final assembly into dicts touches Python objects.

What the data looks like (rates are per offer and approximate):

- offers are created uniformly over ``years`` years ending at ``end``;
- ~6% are still drafts (DRAFT, APPROVAL-SENT, APPROVED) and ~0.5% were denied internally
  (DENIED without ``sent_at``);
- sent offers close after a log-normal delay (median ~3 days, long tail); about 80% of decided
  offers are SIGNED, the rest DENIED; offers whose close would fall after ``end`` are still open
  (SENT or OPENED), and ~2% of sent offers simply never close;
- ~6% of offers are an older version of the next offer of the same application (DEPRECATED);
- start dates fall 2-8 weeks after acceptance, mostly on a Monday;
- messiness: pass-through statuses (ACCEPTED, HIRED, DECLINED, REJECTED, lower-case ``signed``,
  an unknown ``EXTENDED``), five timestamp shapes (``Z``, ``+hh:mm`` offsets, fractional seconds,
  naive, date-only) with one dominant shape per connector, nulls, and a few impossible records:
  closed before sent, start before close, and impossible calendar dates such as ``2024-02-30``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from offer_analytics.sandbox._generated_instants import spoil_dates, write_instants

__all__ = ["CONNECTOR_LABELS", "GeneratorRates", "generate_offers", "today_utc", "uuids"]

#: Connector labels used in order; more connectors than names get ``connector-<n>``.
CONNECTOR_LABELS: Final = ("acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne")

_SOURCES: Final = (
    "greenhouse",
    "lever",
    "workable",
    "ashby",
    "smartrecruiters",
    "bamboohr",
    "jobvite",
)
_US_PER_DAY: Final = 86_400_000_000

Array = npt.NDArray[Any]


@dataclass(frozen=True, kw_only=True)
class GeneratorRates:
    """Rates of the generator's behaviours; the defaults give realistic, mildly messy data."""

    draft: float = 0.06
    denied_internally: float = 0.005
    superseded: float = 0.06
    signed_share: float = 0.80
    never_closes: float = 0.02
    opened_share_of_open: float = 0.5
    pass_through_status: float = 0.03
    unknown_status: float = 0.002
    null_status: float = 0.002
    other_shape: float = 0.05
    closed_before_sent: float = 0.003
    start_before_close: float = 0.003
    impossible_date: float = 0.0005
    null_remote_id: float = 0.02
    null_creator: float = 0.03
    null_application: float = 0.005
    null_remote_created_at: float = 0.01
    start_on_monday: float = 0.85
    start_date_missing: float = 0.08


def _labels(connectors: int) -> list[str]:
    return [
        CONNECTOR_LABELS[i] if i < len(CONNECTOR_LABELS) else f"connector-{i + 1}"
        for i in range(connectors)
    ]


def uuids(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` random version-4 uuids as strings."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    # The canonical text of uuid.UUID(bytes=row), without building 1M UUID objects (4x faster).
    h = raw.tobytes().hex()
    return [
        f"{h[i : i + 8]}-{h[i + 8 : i + 12]}-{h[i + 12 : i + 16]}-{h[i + 16 : i + 20]}-"
        f"{h[i + 20 : i + 32]}"
        for i in range(0, 32 * n, 32)
    ]


@dataclass(frozen=True)
class _Draws:
    """One connector's random source: every step draws ``n`` values at a time from it.

    The steps below must draw in a fixed order: the same seed gives the same offers, byte for byte.
    """

    rng: np.random.Generator
    n: int
    rates: GeneratorRates

    def u(self) -> Array:
        return self.rng.random(self.n)

    def pick(self, choices: tuple[str, ...] | list[str], p: list[float] | None = None) -> Array:
        return self.rng.choice(np.array(choices, dtype=object), self.n, p=p)


@dataclass(frozen=True)
class _Versions:
    deprecated: Array
    application: Array
    creator: Array


@dataclass(frozen=True)
class _Lifecycle:
    """The offers' instants (UTC microseconds) and which of them happened."""

    created: Array
    sent_at: Array
    closed_at: Array
    has_sent: Array
    has_closed: Array
    signed: Array
    status: Array


def _versions(d: _Draws) -> _Versions:
    """Draw which offers are superseded versions, and the application and creator of each."""
    n, rng = d.n, d.rng
    # Versions: a superseded offer belongs to the same application as the offer after it.
    deprecated = d.u() < d.rates.superseded
    if n:
        deprecated[-1] = False
    group = np.cumsum(~deprecated) + deprecated.astype(np.int64) - 1
    n_apps = int(group.max()) + 1 if n else 0
    app_ids = np.array(uuids(rng, n_apps), dtype=object)
    creators = np.array(uuids(rng, max(3, n // 400 + 3)), dtype=object)
    application = app_ids[group] if n else np.array([], dtype=object)
    creator = creators[rng.integers(0, creators.shape[0], n)]
    return _Versions(deprecated=deprecated, application=application, creator=creator)


def _created(d: _Draws, deprecated: Array, end_us: int, span_us: int) -> Array:
    """Draw creation instants, in id order, over the period ending at ``end_us``."""
    created = end_us - span_us + (d.rng.random(d.n) * span_us).astype(np.int64)
    created.sort()  # offers are created in id order over time, as a real ATS would
    # A superseded version is replaced by its successor a few days later.
    created[:-1] = np.where(
        deprecated[:-1], np.minimum(created[:-1], created[1:] - _US_PER_DAY), created[:-1]
    )
    return created


def _lifecycle(d: _Draws, deprecated: Array, created: Array, end_us: int) -> _Lifecycle:
    """Draw each offer's path: draft, denied internally, open, signed, declined or superseded."""
    n, rng, r = d.n, d.rng, d.rates
    kind = d.u()
    draft = kind < r.draft
    denied_internally = (~draft) & (kind < r.draft + r.denied_internally)
    sent = ~(draft | denied_internally)
    sent_lag = (rng.gamma(1.5, 0.6, n) * _US_PER_DAY).astype(np.int64) + 3_600_000_000
    sent_at = created + sent_lag
    close_days = rng.lognormal(mean=np.log(3.0), sigma=0.9, size=n)
    close_days = np.where(d.u() < 0.04, close_days + rng.exponential(30.0, n), close_days)
    closed_at = sent_at + (close_days * _US_PER_DAY).astype(np.int64)
    open_ = sent & ((closed_at > end_us) | (d.u() < r.never_closes))
    decided = sent & ~open_ & ~deprecated
    signed = decided & (d.u() < r.signed_share)
    declined = decided & ~signed
    sent_at = np.minimum(sent_at, end_us - 60_000_000)

    status: Array = np.full(n, "", dtype=object)
    draft_kind = d.pick(["DRAFT", "APPROVAL-SENT", "APPROVED"], p=[0.5, 0.25, 0.25])
    status[draft] = draft_kind[draft]
    status[denied_internally] = "DENIED"
    status[open_] = np.where(d.u()[open_] < r.opened_share_of_open, "OPENED", "SENT")
    status[signed] = "SIGNED"
    status[declined] = "DENIED"
    # Superseded versions were sent and then replaced; some ATSs record when.
    superseded_sent = deprecated & sent
    status[deprecated] = "DEPRECATED"
    replaced_at = np.empty_like(created)
    replaced_at[:-1] = created[1:]
    replaced_at[-1:] = end_us
    # Pass-through statuses from source systems that do not map onto Bindbee's vocabulary.
    pt = d.u()
    swap = pt < r.pass_through_status
    status[signed & swap] = d.pick(["ACCEPTED", "HIRED", "signed"])[signed & swap]
    status[declined & swap] = d.pick(["DECLINED", "REJECTED"])[declined & swap]
    status[(sent & ~deprecated) & (pt > 1 - r.unknown_status)] = "EXTENDED"

    has_closed = (signed | declined) | (superseded_sent & (d.u() < 0.5))
    closed_at = np.where(deprecated, np.maximum(replaced_at, sent_at + 60_000_000), closed_at)
    # Impossible records, at low rates, as real ATS exports have them.
    flip = has_closed & sent & (d.u() < r.closed_before_sent)
    closed_at = np.where(
        flip,
        sent_at - (rng.random(n) * 5 * _US_PER_DAY).astype(np.int64) - 3_600_000_000,
        closed_at,
    )
    return _Lifecycle(
        created=created,
        sent_at=sent_at,
        closed_at=closed_at,
        has_sent=sent.copy(),
        has_closed=has_closed,
        signed=signed,
        status=status,
    )


def _start_days(d: _Draws, life: _Lifecycle) -> tuple[Array, Array]:
    """Draw start days (days since the epoch) and whether each offer records one."""
    n, rng, r = d.n, d.rng, d.rates
    # Start dates: 2-8 weeks after acceptance (or after sending, for offers still undecided).
    base = np.where(life.has_closed, life.closed_at, life.sent_at)
    start_day = (base // _US_PER_DAY) + rng.integers(14, 57, n)
    weekday = (start_day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    monday = d.u() < r.start_on_monday
    start_day = np.where(monday, start_day - weekday + 7 * (weekday > 0), start_day)
    early = life.signed & (d.u() < r.start_before_close)
    start_day = np.where(early, (life.closed_at // _US_PER_DAY) - rng.integers(1, 10, n), start_day)
    has_start = life.has_sent & (d.u() > r.start_date_missing)
    return start_day, has_start


def _modified(d: _Draws, life: _Lifecycle, end_us: int) -> Array:
    """The last change: after every recorded event, by up to two days, but not past the end.

    With the period ending today, a change after the end would lie in the future: it would
    outrun every sync's watermark and look like an ATS clock running ahead.
    """
    last_event: Array = np.maximum.reduce(
        [
            life.created,
            np.where(life.has_sent, life.sent_at, 0),
            np.where(life.has_closed, life.closed_at, 0),
        ]
    )
    modified = last_event + (d.rng.random(d.n) * 2 * _US_PER_DAY).astype(np.int64) + 1_000
    clamped: Array = np.minimum(modified, np.maximum(end_us, last_event + 1_000))
    return clamped


def _connector(
    rng: np.random.Generator,
    n: int,
    label: str,
    index: int,
    end: date,
    years: float,
    rates: GeneratorRates,
) -> list[dict[str, Any]]:
    """Generate one connector's ``n`` offers, in creation order, as the API lists them.

    ``index`` is the connector's position: it picks the dominant timestamp shape, the source
    system and the range of remote ids. The steps draw from ``rng`` in a fixed order.
    """
    d = _Draws(rng=rng, n=n, rates=rates)
    end_us = int(datetime(end.year, end.month, end.day, tzinfo=UTC).timestamp() * 1_000_000)
    span_us = int(years * 365.25 * _US_PER_DAY)
    versions = _versions(d)
    created = _created(d, versions.deprecated, end_us, span_us)
    life = _lifecycle(d, versions.deprecated, created, end_us)
    start_day, has_start = _start_days(d, life)
    stamps = write_instants(
        rng,
        index,
        other_shape=rates.other_shape,
        null_created=rates.null_remote_created_at,
        created=life.created,
        sent=(life.sent_at, life.has_sent),
        closed=(life.closed_at, life.has_closed),
        modified=_modified(d, life, end_us),
        start=(start_day, has_start),
    )
    spoil_dates(rng, rates.impossible_date, [stamps["sent_at"], stamps["closed_at"]])
    return _assemble(d, index, versions, life.status, stamps)


def _assemble(
    d: _Draws,
    index: int,
    versions: _Versions,
    status: Array,
    stamps: dict[str, list[str | None]],
) -> list[dict[str, Any]]:
    """Draw the remaining fields and build the offer dicts."""
    n, rng, r = d.n, d.rng, d.rates
    ids = uuids(rng, n)
    remote_num = 100_000 * (index + 1) + np.arange(n)
    remote_null = d.u() < r.null_remote_id
    creator_null = d.u() < r.null_creator
    app_null = d.u() < r.null_application
    status[d.u() < r.null_status] = None
    salary = (rng.lognormal(np.log(95_000), 0.35, n) // 500 * 500).astype(np.int64)
    bonus = np.where(d.u() < 0.3, (salary * 0.1).astype(np.int64), -1)
    currency = d.pick(["USD", "EUR", "GBP"], p=[0.6, 0.25, 0.15])
    source = _SOURCES[index % len(_SOURCES)]

    offers: list[dict[str, Any]] = []
    for i in range(n):
        st = status[i]
        offers.append(
            {
                "id": ids[i],
                "remote_id": None if remote_null[i] else str(int(remote_num[i])),
                "modified_at": stamps["modified_at"][i],
                "remote_created_at": stamps["remote_created_at"][i],
                "sent_at": stamps["sent_at"][i],
                "closed_at": stamps["closed_at"][i],
                "start_date": stamps["start_date"][i],
                "status": st,
                "application": None if app_null[i] else versions.application[i],
                "creator": None if creator_null[i] else versions.creator[i],
                "custom_fields": {
                    "base_salary": int(salary[i]),
                    "currency": currency[i],
                    "signing_bonus": None if bonus[i] < 0 else int(bonus[i]),
                },
                "raw_data": {
                    "source": source,
                    "id": int(remote_num[i]),
                    "state": None if st is None else st.lower(),
                    "candidate_email": f"candidate{int(remote_num[i])}@example.com",
                },
            }
        )
    return offers


def today_utc() -> date:
    """Today's date in UTC: the default last day of generated data.

    Examples
    --------
    >>> today_utc() == datetime.now(UTC).date()
    True
    """
    return datetime.now(UTC).date()


def generate_offers(
    n: int,
    *,
    connectors: int = 1,
    seed: int = 0,
    end: date | None = None,
    years: float = 3.0,
    rates: GeneratorRates | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Generate ``n`` API-shaped offers spread over ``connectors`` connectors.

    Parameters
    ----------
    n
        Total number of offers (versions included), split as evenly as possible across connectors.
    connectors
        Number of connectors. One connector is labelled ``"default"``; several use
        :data:`CONNECTOR_LABELS` in order.
    seed
        The same seed and ``end`` give the same offers, byte for byte.
    end
        The last day of the generated period; offers whose close would fall after it stay open.
        Default: today (UTC), so that open offers and upcoming starts look like a live ATS. Pass
        a date to get the same data on every day (tests do).
    years
        Length of the period in years.
    rates
        Behaviour rates; see :class:`GeneratorRates`.

    Returns
    -------
    dict[str, list[dict]]
        Offer dicts per connector label, each exactly as ``GET /api/ats/v1/offers`` would list
        it with ``include_custom_fields`` and ``include_raw_data`` set, in creation order.

    Examples
    --------
    >>> data = generate_offers(10, connectors=2, seed=1)
    >>> sorted(data)
    ['acme', 'globex']
    >>> sum(len(v) for v in data.values())
    10
    >>> sorted(data["acme"][0])[:4]
    ['application', 'closed_at', 'creator', 'custom_fields']
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if connectors < 1:
        raise ValueError(f"connectors must be >= 1, got {connectors}")
    if years <= 0:
        raise ValueError(f"years must be > 0, got {years}")
    last_day = today_utc() if end is None else end
    labels = ["default"] if connectors == 1 else _labels(connectors)
    children = np.random.SeedSequence(seed).spawn(connectors)
    sizes = [n // connectors + (1 if i < n % connectors else 0) for i in range(connectors)]
    return {
        label: _connector(
            np.random.default_rng(child), size, label, i, last_day, years, rates or GeneratorRates()
        )
        for i, (label, child, size) in enumerate(zip(labels, children, sizes, strict=True))
    }
