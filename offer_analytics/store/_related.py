"""The related tables a sync with ``enrich=True`` keeps per connector, and their refresh.

Each connector's applications, jobs, departments, offices and users live in
``related/<resource>/connector=<label>/part-0.parquet`` (without the ``connector`` column, which
is the partition). A sync stacks what it fetched onto what was stored, the latest
``modified_at`` winning per object, and enriches the connector's whole offers table with the
result, so that a renamed department reaches offers that did not change.

These tables are an input of the offers table, never read by :func:`read_offers`: the offers
file carries its enrichment. So the tables are written before the offers file and a crash in
between leaves tables a little newer than the offers they enriched, which the next sync, which
re-enriches every offer, makes whole again.
"""

from __future__ import annotations

import polars as pl

from offer_analytics.enrich import (
    ENRICHED_COLUMNS,
    RELATED_SCHEMAS,
    RESOURCES,
    RelatedTables,
    enrich_offers,
)
from offer_analytics.errors import SchemaError
from offer_analytics.store._dataset import Dataset
from offer_analytics.store._merge import Merge
from offer_analytics.store._parquet import Profile, parquet_writer, to_arrow

__all__ = ["enrich_merge", "plain", "read_related", "refreshed", "write_related"]


def read_related(dataset: Dataset, label: str) -> RelatedTables:
    """The tables stored for ``label`` (empty ones where none is stored yet).

    Raises
    ------
    SchemaError
        A stored table is not readable, or not of its resource's schema.
    """
    frames = {}
    for resource in RESOURCES:
        file = dataset.related_file(resource, label)
        schema = RELATED_SCHEMAS[resource]
        if not file.is_file():
            frames[resource] = pl.DataFrame(schema=schema)
            continue
        try:
            stored = pl.read_parquet(file)
        except (OSError, pl.exceptions.ComputeError) as error:
            raise SchemaError(f"{file} is not a readable Parquet file: {error}") from None
        missing = [c for c in schema if c != "connector" and c not in stored.columns]
        if missing:
            raise SchemaError(f"{file} has no {missing[0]!r} column: it is no {resource} table.")
        frames[resource] = stored.with_columns(connector=pl.lit(label, pl.String)).select(
            list(schema)
        )
    return RelatedTables(**frames)


def write_related(dataset: Dataset, label: str, tables: RelatedTables, *, profile: Profile) -> None:
    """Replace ``label``'s stored tables, one atomic file each."""
    for resource, frame in tables.frames().items():
        rows = frame.filter(pl.col("connector") == label).drop("connector").sort("id")
        arrow = to_arrow(rows, profile=profile)
        write = parquet_writer(arrow, profile=profile, watermark=None, offers=False)
        dataset.replace(
            dataset.related_file(resource, label), write, label=label, kind=f"related:{resource}"
        )


def refreshed(stored: RelatedTables | None, fetched: RelatedTables) -> RelatedTables:
    """What was stored with what was fetched on top (the latest ``modified_at`` wins)."""
    return fetched if stored is None else RelatedTables.stack([stored, fetched])


def plain(table: pl.DataFrame | None) -> pl.DataFrame | None:
    """A stored table without its enrichment columns (what a load returns)."""
    if table is None:
        return None
    return table.drop([c for c in ENRICHED_COLUMNS if c in table.columns])


def enrich_merge(merged: Merge, tables: RelatedTables, *, label: str) -> Merge:
    """``merged`` with every table and history row enriched from ``tables``."""

    def enriched(frame: pl.DataFrame) -> pl.DataFrame:
        with_label = frame.with_columns(connector=pl.lit(label, pl.String))
        return enrich_offers(with_label, tables).drop("connector")

    return Merge(
        table=enriched(merged.table),
        new=enriched(merged.new),
        updated=enriched(merged.updated),
        removed=enriched(merged.removed),
        unchanged=merged.unchanged,
    )
