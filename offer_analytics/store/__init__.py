"""Offers on disk: Parquet export and a crash-safe, incremental, sharded sync into a dataset.

- :func:`export_parquet`: one offers frame -> one Parquet file BI tools read as-is.
- :func:`read_offers`: a file or a dataset folder -> a lazy offers frame with the exact schema.
- :func:`sync`: keep a dataset folder up to date with the API, one partition per connector;
  :class:`SyncReport` (and a :class:`ConnectorSync` per connector) says what changed.

The parts, one private module each: ``_labels`` (labels as folder names, shards),
``_metadata`` (what a file says about itself), ``_parquet`` (writing), ``_read`` (reading),
``_dataset`` (the folder layout, atomic replacement, locks), ``_state`` (per-connector sync
state), ``_merge`` (upserting a load into the current table), ``_report``, ``_sync``.
See docs/store.md for the layout and the guarantees.
"""

from offer_analytics.store._parquet import export_parquet
from offer_analytics.store._read import read_offers
from offer_analytics.store._report import ConnectorSync, SyncReport
from offer_analytics.store._sync import sync

__all__ = ["ConnectorSync", "SyncReport", "export_parquet", "read_offers", "sync"]
