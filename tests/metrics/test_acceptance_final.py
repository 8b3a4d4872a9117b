"""Acceptance: which version is an application's final offer, and rates as of a past instant."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from offer_analytics.metrics.acceptance import acceptance_rates, latest_versions, status_counts

# The `offers` fixture (tests/metrics/conftest.py) builds frames with the exact offers dtypes.
OffersFactory = Callable[[Sequence[Mapping[str, Any]]], pl.DataFrame]

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


# --- as_of -------------------------------------------------------------------------------------

HISTORY = [
    # Sent in January, accepted 1 March: pending on 15 February.
    {
        "application": "A",
        "outcome": "accepted",
        "sent_at": "2024-01-10",
        "closed_at": "2024-03-01",
    },
    # Sent and declined in January: known on 15 February.
    {"application": "B", "outcome": "declined", "sent_at": "2024-01-12", "closed_at": "2024-01-20"},
    # Sent in March: did not exist on 15 February.
    {"application": "C", "outcome": "accepted", "sent_at": "2024-03-05", "closed_at": "2024-03-06"},
    # D: accepted in January; a second version created and sent in March is declined in March.
    {
        "id": "d1",
        "application": "D",
        "outcome": "accepted",
        "sent_at": "2024-01-03",
        "closed_at": "2024-01-04",
        "remote_created_at": "2024-01-02",
    },
    {
        "id": "d2",
        "application": "D",
        "outcome": "declined",
        "sent_at": "2024-03-02",
        "closed_at": "2024-03-03",
        "remote_created_at": "2024-03-01",
    },
    # A draft created in March did not exist on 15 February either.
    {"application": "E", "outcome": "draft", "remote_created_at": "2024-03-01"},
]


def _history(offers: OffersFactory) -> pl.DataFrame:
    return offers(HISTORY)


def test_as_of_counts_only_what_existed_and_was_decided_then(offers: OffersFactory) -> None:
    frame = _history(offers)
    cols = ("accepted", "declined", "pending", "n")
    # Today: A, C accepted; B declined; D's final offer d2 declined.
    assert acceptance_rates(frame).select(cols).rows() == [(2, 2, 0, 4)]
    # On 15 February: A pending, B declined, D's final offer was d1 (accepted); C not sent.
    feb = datetime(2024, 2, 15)
    assert acceptance_rates(frame, as_of=feb).select(cols).rows() == [(1, 1, 1, 2)]
    extended = acceptance_rates(frame, as_of=feb, denominator="extended")
    assert extended.select("n", "rate").rows() == [(3, 1 / 3)]
    # A naive as_of is UTC: the same instant written in another zone gives the same numbers.
    aware = datetime(2024, 2, 15, 1, tzinfo=timezone(timedelta(hours=1)))
    assert_frame_equal(acceptance_rates(frame, as_of=aware), acceptance_rates(frame, as_of=feb))


def test_as_of_moves_later_closes_out_of_activity_periods(offers: OffersFactory) -> None:
    frame = _history(offers)
    feb = datetime(2024, 2, 15)
    activity = acceptance_rates(frame, period="month", basis="activity", as_of=feb)
    # Only the January closes (B declined, d1 accepted) were known on 15 February.
    assert activity.select("period", "accepted", "declined").rows() == [(date(2024, 1, 1), 1, 1)]


def test_status_counts_as_of(offers: OffersFactory) -> None:
    frame = _history(offers)
    counts = status_counts(frame, as_of=datetime(2024, 2, 15))
    # A (closed later) pending under its current status; B declined; d1 accepted; C, d2, E later.
    assert counts.select("status", "outcome", "n").rows() == [
        ("SIGNED", "accepted", 1),
        ("DENIED", "declined", 1),
        ("SIGNED", "pending", 1),
    ]
    assert counts["share"].sum() == pytest.approx(1.0)
    assert status_counts(frame)["n"].sum() == len(HISTORY)


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
