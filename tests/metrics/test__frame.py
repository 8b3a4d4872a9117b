"""The shared metric conventions: ``by``, ``as_of``, column types, the sent population."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import polars as pl
import pytest

from offer_analytics.errors import SchemaError
from offer_analytics.metrics._frame import (
    AS_OF_COLUMNS,
    days_between,
    group_keys,
    offers_as_of,
    ordered,
    resolve_as_of,
    sent_population,
    typed_offers,
)

AS_OF = datetime(2026, 2, 1, tzinfo=UTC)
AFTER = AS_OF + timedelta(microseconds=1)


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


def test_by_with_a_name_that_is_not_a_string_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="by must be a column name"):
        group_keys(["connector", 1])  # type: ignore[list-item]


def test_as_of_none_is_now_in_utc() -> None:
    before = datetime.now(UTC)
    now = resolve_as_of(None)
    assert now.tzinfo is UTC
    assert before <= now <= datetime.now(UTC)


def test_a_missing_column_is_a_schema_error_naming_the_first_missing_one() -> None:
    frame = pl.DataFrame({"outcome": ["accepted"]})
    with pytest.raises(SchemaError, match=r"\['team', 'sent_at', 'closed_at'\]") as caught:
        typed_offers(frame, columns=["outcome", "sent_at", "closed_at"], keys=["team"])
    assert caught.value.field == "team"


def test_an_offer_sent_exactly_at_as_of_is_in_the_sent_population() -> None:
    frame = pl.DataFrame({"outcome": ["accepted", "declined"], "sent_at": [AS_OF, AFTER]})
    assert frame.filter(sent_population(AS_OF))["outcome"].to_list() == ["accepted"]


# --- offers as of an instant -------------------------------------------------------------------


def _as_of(rows: Sequence[Mapping[str, object]]) -> list[tuple[object, ...]]:
    """``(id, outcome, closed_at)`` of each offer ``offers_as_of`` keeps at ``AS_OF``."""
    frame = pl.DataFrame(
        [{"id": str(i), **dict.fromkeys(AS_OF_COLUMNS), **row} for i, row in enumerate(rows)],
        schema_overrides={c: pl.Datetime("us", "UTC") for c in AS_OF_COLUMNS if c != "outcome"},
    )
    typed = typed_offers(frame, columns=AS_OF_COLUMNS, keys=["id"])
    return offers_as_of(typed, AS_OF).select("id", "outcome", "closed_at").collect().rows()


def test_an_offer_exists_from_the_instant_it_was_sent_or_created() -> None:
    kept = _as_of(
        [
            {"outcome": "pending", "sent_at": AS_OF},
            {"outcome": "pending", "sent_at": AFTER, "remote_created_at": AS_OF},
            {"outcome": "draft", "remote_created_at": AS_OF},
            {"outcome": "draft", "remote_created_at": AFTER},
            {"outcome": "pending"},  # cannot be placed in time: kept
        ]
    )
    assert [row[0] for row in kept] == ["0", "2", "4"]


def test_an_offer_closed_exactly_at_as_of_keeps_its_outcome() -> None:
    sent = datetime(2026, 1, 1, tzinfo=UTC)
    kept = _as_of(
        [
            {"outcome": "accepted", "sent_at": sent, "closed_at": AS_OF},
            {"outcome": "accepted", "sent_at": sent, "closed_at": AFTER},
        ]
    )
    assert kept == [("0", "accepted", AS_OF), ("1", "pending", None)]


def test_an_offer_closed_after_as_of_was_pending_and_a_never_sent_rescinded_one_a_draft() -> None:
    sent = datetime(2026, 1, 1, tzinfo=UTC)
    created = {"remote_created_at": sent, "closed_at": AFTER}
    kept = _as_of(
        [
            {"outcome": "accepted", **created},  # never sent, accepted later: pending then
            {"outcome": "declined", **created},
            {"outcome": "rescinded", **created},  # withdrawn before sending: still a draft then
            {"outcome": "rescinded", "sent_at": sent, "closed_at": AFTER},
        ]
    )
    assert kept == [("0", "pending", None), ("1", "pending", None), ("2", "draft", None),
                    ("3", "pending", None)]  # fmt: skip


def test_other_outcomes_closed_after_as_of_are_unchanged() -> None:
    sent = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {"outcome": outcome, "sent_at": sent, "closed_at": AFTER}
        for outcome in ("pending", "draft", "superseded", "unknown", None)
    ]
    kept = _as_of(rows)
    assert kept == [(str(i), row["outcome"], AFTER) for i, row in enumerate(rows)]


# --- row order of a breakdown ------------------------------------------------------------------


def test_order_n_breaks_ties_in_group_size_by_the_keys_and_keeps_periods_in_order() -> None:
    table = pl.LazyFrame(
        {
            "team": ["b", "b", "a", "c", None],
            "period": [2, 1, 1, 1, 1],
            "n": [1, 1, 2, 3, 9],
        }
    )
    got = ordered(table, ["team"], order="n", then=["period"]).collect()
    assert got.select("team", "period").rows() == [("c", 1), ("a", 1), ("b", 1), ("b", 2),
                                                   (None, 1)]  # fmt: skip


def test_order_n_without_keys_sorts_by_the_then_columns() -> None:
    table = pl.LazyFrame({"period": [3, 1, 2], "n": [1, 5, 2]})
    assert ordered(table, [], order="n", then=["period"]).collect()["period"].to_list() == [1, 2, 3]


def test_order_keys_puts_a_null_key_last_whatever_its_size() -> None:
    table = pl.LazyFrame({"team": [None, "b", "a"], "n": [9, 1, 2]})
    assert ordered(table, ["team"], order="keys").collect()["team"].to_list() == ["a", "b", None]
    with pytest.raises(ValueError, match="order must be 'keys' or 'n'"):
        ordered(table, ["team"], order="size")  # type: ignore[arg-type]


def test_an_answered_offer_without_closed_at_keeps_its_outcome() -> None:
    sent = datetime(2026, 1, 1, tzinfo=UTC)
    kept = _as_of([{"outcome": "accepted", "sent_at": sent}, {"outcome": "declined"}])
    assert kept == [("0", "accepted", None), ("1", "declined", None)]


def test_order_n_among_groups_with_a_null_key_breaks_ties_with_nulls_last() -> None:
    table = pl.LazyFrame(
        {"team": [None, "y", "a"], "site": ["x", None, "b"], "n": [1, 1, 1]},
        schema={"team": pl.String, "site": pl.String, "n": pl.Int64},
    )
    got = ordered(table, ["team", "site"], order="n").collect()
    assert got.select("team", "site").rows() == [("a", "b"), ("y", None), (None, "x")]


def test_order_keys_sorts_by_the_keys_not_by_group_size() -> None:
    table = pl.LazyFrame({"team": ["b", "a"], "n": [5, 1]})
    # Built at run time, as an option read from a command line is: not an interned literal.
    keys_option: Any = "".join(["ke", "ys"])
    assert ordered(table, ["team"], order=keys_option).collect()["team"].to_list() == ["a", "b"]
    assert ordered(table, ["team"], order="n").collect()["team"].to_list() == ["b", "a"]


def test_by_may_name_any_number_of_distinct_columns() -> None:
    names = [f"c{i}" for i in range(300)]  # past CPython's cache of small ints
    assert group_keys(names) == names


def test_grouping_by_outcome_read_at_run_time_still_types_the_outcome() -> None:
    # A key named at run time (CLI, config file) is an equal string, not the same object.
    key = "".join(["out", "come"])
    frame = pl.DataFrame({"outcome": ["pending", "draft", "accepted"]})
    typed = typed_offers(frame, columns=[], keys=[key]).collect()
    assert isinstance(typed.schema["outcome"], pl.Enum)
    assert typed.sort("outcome")["outcome"].to_list() == ["accepted", "pending", "draft"]
