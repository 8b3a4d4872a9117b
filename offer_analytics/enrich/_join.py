"""Joining offers to their related objects: the ids each stage needs, and the final columns.

The chain is offer -> application -> job -> (departments, first office, first recruiter); the
offer's ``creator`` stands in for a job without recruiters. Ids are unique per connector only,
so every join is on ``(connector, id)``.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from offer_analytics.enrich._schemas import ENRICHED_SCHEMA
from offer_analytics.enrich._tables import RelatedTables
from offer_analytics.errors import SchemaError

__all__ = ["ENRICHED_COLUMNS", "enrich_offers", "needed_ids"]

#: The columns :func:`enrich_offers` adds, in order.
ENRICHED_COLUMNS: Final = tuple(ENRICHED_SCHEMA)
_KEY: Final = ["connector", "id"]


def _ids_by_connector(frame: pl.DataFrame, column: str) -> dict[str, list[str]]:
    pairs = (
        frame.select("connector", pl.col(column).alias("id"))
        .drop_nulls()
        .unique(maintain_order=True)
        .group_by("connector", maintain_order=True)
        .agg("id")
    )
    return dict(zip(pairs["connector"].to_list(), pairs["id"].to_list(), strict=True))


def _jobs_of(offers: pl.DataFrame, tables: RelatedTables) -> pl.DataFrame:
    """Per offer row: its job's fields (null when the application or job is unknown)."""
    apps = tables.applications.select(
        "connector", pl.col("id").alias("application"), pl.col("job").alias("job_id")
    )
    jobs = tables.jobs.select(
        "connector",
        pl.col("id").alias("job_id"),
        pl.col("name").alias("job"),
        pl.col("departments").alias("__departments"),
        pl.col("offices").list.first().alias("__office"),
        pl.col("recruiters").list.first().alias("__recruiter"),
        pl.lit(True).alias("__found"),
    )
    return (
        offers.select("connector", "application", "creator")
        .with_row_index("__row")
        .join(apps, on=["connector", "application"], how="left")
        .join(jobs, on=["connector", "job_id"], how="left")
        .with_columns(
            pl.when(pl.col("__found")).then(pl.col("job_id")).alias("job_id"),
            # A job without recruiters is credited to the offer's creator.
            pl.when(pl.col("__found"))
            .then(pl.coalesce("__recruiter", "creator"))
            .alias("__recruiter"),
        )
        .sort("__row")
    )


def needed_ids(
    resource: str, offers: pl.DataFrame, *, tables: RelatedTables
) -> dict[str, list[str]]:
    """Per connector, the ids of ``resource`` that enriching ``offers`` needs.

    Applications come from the offers; jobs from the applications in ``tables``; departments,
    offices and users from the jobs in ``tables`` (only the first office; the first recruiter,
    or the offer's creator for a job without recruiters). Ids ``tables`` already holds are left
    out.

    Examples
    --------
    >>> offers = pl.DataFrame({"connector": ["a", "a", "b"], "application": ["x", "x", None],
    ...                        "creator": ["u1", "u1", "u2"]})
    >>> needed_ids("applications", offers, tables=RelatedTables.empty())
    {'a': ['x']}
    """
    if resource == "applications":
        wanted = offers.select("connector", pl.col("application").alias("id"))
    elif resource == "jobs":
        wanted = (
            offers.select("connector", "application")
            .join(
                tables.applications.select("connector", pl.col("id").alias("application"), "job"),
                on=["connector", "application"],
            )
            .select("connector", pl.col("job").alias("id"))
        )
    else:
        joined = _jobs_of(offers, tables)
        if resource == "departments":
            joined = joined.explode("__departments")
        column = {"departments": "__departments", "offices": "__office", "users": "__recruiter"}
        wanted = joined.select("connector", pl.col(column[resource]).alias("id"))
    # What the tables hold already needs no request.
    held = tables.frames()[resource].select("connector", "id")
    return _ids_by_connector(wanted.join(held, on=["connector", "id"], how="anti"), "id")


def _named(frame: pl.DataFrame, prefix: str) -> pl.DataFrame:
    return frame.select(
        "connector",
        pl.col("id").alias(f"{prefix}_id"),
        pl.col("name").alias(prefix),
        pl.lit(True).alias(f"__{prefix}_found"),
    )


