"""Bindbee offer statuses and the outcome each one means.

``status`` is kept exactly as the API sent it; ``outcome`` is derived from it through a mapping
the user can extend, so that analyses group the many source spellings (``SIGNED``, ``ACCEPTED``,
``hired``...) into a handful of outcomes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import polars as pl

from offer_analytics.errors import ConfigurationError

__all__ = [
    "DEFAULT_OUTCOME_MAPPING",
    "OUTCOMES",
    "OUTCOME_DTYPE",
    "STATUSES",
    "outcome_expr",
    "resolve_outcome_mapping",
]

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
