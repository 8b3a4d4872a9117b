"""One connector's sync: lock, load, fold into the stored table, commit history, data and state.

The connector's lock is taken here, just before its work, and released right after: a sync of
thousands of connectors holds at most ``parallel`` lock files open, and the state is read only
under the lock, so that it cannot change between reading and committing.

The order of the writes is what makes a crash harmless:

0. related tables (``enrich=True``): written first; they only feed the enrichment, which the
   next sync redoes for every offer, so tables newer than the offers they enriched are harmless.
1. history: the changed rows, in the file numbered by this sync's generation.
2. data: the connector's new table, replacing the old one atomically. Its metadata names the
   generation that wrote it, and this rename is the commit: a history file numbered above the
   data file's generation was left by an attempt whose data never committed, so the next sync
   deletes it and records the changes it finds itself (never a change the table never held).
3. state: the new watermark. A crash before it makes the next sync list from the old watermark;
   the upsert finds the rows already stored and counts them unchanged, and their history file,
   committed with the data, stays.

The generation is one past the last committed one, taken from the data file as well as the
state, so that deleting the state (to resync) never makes a sync write into an old history file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import filelock
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from offer_analytics.enrich import RESOURCES
from offer_analytics.errors import SyncLockedError
from offer_analytics.load import WATERMARK_OVERLAP, LoadReport, ProgressUpdate, RelatedLoad
from offer_analytics.schema import UTC_DATETIME
from offer_analytics.store._credentials import SyncCredentials
from offer_analytics.store._dataset import Dataset, checkpoint
from offer_analytics.store._fetch import load_connector
from offer_analytics.store._merge import Merge, merge
from offer_analytics.store._metadata import KEY_PROFILE, generation_from
from offer_analytics.store._parquet import Profile, parquet_writer, to_arrow
from offer_analytics.store._read import scan_offers_file
from offer_analytics.store._related import (
    enrich_merge,
    plain,
    read_related,
    refreshed,
    write_related,
)
from offer_analytics.store._report import ConnectorSync, SyncMode
from offer_analytics.store._state import ConnectorState, check_same_options, read_state
from offer_analytics.store._watermark import safe_watermark

__all__ = ["CHANGE_DTYPE", "ConnectorJob"]

#: The kind of change a history row records.
CHANGE_DTYPE: Final = pl.Enum(["new", "updated", "removed"])


@dataclass(frozen=True)
class _Stored:
    """The connector's data file as found: its table, and what its metadata says."""

    table: pl.DataFrame | None
    generation: int | None
    profile: str | None

    @classmethod
    def read(cls, file: Path) -> _Stored:
        if not file.is_file():
            return cls(None, None, None)
        table = scan_offers_file(file).drop("connector").collect()
        metadata = pq.read_metadata(file).metadata or {}
        profile = metadata.get(KEY_PROFILE.encode())
        if profile is None:  # written before files named their profile: the outcome tells
            encoded = pa.types.is_dictionary(pq.read_schema(file).field("outcome").type)
            return cls(table, generation_from(metadata), "default" if encoded else "compat")
        return cls(table, generation_from(metadata), profile.decode())


@dataclass(frozen=True)
class _Loaded:
    """What the load brought: its rows, its report, how long it took (monotonic clock), and
    the related objects it fetched (``enrich=True``)."""

    table: pl.DataFrame
    report: LoadReport
    seconds: float
    related: RelatedLoad | None = None


