"""The data-quality report: what in the offers frame a user should know before trusting a number.

Each check is one row, always present and always in the same order, so a report that says 0 is
visibly a check that passed rather than one that was skipped; a check that could not be run says
so with a null ``n`` and a description of what it needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import polars as pl

from offer_analytics.metrics._frame import FrameLike, typed_offers

__all__ = ["TIMESTAMP_COLUMNS", "quality_report"]

#: Columns parsed from API timestamp strings, in frame order; each gets an "unparsed" row.
TIMESTAMP_COLUMNS: Final = (
    "sent_at",
    "closed_at",
    "remote_created_at",
    "modified_at",
    "start_date",
)
_MAX_EXAMPLES: Final = 5
_SCHEMA: Final = pl.Schema(
    [
        ("check", pl.String()),
        ("description", pl.String()),
        ("n", pl.Int64()),
        ("example_ids", pl.List(pl.String)),
        ("example_values", pl.List(pl.Struct({"value": pl.String, "n": pl.Int64}))),
    ]
)

_UNKNOWN_STATUS: Final = (pl.col("outcome") == "unknown") & pl.col("status").is_not_null()
# (check, description, rows that fail it); ids of failing rows are counted, see quality_report.
_ROW_CHECKS: Final[tuple[tuple[str, str, pl.Expr], ...]] = (
    (
        "unknown_status",
        "offers whose status is not in the outcome mapping (outcome 'unknown'); "
        "example_values lists every such status with its count: extend the mapping",
        _UNKNOWN_STATUS,
    ),
    (
        "null_status",
        "offers without a status (outcome 'unknown')",
        pl.col("status").is_null(),
    ),
    (
        "closed_before_sent",
        "offers whose closed_at is earlier than their sent_at; excluded from time to close",
        pl.col("closed_at") < pl.col("sent_at"),
    ),
    (
        "start_before_close",
        "accepted offers whose start_date is before the UTC date of their closed_at",
        (pl.col("outcome") == "accepted") & (pl.col("start_date") < pl.col("closed_at").dt.date()),
    ),
    (
        "missing_application",
        "offers without an application id (each counts as its own application in rates)",
        pl.col("application").is_null(),
    ),
)
#: Only for an enriched frame (one with ``job_id``): offers that enrichment could not resolve.
_UNRESOLVED: Final = (
    "unresolved_job",
    "enriched offers whose application or job could not be found (no application id, or a "
    "reference to an object the API does not return): job, department, office and recruiter "
    "are null, and breakdowns put them in a null group",
    pl.col("job_id").is_null(),
)
# The row order of the report after the unparsed-timestamp rows; duplicate_id is a group check.
_CHECK_ORDER: Final = (
    "unknown_status",
    "null_status",
    "closed_before_sent",
    "start_before_close",
    "duplicate_id",
    "missing_application",
)

# A check's (description, n, example ids).
_Found = tuple[str, int, list[str]]


def _examples(ids: pl.Expr) -> pl.Expr:
    return ids.unique().sort().head(_MAX_EXAMPLES).implode()


def quality_report(
    frame: FrameLike, *, unparsed_timestamps: Mapping[str, Sequence[str]] | None = None
) -> pl.DataFrame:
    """One row per data-quality check, with how many offers fail it and a few example ids.

    Checks, in this order (all rows always present, ``n = 0`` when the check ran and nothing
    fails, ``n`` null when it could not run):

    1. ``unparsed_<column>`` for each timestamp column (sent_at, closed_at, remote_created_at,
       modified_at, start_date): values that were present but could not be parsed and became
       null. The frame cannot show these; they come from ``unparsed_timestamps`` (column ->
       offending offer ids, e.g. ``LoadReport.unparsed_timestamps``). When it is ``None``
       these rows are *not checked*: ``n`` is null, ``example_ids`` empty, and the
       description says to pass ``LoadReport.unparsed_timestamps``. A mapping (even an empty
       one) means the decoding was checked: a column it does not name reports 0. Columns in
       the mapping beyond these five get rows after them, alphabetically.
    2. ``unknown_status``: a non-null status outside the outcome mapping (outcome unknown).
    3. ``null_status``: no status at all.
    4. ``closed_before_sent``: ``closed_at < sent_at``.
    5. ``start_before_close``: accepted offers with ``start_date`` before the UTC calendar date
       of ``closed_at``.
    6. ``duplicate_id``: the same ``(connector, id)`` on more than one row; ``n`` counts
       distinct duplicated ids, not rows.
    7. ``missing_application``: no application id.
    8. ``unresolved_job``, only when the frame is enriched (has ``job_id``, see
       :func:`~offer_analytics.enrich_offers`): offers whose application or job could not be
       found, so that every enrichment column is null.

    Every row of the frame is checked, superseded versions included. ``n`` counts offers (rows)
    except for ``duplicate_id``; ``example_ids`` holds at most 5 distinct ids, sorted.
    ``example_values`` lists, on the ``unknown_status`` row, every distinct raw status outside
    the mapping with its number of offers (``{value, n}``), most frequent first, ties by value:
    the values to add to the outcome mapping. It is empty on every other row.

    Parameters
    ----------
    frame
        The offers frame (DataFrame or LazyFrame).
    unparsed_timestamps
        Column name -> ids of offers whose value in that column was unparseable, usually
        ``LoadReport.unparsed_timestamps``; ``None`` (default) leaves those checks not run.

    Returns
    -------
    pl.DataFrame
        ``[check, description, n, example_ids, example_values]``: String, String, Int64
        (null = not checked), List(String), List(Struct(value: String, n: Int64)).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import UTC, datetime
    >>> t1, t2 = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 5, tzinfo=UTC)
    >>> offers = pl.DataFrame(
    ...     {
    ...         "connector": "default",
    ...         "id": ["a", "b", "b", "c"],
    ...         "status": ["SIGNED", "EXTENDED", "EXTENDED", None],
    ...         "outcome": ["accepted", "unknown", "unknown", "unknown"],
    ...         "sent_at": [t2, t1, t1, t1],
    ...         "closed_at": [t1, None, None, None],
    ...         "start_date": [None, None, None, None],
    ...         "application": ["A", "B", "B", None],
    ...     },
    ...     schema_overrides={"start_date": pl.Date},
    ... )
    >>> report = quality_report(offers, unparsed_timestamps={"sent_at": ["z", "y"]})
    >>> report.filter(pl.col("n") > 0).select("check", "n", "example_ids")
    shape: (6, 3)
    ┌─────────────────────┬─────┬─────────────┐
    │ check               ┆ n   ┆ example_ids │
    │ ---                 ┆ --- ┆ ---         │
    │ str                 ┆ i64 ┆ list[str]   │
    ╞═════════════════════╪═════╪═════════════╡
    │ unparsed_sent_at    ┆ 2   ┆ ["y", "z"]  │
    │ unknown_status      ┆ 2   ┆ ["b"]       │
    │ null_status         ┆ 1   ┆ ["c"]       │
    │ closed_before_sent  ┆ 1   ┆ ["a"]       │
    │ duplicate_id        ┆ 1   ┆ ["b"]       │
    │ missing_application ┆ 1   ┆ ["c"]       │
    └─────────────────────┴─────┴─────────────┘
    >>> report.height
    11
    >>> report.filter(check="unknown_status")["example_values"].to_list()
    [[{'value': 'EXTENDED', 'n': 2}]]
    >>> quality_report(offers).select("check", "n").head(2)
    shape: (2, 2)
    ┌────────────────────┬──────┐
    │ check              ┆ n    │
    │ ---                ┆ ---  │
    │ str                ┆ i64  │
    ╞════════════════════╪══════╡
    │ unparsed_sent_at   ┆ null │
    │ unparsed_closed_at ┆ null │
    └────────────────────┴──────┘
    """
    enriched = "job_id" in frame.collect_schema()
    lf = typed_offers(
        frame,
        columns=["connector", "id", "status", "outcome", "sent_at", "closed_at", "start_date"],
        keys=["application", *(["job_id"] if enriched else [])],
    )
    # An all-null column built by hand has dtype Null; give the checks the documented types.
    lf = lf.with_columns(pl.col("status").cast(pl.String), pl.col("start_date").cast(pl.Date))
    static = pl.LazyFrame(_unparsed_rows(unparsed_timestamps), schema=_SCHEMA)
    row_checks = (*_ROW_CHECKS, _UNRESOLVED) if enriched else _ROW_CHECKS
    found = _row_checks(lf, row_checks)
    found["duplicate_id"] = _duplicate_ids(lf)
    unknown_values = _unknown_status_values(lf)
    checks = [
        {
            "check": name,
            "description": desc,
            "n": n,
            "example_ids": ids,
            "example_values": unknown_values if name == "unknown_status" else [],
        }
        for name in (*_CHECK_ORDER, *([_UNRESOLVED[0]] if enriched else []))
        for desc, n, ids in [found[name]]
    ]
    return pl.concat([static, pl.LazyFrame(checks, schema=_SCHEMA)]).collect()


def _unparsed_rows(
    unparsed_timestamps: Mapping[str, Sequence[str]] | None,
) -> list[dict[str, object]]:
    """The ``unparsed_<column>`` rows, which only the decoder's report can fill."""
    unparsed = dict(unparsed_timestamps or {})
    columns = [*TIMESTAMP_COLUMNS, *sorted(set(unparsed) - set(TIMESTAMP_COLUMNS))]
    rows: list[dict[str, object]] = []
    for column in columns:
        ids = sorted(set(unparsed.get(column, ())))
        if unparsed_timestamps is None:
            # The frame alone cannot tell a null from an unparseable value: 0 would be a claim.
            description = (
                f"not checked: {column} values present but unparseable are only known to the "
                "decoder; pass unparsed_timestamps=LoadReport.unparsed_timestamps"
            )
            n: int | None = None
        else:
            description = f"{column} values present but unparseable, now null"
            n = len(ids)
        rows.append(
            {
                "check": f"unparsed_{column}",
                "description": description,
                "n": n,
                "example_ids": ids[:_MAX_EXAMPLES],
                "example_values": [],
            }
        )
    return rows


