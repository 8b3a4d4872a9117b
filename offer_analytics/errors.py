"""The exception hierarchy: every error the package raises on purpose is one of these.

::

    OfferAnalyticsError
    ├── ConfigurationError        bad arguments or environment (no key, plain http to a remote host)
    ├── SchemaError               a response or file that does not have the documented shape
    │   └── TimestampError        strict parsing met a value that is not a timestamp
    ├── BindbeeAPIError           the API answered with an error status
    │   ├── AuthenticationError   401: API key missing or wrong
    │   ├── ForbiddenError        403: the connector token may not use this endpoint
    │   ├── NotFoundError         404
    │   ├── RequestValidationError 422: the server rejected a parameter (``details`` lists which)
    │   ├── RateLimitedError      429 still returned after every retry
    │   └── ServerError           5xx still returned after every retry
    ├── TransportError            connection failed, timed out or the body broke off, after retries
    ├── CursorLoopError           pagination looped: a cursor or page repeated, or no end came
    ├── PartialLoadError          a load failed part-way; carries what was loaded and what is not
    │   └── LoadTimeoutError      the load's deadline passed first
    ├── PartialSyncError          some connectors of a sync failed; the others were committed
    └── SyncLockedError           another sync of the same connector is running

Messages say what went wrong and what to do next. They never contain the API key or a connector
token: connectors are named by their label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "AuthenticationError",
    "BindbeeAPIError",
    "ConfigurationError",
    "CursorLoopError",
    "ForbiddenError",
    "LoadTimeoutError",
    "NotFoundError",
    "OfferAnalyticsError",
    "PartialLoadError",
    "PartialSyncError",
    "RateLimitedError",
    "RequestValidationError",
    "SchemaError",
    "ServerError",
    "SyncLockedError",
    "TimestampError",
    "TransportError",
]


class OfferAnalyticsError(Exception):
    """Base class of every error raised on purpose by offer_analytics."""


class ConfigurationError(OfferAnalyticsError, ValueError):
    """Arguments or environment are incomplete or unsafe (e.g. no API key, plain http)."""


class SchemaError(OfferAnalyticsError, ValueError):
    """Data does not have the documented shape.

    Attributes
    ----------
    offer_id
        The offending offer's id, when one is known.
    field
        The offending field, when one is known.
    """

    def __init__(self, message: str, *, offer_id: str | None = None, field: str | None = None):
        super().__init__(message)
        self.offer_id = offer_id
        self.field = field


class TimestampError(SchemaError):
    """``strict=True`` parsing met present values that are not ISO-8601 timestamps.

    Attributes
    ----------
    column
        The column holding the bad values.
    rows
        ``(offer id, raw value)`` pairs, at most a handful, for the message and for debugging.
    """

    def __init__(self, message: str, *, column: str, rows: Sequence[tuple[str, str]]):
        super().__init__(message, offer_id=rows[0][0] if rows else None, field=column)
        self.column = column
        self.rows = list(rows)


class BindbeeAPIError(OfferAnalyticsError):
    """The Bindbee API answered with an error status.

    Attributes
    ----------
    status_code
        The HTTP status.
    connector
        The label of the connector whose request failed (never its token).
    detail
        The server's ``detail`` field, when the body had one.
    retry_after_s
        The seconds the server's ``Retry-After`` asked to wait, when it sent a usable one.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        connector: str | None = None,
        detail: Any = None,
        retry_after_s: float | None = None,
    ):
        super().__init__(message)
        self.status_code = status_code
        self.connector = connector
        self.detail = detail
        self.retry_after_s = retry_after_s


class AuthenticationError(BindbeeAPIError):
    """401: the API key is missing or wrong."""


class ForbiddenError(BindbeeAPIError):
    """403: the connector token is not allowed here (e.g. an HRIS connector on an ATS endpoint)."""


class NotFoundError(BindbeeAPIError):
    """404: no such offer (or wrong base URL)."""


class RequestValidationError(BindbeeAPIError):
    """422: the server rejected a parameter; ``details`` holds its loc/msg/type items."""

    @property
    def details(self) -> list[Mapping[str, Any]]:
        return list(self.detail) if isinstance(self.detail, list) else []


class RateLimitedError(BindbeeAPIError):
    """429 after every retry: the connector's budget is exhausted for longer than we may wait."""


class ServerError(BindbeeAPIError):
    """5xx after every retry."""


class TransportError(OfferAnalyticsError):
    """The connection failed, timed out, or a body broke off or was not JSON, after every retry."""


class CursorLoopError(OfferAnalyticsError):
    """Pagination looped (a cursor or a page served twice, or empty pages without end); the
    listing was stopped."""


class PartialLoadError(OfferAnalyticsError):
    """A load failed part-way.

    Attributes
    ----------
    frame
        The offers loaded before the failure, decoded as usual.
    report
        The load's :class:`~offer_analytics.LoadReport` so far.
    missing
        What was not loaded, per connector label: the ids not fetched, or ``["<listing>"]`` for a
        listing that did not finish.
    """

    def __init__(
        self,
        message: str,
        *,
        frame: pl.DataFrame,
        report: Any,
        missing: Mapping[str, Sequence[str]],
    ):
        super().__init__(message)
        self.frame = frame
        self.report = report
        self.missing = {label: list(ids) for label, ids in missing.items()}


class LoadTimeoutError(PartialLoadError):
    """The load's deadline (``deadline_s=``) passed before it finished.

    Like :class:`PartialLoadError`, it carries the frame of the offers loaded, the report and
    what is ``missing``; the message says which deadline passed and what to do about it.
    """


class PartialSyncError(OfferAnalyticsError):
    """Some connectors of a sync failed; every other one was synced and committed.

    The failed connectors' stored data and state are as before the sync: run it again to retry
    them (only they have work left).

    Attributes
    ----------
    report
        The :class:`~offer_analytics.SyncReport` of the connectors that were synced; its
        ``failed`` maps each failed label to its error message.
    errors
        Label -> the exception that stopped that connector.
    """

    def __init__(self, message: str, *, report: Any, errors: Mapping[str, BaseException]):
        super().__init__(message)
        self.report = report
        self.errors = dict(errors)


class SyncLockedError(OfferAnalyticsError):
    """Another sync of the same connector(s) into the same folder is running; nothing was done.

    Attributes
    ----------
    labels
        The connectors whose lock is held elsewhere.
    """

    def __init__(self, message: str, *, labels: Sequence[str]):
        super().__init__(message)
        self.labels = list(labels)
