"""Related objects for ``expand``: applications and creators, synthesised from their ids.

The generator only knows the ids of an offer's application and creator. When a client expands a
relation, the sandbox derives a plausible object from a hash of the id, so the same id always
expands to the same object, on any server and with any seed.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Final

__all__ = ["RELATION_FIELDS", "expand_relation"]

#: The fields each relation has; ``id`` is always returned, even when not picked.
RELATION_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "application": (
        "id",
        "remote_id",
        "candidate",
        "job",
        "applied_at",
        "rejected_at",
        "current_stage",
        "source",
        "credited_to",
    ),
    "creator": (
        "id",
        "remote_id",
        "first_name",
        "last_name",
        "username",
        "email",
        "access_role",
    ),
}

_FIRST: Final = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Radia", "Linus", "Frances")
_LAST: Final = (
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Thompson",
    "Perlman",
    "Allen",
)
_STAGES: Final = ("Application Review", "Phone Screen", "Onsite", "Offer", "Hired")
_SOURCES: Final = ("LinkedIn", "Referral", "Company Website", "Agency", "Job Board")
_ROLES: Final = ("SUPER_ADMIN", "ADMIN", "TEAM_MEMBER", "INTERVIEWER")
_EPOCH: Final = datetime(2023, 1, 1, tzinfo=UTC)


def _digest(relation: str, object_id: str) -> bytes:
    return hashlib.blake2b(f"{relation}:{object_id}".encode(), digest_size=48).digest()


def _full(relation: str, object_id: str) -> dict[str, Any]:
    d = _digest(relation, object_id)
    remote_id = str(int.from_bytes(d[:4], "big") % 9_000_000 + 1_000_000)
    if relation == "application":
        applied = _EPOCH + timedelta(seconds=int.from_bytes(d[4:8], "big") % (3 * 365 * 86_400))
        return {
            "id": object_id,
            "remote_id": remote_id,
            "candidate": str(uuid.UUID(bytes=d[8:24], version=4)),
            "job": str(uuid.UUID(bytes=d[24:40], version=4)),
            "applied_at": applied.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "rejected_at": None,
            "current_stage": _STAGES[d[40] % len(_STAGES)],
            "source": _SOURCES[d[41] % len(_SOURCES)],
            "credited_to": None,
        }
    first, last = _FIRST[d[4] % len(_FIRST)], _LAST[d[5] % len(_LAST)]
    username = f"{first}.{last}{d[6] % 100}".lower()
    return {
        "id": object_id,
        "remote_id": remote_id,
        "first_name": first,
        "last_name": last,
        "username": username,
        "email": f"{username}@example.com",
        "access_role": _ROLES[d[7] % len(_ROLES)],
    }


def expand_relation(
    relation: str, object_id: str | None, fields: tuple[str, ...] | None = None
) -> dict[str, Any] | None:
    """The expanded object of ``relation`` with id ``object_id``; None stays None.

    Parameters
    ----------
    relation
        ``"application"`` or ``"creator"``.
    object_id
        The id the offer holds.
    fields
        Pick these fields (``id`` is always kept); None keeps every field.

    Examples
    --------
    >>> expand_relation("creator", "c-1", ("email",))
    {'id': 'c-1', 'email': 'grace.turing53@example.com'}
    >>> expand_relation("application", "a-1") == expand_relation("application", "a-1")
    True
    >>> expand_relation("application", None) is None
    True
    """
    if object_id is None:
        return None
    full = _full(relation, object_id)
    if fields is None:
        return full
    return {
        name: full[name] for name in RELATION_FIELDS[relation] if name == "id" or name in fields
    }
