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

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = ["CONNECTOR_LABELS", "DEFAULT_END", "GeneratorRates", "generate_offers"]

#: The default end of the generated period. Fixed so that a seed always gives the same data.
DEFAULT_END: Final = date(2026, 10, 1)

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
_SHAPES: Final = ("z", "offset", "fraction", "naive", "date")
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


def _uuids(rng: np.random.Generator, n: int) -> list[str]:
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    return [str(uuid.UUID(bytes=row.tobytes())) for row in raw]


def _format(micros: Array, present: Array, shape: Array, offset_min: Array) -> list[str | None]:
    """Format UTC microsecond instants as ISO strings in the shape chosen per value."""
    out: Array = np.full(micros.shape[0], None, dtype=object)
    utc = micros.astype("datetime64[us]")
    for name in _SHAPES:
        m = present & (shape == name)
        if not m.any():
            continue
        if name == "z":
            out[m] = np.char.add(np.datetime_as_string(utc[m], unit="s"), "Z")
        elif name == "fraction":
            out[m] = np.char.add(np.datetime_as_string(utc[m], unit="ms"), "Z")
        elif name == "naive":
            out[m] = np.datetime_as_string(utc[m], unit="s")
        elif name == "date":
            out[m] = np.datetime_as_string(utc[m], unit="D")
        else:  # local wall time plus its offset, e.g. 2024-03-01T14:00:00+02:00
            off = offset_min[m]
            local = (micros[m] + off.astype(np.int64) * 60_000_000).astype("datetime64[us]")
            sign = np.where(off < 0, "-", "+")
            hh = np.char.zfill((np.abs(off) // 60).astype(str), 2)
            mm = np.char.zfill((np.abs(off) % 60).astype(str), 2)
            suffix = np.char.add(np.char.add(np.char.add(sign, hh), ":"), mm)
            out[m] = np.char.add(np.datetime_as_string(local, unit="s"), suffix)
    result: list[str | None] = out.tolist()
    return result


def _connector(
    rng: np.random.Generator,
    n: int,
    label: str,
    index: int,
    end: date,
    years: float,
    rates: GeneratorRates,
) -> list[dict[str, Any]]:
    r = rates
    end_us = int(datetime(end.year, end.month, end.day, tzinfo=UTC).timestamp() * 1_000_000)
    span_us = int(years * 365.25 * _US_PER_DAY)

    def u() -> Array:
        return rng.random(n)

    # Versions: a superseded offer belongs to the same application as the offer after it.
    deprecated = u() < r.superseded
    if n:
        deprecated[-1] = False
    group = np.cumsum(~deprecated) + deprecated.astype(np.int64) - 1
    n_apps = int(group.max()) + 1 if n else 0
    app_ids = np.array(_uuids(rng, n_apps), dtype=object)
    creators = np.array(_uuids(rng, max(3, n // 400 + 3)), dtype=object)
    application = app_ids[group] if n else np.array([], dtype=object)
    creator = creators[rng.integers(0, creators.shape[0], n)]

    created = end_us - span_us + (rng.random(n) * span_us).astype(np.int64)
    created.sort()  # offers are created in id order over time, as a real ATS would
    # A superseded version is replaced by its successor a few days later.
    created[:-1] = np.where(
        deprecated[:-1], np.minimum(created[:-1], created[1:] - _US_PER_DAY), created[:-1]
    )

    kind = u()
    draft = kind < r.draft
    denied_internally = (~draft) & (kind < r.draft + r.denied_internally)
    sent = ~(draft | denied_internally)
    sent_lag = (rng.gamma(1.5, 0.6, n) * _US_PER_DAY).astype(np.int64) + 3_600_000_000
    sent_at = created + sent_lag
    close_days = rng.lognormal(mean=np.log(3.0), sigma=0.9, size=n)
    close_days = np.where(u() < 0.04, close_days + rng.exponential(30.0, n), close_days)
    closed_at = sent_at + (close_days * _US_PER_DAY).astype(np.int64)
    open_ = sent & ((closed_at > end_us) | (u() < r.never_closes))
    decided = sent & ~open_ & ~deprecated
    signed = decided & (u() < r.signed_share)
    declined = decided & ~signed
    sent_at = np.minimum(sent_at, end_us - 60_000_000)

    status: Array = np.full(n, "", dtype=object)
    draft_kind = rng.choice(
        np.array(["DRAFT", "APPROVAL-SENT", "APPROVED"], dtype=object), n, p=[0.5, 0.25, 0.25]
    )
    status[draft] = draft_kind[draft]
    status[denied_internally] = "DENIED"
    status[open_] = np.where(u()[open_] < r.opened_share_of_open, "OPENED", "SENT")
    status[signed] = "SIGNED"
    status[declined] = "DENIED"
    # Superseded versions were sent and then replaced; some ATSs record when.
    superseded_sent = deprecated & sent
    status[deprecated] = "DEPRECATED"
    replaced_at = np.empty_like(created)
    replaced_at[:-1] = created[1:]
    replaced_at[-1:] = end_us
    # Pass-through statuses from source systems that do not map onto Bindbee's vocabulary.
    pt = u()
    swap = pt < r.pass_through_status
    status[signed & swap] = rng.choice(np.array(["ACCEPTED", "HIRED", "signed"], dtype=object), n)[
        signed & swap
    ]
    status[declined & swap] = rng.choice(np.array(["DECLINED", "REJECTED"], dtype=object), n)[
        declined & swap
    ]
    status[(sent & ~deprecated) & (pt > 1 - r.unknown_status)] = "EXTENDED"

    has_sent = sent.copy()
    has_closed = (signed | declined) | (superseded_sent & (u() < 0.5))
    closed_at = np.where(deprecated, np.maximum(replaced_at, sent_at + 60_000_000), closed_at)
    # Impossible records, at low rates, as real ATS exports have them.
    flip = has_closed & has_sent & (u() < r.closed_before_sent)
    closed_at = np.where(
        flip,
        sent_at - (rng.random(n) * 5 * _US_PER_DAY).astype(np.int64) - 3_600_000_000,
        closed_at,
    )

    # Start dates: 2-8 weeks after acceptance (or after sending, for offers still undecided).
    base = np.where(has_closed, closed_at, sent_at)
    start_day = (base // _US_PER_DAY) + rng.integers(14, 57, n)
    weekday = (start_day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    monday = u() < r.start_on_monday
    start_day = np.where(monday, start_day - weekday + 7 * (weekday > 0), start_day)
    early = signed & (u() < r.start_before_close)
    start_day = np.where(early, (closed_at // _US_PER_DAY) - rng.integers(1, 10, n), start_day)
    has_start = has_sent & (u() > r.start_date_missing)

    modified = np.maximum.reduce(
        [created, np.where(has_sent, sent_at, 0), np.where(has_closed, closed_at, 0)]
    )
    modified = modified + (rng.random(n) * 2 * _US_PER_DAY).astype(np.int64) + 1_000

    # Timestamp shapes: one dominant shape per connector, others mixed in.
    dominant = _SHAPES[index % 4]  # date-only is never the dominant shape for instants
    shape: Array = np.full(n, dominant, dtype=object)
    other = u() < r.other_shape
    shape[other] = rng.choice(np.array(_SHAPES, dtype=object), n)[other]
    offsets = rng.choice(np.array([-480, -300, -240, 0, 60, 120, 330, 540], dtype=np.int64), n)

    def stamp(values: Array, present: Array) -> list[str | None]:
        per_value_shape = shape.copy()
        reshuffle = u() < r.other_shape
        per_value_shape[reshuffle] = rng.choice(np.array(_SHAPES, dtype=object), n)[reshuffle]
        return _format(values, present, per_value_shape, offsets)

    created_s = stamp(created, u() > r.null_remote_created_at)
    sent_s = stamp(sent_at, has_sent)
    closed_s = stamp(closed_at, has_closed)
    modified_s = _format(
        modified, np.ones(n, dtype=bool), np.full(n, "fraction", dtype=object), offsets
    )
    # start_date is a calendar date; some sources write it as a midnight timestamp with an offset.
    start_shape: Array = np.where(u() < 0.9, "date", "offset").astype(object)
    # Written as local midnight of the start day, so the date as written is the intended one.
    start_local_midnight = start_day * _US_PER_DAY - np.where(
        start_shape == "offset", offsets * 60_000_000, 0
    )
    start_s = _format(start_local_midnight, has_start, start_shape, offsets)

    bad = u() < r.impossible_date
    impossible = np.array(
        ["2024-02-30T10:00:00Z", "2023-13-01", "0000-00-00T00:00:00Z", "not a date"], dtype=object
    )
    which = rng.integers(0, impossible.shape[0], n)
    for col in (sent_s, closed_s):
        for j in np.flatnonzero(bad).tolist():
            if col[j] is not None:
                col[j] = impossible[which[j]]

    ids = _uuids(rng, n)
    remote_num = 100_000 * (index + 1) + np.arange(n)
    remote_null = u() < r.null_remote_id
    creator_null = u() < r.null_creator
    app_null = u() < r.null_application
    status[u() < r.null_status] = None
    salary = (rng.lognormal(np.log(95_000), 0.35, n) // 500 * 500).astype(np.int64)
    bonus = np.where(u() < 0.3, (salary * 0.1).astype(np.int64), -1)
    currency = rng.choice(np.array(["USD", "EUR", "GBP"], dtype=object), n, p=[0.6, 0.25, 0.15])
    source = _SOURCES[index % len(_SOURCES)]

    offers: list[dict[str, Any]] = []
    for i in range(n):
        st = status[i]
        offers.append(
            {
                "id": ids[i],
                "remote_id": None if remote_null[i] else str(int(remote_num[i])),
                "modified_at": modified_s[i],
                "remote_created_at": created_s[i],
                "sent_at": sent_s[i],
                "closed_at": closed_s[i],
                "start_date": start_s[i],
                "status": st,
                "application": None if app_null[i] else application[i],
                "creator": None if creator_null[i] else creator[i],
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


def generate_offers(
    n: int,
    *,
    connectors: int = 1,
    seed: int = 0,
    end: date = DEFAULT_END,
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
        The same seed gives the same offers, byte for byte.
    end
        The last day of the generated period; offers whose close would fall after it stay open.
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
    labels = ["default"] if connectors == 1 else _labels(connectors)
    children = np.random.SeedSequence(seed).spawn(connectors)
    sizes = [n // connectors + (1 if i < n % connectors else 0) for i in range(connectors)]
    return {
        label: _connector(
            np.random.default_rng(child), size, label, i, end, years, rates or GeneratorRates()
        )
        for i, (label, child, size) in enumerate(zip(labels, children, sizes, strict=True))
    }