def _row_checks(lf: pl.LazyFrame, checks: Sequence[tuple[str, str, pl.Expr]]) -> dict[str, _Found]:
    """Every row check in one pass over the frame: count and examples per check as columns."""
    aggregated = lf.select(
        *(
            expr.fill_null(False).sum().cast(pl.Int64).alias(f"{name}:n")
            for name, _, expr in checks
        ),
        *(
            _examples(pl.col("id").filter(expr.fill_null(False))).alias(f"{name}:ids")
            for name, _, expr in checks
        ),
    ).collect()
    return {
        name: (desc, aggregated[f"{name}:n"][0], aggregated[f"{name}:ids"][0].to_list())
        for name, desc, _ in checks
    }


def _duplicate_ids(lf: pl.LazyFrame) -> _Found:
    duplicates = (
        lf.group_by("connector", "id")
        .agg(pl.len().alias("rows"))
        .filter(pl.col("rows") > 1)
        .select(pl.len().cast(pl.Int64).alias("n"), _examples(pl.col("id")).alias("ids"))
        .collect()
    )
    return (
        "ids that appear on more than one row of the same connector (n counts distinct ids)",
        duplicates["n"][0],
        duplicates["ids"][0].to_list(),
    )


def _unknown_status_values(lf: pl.LazyFrame) -> list[dict[str, object]]:
    """Every raw status outside the mapping with its count, most frequent first."""
    values: list[dict[str, object]] = (
        lf.filter(_UNKNOWN_STATUS.fill_null(False))
        .group_by("status")
        .agg(pl.len().cast(pl.Int64).alias("n"))
        .sort(["n", "status"], descending=[True, False])
        .select(pl.struct(value="status", n="n").implode())
        .collect()
        .item()
        .to_list()
    )
    return values
