"""The data-quality report: every check present, in order, with counts and example ids."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl
import pytest

from offer_analytics.decode import decode_pages
from offer_analytics.metrics._quality import quality_report
from offer_analytics.sandbox import generate_offers

# The `offers` fixture (tests/metrics/conftest.py) builds frames with the exact offers dtypes.
OffersFactory = Callable[[Sequence[Mapping[str, Any]]], pl.DataFrame]

CHECKS = [
    "unparsed_sent_at",
    "unparsed_closed_at",
    "unparsed_remote_created_at",
    "unparsed_modified_at",
    "unparsed_start_date",
    "unknown_status",
    "null_status",
    "closed_before_sent",
    "start_before_close",
    "duplicate_id",
    "missing_application",
]


def test_an_empty_frame_reports_every_check_with_zero(offers: OffersFactory) -> None:
    report = quality_report(offers([]).lazy(), unparsed_timestamps={})
    assert report["check"].to_list() == CHECKS
    assert report["n"].to_list() == [0] * len(CHECKS)
    assert report["example_ids"].to_list() == [[]] * len(CHECKS)
    assert dict(report.schema) == {
        "check": pl.String,
        "description": pl.String,
        "n": pl.Int64,
        "example_ids": pl.List(pl.String),
        "example_values": pl.List(pl.Struct({"value": pl.String, "n": pl.Int64})),
    }
    assert report["example_values"].to_list() == [[]] * len(CHECKS)
    assert report["description"].str.len_chars().min() > 10  # type: ignore[operator]


def test_each_check_counts_the_offers_that_fail_it(offers: OffersFactory) -> None:
    ok = {"application": "A", "sent_at": "2024-01-01", "closed_at": "2024-01-02"}
    frame = offers(
        [
            {**ok, "id": "fine", "outcome": "accepted", "start_date": "2024-01-02"},
            {**ok, "id": "u1", "outcome": "unknown", "status": "EXTENDED"},
            {**ok, "id": "u2", "outcome": "unknown", "status": "offered"},
            {**ok, "id": "n1", "outcome": "unknown", "status": None},
            # closed before sent; a missing timestamp is not a failure.
            {**ok, "id": "cb", "outcome": "declined", "closed_at": "2023-12-31"},
            {**ok, "id": "nc", "outcome": "declined", "closed_at": None},
            # starts the day before its acceptance (same day would be fine: see "fine").
            {**ok, "id": "sb", "outcome": "accepted", "start_date": "2024-01-01"},
            {**ok, "id": "sd", "outcome": "declined", "start_date": "2023-01-01"},  # not accepted
            # the same id twice in acme, once in globex: one duplicated id.
            {**ok, "id": "dup", "connector": "acme", "outcome": "pending"},
            {**ok, "id": "dup", "connector": "acme", "outcome": "pending"},
            {**ok, "id": "dup", "connector": "globex", "outcome": "pending"},
            {"id": "noapp", "outcome": "pending", "sent_at": "2024-01-01"},
        ]
    )
    report = quality_report(frame, unparsed_timestamps={"closed_at": ["x9", "x1", "x1"]})
    got = {row["check"]: (row["n"], row["example_ids"]) for row in report.iter_rows(named=True)}
    assert got == {
        "unparsed_sent_at": (0, []),
        "unparsed_closed_at": (2, ["x1", "x9"]),
        "unparsed_remote_created_at": (0, []),
        "unparsed_modified_at": (0, []),
        "unparsed_start_date": (0, []),
        "unknown_status": (2, ["u1", "u2"]),
        "null_status": (1, ["n1"]),
        "closed_before_sent": (1, ["cb"]),
        "start_before_close": (1, ["sb"]),
        "duplicate_id": (1, ["dup"]),
        "missing_application": (1, ["noapp"]),
    }


def test_examples_are_at_most_five_sorted_ids(offers: OffersFactory) -> None:
    frame = offers([{"id": f"id{i:02d}", "outcome": "pending"} for i in range(12, 0, -1)])
    report = quality_report(frame)
    row = report.filter(pl.col("check") == "missing_application").row(0, named=True)
    assert row["n"] == 12
    assert row["example_ids"] == ["id01", "id02", "id03", "id04", "id05"]


def test_unparsed_checks_say_not_checked_without_the_decoder_ids(offers: OffersFactory) -> None:
    report = quality_report(offers([{"id": "a", "outcome": "accepted", "application": "A"}]))
    assert report["check"].to_list() == CHECKS
    unparsed = report.filter(pl.col("check").str.starts_with("unparsed_"))
    # Null, not 0: nobody looked, so the report must not claim the check passed.
    assert unparsed["n"].to_list() == [None] * 5
    assert unparsed["example_ids"].to_list() == [[]] * 5
    assert unparsed["description"].str.starts_with("not checked").all()
    assert unparsed["description"].str.contains("LoadReport.unparsed_timestamps").all()
    # The checks the frame can answer still ran.
    assert report.filter(~pl.col("check").str.starts_with("unparsed_"))["n"].to_list() == [0] * 6


def test_unknown_statuses_are_listed_with_counts_most_frequent_first(
    offers: OffersFactory,
) -> None:
    frame = offers(
        [
            {"outcome": "unknown", "status": "offered"},
            {"outcome": "unknown", "status": "EXTENDED"},
            {"outcome": "unknown", "status": "OUT"},
            {"outcome": "unknown", "status": "offered"},
            {"outcome": "unknown", "status": "EXTENDED"},
            {"outcome": "unknown", "status": None},  # null_status, not an unknown value
            {"outcome": "accepted", "status": "SIGNED"},
        ]
    )
    report = quality_report(frame, unparsed_timestamps={})
    values = dict(zip(report["check"], report["example_values"].to_list(), strict=True))
    # Count descending, then the raw value (as sent, case kept) ascending.
    assert values["unknown_status"] == [
        {"value": "EXTENDED", "n": 2},
        {"value": "offered", "n": 2},
        {"value": "OUT", "n": 1},
    ]
    assert all(v == [] for check, v in values.items() if check != "unknown_status")


def test_unparsed_columns_beyond_the_timestamps_come_last(offers: OffersFactory) -> None:
    report = quality_report(offers([]), unparsed_timestamps={"zz_custom": ["a"], "aa": ["b"]})
    assert report["check"].to_list() == [
        *CHECKS[:5],
        "unparsed_aa",
        "unparsed_zz_custom",
        *CHECKS[5:],
    ]


def test_unparsed_timestamps_from_decoding_reach_the_report() -> None:
    items = generate_offers(20, seed=3)["default"]
    items[4] = {**items[4], "sent_at": "2024-02-30T10:00:00Z"}  # no such day
    items[9] = {**items[9], "closed_at": "yesterday"}
    page = json.dumps({"cursor": None, "page_size": len(items), "items": items}).encode()
    frame, stats = decode_pages([page])
    report = quality_report(frame, unparsed_timestamps=stats.unparsed)
    got = dict(report.select("check", "example_ids").iter_rows())
    assert got["unparsed_sent_at"] == [items[4]["id"]]
    assert got["unparsed_closed_at"] == [items[9]["id"]]


def test_all_null_columns_of_dtype_null_work() -> None:
    frame = pl.DataFrame({"connector": ["a"], "id": ["1"], "outcome": ["unknown"]}).with_columns(
        pl.lit(None).alias(c)
        for c in ("status", "sent_at", "closed_at", "start_date", "application")
    )
    got = dict(quality_report(frame).select("check", "n").iter_rows())
    assert got["null_status"] == 1
    assert got["missing_application"] == 1
    assert got["closed_before_sent"] == 0


def _failing(frame: pl.DataFrame, check: str) -> tuple[int, list[str]]:
    row = quality_report(frame).filter(check=check).row(0, named=True)
    return row["n"], row["example_ids"]


def test_an_offer_closed_at_the_instant_it_was_sent_is_not_closed_before_sent(
    offers: OffersFactory,
) -> None:
    frame = offers(
        [
            {"id": "same", "outcome": "declined", "sent_at": "2024-01-01T09:00",
             "closed_at": "2024-01-01T09:00"},
            {"id": "early", "outcome": "declined", "sent_at": "2024-01-01T09:00",
             "closed_at": "2024-01-01T08:59"},
        ]
    )  # fmt: skip
    assert _failing(frame, "closed_before_sent") == (1, ["early"])


def test_an_enriched_frame_reports_unresolved_jobs_in_a_last_row(offers: OffersFactory) -> None:
    frame = offers(
        [
            {"id": "ok", "application": "A", "outcome": "accepted"},
            {"id": "lost", "application": "B", "outcome": "unknown", "status": "OFFERED"},
            {"id": "noapp", "outcome": "pending"},
        ]
    ).with_columns(job_id=pl.Series(["J1", None, None], dtype=pl.String))
    report = quality_report(frame, unparsed_timestamps={})
    assert report["check"].to_list() == [*CHECKS, "unresolved_job"]
    last = report.row(-1, named=True)
    assert (last["n"], last["example_ids"], last["example_values"]) == (2, ["lost", "noapp"], [])
    assert "could not be found" in last["description"]
    unknown = report.filter(check="unknown_status").row(0, named=True)
    assert unknown["example_values"] == [{"value": "OFFERED", "n": 1}]


def test_the_unparsed_timestamps_option_is_keyword_only(offers: OffersFactory) -> None:
    with pytest.raises(TypeError):
        quality_report(offers([]), {})  # type: ignore[call-arg]


def test_an_accepted_offer_starting_after_its_acceptance_day_is_not_start_before_close(
    offers: OffersFactory,
) -> None:
    frame = offers(
        [
            {"id": "later", "outcome": "accepted", "closed_at": "2024-01-01T23:00",
             "start_date": "2024-01-15"},
            {"id": "before", "outcome": "accepted", "closed_at": "2024-01-01T00:00",
             "start_date": "2023-12-31"},
        ]
    )  # fmt: skip
    assert _failing(frame, "start_before_close") == (1, ["before"])


def test_an_offer_without_an_outcome_is_not_an_unknown_status(offers: OffersFactory) -> None:
    frame = offers([{"id": "x", "outcome": None, "status": "SIGNED"}])
    row = quality_report(frame).filter(check="unknown_status").row(0, named=True)
    assert (row["n"], row["example_ids"], row["example_values"]) == (0, [], [])
