"""Related objects for ``expand``: an offer's application and creator, from the related tables.

``expand=application`` serves the very object ``GET /applications`` lists (its ``job`` included),
and ``expand=creator`` the user ``GET /users`` lists, so a client may take either path and get
the same answer. An id the tables do not have (a dangling reference) is left as the id, the way
an API that cannot expand a relation sends it.
"""

from __future__ import annotations

from typing import Any, Final

from offer_analytics.sandbox._related import RelatedData

__all__ = ["RELATION_FIELDS", "RELATION_RESOURCE", "expand_relation"]

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
        "modified_at",
    ),
    "creator": (
        "id",
        "remote_id",
        "name",
        "first_name",
        "last_name",
        "username",
        "email",
        "access_role",
        "modified_at",
    ),
}
#: The resource listing each relation's objects.
RELATION_RESOURCE: Final = {"application": "applications", "creator": "users"}


def expand_relation(
    relation: str,
    object_id: str | None,
    fields: tuple[str, ...] | None,
    related: RelatedData | None,
) -> dict[str, Any] | str | None:
    """The expanded object of ``relation`` with id ``object_id``; None stays None.

    Parameters
    ----------
    relation
        ``"application"`` or ``"creator"``.
    object_id
        The id the offer holds.
    fields
        Pick these fields (``id`` is always kept); None keeps every field.
    related
        The connector's related tables; without them (or without the id in them) the id is
        returned unexpanded.

    Examples
    --------
    >>> from offer_analytics.sandbox._generator import generate_offers
    >>> from offer_analytics.sandbox._related import generate_related
    >>> offer = generate_offers(5, seed=2)["default"][0]
    >>> tables = generate_related({"default": [offer]}, seed=2)["default"]
    >>> user = expand_relation("creator", offer["creator"], ("name",), tables)
    >>> sorted(user), user == {"id": offer["creator"], "name": tables.users[0]["name"]}
    (['id', 'name'], True)
    >>> expand_relation("application", "no-such-id", None, tables)
    'no-such-id'
    >>> expand_relation("application", None, None, tables) is None
    True
    """
    if object_id is None:
        return None
    found = related.find(RELATION_RESOURCE[relation], object_id) if related else None
    if found is None:
        return object_id
    if fields is None:
        return dict(found)
    return {
        name: found[name] for name in RELATION_FIELDS[relation] if name == "id" or name in fields
    }
