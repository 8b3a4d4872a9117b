"""Typing the raw string columns of offers: timestamps, outcome, connector, in schema order.

The decoded pages reach Polars as strings (:mod:`offer_analytics.decode._frame`); this stage
parses the timestamps (:mod:`offer_analytics.decode._timestamps`), derives the outcome
(:func:`offer_analytics.schema.outcome_expr`) and casts every column to its dtype, and reports
what it noticed on the way (:class:`DecodeStats`): unparseable timestamps are nulled and
counted, or, under ``strict``, raised as a :class:`~offer_analytics.errors.TimestampError`
naming the offers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import polars as pl

from offer_analytics.decode._timestamps import parse_timestamps
from offer_analytics.errors import TimestampError
from offer_analytics.schema import INSTANT_COLUMNS, outcome_expr

__all__ = ["IN_MEMORY_ROWS", "DecodeStats", "type_columns"]

_TIMESTAMP_COLUMNS: Final = (*INSTANT_COLUMNS, "start_date")
_EXAMPLES: Final = 5  # offending rows named in an error message
#: Rows up to which the typing runs on Polars' in-memory engine rather than the default
#: (streaming) one. On the loader's chunks (one page to a few MB of pages) it costs 4-9 ms less a
#: call, most of a small call's fixed cost; on a whole 250k-offer connector the streaming engine
#: is ~5% faster (measured, bench/BENCHMARKS.md).
IN_MEMORY_ROWS: Final = 20_000


@dataclass(frozen=True)
class DecodeStats:
    """What decoding noticed besides the frame itself.

    Attributes
    ----------
    offers
        Rows decoded.
    unparsed
        Column -> ids of the offers whose value was present but not a valid timestamp (the
        value became null). Only columns with at least one such value appear.

    Examples
    --------
    >>> DecodeStats(2, {"sent_at": ["a"]}) + DecodeStats(1, {"sent_at": ["b"]})
    DecodeStats(offers=3, unparsed={'sent_at': ['a', 'b']})
    """

    offers: int
    unparsed: dict[str, list[str]] = field(default_factory=dict)

    def __add__(self, other: DecodeStats) -> DecodeStats:
        unparsed = {k: list(v) for k, v in self.unparsed.items()}
        for column, ids in other.unparsed.items():
            unparsed.setdefault(column, []).extend(ids)
        return DecodeStats(self.offers + other.offers, unparsed)


def type_columns(
    frame: pl.DataFrame,
    schema: pl.Schema,
    *,
    connector: str,
    strict: bool,
    mapping: Mapping[str, str] | None,
) -> tuple[pl.DataFrame, DecodeStats]:
    """Raw string columns -> typed columns in schema order, counting unparseable timestamps."""
    raw = {c: f"__raw__{c}" for c in _TIMESTAMP_COLUMNS}
    lf = frame.lazy().with_columns(pl.col(c).alias(r) for c, r in raw.items())
    lf = parse_timestamps(lf, INSTANT_COLUMNS, dates=["start_date"])
    # Present (non-empty) but null after parsing = unparseable.
    bad = {
        c: pl.col(r).is_not_null() & (pl.col(r) != "") & pl.col(c).is_null() for c, r in raw.items()
    }
    typed = lf.with_columns(
        pl.lit(connector, pl.String).alias("connector"),
        # "Sent" is whether a sent_at was written, parseable or not: an unparseable sent_at
        # must not turn a declined offer into an internally denied draft.
        outcome_expr(
            mapping=mapping,
            sent_at=pl.when(pl.col(raw["sent_at"]) != "").then(pl.col(raw["sent_at"])),
        ),
        *(flag.alias(f"__bad__{c}") for c, flag in bad.items()),
    ).collect(engine="in-memory" if frame.height <= IN_MEMORY_ROWS else "auto")
    unparsed: dict[str, list[str]] = {}
    for column, raw_name in raw.items():
        flags = typed[f"__bad__{column}"]
        if not flags.any():  # the usual case, and a Series test is cheaper than a query
            continue
        ids: list[str] = typed["id"].filter(flags).to_list()
        if strict:
            values = typed[raw_name].filter(flags).head(_EXAMPLES).to_list()
            rows = list(zip(ids[:_EXAMPLES], values, strict=True))
            examples = ", ".join(f"offer {i}: {v!r}" for i, v in rows)
            raise TimestampError(
                f"{column}: {len(ids)} value(s) are not ISO-8601 timestamps ({examples}); "
                "pass strict=False to decode them as null and count them",
                column=column,
                rows=rows,
            )
        unparsed[column] = ids
    result = typed.select(pl.col(name).cast(dtype) for name, dtype in schema.items())
    return result, DecodeStats(result.height, unparsed)
