"""RelatedTables: the five related tables an enrichment joins, one frame each.

Every table has its resource's exact schema (``RELATED_SCHEMAS``) with a ``connector`` column,
so tables of several connectors, or of several loads, stack into one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

import polars as pl

from offer_analytics.enrich._decode import empty_related
from offer_analytics.enrich._schemas import RELATED_SCHEMAS, RESOURCES
from offer_analytics.errors import SchemaError

__all__ = ["RelatedTables"]


@dataclass(frozen=True)
class RelatedTables:
    """Applications, jobs, departments, offices and users, as typed frames.

    Build one from frames you keep (e.g. read from Parquet): each must have its resource's
    exact schema. :meth:`stack` merges tables of several loads, keeping per ``(connector, id)``
    the most recently modified object.

    Examples
    --------
    >>> tables = RelatedTables.empty()
    >>> tables.jobs.height, list(tables.frames())
    (0, ['applications', 'jobs', 'departments', 'offices', 'users'])
    """

    applications: pl.DataFrame
    jobs: pl.DataFrame
    departments: pl.DataFrame
    offices: pl.DataFrame
    users: pl.DataFrame

    def __post_init__(self) -> None:
        for resource in RESOURCES:
            schema = getattr(self, resource).schema
            if schema != RELATED_SCHEMAS[resource]:
                msg = (
                    f"The {resource} table does not have its schema: expected "
                    f"{dict(RELATED_SCHEMAS[resource])}, got {dict(schema)}."
                )
                raise SchemaError(msg, field=resource)

    @classmethod
    def empty(cls) -> RelatedTables:
        """Tables without rows."""
        return cls(*(empty_related(resource) for resource in RESOURCES))

    def frames(self) -> dict[str, pl.DataFrame]:
        """Resource name -> its table, in resolution order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def stack(cls, parts: Iterable[RelatedTables]) -> RelatedTables:
        """One set of tables from several; the latest ``modified_at`` wins per object.

        Examples
        --------
        >>> a = RelatedTables.empty()
        >>> RelatedTables.stack([a, a]).users.height
        0
        """
        parts = list(parts)
        if not parts:
            return cls.empty()
        stacked = []
        for resource in RESOURCES:
            frame = pl.concat([getattr(p, resource) for p in parts], how="vertical")
            stacked.append(
                frame.with_row_index("__order")
                .sort("modified_at", "__order", nulls_last=False)
                .unique(["connector", "id"], keep="last", maintain_order=True)
                .sort("__order")
                .drop("__order")
            )
        return cls(*stacked)