@dataclass(frozen=True, kw_only=True)
class ConnectorJob:
    """Everything the sync of one connector needs; :meth:`run` does it."""

    dataset: Dataset
    label: str
    full: bool
    credentials: SyncCredentials
    load_options: Mapping[str, Any]
    client_options: Mapping[str, Any]
    columns: tuple[str, ...]
    mapping: str
    profile: Profile
    enrich: bool = False

    def run(self, progress: Callable[[ProgressUpdate], None] | None) -> ConnectorSync:
        """Lock the connector, then load, merge and commit.

        Raises
        ------
        SyncLockedError
            Another sync of this connector into this folder holds its lock.
        """
        lock = self.dataset.lock(self.label)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise SyncLockedError(
                f"Another sync of {self.label!r} into {self.dataset.root} is running; wait for "
                "it to finish, or sync other connectors.",
                labels=[self.label],
            ) from None
        try:
            state = read_state(self.dataset.state_file(self.label))
            if not self.full:
                check_same_options(self.label, state, self.columns, self.mapping)
            return self._sync(state, progress)
        finally:
            lock.release()

    def _sync(
        self, state: ConnectorState | None, progress: Callable[[ProgressUpdate], None] | None
    ) -> ConnectorSync:
        started = time.perf_counter()
        self.dataset.remove_leftovers(self.label, resources=RESOURCES)
        stored = _Stored.read(self.dataset.data_file(self.label))
        mode: SyncMode = "full" if self.full else "incremental"
        if state is None or stored.table is None:
            mode = "full" if self.full else "initial"
        before = state.watermark if state is not None else None
        loaded = self._load(before if mode == "incremental" else None, progress)
        merged = merge(
            _aligned(plain(stored.table), loaded.table), loaded.table, full=mode != "incremental"
        )
        if loaded.related is not None:
            merged = self._enrich(merged, loaded.related, incremental=mode == "incremental")
        watermark = safe_watermark(
            local=loaded.report.watermark,
            before=before,
            newest_stored=_newest(stored.table),
            newest_loaded=_newest(loaded.table),
            load_s=loaded.seconds,
            overlap=WATERMARK_OVERLAP,
        )
        generation = self._generation(state, stored)
        self._commit_data(merged, stored, mode, generation, watermark)
        checkpoint("data:committed", self.label)
        report = ConnectorSync(
            label=self.label,
            mode=mode,
            new=merged.new.height,
            updated=merged.updated.height,
            unchanged=merged.unchanged,
            removed=None if mode == "incremental" else merged.removed.height,
            offers=merged.table.height,
            requests=loaded.report.requests,
            watermark_before=before,
            watermark_after=watermark,
            load=loaded.report,
            duration_s=time.perf_counter() - started,
        )
        self._commit_state(report, generation, tuple(merged.table.columns))
        checkpoint("state:committed", self.label)
        if self.full and not self.enrich:
            self.dataset.remove_related(self.label, RESOURCES)  # tables nothing refreshes now
        return report

    def _enrich(self, merged: Merge, related: RelatedLoad, *, incremental: bool) -> Merge:
        """Refresh the stored related tables with what was fetched, write them, and enrich
        every row of ``merged`` with them (a full or initial run starts from no tables)."""
        stored = read_related(self.dataset, self.label) if incremental else None
        tables = refreshed(stored, related.tables)
        write_related(self.dataset, self.label, tables, profile=self.profile)
        checkpoint("related:committed", self.label)
        return enrich_merge(merged, tables, label=self.label)

    def _load(
        self, modified_after: datetime | None, progress: Callable[[ProgressUpdate], None] | None
    ) -> _Loaded:
        started = time.perf_counter()
        (frame, report), related = load_connector(
            self.credentials,
            self.label,
            modified_after=modified_after,
            progress=progress,
            load_options=self.load_options,
            client_options=self.client_options,
            enrich=self.enrich,
            related_after=modified_after,
        )
        # Only the stored columns: enrichment's expanded applications were its input only.
        table = frame.select(c for c in frame.columns if c in self.columns)
        return _Loaded(table, report, time.perf_counter() - started, related)

    def _generation(self, state: ConnectorState | None, stored: _Stored) -> int:
        """This sync's number: one past the last committed one (see the module's docstring)."""
        history = self.dataset.history_generations(self.label)
        counted = state.generation if state is not None else 0
        if stored.generation is None:
            # A data file from before files named their generation (or none at all): every
            # history file found counts as committed.
            return max([counted, *history]) + 1
        uncommitted = [n for n in history if n > stored.generation]
        self.dataset.remove_history(self.label, uncommitted)
        return max(counted, stored.generation) + 1

    def _commit_data(
        self,
        merged: Merge,
        stored: _Stored,
        mode: SyncMode,
        generation: int,
        watermark: datetime | None,
    ) -> None:
        """Write the history of what changed, then the table if it (or how it is kept) did."""
        changed = merged.new.height + merged.updated.height + merged.removed.height
        if changed:
            self._write_history(merged, generation)
        # A full run rewrites the file even when no row differs: its options may have dropped a
        # column (raw_data: personal data) that must leave the disk.
        # An enriched table also changes when only a related object did (a renamed department).
        rewrite = (
            changed
            or mode != "incremental"
            or stored.table is None
            or stored.table.columns != merged.table.columns
            or stored.profile != self.profile
            or (self.enrich and not merged.table.equals(stored.table))
        )
        if rewrite:
            file = self.dataset.data_file(self.label)
            self._write(file, merged.table, kind="data", watermark=watermark, generation=generation)

    def _commit_state(
        self, report: ConnectorSync, generation: int, columns: tuple[str, ...]
    ) -> None:
        state = ConnectorState(
            watermark=report.watermark_after,
            generation=generation,
            columns=columns,
            outcome_mapping=self.mapping,
            offers=report.offers,
            last_sync=report.summary(),
        ).to_bytes()
        file = self.dataset.state_file(self.label)
        self.dataset.replace(file, lambda f: f.write(state), label=self.label, kind="state")

    def _write(
        self,
        file: Path,
        table: pl.DataFrame,
        *,
        kind: str,
        watermark: datetime | None,
        generation: int | None,
    ) -> None:
        arrow = to_arrow(table, profile=self.profile)
        write = parquet_writer(
            arrow, profile=self.profile, watermark=watermark, generation=generation
        )
        self.dataset.replace(file, write, label=self.label, kind=kind)

    def _write_history(self, merged: Merge, generation: int) -> None:
        synced_at = datetime.now(UTC)
        parts = [
            rows.with_columns(
                change=pl.lit(kind, CHANGE_DTYPE),
                synced_at=pl.lit(synced_at, UTC_DATETIME),
            )
            for kind, rows in (
                ("new", merged.new),
                ("updated", merged.updated),
                ("removed", merged.removed),
            )
        ]
        history = pl.concat(parts, how="vertical").sort("id")
        file = self.dataset.history_file(self.label, generation)
        self._write(file, history, kind="history", watermark=None, generation=generation)


def _aligned(stored: pl.DataFrame | None, loaded: pl.DataFrame) -> pl.DataFrame | None:
    """``stored`` with ``loaded``'s columns (a full run with other ``expand``/``include_*``):
    nulls for the new ones, dropping the others."""
    if stored is None or stored.columns == loaded.columns:
        return stored
    return stored.select(
        pl.col(c) if c in stored.columns else pl.lit(None, loaded.schema[c]).alias(c)
        for c in loaded.columns
    )


def _newest(table: pl.DataFrame | None) -> datetime | None:
    """The latest ``modified_at`` in ``table`` (None: no rows, or none with one)."""
    if table is None or table.is_empty():
        return None
    newest = table["modified_at"].max()
    return newest if isinstance(newest, datetime) else None
