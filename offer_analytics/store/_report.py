"""What a sync did: a :class:`ConnectorSync` per connector and their :class:`SyncReport`.

Counts, labels, timestamps and the loader's own :class:`~offer_analytics.LoadReport`: never a
key or a token, so that reports can be printed, logged and stored in the state files as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from offer_analytics.load import LoadReport

__all__ = ["ConnectorSync", "SyncMode", "SyncReport"]

SyncMode = Literal["initial", "incremental", "full"]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True, kw_only=True, repr=False)
class ConnectorSync:
    """What the sync of one connector changed and cost.

    Attributes
    ----------
    label
        The connector.
    mode
        ``"initial"`` (nothing stored yet: everything loaded), ``"incremental"`` (offers modified
        after the stored watermark) or ``"full"`` (everything reloaded and reconciled).
    new, updated, unchanged
        Offers loaded that were not stored yet / replaced a stored row / matched their stored row
        (or were older than it).
    removed
        Stored offers the API no longer returns, deleted from the table: counted by initial and
        full runs only; ``None`` on an incremental run, which cannot see deletions.
    offers
        Rows in the connector's table after the sync.
    requests
        HTTP requests the load sent (retries included).
    watermark_before, watermark_after
        The stored watermark the load started from (None: none yet) and the one stored now
        (None: no offer seen yet). Both are in the server's clock: see docs/store.md.
    load
        The loader's :class:`~offer_analytics.LoadReport`.
    duration_s
        Wall time of this connector's sync.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> load = LoadReport(connectors=("acme",), requests=2, retries=0, rate_limited=0,
    ...     budget_wait_s=0.0, pages=2, offers=12, duration_s=0.5,
    ...     watermark=datetime(2026, 1, 2, tzinfo=UTC))
    >>> ConnectorSync(label="acme", mode="incremental", new=2, updated=10, unchanged=0,
    ...     removed=None, offers=512, requests=2, watermark_before=datetime(2026, 1, 1, tzinfo=UTC),
    ...     watermark_after=load.watermark, load=load, duration_s=0.6)
    ConnectorSync('acme', incremental: new=2, updated=10, unchanged=0, removed=-, offers=512, \
requests=2, watermark 2026-01-01T00:00:00+00:00 -> 2026-01-02T00:00:00+00:00)
    """

    label: str
    mode: SyncMode
    new: int
    updated: int
    unchanged: int
    removed: int | None
    offers: int
    requests: int
    watermark_before: datetime | None
    watermark_after: datetime | None
    load: LoadReport
    duration_s: float

    def __repr__(self) -> str:
        removed = "-" if self.removed is None else self.removed
        return (
            f"ConnectorSync({self.label!r}, {self.mode}: new={self.new}, updated={self.updated}, "
            f"unchanged={self.unchanged}, removed={removed}, offers={self.offers}, "
            f"requests={self.requests}, watermark {_iso(self.watermark_before) or 'none'} -> "
            f"{_iso(self.watermark_after) or 'none'})"
        )

    def summary(self) -> dict[str, Any]:
        """The report as JSON-ready values (what the state file keeps of it)."""
        return {
            "label": self.label,
            "mode": self.mode,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "offers": self.offers,
            "requests": self.requests,
            "watermark_before": _iso(self.watermark_before),
            "watermark_after": _iso(self.watermark_after),
            "duration_s": round(self.duration_s, 3),
            "load": {
                "requests": self.load.requests,
                "retries": self.load.retries,
                "rate_limited": self.load.rate_limited,
                "pages": self.load.pages,
                "offers": self.load.offers,
                "budget_wait_s": round(self.load.budget_wait_s, 3),
                "duration_s": round(self.load.duration_s, 3),
                "notes": list(self.load.notes),
            },
        }


@dataclass(frozen=True, kw_only=True, repr=False)
class SyncReport:
    """The receipt of one :func:`~offer_analytics.sync`: one :class:`ConnectorSync` per connector.

    Attributes
    ----------
    path
        The dataset folder.
    connectors
        The connectors synced, in the order given.
    skipped
        Connectors given but left to other shards.
    failed
        Label -> error message of connectors that failed (only on a
        :class:`~offer_analytics.errors.PartialSyncError`'s report).
    shard
        ``(index, count)`` when the sync was one shard.
    duration_s
        Wall time of the whole sync.

    Examples
    --------
    >>> SyncReport(path=Path("offers"), connectors=(), duration_s=0.1)
    SyncReport('offers', connectors=0, new=0, updated=0, unchanged=0, removed=0, requests=0)
    """

    path: Path
    connectors: tuple[ConnectorSync, ...]
    skipped: tuple[str, ...] = ()
    failed: Mapping[str, str] = field(default_factory=dict)
    shard: tuple[int, int] | None = None
    duration_s: float

    def __repr__(self) -> str:
        failed = f", failed={sorted(self.failed)}" if self.failed else ""
        return (
            f"SyncReport({str(self.path)!r}, connectors={len(self.connectors)}, new={self.new}, "
            f"updated={self.updated}, unchanged={self.unchanged}, removed={self.removed}, "
            f"requests={self.requests}{failed})"
        )

    def __getitem__(self, label: str) -> ConnectorSync:
        """The report of connector ``label``."""
        for each in self.connectors:
            if each.label == label:
                return each
        raise KeyError(f"no connector {label!r} in this sync")

    @property
    def new(self) -> int:
        """New offers, all connectors."""
        return sum(c.new for c in self.connectors)

    @property
    def updated(self) -> int:
        """Updated offers, all connectors."""
        return sum(c.updated for c in self.connectors)

    @property
    def unchanged(self) -> int:
        """Offers loaded but unchanged, all connectors."""
        return sum(c.unchanged for c in self.connectors)

    @property
    def removed(self) -> int:
        """Offers removed, all connectors (incremental runs remove none)."""
        return sum(c.removed or 0 for c in self.connectors)

    @property
    def requests(self) -> int:
        """HTTP requests, all connectors."""
        return sum(c.requests for c in self.connectors)

    @property
    def complete(self) -> bool:
        """True when no connector failed."""
        return not self.failed
