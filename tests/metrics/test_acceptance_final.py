"""Acceptance: rates and status counts as of a past instant."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from offer_analytics.metrics._acceptance import acceptance_rates, status_counts

# The `offers` fixture (tests/metrics/conftest.py) builds frames with the exact offers dtypes.
OffersFactory = Callable[[Sequence[Mapping[str, Any]]], pl.DataFrame]

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
