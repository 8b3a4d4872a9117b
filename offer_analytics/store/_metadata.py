"""What a Parquet file says about itself: package version, column meanings, the watermark.

A dataset's data files also say which sync wrote them (its generation, numbering the history
files) and with which profile, so that a sync can tell a committed history file from one a
crashed attempt left, and notice a file written with another profile.

BI tools show a column's type but not what it means; a ``status`` next to an ``outcome`` or a
``start_date`` next to ``sent_at`` invite wrong joins and wrong rates. So every file carries, in
its key-value metadata, a description of each column (the definitions the metrics rely on), the
version of the package that wrote it and, when known, the watermark of the load it came from.
DuckDB shows them with ``SELECT * FROM parquet_kv_metadata('file.parquet')``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

__all__ = [
    "COLUMN_DESCRIPTIONS",
    "KEY_COLUMNS",
    "KEY_GENERATION",
    "KEY_PROFILE",
    "KEY_VERSION",
    "KEY_WATERMARK",
    "file_metadata",
    "generation_from",
    "watermark_from",
]

KEY_VERSION: Final = "offer_analytics.version"
KEY_COLUMNS: Final = "offer_analytics.columns"
KEY_WATERMARK: Final = "offer_analytics.watermark"
KEY_GENERATION: Final = "offer_analytics.generation"
KEY_PROFILE: Final = "offer_analytics.profile"

#: What each column of the offers frame means, as written into every file.
COLUMN_DESCRIPTIONS: Final[Mapping[str, str]] = {
    "connector": "Label of the connected ATS the row came from ('default' for a single one).",
    "id": "Bindbee's offer id; unique within a connector.",
    "remote_id": "The offer's id in the source ATS.",
    "status": "The offer's status exactly as the API sent it (e.g. SIGNED, DENIED, SENT).",
    "outcome": (
        "The status mapped to one of accepted, declined, pending, draft, rescinded, superseded, "
        "unknown. DENIED counts as declined only when the offer was sent (else draft). "
        "Acceptance rate = accepted / (accepted + declined); superseded rows are older versions."
    ),
    "sent_at": "When the offer was sent to the candidate (UTC); null if never sent.",
    "closed_at": "When the offer was decided (UTC). Time to close = closed_at - sent_at.",
    "remote_created_at": "When the offer was created in the source ATS (UTC).",
    "modified_at": "Bindbee's sync clock: when Bindbee last saw the offer change (UTC).",
    "start_date": "The new hire's first day, the calendar date as the source wrote it.",
    "application": "Id of the application the offer belongs to.",
    "creator": "Id of the user who created the offer.",
    "application_data": "The expanded application object, as JSON text.",
    "creator_data": "The expanded creator object, as JSON text.",
    "custom_fields": "The offer's custom fields as JSON text; may hold personal data.",
    "raw_data": "The source ATS's raw record as JSON text; may hold personal data.",
    "job_id": "Id of the offer's job (through its application); null when not found.",
    "job": "Name of the offer's job.",
    "department_id": "Id of the job's first department.",
    "department": "Name of the job's first department.",
    "departments": "Names of all the job's departments, in the job's order.",
    "office_id": "Id of the job's first office.",
    "office": "Name of the job's first office.",
    "recruiter_id": "Id of the job's first recruiter, else of the offer's creator.",
    "recruiter": "Name of that recruiter.",
}


def file_metadata(
    columns: list[str],
    *,
    version: str,
    watermark: datetime | None,
    profile: str,
    generation: int | None = None,
) -> dict[bytes, bytes]:
    """The key-value metadata for a file holding ``columns``.

    Examples
    --------
    >>> meta = file_metadata(["id", "outcome"], version="1.0", watermark=None, profile="compat")
    >>> sorted(meta)
    [b'offer_analytics.columns', b'offer_analytics.profile', b'offer_analytics.version']
    >>> list(json.loads(meta[b'offer_analytics.columns']))
    ['id', 'outcome']
    """
    described = {c: COLUMN_DESCRIPTIONS[c] for c in columns if c in COLUMN_DESCRIPTIONS}
    meta = {
        KEY_VERSION.encode(): version.encode(),
        KEY_COLUMNS.encode(): json.dumps(described).encode(),
        KEY_PROFILE.encode(): profile.encode(),
    }
    if watermark is not None:
        meta[KEY_WATERMARK.encode()] = _utc(watermark).isoformat().encode()
    if generation is not None:
        meta[KEY_GENERATION.encode()] = str(generation).encode()
    return meta


def generation_from(metadata: Mapping[bytes, bytes] | None) -> int | None:
    """The sync generation a data file's metadata holds, or None (an export, or an older file).

    Examples
    --------
    >>> generation_from({b"offer_analytics.generation": b"7"}), generation_from(None)
    (7, None)
    """
    raw = (metadata or {}).get(KEY_GENERATION.encode())
    return None if raw is None else int(raw)


def watermark_from(metadata: Mapping[bytes, bytes] | None) -> datetime | None:
    """The watermark a file's metadata holds, or None.

    Examples
    --------
    >>> watermark_from({b"offer_analytics.watermark": b"2026-01-01T00:00:00+00:00"})
    datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    raw = (metadata or {}).get(KEY_WATERMARK.encode())
    return None if raw is None else datetime.fromisoformat(raw.decode())


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # naive means UTC, as everywhere in the package
    return value.astimezone(UTC)
