"""Folding a load into a connector's stored table: the upsert on ``id`` and, on full runs, removal.

An incremental load holds the offers modified since the watermark, some of them already stored
(the watermark's overlap re-reads a few minutes on purpose). Each loaded row is classified against
the stored one with the same id: ``new`` (no stored row), ``updated`` (the rows differ and the
loaded one is not older by ``modified_at``; a loaded row without one counts as newer) or
``unchanged``. A full load is the whole truth: the table becomes the load, and stored ids it
lacks are ``removed``.

Frames here have no ``connector`` column: one connector's table is one partition.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

__all__ = ["Merge", "merge"]


@dataclass(frozen=True)
class Merge:
    """The new table and what changed, as rows (for the history) and counts."""

    table: pl.DataFrame
    new: pl.DataFrame
    updated: pl.DataFrame
    removed: pl.DataFrame
    unchanged: int


def _latest_per_id(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per id, the one with the latest ``modified_at`` (a listing may repeat an offer)."""
    if frame.height == frame["id"].n_unique():
        return frame
    ordered = frame.with_row_index("__order").sort(["modified_at", "__order"], nulls_last=False)
    return ordered.unique("id", keep="last", maintain_order=True).drop("__order")


def merge(stored: pl.DataFrame | None, loaded: pl.DataFrame, *, full: bool) -> Merge:
    """Fold ``loaded`` into ``stored`` (None: nothing stored yet); the table comes sorted by id.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> t = lambda day: datetime(2026, 1, day, tzinfo=UTC)
    >>> stored = pl.DataFrame({"id": ["a", "b", "c"], "status": ["SENT", "SENT", "SENT"],
    ...                        "modified_at": [t(1), t(1), t(1)]})
    >>> loaded = pl.DataFrame({"id": ["b", "c", "d"], "status": ["SIGNED", "SENT", "DRAFT"],
    ...                        "modified_at": [t(2), t(1), t(2)]})
    >>> m = merge(stored, loaded, full=False)
    >>> m.table["status"].to_list(), m.new.height, m.updated.height, m.unchanged
    (['SENT', 'SIGNED', 'SENT', 'DRAFT'], 1, 1, 1)
    >>> merge(stored, loaded, full=True).removed["id"].to_list()
    ['a']
    """
    loaded = _latest_per_id(loaded)
    if stored is None:
        stored = loaded.clear()
    stored_ids = stored["id"].implode()
    differs = loaded.join(stored, on=loaded.columns, how="anti", nulls_equal=True)
    new = differs.filter(~pl.col("id").is_in(stored_ids))
    candidates = differs.filter(pl.col("id").is_in(stored_ids))
    if full:
        updated = candidates
    else:
        # An offer's stored row is newer than the loaded one only if the API went back in
        # time for it; keep the newer row (the upsert keeps the latest modified_at). A loaded
        # row without modified_at was still listed as modified after the watermark: it is news.
        stored_at = stored.select("id", pl.col("modified_at").alias("__stored_at"))
        fresher = (
            pl.col("__stored_at").is_null()
            | pl.col("modified_at").is_null()
            | (pl.col("modified_at") >= pl.col("__stored_at"))
        )
        updated = candidates.join(stored_at, on="id", how="left").filter(fresher)
        updated = updated.drop("__stored_at")
    unchanged = loaded.height - new.height - updated.height
    if full:
        removed = stored.filter(~pl.col("id").is_in(loaded["id"].implode()))
        table = loaded
    else:
        removed = stored.clear()
        replaced = pl.concat([updated["id"], new["id"]]).implode()
        table = pl.concat([stored.filter(~pl.col("id").is_in(replaced)), updated, new])
    return Merge(
        table=table.sort("id"), new=new, updated=updated, removed=removed, unchanged=unchanged
    )
