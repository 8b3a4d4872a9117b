"""The shared metric conventions: ``by``, ``as_of``, column types, the sent population."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import polars as pl
import pytest

from offer_analytics.metrics._frame import (
    days_between,
    group_keys,
    resolve_as_of,
    sent_population,
    typed_offers,
)


def test_group_keys_accepts_none_a_name_or_a_sequence() -> None:
    assert group_keys(None) == []
    assert group_keys("connector") == ["connector"]
    assert group_keys(("connector", "outcome")) == ["connector", "outcome"]
    with pytest.raises(ValueError, match="more than once"):
        group_keys(["connector", "connector"])


def test_resolve_as_of_makes_an_aware_utc_datetime() -> None:
    assert resolve_as_of(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)
    plus_two = datetime(2026, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))
    assert resolve_as_of(plus_two) == datetime(2026, 1, 1, tzinfo=UTC)
    assert resolve_as_of(plus_two).tzinfo is UTC
    fixed = datetime(2030, 5, 6, tzinfo=UTC)
    assert resolve_as_of(None, now=lambda: fixed) == fixed


def test_typed_offers_casts_loose_columns_to_the_documented_types() -> None:
    loose = pl.DataFrame(
        {
            "outcome": ["accepted", None],
            "sent_at": [datetime(2026, 1, 1), None],  # naive: UTC
            "closed_at": [None, None],  # dtype Null
            "modified_at": [datetime(2026, 1, 1, 1), None],
        }
    ).with_columns(pl.col("modified_at").dt.replace_time_zone("Europe/Paris"))
    typed = typed_offers(loose, columns=["outcome", "sent_at", "closed_at", "modified_at"])
    assert typed.collect_schema()["outcome"] == pl.Enum(
        ["accepted", "declined", "pending", "draft", "rescinded", "superseded", "unknown"]
    )
    assert typed.collect_schema()["sent_at"] == pl.Datetime("us", "UTC")
    assert typed.collect_schema()["closed_at"] == pl.Datetime("us", "UTC")
    # The same instants: naive read as UTC, Paris 01:00 in winter is midnight UTC.
    assert typed.collect().row(0)[1:] == (
        datetime(2026, 1, 1, tzinfo=UTC),
        None,
        datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_sent_population_keeps_sent_offers_up_to_as_of_except_drafts_and_superseded() -> None:
    frame = pl.DataFrame(
        {
            "outcome": ["accepted", "superseded", "draft", None, "pending", "pending"],
            "sent_at": [
                datetime(2026, 1, 1, tzinfo=UTC),
                datetime(2026, 1, 1, tzinfo=UTC),
                datetime(2026, 1, 1, tzinfo=UTC),
                datetime(2026, 1, 1, tzinfo=UTC),
                None,
                datetime(2026, 3, 1, tzinfo=UTC),
            ],
        }
    )
    kept = frame.filter(sent_population(datetime(2026, 2, 1, tzinfo=UTC)))
    assert kept["outcome"].to_list() == ["accepted", None]


def test_days_between_is_float_days_at_microsecond_precision() -> None:
    frame = pl.DataFrame(
        {
            "a": [datetime(2026, 1, 1, tzinfo=UTC)],
            "b": [datetime(2026, 1, 2, 12, 0, 0, 1, tzinfo=UTC)],
        }
    )
    days = frame.select(days_between(pl.col("a"), pl.col("b"))).item()
    assert days == pytest.approx(1.5 + 1 / 86_400e6, abs=1e-15)
