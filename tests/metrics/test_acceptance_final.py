"""Acceptance: which version is an application's final offer, and rates as of a past instant."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl

from offer_analytics.metrics.acceptance import acceptance_rates, latest_versions

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
