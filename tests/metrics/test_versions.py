"""Versions: which version is an application's final offer, and that the rates count only it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from offer_analytics.errors import SchemaError
from offer_analytics.metrics._acceptance import acceptance_rates
from offer_analytics.metrics._versions import latest_versions

# The `offers` fixture (tests/metrics/conftest.py) builds frames with the exact offers dtypes.
OffersFactory = Callable[[Sequence[Mapping[str, Any]]], pl.DataFrame]

# --- one final offer per application -------------------------------------------------------


def test_latest_version_per_application_decides(offers: OffersFactory) -> None:
    frame = offers(
        [
            # Application A: the accepted v1 was superseded; v2 declined; v3 (created last) open.
            {
                "id": "a1",
                "application": "A",
                "outcome": "superseded",
                "remote_created_at": "2024-01-01",
            },
            {
                "id": "a2",
                "application": "A",
                "outcome": "declined",
                "remote_created_at": "2024-01-02",
            },
            {
                "id": "a3",
                "application": "A",
                "outcome": "pending",
                "remote_created_at": "2024-01-03",
            },
            # Application B: same creation instant; the later modification wins.
            {
                "id": "b1",
                "application": "B",
                "outcome": "accepted",
                "remote_created_at": "2024-01-01",
                "modified_at": "2024-01-09",
            },
            {
                "id": "b2",
                "application": "B",
                "outcome": "declined",
                "remote_created_at": "2024-01-01",
                "modified_at": "2024-01-05",
            },
            # Application C: a missing creation time ranks lowest.
            {"id": "c1", "application": "C", "outcome": "accepted"},
            {
                "id": "c2",
                "application": "C",
                "outcome": "declined",
                "remote_created_at": "2023-01-01",
            },
            # No application: each offer is its own application.
            {"id": "d1", "outcome": "accepted"},
            {"id": "d2", "outcome": "accepted"},
            # The same application id in another connector is another application.
            {"id": "e1", "connector": "globex", "application": "A", "outcome": "accepted"},
        ]
    )
    assert sorted(latest_versions(frame).collect()["id"]) == ["a3", "b1", "c2", "d1", "d2", "e1"]
    latest = acceptance_rates(frame)
    # a3 pending, b1 accepted, c2 declined, d1 d2 e1 accepted: 4 accepted, 1 declined.
    assert latest.select("accepted", "declined", "pending", "n").rows() == [(4, 1, 1, 5)]
    every = acceptance_rates(frame, latest_per_application=False)
    # All but the superseded a1: accepted b1 c1 d1 d2 e1 = 5; declined a2 b2 c2 = 3; pending a3.
    assert every.select("accepted", "declined", "pending", "n").rows() == [(5, 3, 1, 8)]


def test_ties_on_every_timestamp_are_broken_by_id_not_row_order(offers: OffersFactory) -> None:
    rows = [
        {"id": "x2", "application": "A", "outcome": "accepted"},
        {"id": "x1", "application": "A", "outcome": "declined"},
    ]
    for ordered in (rows, rows[::-1]):
        assert latest_versions(offers(ordered)).collect()["id"].to_list() == ["x2"]


# --- the final offer is the latest extended version -----------------------------------------

VERSIONS = [
    # A: declined, then a new draft prepared: the candidate's answer was the decline.
    {
        "id": "a1",
        "application": "A",
        "outcome": "declined",
        "sent_at": "2024-01-02",
        "closed_at": "2024-01-04",
        "remote_created_at": "2024-01-01",
    },
    {"id": "a2", "application": "A", "outcome": "draft", "remote_created_at": "2024-01-05"},
    # B: accepted, then a version whose status the mapping does not know.
    {
        "id": "b1",
        "application": "B",
        "outcome": "accepted",
        "sent_at": "2024-01-02",
        "closed_at": "2024-01-03",
        "remote_created_at": "2024-01-01",
    },
    {
        "id": "b2",
        "application": "B",
        "status": "EXTENDED",
        "outcome": "unknown",
        "sent_at": "2024-01-06",
        "remote_created_at": "2024-01-06",
    },
    # C: only drafts, never extended: no final offer.
    {"id": "c1", "application": "C", "outcome": "draft", "remote_created_at": "2024-01-01"},
    {"id": "c2", "application": "C", "outcome": "draft", "remote_created_at": "2024-01-02"},
    # D: declined, then a new version withdrawn before it was sent.
    {
        "id": "d1",
        "application": "D",
        "outcome": "declined",
        "sent_at": "2024-01-02",
        "closed_at": "2024-01-03",
        "remote_created_at": "2024-01-01",
    },
    {"id": "d2", "application": "D", "outcome": "rescinded", "remote_created_at": "2024-01-04"},
]


def test_drafts_and_unknown_versions_never_hide_the_extended_offer(
    offers: OffersFactory,
) -> None:
    frame = offers(VERSIONS)
    assert latest_versions(frame).collect()["id"].to_list() == ["a1", "b1", "d1"]
    rates = acceptance_rates(frame)
    # a1 declined, b1 accepted, d1 declined; C has no extended version.
    assert rates.select("accepted", "declined", "pending", "rescinded", "n").rows() == [
        (1, 2, 0, 0, 3)
    ]


def test_a_later_extended_version_still_wins_over_an_earlier_one(offers: OffersFactory) -> None:
    frame = offers(
        [
            {
                "id": "x1",
                "application": "X",
                "outcome": "declined",
                "remote_created_at": "2024-01-01",
            },
            {"id": "x2", "application": "X", "outcome": "draft", "remote_created_at": "2024-01-02"},
            {
                "id": "x3",
                "application": "X",
                "outcome": "accepted",
                "remote_created_at": "2024-01-03",
            },
            {
                "id": "x4",
                "application": "X",
                "outcome": "unknown",
                "remote_created_at": "2024-01-04",
            },
        ]
    )
    assert latest_versions(frame).collect()["id"].to_list() == ["x3"]
    assert acceptance_rates(frame).select("accepted", "declined").rows() == [(1, 0)]


def test_an_application_with_only_drafts_keeps_its_group_row_with_zero_counts(
    offers: OffersFactory,
) -> None:
    frame = offers(
        [
            {"id": "c1", "application": "C", "outcome": "draft", "connector": "acme"},
            {"id": "c2", "application": "C", "outcome": "draft", "connector": "acme"},
        ]
    )
    assert latest_versions(frame).collect().height == 0
    rates = acceptance_rates(frame, by="connector")
    assert rates.select("connector", "accepted", "declined", "n").rows() == [("acme", 0, 0, 0)]


# --- determinism -------------------------------------------------------------------------------


def test_duplicate_ids_tied_on_every_key_give_the_same_answer_in_any_row_order(
    offers: OffersFactory,
) -> None:
    same = {"id": "x", "application": "A", "remote_created_at": "2024-01-01"}
    rows = [
        {**same, "outcome": "accepted", "sent_at": "2024-01-02", "closed_at": "2024-01-03"},
        {**same, "outcome": "declined", "sent_at": "2024-01-02", "closed_at": "2024-01-04"},
        {**same, "outcome": "declined", "sent_at": "2024-01-02", "closed_at": "2024-01-05"},
        {**same, "outcome": "pending", "sent_at": "2024-01-02", "connector": "acme"},
        {"id": "y", "application": "B", "outcome": "accepted"},
    ]
    frame = offers(rows)
    expected = latest_versions(frame).collect()
    # declined ranks above accepted in the Enum; then the later closed_at wins.
    assert expected.select("connector", "id", "outcome", "closed_at").rows() == [
        ("acme", "x", "pending", None),
        ("default", "x", "declined", datetime(2024, 1, 5, tzinfo=UTC)),
        ("default", "y", "accepted", None),
    ]
    rates = acceptance_rates(frame, by="connector", period="month")
    for seed in range(12):
        shuffled = frame.sample(fraction=1.0, shuffle=True, seed=seed)
        assert_frame_equal(latest_versions(shuffled).collect(), expected)
        assert_frame_equal(acceptance_rates(shuffled, by="connector", period="month"), rates)


# --- the order that picks the final offer, one key against the next -------------------------


def _final_of_two(offers: OffersFactory, z: tuple[str, str, str], a: tuple[str, str, str]) -> str:
    """The final offer's id of two versions "z" (declined) and "a" (accepted) of application A.

    Each tuple is (remote_created_at, modified_at, sent_at); "z" wins ties on all three by id.
    """
    rows = [
        {
            "id": name,
            "application": "A",
            "outcome": outcome,
            "remote_created_at": created,
            "modified_at": modified,
            "sent_at": sent,
        }
        for name, outcome, (created, modified, sent) in [("z", "declined", z), ("a", "accepted", a)]
    ]
    ids = latest_versions(offers(rows)).collect()["id"].to_list()
    assert len(ids) == 1
    return str(ids[0])


def test_the_version_created_last_wins_over_the_one_modified_last(
    offers: OffersFactory,
) -> None:
    # Created first but touched and sent last (a note added to the old version): creation decides.
    z = ("2024-01-01", "2024-01-09", "2024-01-09")
    assert _final_of_two(offers, z, ("2024-01-02", "2024-01-03", "2024-01-03")) == "a"


def test_on_equal_creation_the_version_modified_last_wins_over_the_one_sent_last(
    offers: OffersFactory,
) -> None:
    z = ("2024-01-01", "2024-01-02", "2024-01-08")
    assert _final_of_two(offers, z, ("2024-01-01", "2024-01-05", "2024-01-04")) == "a"


def test_on_equal_creation_and_modification_the_version_sent_last_wins_over_the_greater_id(
    offers: OffersFactory,
) -> None:
    z = ("2024-01-01", "2024-01-02", "2024-01-02")
    assert _final_of_two(offers, z, ("2024-01-01", "2024-01-02", "2024-01-03")) == "a"


def test_a_frame_without_a_needed_column_is_a_schema_error_naming_it(
    offers: OffersFactory,
) -> None:
    frame = offers([{"id": "a", "application": "A", "outcome": "accepted"}])
    with pytest.raises(SchemaError, match="application") as raised:
        latest_versions(frame.drop("application"))
    assert raised.value.field == "application"
    with pytest.raises(SchemaError) as raised:
        latest_versions(frame.drop("sent_at", "modified_at"))
    assert raised.value.field == "modified_at"  # the first missing one in the documented order


def test_a_version_with_a_null_outcome_is_never_the_final_offer(offers: OffersFactory) -> None:
    frame = offers(
        [
            {
                "id": "a1",
                "application": "A",
                "outcome": "declined",
                "sent_at": "2024-01-02",
                "remote_created_at": "2024-01-01",
            },
            {
                "id": "a2",
                "application": "A",
                "outcome": None,
                "sent_at": "2024-01-06",
                "remote_created_at": "2024-01-05",
            },
            {"id": "b1", "application": "B", "outcome": None, "remote_created_at": "2024-01-05"},
        ]
    )
    assert latest_versions(frame).collect()["id"].to_list() == ["a1"]


def test_a_draft_with_a_sent_at_is_never_the_final_offer(offers: OffersFactory) -> None:
    # Only a rescinded version counts as extended because of its sent_at; a draft never does,
    # even one created after the answered version and carrying a sent_at.
    frame = offers(
        [
            {
                "id": "a1",
                "application": "A",
                "outcome": "accepted",
                "remote_created_at": "2024-01-01",
            },
            {
                "id": "a2",
                "application": "A",
                "outcome": "draft",
                "sent_at": "2024-01-06",
                "remote_created_at": "2024-01-05",
            },
        ]
    )
    assert latest_versions(frame).collect()["id"].to_list() == ["a1"]


@pytest.mark.parametrize("column", ["start_date", "status"])
def test_duplicates_tied_up_to_the_outcome_are_settled_by_the_columns_after_it(
    offers: OffersFactory, column: str
) -> None:
    # Two copies of one offer, equal in every column but one that sorts after "outcome" by
    # name: the greater value wins whatever the row order (null smallest).
    same = {"id": "x", "application": "A", "outcome": "accepted", "remote_created_at": "2024-01-01"}
    values = {"start_date": ("2024-02-01", "2024-03-01"), "status": ("ACCEPTED", "SIGNED")}[column]
    rows = [{**same, column: value} for value in (None, *values)]
    for order in (rows, rows[::-1], [rows[1], rows[2], rows[0]]):
        final = latest_versions(offers(order)).collect()
        assert final.height == 1
        assert str(final[column][0]) == values[1]
