"""Private helpers shared by the metrics: input normalisation, ``by``, ``as_of``, populations.

Every metric accepts a DataFrame or a LazyFrame of the offers frame
(:data:`offer_analytics.schema.OFFER_SCHEMA`) and builds one lazy query that is collected once.
These helpers keep the conventions identical across metrics:

- ``by`` is ``None``, a column name or a sequence of names, always turned into a list;
- ``as_of`` is a datetime (naive means UTC) or ``None`` for "now", always turned into an aware UTC
  datetime so that it compares with the frame's ``Datetime("us", "UTC")`` columns;
- the timestamp and outcome columns are cast to their documented types, so frames built by hand with
  an all-null column (dtype ``Null``) or a naive datetime column still work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Final, Literal, TypeAlias

import polars as pl

from offer_analytics.errors import SchemaError

FrameLike: TypeAlias = pl.DataFrame | pl.LazyFrame
By: TypeAlias = str | Sequence[str] | None

#: The outcome vocabulary in its documented order (the schema module owns the canonical copy; the
#: metrics only need it to type an all-null or string outcome column the same way).
OUTCOMES: Final = ("accepted", "declined", "pending", "draft", "rescinded", "superseded", "unknown")
TIMESTAMP: Final = pl.Datetime("us", "UTC")
US_PER_DAY: Final = 86_400_000_000.0

#: Stand-in group column when a metric groups by nothing: the grid and join code always has a key.
ALL_GROUP: Final = "__all__"

#: Outcomes that never enter a time-to-close population: an edited offer's older version is not an
#: offer the candidate decided on, and a draft was never extended.
NOT_EXTENDED: Final = ("superseded", "draft")


#: How breakdown rows are ordered: by the group keys, or by each group's n (largest first).
Order: TypeAlias = Literal["keys", "n"]


def ordered(
    table: pl.LazyFrame, keys: Sequence[str], *, order: Order, then: Sequence[str] = ()
) -> pl.LazyFrame:
    """Sort a metric's rows: by ``keys`` then ``then``, or by group size first.

    With ``order="n"`` the groups come largest first by their total ``n`` (summed over their
    rows, e.g. periods), ties broken by the keys; inside a group the rows keep the ``then``
    order. Groups with a null key come last either way; the output stays deterministic.

    Examples
    --------
    >>> table = pl.LazyFrame({"team": ["a", "b", None, "c"], "n": [1, 5, 9, 5]})
    >>> ordered(table, ["team"], order="n").collect()["team"].to_list()
    ['b', 'c', 'a', None]
    >>> ordered(table, ["team"], order="keys").collect()["team"].to_list()
    ['a', 'b', 'c', None]
    """
    if order not in ("keys", "n"):
        msg = f"order must be 'keys' or 'n'; got {order!r}"
        raise ValueError(msg)
    columns = [*keys, *then]
    if order == "keys" or not keys:
        return table.sort(columns, nulls_last=True) if columns else table
    # A group with a null key (e.g. offers no department could be found for) is not a group
    # to rank: it goes last, however large.
    unknown = pl.any_horizontal(pl.col(k).is_null() for k in keys)
    helpers = [unknown.alias("__unknown"), pl.col("n").sum().over(keys).alias("__group_n")]
    descending = [False, True] + [False] * len(columns)
    return (
        table.with_columns(helpers)
        .sort(["__unknown", "__group_n", *columns], descending=descending, nulls_last=True)
        .drop("__unknown", "__group_n")
    )


def to_lazy(frame: FrameLike) -> pl.LazyFrame:
    """Return ``frame`` as a LazyFrame; a DataFrame is wrapped without copying."""
    return frame.lazy() if isinstance(frame, pl.DataFrame) else frame


def group_keys(by: By) -> list[str]:
    """Normalise ``by`` (``None``, a name, or a sequence of names) to a list of unique names."""
    if by is None:
        return []
    keys = [by] if isinstance(by, str) else list(by)
    if not all(isinstance(key, str) for key in keys):
        msg = f"by must be a column name or a sequence of column names, got {by!r}"
        raise TypeError(msg)
    if len(set(keys)) != len(keys):
        msg = f"by names a column more than once: {keys!r}"
        raise ValueError(msg)
    return keys


def resolve_as_of(as_of: datetime | None, *, now: Callable[[], datetime] | None = None) -> datetime:
    """Return ``as_of`` as an aware UTC datetime; ``None`` means now, a naive value means UTC.

    Examples
    --------
    >>> resolve_as_of(datetime(2026, 1, 2, 3, 4))
    datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.timezone.utc)
    """
    if as_of is None:
        return (now or (lambda: datetime.now(UTC)))().astimezone(UTC)
    if as_of.tzinfo is None:
        return as_of.replace(tzinfo=UTC)
    return as_of.astimezone(UTC)


def as_of_literal(as_of: datetime) -> pl.Expr:
    """``as_of`` as a literal with the frame's timestamp type."""
    return pl.lit(as_of, dtype=TIMESTAMP)


