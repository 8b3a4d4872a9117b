"""The upsert of a load into a connector's stored table, row by row."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from offer_analytics.store._merge import merge


def at(minute: int | None) -> datetime | None:
    return None if minute is None else datetime(2026, 1, 1, 12, minute, tzinfo=UTC)


def rows(*items: tuple[str, str, int | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": [i for i, _, _ in items],
            "status": [s for _, s, _ in items],
            "modified_at": [at(m) for _, _, m in items],
        },
        schema={"id": pl.String, "status": pl.String, "modified_at": pl.Datetime("us", "UTC")},
    )


def status_of(frame: pl.DataFrame, offer_id: str) -> str:
    return str(frame.filter(pl.col("id") == offer_id)["status"].item())


def test_a_loaded_row_older_than_the_stored_one_does_not_replace_it() -> None:
    result = merge(rows(("a", "SIGNED", 5)), rows(("a", "SENT", 4)), full=False)
    assert status_of(result.table, "a") == "SIGNED"
    assert (result.updated.height, result.unchanged) == (0, 1)


def test_a_tie_on_modified_at_with_other_content_takes_the_loaded_row() -> None:
    result = merge(rows(("a", "SENT", 5)), rows(("a", "SIGNED", 5)), full=False)
    assert status_of(result.table, "a") == "SIGNED"
    assert result.updated.height == 1


def test_a_loaded_row_without_modified_at_is_an_update() -> None:
    # The API listed it as modified after the watermark: it is news, whatever its timestamp says.
    result = merge(
        rows(("a", "SENT", 5), ("b", "SENT", 5)), rows(("a", "SIGNED", None)), full=False
    )
    assert status_of(result.table, "a") == "SIGNED"
    assert result.updated["id"].to_list() == ["a"]
    assert result.table.height == 2


def test_an_offer_listed_twice_keeps_its_latest_version_once() -> None:
    loaded = rows(("a", "SIGNED", 7), ("a", "SENT", 6), ("b", "DRAFT", 6))
    result = merge(rows(("a", "SENT", 5)), loaded, full=False)
    assert result.table["id"].to_list() == ["a", "b"]
    assert status_of(result.table, "a") == "SIGNED"
    assert (result.new.height, result.updated.height) == (1, 1)


def test_a_stored_row_without_modified_at_is_replaced() -> None:
    result = merge(rows(("a", "SENT", None)), rows(("a", "SIGNED", 3)), full=False)
    assert status_of(result.table, "a") == "SIGNED"
