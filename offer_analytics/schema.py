"""The offers frame's contract: its columns and dtypes, the outcomes and the status mapping.

Everything that says what a valid offers frame *is* lives here, and nothing that builds one:
decoding API bytes into this shape is :mod:`offer_analytics.decode`'s job. ``status`` is kept
exactly as the API sent it; ``outcome`` is derived from it through a mapping the user can extend,
so that analyses group the many source spellings (``SIGNED``, ``ACCEPTED``, ``hired``...) into a
handful of outcomes. Which optional columns a frame has follows from the load's options
(``expand``, ``include_custom_fields``, ``include_raw_data``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final, Literal

import polars as pl

from offer_analytics.errors import ConfigurationError

__all__ = [
    "DEFAULT_OUTCOME_MAPPING",
    "INSTANT_COLUMNS",
    "OFFER_SCHEMA",
    "OPTIONAL_COLUMNS",
    "OUTCOMES",
    "OUTCOME_DTYPE",
    "RELATIONS",
    "STATUSES",
    "UTC_DATETIME",
    "Relation",
    "empty_offers_frame",
    "offers_schema",
    "outcome_expr",
    "relations_of",
    "resolve_outcome_mapping",
    "split_expand",
]

#: Every instant column: microseconds, UTC.
UTC_DATETIME: Final = pl.Datetime("us", "UTC")
#: The columns that hold instants (``start_date`` is a calendar date, not an instant).
INSTANT_COLUMNS: Final = ("sent_at", "closed_at", "remote_created_at", "modified_at")

#: Every outcome, in the order of the Enum (and of charts and tables).
OUTCOMES: Final = ("accepted", "declined", "pending", "draft", "rescinded", "superseded", "unknown")
OUTCOME_DTYPE: Final = pl.Enum(OUTCOMES)

#: Bindbee's own status vocabulary; other values pass through unchanged.
STATUSES: Final = (
    "DRAFT",
    "APPROVAL-SENT",
    "APPROVED",
    "SENT",
    "SENT-MANUALLY",
    "OPENED",
    "DENIED",
    "SIGNED",
    "DEPRECATED",
)

_DEFAULT: dict[str, str] = {
    **dict.fromkeys(("SIGNED", "ACCEPTED", "HIRED"), "accepted"),
    # DENIED means the candidate declined once the offer was sent; an unsent DENIED offer was
    # denied internally and is a draft (see outcome_expr).
    **dict.fromkeys(("DENIED", "DECLINED", "REJECTED", "REFUSED"), "declined"),
    **dict.fromkeys(("SENT", "SENT-MANUALLY", "OPENED"), "pending"),
    **dict.fromkeys(("DRAFT", "APPROVAL-SENT", "APPROVED"), "draft"),
    **dict.fromkeys(("RESCINDED", "WITHDRAWN", "CANCELLED", "CANCELED"), "rescinded"),
    "DEPRECATED": "superseded",
}
#: Upper-cased raw status -> outcome. Read-only; pass your own entries to extend it.
DEFAULT_OUTCOME_MAPPING: Final[Mapping[str, str]] = MappingProxyType(_DEFAULT)


def resolve_outcome_mapping(mapping: Mapping[str, str] | None = None) -> dict[str, str]:
    """The effective mapping: the defaults, extended and overridden by ``mapping``.

    Keys are matched case-insensitively (they are upper-cased here, as raw statuses are before
    lookup). To drop a default entry, map it to ``"unknown"``.

    Raises
    ------
    ConfigurationError
        An outcome is not one of :data:`OUTCOMES`, or two keys differ only by case and disagree.

    Examples
    --------
    >>> resolve_outcome_mapping({"extended": "pending"})["EXTENDED"]
    'pending'
    >>> resolve_outcome_mapping({"SIGNED": "won"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    offer_analytics.errors.ConfigurationError: outcome_mapping maps 'SIGNED' to 'won', which ...
    """
    resolved = dict(DEFAULT_OUTCOME_MAPPING)
    if mapping is None:
        return resolved
    seen: dict[str, str] = {}
    for raw, outcome in mapping.items():
        if outcome not in OUTCOMES:
            raise ConfigurationError(
                f"outcome_mapping maps {raw!r} to {outcome!r}, which is not an outcome; "
                f"use one of {', '.join(OUTCOMES)}"
            )
        key = str(raw).upper()
        if key in seen and seen[key] != outcome:
            raise ConfigurationError(
                f"outcome_mapping maps {key!r} twice (keys are case-insensitive), "
                f"to {seen[key]!r} and {outcome!r}"
            )
        seen[key] = outcome
    resolved.update(seen)
    return resolved


def outcome_expr(
    *,
    mapping: Mapping[str, str] | None = None,
    status: str | pl.Expr = "status",
    sent_at: str | pl.Expr = "sent_at",
) -> pl.Expr:
    """The outcome of each offer, from its raw ``status`` and whether it was sent.

    The status is looked up case-insensitively in the defaults extended by ``mapping`` (see
    :func:`resolve_outcome_mapping`); by default a ``DENIED`` offer with no ``sent_at`` was
    denied internally before reaching the candidate and is a ``"draft"`` (a ``mapping`` that maps
    ``DENIED`` to another outcome than ``"declined"`` replaces that rule). Statuses not in the
    mapping, and null, are ``"unknown"``.

    Parameters
    ----------
    mapping
        Raw status -> outcome entries that extend or override :data:`DEFAULT_OUTCOME_MAPPING`.
    status, sent_at
        The columns (or expressions) holding the raw status and whether the offer was sent: any
        non-null value of ``sent_at`` means sent (the decoder passes the raw text, so that a
        sent instant it could not parse still counts as sent).

    Returns
    -------
    pl.Expr
        An expression of dtype :data:`OUTCOME_DTYPE`, named ``outcome``.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime
    >>> df = pl.DataFrame({"status": ["SIGNED", "signed", "DENIED", "DENIED", "EXTENDED", None],
    ...                    "sent_at": [datetime(2024, 1, 1), None, datetime(2024, 1, 1), None,
    ...                                datetime(2024, 1, 1), None]})
    >>> df.select(outcome_expr())["outcome"].to_list()
    ['accepted', 'accepted', 'declined', 'draft', 'unknown', 'unknown']
    >>> df.select(outcome_expr(mapping={"Extended": "pending"}))["outcome"].to_list()[4]
    'pending'
    >>> df.select(outcome_expr(mapping={"denied": "rescinded"}))["outcome"].to_list()[3]
    'rescinded'
    """
    resolved = resolve_outcome_mapping(mapping)
    raw = pl.col(status) if isinstance(status, str) else status
    sent = pl.col(sent_at) if isinstance(sent_at, str) else sent_at
    upper = raw.str.to_uppercase()
    mapped = upper.replace_strict(resolved, default="unknown", return_dtype=OUTCOME_DTYPE)
    if resolved["DENIED"] != DEFAULT_OUTCOME_MAPPING["DENIED"]:
        return mapped.alias("outcome")  # the user redefined DENIED: their mapping decides
    return (
        pl.when((upper == "DENIED") & sent.is_null())
        .then(pl.lit("draft", OUTCOME_DTYPE))
        .otherwise(mapped)
        .alias("outcome")
    )


Relation = Literal["application", "creator"]

#: The base columns of the offers frame, in order, with their exact dtypes.
OFFER_SCHEMA: Final = pl.Schema(
    {
        "connector": pl.String(),
        "id": pl.String(),
        "remote_id": pl.String(),
        "status": pl.String(),
        "outcome": OUTCOME_DTYPE,
        "sent_at": UTC_DATETIME,
        "closed_at": UTC_DATETIME,
        "remote_created_at": UTC_DATETIME,
        "modified_at": UTC_DATETIME,
        "start_date": pl.Date(),
        "application": pl.String(),
        "creator": pl.String(),
    }
)
#: JSON-text columns appended in this order, each only when expanded or requested.
OPTIONAL_COLUMNS: Final = ("application_data", "creator_data", "custom_fields", "raw_data")
#: Relations an offer can expand: its column then holds the id, ``<relation>_data`` the object.
RELATIONS: Final[tuple[Relation, ...]] = ("application", "creator")


def relations_of(expand: Sequence[str] | str) -> tuple[Relation, ...]:
    """The relations an ``expand`` argument names, in column order; unknown names are refused.

    Examples
    --------
    >>> relations_of("creator[id,name],application")
    ('application', 'creator')
    """
    wanted: set[str] = set()
    for name in split_expand(expand):
        relation = name.split("[", 1)[0].strip()  # "application[id,name]" picks fields
        if relation not in RELATIONS:
            raise ConfigurationError(
                f"cannot expand {relation!r}: offers expand only {' and '.join(RELATIONS)}"
            )
        wanted.add(relation)
    return tuple(r for r in RELATIONS if r in wanted)


def offers_schema(
    *,
    expand: Sequence[str] | str = (),
    include_custom_fields: bool = False,
    include_raw_data: bool = False,
) -> pl.Schema:
    """The offers frame's schema for the given options.

    Examples
    --------
    >>> list(offers_schema(expand=["creator"], include_raw_data=True))[-3:]
    ['creator', 'creator_data', 'raw_data']
    """
    relations = relations_of(expand)
    optional = {
        "application_data": "application" in relations,
        "creator_data": "creator" in relations,
        "custom_fields": include_custom_fields,
        "raw_data": include_raw_data,
    }
    return pl.Schema({**OFFER_SCHEMA, **{c: pl.String() for c in OPTIONAL_COLUMNS if optional[c]}})


def empty_offers_frame(
    *,
    expand: Sequence[str] | str = (),
    include_custom_fields: bool = False,
    include_raw_data: bool = False,
) -> pl.DataFrame:
    """An offers frame with no rows and the exact schema for the given options.

    Examples
    --------
    >>> empty_offers_frame().shape
    (0, 12)
    """
    return pl.DataFrame(
        schema=offers_schema(
            expand=expand,
            include_custom_fields=include_custom_fields,
            include_raw_data=include_raw_data,
        )
    )


# A comma separates relations only outside brackets: "application[id,name],creator".
_SEPARATOR = re.compile(r",(?![^\[]*\])")


def split_expand(expand: Sequence[str] | str) -> tuple[str, ...]:
    """The relations to expand, from a sequence or the API's comma-separated text.

    ``application[id,name]`` picks fields of a relation, so only commas outside brackets
    separate names. Blank entries are dropped; names contain no spaces (the API's rule).

    Raises
    ------
    ConfigurationError
        A name contains a space.

    Examples
    --------
    >>> split_expand("application[id,name], creator")
    ('application[id,name]', 'creator')
    >>> split_expand(["creator"])
    ('creator',)
    """
    names = _SEPARATOR.split(expand) if isinstance(expand, str) else list(expand)
    stripped = tuple(name.strip() for name in names if name.strip())
    if any(" " in name for name in stripped):
        raise ConfigurationError(
            "expand names contain no spaces, e.g. ('application', 'creator[id,name]')."
        )
    return stripped