def _departments(joined: pl.DataFrame, tables: RelatedTables) -> pl.DataFrame:
    """Per row: the first department (id and name, null if unknown) and every known name."""
    names = _named(tables.departments, "department")
    exploded = (
        joined.select("__row", "connector", pl.col("__departments").alias("department_id"))
        .explode("department_id")
        .with_columns(pl.int_range(pl.len()).over("__row").alias("__pos"))
        .join(names, on=["connector", "department_id"], how="left")
    )
    first = pl.col("__pos") == 0
    found = pl.col("__department_found").fill_null(value=False)
    return (
        exploded.sort("__row", "__pos")
        .group_by("__row")
        .agg(
            pl.col("department_id").filter(first & found).first(),
            pl.col("department").filter(first & found).first(),
            # The names of the departments found, in the job's order (an empty job: empty).
            pl.col("department").filter(found).alias("departments"),
        )
    )


def enrich_offers(offers: pl.DataFrame, tables: RelatedTables) -> pl.DataFrame:
    """Add each offer's job, department, office and recruiter (names and ids).

    An offer's application gives its job; the job gives:

    - ``department``/``department_id``: the job's first department; ``departments``: the names
      of all its departments, in the job's order (a job may belong to several);
    - ``office``/``office_id``: the job's first office;
    - ``recruiter``/``recruiter_id``: the job's first recruiter; for a job without recruiters,
      the offer's creator (who, in most ATSs, is the recruiter who made the offer).

    An id column holds an id only when its object was found. An offer whose application or job
    cannot be found (no application id, a dangling reference, an object the API did not return)
    keeps nulls in every added column (``departments`` null too) and is counted by
    :func:`~offer_analytics.quality_report` as ``unresolved_job``. Existing enrichment columns
    are replaced, so an enriched frame can be enriched again with newer tables.

    Parameters
    ----------
    offers
        The offers frame; needs ``connector``, ``application`` and ``creator``.
    tables
        The related objects, e.g. ``LoadResult`` of ``load_offers(enrich=True)`` or tables kept
        by a store.

    Returns
    -------
    pl.DataFrame
        The offers frame, rows in the same order, with the columns of ``ENRICHED_SCHEMA``
        appended: ``job_id, job, department_id, department, departments, office_id, office,
        recruiter_id, recruiter`` (String; ``departments`` List(String)).

    Examples
    --------
    >>> from offer_analytics.enrich._decode import decode_related
    >>> def table(resource, *items):
    ...     body = json.dumps({"cursor": None, "items": list(items)}).encode()
    ...     return decode_related(resource, [body], connector="acme")
    >>> import json
    >>> tables = RelatedTables(
    ...     applications=table("applications", {"id": "a1", "job": "j1"}),
    ...     jobs=table("jobs", {"id": "j1", "name": "Engineer", "departments": ["d1", "d2"],
    ...                         "offices": ["o1"], "recruiters": []}),
    ...     departments=table("departments", {"id": "d1", "name": "R&D"},
    ...                       {"id": "d2", "name": "Platform"}),
    ...     offices=table("offices", {"id": "o1", "name": "Berlin"}),
    ...     users=table("users", {"id": "u1", "name": "Grace Hopper"}),
    ... )
    >>> offers = pl.DataFrame({"connector": "acme", "id": ["x", "y"],
    ...                        "application": ["a1", "a404"], "creator": ["u1", "u1"]})
    >>> enrich_offers(offers, tables).select(
    ...     "id", "job", "department", "departments", "office", "recruiter").rows()
    [('x', 'Engineer', 'R&D', ['R&D', 'Platform'], 'Berlin', 'Grace Hopper'), \
('y', None, None, None, None, None)]
    """
    missing = [c for c in ("connector", "application", "creator") if c not in offers.columns]
    if missing:
        msg = f"enrich_offers needs the offers frame's columns {missing}."
        raise SchemaError(msg, field=missing[0])
    base = offers.drop([c for c in ENRICHED_COLUMNS if c in offers.columns])
    joined = _jobs_of(base, tables)
    offices = _named(tables.offices, "office")
    users = _named(tables.users, "recruiter")
    found = (
        joined.join(_departments(joined, tables), on="__row", how="left")
        .join(
            offices,
            left_on=["connector", "__office"],
            right_on=["connector", "office_id"],
            how="left",
        )
        .join(
            users,
            left_on=["connector", "__recruiter"],
            right_on=["connector", "recruiter_id"],
            how="left",
        )
        .with_columns(
            pl.when(pl.col("__office_found")).then("__office").alias("office_id"),
            pl.when(pl.col("__recruiter_found")).then("__recruiter").alias("recruiter_id"),
            # A job without departments explodes to no row at all: its list is empty.
            pl.when(pl.col("__found"))
            .then(pl.col("departments").fill_null(pl.lit([], dtype=pl.List(pl.String))))
            .alias("departments"),
        )
        .sort("__row")
        .select(pl.col(name).cast(dtype) for name, dtype in ENRICHED_SCHEMA.items())
    )
    return pl.concat([base, found], how="horizontal")