def typed_offers(
    frame: FrameLike, *, columns: Sequence[str], keys: Sequence[str] = ()
) -> pl.LazyFrame:
    """Select ``keys`` and ``columns`` from the offers frame, with the documented types.

    Only the named columns are kept, so the query never carries the JSON columns. Timestamps are
    cast to ``Datetime("us", "UTC")`` (a no-op on a decoded frame) and ``outcome`` to the outcome
    Enum, which makes all-null columns of dtype ``Null`` behave like empty typed ones.

    Raises
    ------
    SchemaError
        When a needed column is missing.
    """
    lf = to_lazy(frame)
    schema = lf.collect_schema()
    missing = [name for name in [*keys, *columns] if name not in schema]
    if missing:
        msg = f"the offers frame has no column(s) {missing}; expected the columns of OFFER_SCHEMA"
        raise SchemaError(msg, field=missing[0])
    exprs: list[pl.Expr] = []
    for name in dict.fromkeys([*keys, *columns]):  # a key may also be a needed column
        dtype = schema[name]
        if name == "outcome" and not isinstance(dtype, pl.Enum):
            exprs.append(_as_outcome(name))
        elif name.endswith("_at") and dtype != TIMESTAMP:
            exprs.append(_as_timestamp(name, dtype))
        else:
            exprs.append(pl.col(name))
    return lf.select(exprs)


def _as_outcome(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.String).cast(pl.Enum(OUTCOMES))


def _as_timestamp(name: str, dtype: pl.DataType) -> pl.Expr:
    # A tz-aware column in another zone is the same instant; a naive one is UTC.
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return pl.col(name).dt.convert_time_zone("UTC").cast(TIMESTAMP)
    return pl.col(name).cast(TIMESTAMP)


def sent_population(as_of: datetime) -> pl.Expr:
    """Offers sent at or before ``as_of`` that are neither drafts nor superseded versions.

    A null outcome is kept: only the two named outcomes leave the population.
    """
    excluded = pl.col("outcome").is_in(NOT_EXTENDED).fill_null(value=False)
    return pl.col("sent_at").is_not_null() & (pl.col("sent_at") <= as_of_literal(as_of)) & ~excluded


def days_between(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    """Float64 days from ``start`` to ``end`` at microsecond precision."""
    return (end - start).dt.total_microseconds().cast(pl.Float64) / US_PER_DAY


#: Columns :func:`offers_as_of` reads.
AS_OF_COLUMNS: Final = ("outcome", "sent_at", "closed_at", "remote_created_at")


def offers_as_of(lf: pl.LazyFrame, as_of: datetime) -> pl.LazyFrame:
    """The offers as they stood at ``as_of`` (aware UTC), for counts and rates.

    - An offer exists from its ``sent_at``, or, when it has none (drafts), its
      ``remote_created_at``; one that came later is dropped. An offer with neither timestamp
      cannot be placed in time and is kept.
    - An accepted, declined or rescinded offer whose ``closed_at`` is after ``as_of`` was still
      open then: its outcome becomes ``pending`` (``draft`` for one rescinded without ever being
      sent) and its ``closed_at`` null. Other outcomes and all other columns are unchanged.

    ``lf`` needs the :data:`AS_OF_COLUMNS` with the documented types (see :func:`typed_offers`);
    ``outcome`` keeps its Enum type.
    """
    at = as_of_literal(as_of)
    appeared = pl.coalesce("sent_at", "remote_created_at")
    later = pl.col("closed_at") > at
    reopened = later.fill_null(value=False) & pl.col("outcome").is_in(
        ["accepted", "declined", "rescinded"]
    ).fill_null(value=False)
    unsent_rescinded = (pl.col("outcome") == "rescinded") & pl.col("sent_at").is_null()
    # Literals of the column's own Enum: a round trip through String cost more than the rest of
    # status_counts at 10M rows.
    dtype = lf.collect_schema()["outcome"]
    outcome = (
        pl.when(reopened)
        .then(
            pl.when(unsent_rescinded)
            .then(pl.lit("draft", dtype=dtype))
            .otherwise(pl.lit("pending", dtype=dtype))
        )
        .otherwise(pl.col("outcome"))
    )
    return lf.filter(appeared.is_null() | (appeared <= at)).with_columns(
        outcome.alias("outcome"),
        pl.when(reopened).then(None).otherwise(pl.col("closed_at")).alias("closed_at"),
    )
