"""The loader's arguments, checked and put in the shape the requests need, before any request.

Everything here fails with a :class:`~offer_analytics.errors.ConfigurationError` that names the
argument, so that a mistake costs no request and no rate budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime

from offer_analytics.bindbee._credentials import Connector
from offer_analytics.errors import ConfigurationError
from offer_analytics.load._id_batches import unique_ids
from offer_analytics.load._job import IdsArg

__all__ = ["ids_by_connector", "modified_after_param"]


def modified_after_param(value: datetime | date | str | None) -> str | None:
    """``modified_after`` as the API's query value: ISO 8601 in UTC (naive means UTC).

    Examples
    --------
    >>> modified_after_param("2026-01-01T12:00:00+02:00")
    '2026-01-01T10:00:00+00:00'
    >>> modified_after_param(date(2026, 1, 1))
    '2026-01-01T00:00:00+00:00'
    """
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigurationError("modified_after must be an ISO 8601 timestamp.") from None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # the API reads naive timestamps as UTC
    return value.astimezone(UTC).isoformat()


def ids_by_connector(ids: IdsArg, connectors: Sequence[Connector]) -> dict[str, list[str]]:
    """Distinct ids per connector label, read once (ids may be an iterator).

    Examples
    --------
    >>> ids_by_connector(["a", "b", "a"], [Connector("acme", "t")])
    {'acme': ['a', 'b']}
    """
    one_string = "ids= takes a list of offer ids, not one string."
    if isinstance(ids, str):
        raise ConfigurationError(one_string)
    if isinstance(ids, Mapping):
        if any(isinstance(each, str) for each in ids.values()):
            raise ConfigurationError(one_string)
        unknown = set(ids) - {c.label for c in connectors}
        if unknown:
            raise ConfigurationError(
                f"ids= names connectors that were not given: {sorted(unknown)}"
            )
        return {label: unique_ids(each) for label, each in ids.items()}
    if len(connectors) > 1:
        msg = "With several connectors, pass ids={label: [...]}: an offer id belongs to one ATS."
        raise ConfigurationError(msg)
    return {connectors[0].label: unique_ids(ids)}
