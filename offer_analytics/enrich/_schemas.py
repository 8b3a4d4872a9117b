"""The exact schema of each related ATS resource, and of the columns enrichment adds.

Bindbee lists an offer's related objects in the offers' page shape: ``/applications`` (an
application's ``job``), ``/jobs`` (``name``, ``code``, ``status`` and id lists ``departments``,
``offices``, ``hiring_managers``, ``recruiters``), ``/departments`` and ``/offices`` (``name``),
``/users`` (a person's ``name``, or ``first_name`` and ``last_name``). Each table keeps the
fields the breakdowns use, typed exactly, plus ``connector``: ids are unique per connector only.
"""

from __future__ import annotations

from typing import Final

import polars as pl

__all__ = [
    "ENRICHED_SCHEMA",
    "ID_LIST_FIELDS",
    "RELATED_PATHS",
    "RELATED_SCHEMAS",
    "RESOURCES",
    "TIMESTAMP_FIELDS",
]

_UTC: Final = pl.Datetime("us", "UTC")
_IDS: Final = pl.List(pl.String)

#: The related resources, in the order enrichment resolves them.
RESOURCES: Final = ("applications", "jobs", "departments", "offices", "users")

#: Each resource's listing path.
RELATED_PATHS: Final = {name: f"/api/ats/v1/{name}" for name in RESOURCES}

#: Each resource's table: column -> exact type, in order.
RELATED_SCHEMAS: Final[dict[str, pl.Schema]] = {
    "applications": pl.Schema(
        {
            "connector": pl.String(),
            "id": pl.String(),
            "remote_id": pl.String(),
            "job": pl.String(),
            "candidate": pl.String(),
            "current_stage": pl.String(),
            "source": pl.String(),
            "applied_at": _UTC,
            "modified_at": _UTC,
        }
    ),
    "jobs": pl.Schema(
        {
            "connector": pl.String(),
            "id": pl.String(),
            "remote_id": pl.String(),
            "name": pl.String(),
            "code": pl.String(),
            "status": pl.String(),
            "departments": _IDS,
            "offices": _IDS,
            "hiring_managers": _IDS,
            "recruiters": _IDS,
            "modified_at": _UTC,
        }
    ),
    "departments": pl.Schema(
        {
            "connector": pl.String(),
            "id": pl.String(),
            "remote_id": pl.String(),
            "name": pl.String(),
            "modified_at": _UTC,
        }
    ),
    "offices": pl.Schema(
        {
            "connector": pl.String(),
            "id": pl.String(),
            "remote_id": pl.String(),
            "name": pl.String(),
            "modified_at": _UTC,
        }
    ),
    "users": pl.Schema(
        {
            "connector": pl.String(),
            "id": pl.String(),
            "remote_id": pl.String(),
            "name": pl.String(),
            "email": pl.String(),
            "modified_at": _UTC,
        }
    ),
}

#: Fields that are lists of ids; a null list reads as empty.
ID_LIST_FIELDS: Final = frozenset({"departments", "offices", "hiring_managers", "recruiters"})
#: Fields parsed from ISO-8601 text into UTC instants.
TIMESTAMP_FIELDS: Final = frozenset({"applied_at", "modified_at"})

#: The columns enrichment appends to the offers frame, in order.
ENRICHED_SCHEMA: Final = pl.Schema(
    {
        "job_id": pl.String(),
        "job": pl.String(),
        "department_id": pl.String(),
        "department": pl.String(),
        "departments": pl.List(pl.String),
        "office_id": pl.String(),
        "office": pl.String(),
        "recruiter_id": pl.String(),
        "recruiter": pl.String(),
    }
)
