"""A connector's sync state: the watermark to list from next time, and what the table holds.

It is written last, once the data it describes is durable; a state that is one step behind its
data (a crash between the two) only makes the next sync list a little more than it had to, and
the upsert makes that harmless.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from offer_analytics.errors import ConfigurationError, SchemaError

__all__ = [
    "SCHEMA_VERSION",
    "ConnectorState",
    "check_same_options",
    "mapping_fingerprint",
    "read_state",
]

#: Version of the dataset layout and state format this code writes and reads.
SCHEMA_VERSION: Final = 1


def mapping_fingerprint(mapping: Mapping[str, str]) -> str:
    """A short digest of an outcome mapping, to notice that the stored outcomes used another.

    Examples
    --------
    >>> mapping_fingerprint({"SIGNED": "accepted"}) == mapping_fingerprint({"SIGNED": "accepted"})
    True
    """
    text = json.dumps(sorted(mapping.items()), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, kw_only=True)
class ConnectorState:
    """What ``_state/<label>.json`` holds.

    Attributes
    ----------
    watermark
        ``modified_after`` for the next incremental load; None when no offer was ever seen (the
        next load lists everything, which for an empty connector is one request).
    generation
        How many syncs have been committed (it numbers the history files).
    columns
        The stored table's columns: a sync with other ``expand``/``include_*`` options must be
        a full one.
    outcome_mapping
        Fingerprint of the outcome mapping the stored ``outcome`` values came from.
    offers
        Rows in the stored table.
    last_sync
        The last :class:`~offer_analytics.store._report.ConnectorSync`, as its summary.
    """

    watermark: datetime | None
    generation: int
    columns: tuple[str, ...]
    outcome_mapping: str
    offers: int
    last_sync: Mapping[str, Any]

    def to_bytes(self) -> bytes:
        """The state as the JSON written to disk."""
        document = {
            "schema_version": SCHEMA_VERSION,
            "watermark": None if self.watermark is None else self.watermark.isoformat(),
            "generation": self.generation,
            "columns": list(self.columns),
            "outcome_mapping": self.outcome_mapping,
            "offers": self.offers,
            "last_sync": dict(self.last_sync),
        }
        return json.dumps(document, indent=2).encode()


def read_state(file: Path) -> ConnectorState | None:
    """The state stored in ``file``, or None when there is none yet.

    Raises
    ------
    SchemaError
        The file is not a state this version understands (corrupt, or from a newer version).
    """
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        return None
    try:
        document = json.loads(raw)
        version = int(document["schema_version"])
        watermark = document["watermark"]
        state = ConnectorState(
            watermark=None if watermark is None else datetime.fromisoformat(watermark),
            generation=int(document["generation"]),
            columns=tuple(document["columns"]),
            outcome_mapping=str(document["outcome_mapping"]),
            offers=int(document["offers"]),
            last_sync=document.get("last_sync", {}),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise SchemaError(
            f"{file} is not a readable sync state ({error}); delete it to resync that "
            "connector from scratch."
        ) from None
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"{file} was written by a newer offer-analytics (state version {version}); "
            "upgrade the package to sync into this folder."
        )
    return state


def check_same_options(
    label: str, state: ConnectorState | None, columns: tuple[str, ...], mapping: str
) -> None:
    """Refuse an incremental sync whose options differ from those the stored table has.

    Raises
    ------
    ConfigurationError
        The columns (``expand``/``include_*``/``enrich``) or the outcome mapping differ.
    """
    if state is None:
        return
    if state.columns != columns:
        differ = sorted(set(columns) ^ set(state.columns))
        raise ConfigurationError(
            f"Connector {label!r} is stored with other expand/include_*/enrich options (columns "
            f"differ: {', '.join(differ)}); an incremental sync would mix the two. Sync it with "
            "full=True to rebuild it with the new options."
        )
    if state.outcome_mapping != mapping:
        raise ConfigurationError(
            f"Connector {label!r} is stored with another outcome_mapping; sync it with "
            "full=True to map every stored offer with the new one."
        )
