"""The related tables' exact schemas, and the join that adds job, department, office, recruiter."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from offer_analytics import RelatedTables, SchemaError, enrich_offers, quality_report
from offer_analytics.enrich import ENRICHED_SCHEMA, RELATED_SCHEMAS, RESOURCES, decode_related


def _table(resource: str, *items: dict[str, Any], connector: str = "acme") -> pl.DataFrame:
    body = json.dumps({"cursor": None, "page_size": 200, "items": list(items)}).encode()
    return decode_related(resource, [body], connector=connector)


def _tables() -> RelatedTables:
    return RelatedTables(
        applications=_table(
            "applications",
            {"id": "a1", "job": "j1"},
            {"id": "a2", "job": "j2"},
            {"id": "a3", "job": "j404"},
            {"id": "a4", "job": "j3"},
        ),
        jobs=_table(
            "jobs",
            {
                "id": "j1",
                "name": "SRE",
                "departments": ["d1", "d2"],
                "offices": ["o1", "o2"],
                "recruiters": ["u1", "u2"],
            },
            {
                "id": "j2",
                "name": "AE",
                "departments": ["d404", "d2"],
                "offices": [],
                "recruiters": [],
            },
            {"id": "j3", "name": "PM", "departments": [], "offices": None, "recruiters": None},
        ),
        departments=_table(
            "departments", {"id": "d1", "name": "Eng"}, {"id": "d2", "name": "Platform"}
        ),
        offices=_table("offices", {"id": "o1", "name": "Berlin"}, {"id": "o2", "name": "Oslo"}),
        users=_table(
            "users",
            {"id": "u1", "name": "Grace Hopper"},
            {"id": "u3", "first_name": "Alan", "last_name": "Turing"},
        ),
    )


def _offers(**columns: Any) -> pl.DataFrame:
    return pl.DataFrame({"connector": "acme", **columns})


def test_every_table_and_the_added_columns_have_exact_types() -> None:
    tables = _tables()
    for resource in RESOURCES:
        assert tables.frames()[resource].schema == RELATED_SCHEMAS[resource]
    offers = _offers(id=["x"], application=["a1"], creator=["u3"])
    added = enrich_offers(offers, tables).drop(offers.columns)
    assert added.schema == ENRICHED_SCHEMA
    assert RelatedTables.empty().jobs.schema == RELATED_SCHEMAS["jobs"]


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"id": "j1", "departments": "d1"}, "departments"),
        ({"id": "j1", "departments": [1]}, "departments"),
        ({"id": "j1", "name": {"en": "SRE"}}, "name"),
        ({"id": "j1", "status": True}, "status"),
        ({"name": "no id"}, "id"),
    ],
)
def test_a_field_of_the_wrong_type_is_a_schema_error_naming_it(
    item: dict[str, Any], field: str
) -> None:
    with pytest.raises(SchemaError) as caught:
        _table("jobs", item)
    assert caught.value.field == field


def test_a_table_of_the_wrong_schema_is_refused() -> None:
    parts = RelatedTables.empty().frames()
    parts["jobs"] = parts["jobs"].drop("recruiters")
    with pytest.raises(SchemaError, match="jobs"):
        RelatedTables(**parts)


def test_each_offer_resolves_through_application_and_job() -> None:
    offers = _offers(
        id=["x", "y", "z", "w", "v"],
        application=["a1", "a2", "a3", None, "a4"],
        creator=["u3", "u3", "u1", "u1", "u404"],
    )
    rows = enrich_offers(offers, _tables()).select(
        "id", "job", "department_id", "department", "departments", "office", "recruiter_id",
        "recruiter",
    ).rows()  # fmt: skip
    assert rows == [
        # first department and office; the job's first recruiter, not the creator
        ("x", "SRE", "d1", "Eng", ["Eng", "Platform"], "Berlin", "u1", "Grace Hopper"),
        # first department unknown: no department, the known one still listed; no recruiter on
        # the job, so the creator
        ("y", "AE", None, None, ["Platform"], None, "u3", "Alan Turing"),
        # a job that does not exist, and no application: nothing, not even the creator
        ("z", None, None, None, None, None, None, None),
        ("w", None, None, None, None, None, None, None),
        # a known job with nothing on it; its creator is no known user
        ("v", "PM", None, None, [], None, None, None),
    ]


def test_ids_join_within_a_connector_and_enriching_again_replaces_the_columns() -> None:
    tables = _tables()
    offers = pl.DataFrame(
        {"connector": ["acme", "globex"], "id": ["x", "x"], "application": "a1", "creator": None}
    )
    once = enrich_offers(offers, tables)
    assert once["job"].to_list() == ["SRE", None]  # globex has no application a1
    twice = enrich_offers(once, tables)
    assert twice.equals(once)


def test_stacking_keeps_the_latest_version_of_each_object() -> None:
    old = _table("jobs", {"id": "j1", "name": "Old", "modified_at": "2026-01-01T00:00:00Z"})
    new = _table("jobs", {"id": "j1", "name": "New", "modified_at": "2026-02-01T00:00:00Z"})
    empty = RelatedTables.empty().frames()
    stacked = RelatedTables.stack(
        [RelatedTables(**{**empty, "jobs": new}), RelatedTables(**{**empty, "jobs": old})]
    )
    assert stacked.jobs["name"].to_list() == ["New"]


def test_the_quality_report_counts_unresolved_offers_only_when_enriched() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    offers = _offers(
        id=["x", "z", "w"],
        application=["a1", "a3", None],
        creator=["u1", "u1", "u1"],
        status="SIGNED",
        outcome="accepted",
        sent_at=t,
        closed_at=t,
        start_date=None,
    ).with_columns(pl.col("start_date").cast(pl.Date))
    assert "unresolved_job" not in quality_report(offers)["check"].to_list()
    report = quality_report(enrich_offers(offers, _tables()))
    row = report.filter(check="unresolved_job").row(0, named=True)
    assert (row["n"], row["example_ids"]) == (2, ["w", "z"])
    assert report["check"].to_list()[-1] == "unresolved_job"
