"""One connector's sync: lock, load, fold into the stored table, commit history, data and state.

The connector's lock is taken here, just before its work, and released right after: a sync of
thousands of connectors holds at most ``parallel`` lock files open, and the state is read only
under the lock, so that it cannot change between reading and committing.

The order of the writes is what makes a crash harmless:

1. history: the changed rows, in the file numbered by this sync's generation. A crash after it
   leaves the state's generation unchanged, so the retry rewrites the same file, merged with what
   it held: a change is recorded once, never lost.
2. data: the connector's new table, replacing the old one atomically.
3. state: the new watermark. A crash before it makes the next sync list from the old watermark;
   the upsert finds the rows already stored and counts them unchanged.
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

from offer_analytics.errors import SyncLockedError
from offer_analytics.load import ProgressUpdate, load_offers
from offer_analytics.schema import UTC_DATETIME
from offer_analytics.store._credentials import SyncCredentials
from offer_analytics.store._dataset import Dataset, checkpoint
from offer_analytics.store._merge import Merge, merge
from offer_analytics.store._parquet import Profile, parquet_writer, to_arrow
from offer_analytics.store._read import scan_offers_file
from offer_analytics.store._report import ConnectorSync, SyncMode
from offer_analytics.store._state import ConnectorState, check_same_options, read_state

__all__ = ["CHANGE_DTYPE", "ConnectorJob"]

#: The kind of change a history row records.
CHANGE_DTYPE: Final = pl.Enum(["new", "updated", "removed"])


@dataclass(frozen=True, kw_only=True)
class ConnectorJob:
    """Everything the sync of one connector needs; :meth:`run` does it."""

    dataset: Dataset
    label: str
    full: bool
    credentials: SyncCredentials
    load_options: Mapping[str, Any]
    columns: tuple[str, ...]
    mapping: str
    profile: Profile

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
        self.dataset.remove_leftovers(self.label)
        data_file = self.dataset.data_file(self.label)
        stored = None
        if data_file.is_file():
            stored = scan_offers_file(data_file).drop("connector").collect()
        mode: SyncMode = "full" if self.full else "incremental"
        if state is None or stored is None:
            mode = "full" if self.full else "initial"
        watermark_before = state.watermark if state is not None else None
        frame, load = load_offers(
            **self.credentials.for_connector(self.label),
            modified_after=watermark_before if mode == "incremental" else None,
            progress=progress,
            **self.load_options,
        )
        loaded = frame.drop("connector")
        if stored is not None and stored.columns != loaded.columns:
            stored = _aligned(stored, loaded)  # a full run with other expand/include_* options
        merged = merge(stored, loaded, full=mode != "incremental")
        generation = (state.generation if state is not None else 0) + 1
        changed = merged.new.height + merged.updated.height + merged.removed.height
        if changed:
            self._append_history(merged, generation)
        if changed or stored is None:
            self._write(data_file, merged.table, kind="data", watermark=load.watermark)
        checkpoint("data:committed", self.label)
        report = ConnectorSync(
            label=self.label,
            mode=mode,
            new=merged.new.height,
            updated=merged.updated.height,
            unchanged=merged.unchanged,
            removed=None if mode == "incremental" else merged.removed.height,
            offers=merged.table.height,
            requests=load.requests,
            watermark_before=watermark_before,
            watermark_after=load.watermark,
            load=load,
            duration_s=time.perf_counter() - started,
        )
        new_state = ConnectorState(
            watermark=load.watermark,
            generation=generation,
            columns=tuple(loaded.columns),
            outcome_mapping=self.mapping,
            offers=merged.table.height,
            last_sync=report.summary(),
        ).to_bytes()
        state_file = self.dataset.state_file(self.label)
        self.dataset.replace(
            state_file, lambda f: f.write(new_state), label=self.label, kind="state"
        )
        checkpoint("state:committed", self.label)
        return report

    def _write(
        self, file: Path, table: pl.DataFrame, *, kind: str, watermark: datetime | None
    ) -> None:
        arrow = to_arrow(table, profile=self.profile)
        write = parquet_writer(arrow, profile=self.profile, watermark=watermark)
        self.dataset.replace(file, write, label=self.label, kind=kind)

    def _append_history(self, merged: Merge, generation: int) -> None:
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
        history = pl.concat(parts, how="vertical")
        file = self.dataset.history_file(self.label, generation)
        if file.is_file():
            # A crashed attempt of this same sync wrote it: keep its rows (their changes may
            # be in the data already, where this attempt no longer sees them).
            earlier = pl.read_parquet(file).with_columns(pl.col("change").cast(CHANGE_DTYPE))
            history = pl.concat([earlier, history], how="diagonal_relaxed")
            history = history.unique(["id", "modified_at", "change"], keep="first")
        self._write(file, history.sort("id"), kind="history", watermark=None)


def _aligned(stored: pl.DataFrame, loaded: pl.DataFrame) -> pl.DataFrame:
    """``stored`` with ``loaded``'s columns: nulls for the new ones, dropping the others."""
    return stored.select(
        pl.col(c) if c in stored.columns else pl.lit(None, loaded.schema[c]).alias(c)
        for c in loaded.columns
    )
