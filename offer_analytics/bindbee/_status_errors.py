"""Turning an error response of the Bindbee API into a typed error that says what to do next.

Messages name the connector by its label and never contain the API key or a token: text taken from
the server is scrubbed of both before it is used, by a
:class:`~offer_analytics.bindbee._redact.Redactor` that keeps them out of every local variable.
Whatever the body holds (invalid UTF-8, JSON nested too deep to parse, an odd ``Retry-After``),
the answer is a typed error, never an exception of the parser.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from offer_analytics.bindbee._rate_headers import parse_retry_after
from offer_analytics.errors import (
    AuthenticationError,
    BindbeeAPIError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    RequestValidationError,
    ServerError,
)

__all__ = ["error_for_status", "validation_locations"]

_MAX_DETAIL_CHARS = 300
#: A ``detail`` nested deeper than this is dropped: FastAPI's are two levels deep, and a deeper
#: one would make every later ``repr`` or ``str`` of the error recurse without end.
_MAX_DETAIL_DEPTH = 16


def _shallow(value: object, limit: int = _MAX_DETAIL_DEPTH) -> bool:
    """Whether ``value`` (parsed JSON) nests at most ``limit`` levels; iterative, never recurses."""
    level: list[object] = [value]
    for _ in range(limit):
        level = [
            child
            for item in level
            if isinstance(item, dict | list)
            for child in (item.values() if isinstance(item, dict) else item)
        ]
        if not level:
            return True
    return not any(isinstance(item, dict | list) for item in level)


def _detail(body: bytes, redact: Callable[[str], str]) -> Any:
    """The body's ``detail``, scrubbed; None when the body has none or cannot be read."""
    try:
        parsed = json.loads(body)
        detail = parsed.get("detail") if isinstance(parsed, dict) else None
        if isinstance(detail, str):
            return redact(detail)[:_MAX_DETAIL_CHARS]
        if detail is None or not _shallow(detail):
            return None
        return json.loads(redact(json.dumps(detail)))
    except (ValueError, RecursionError):
        # Not JSON, not UTF-8, or nested deeper than the parser goes: the status still says
        # what happened, so the detail is dropped rather than the error replaced.
        return None


def validation_locations(detail: Any) -> list[str]:
    """The parameter names a 422 ``detail`` list points at (the last element of each ``loc``).

    Examples
    --------
    >>> validation_locations([{"loc": ["query", "page_size"], "msg": "too big", "type": "x"}])
    ['page_size']
    """
    names: list[str] = []
    if isinstance(detail, list):
        for item in detail:
            loc = item.get("loc") if isinstance(item, Mapping) else None
            if isinstance(loc, list | tuple) and loc:
                names.append(str(loc[-1]))
    return names


def _describe_validation(detail: Any) -> str:
    if not isinstance(detail, list):
        return str(detail)[:_MAX_DETAIL_CHARS] if detail is not None else "no details given"
    parts = []
    for item in detail:
        if isinstance(item, Mapping):
            loc = item.get("loc")
            where = ".".join(str(x) for x in loc) if isinstance(loc, list | tuple) else "?"
            parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(parts)[:_MAX_DETAIL_CHARS] or "no details given"


def error_for_status(
    status: int,
    body: bytes,
    *,
    connector: str,
    path: str,
    redact: Callable[[str], str],
    retry_after: str | None = None,
    now: float = 0.0,
) -> BindbeeAPIError:
    """The typed error for an error response, with advice in its message.

    Parameters
    ----------
    status
        The HTTP status (>= 400).
    body
        The response body (``{"detail": ...}``).
    connector
        The connector's label, named in the message.
    path
        The request path (no query: it may hold long id lists).
    redact
        Scrubs the API key and tokens from anything the server sent back.
    retry_after
        The ``Retry-After`` header: quoted in a 429's advice, kept as a 5xx's
        ``retry_after_s``. Garbage is no hint.
    now
        The current unix time, for a ``Retry-After`` given as an HTTP date.

    Examples
    --------
    >>> err = error_for_status(401, b'{"detail": "bad key"}', connector="acme",
    ...                        path="/api/ats/v1/offers", redact=str)
    >>> type(err).__name__, err.status_code
    ('AuthenticationError', 401)
    >>> print(err)  # doctest: +ELLIPSIS
    Bindbee rejected the API key (401, connector 'acme'): check BINDBEE_API_KEY or api_key=. ...
    """
    detail = _detail(body, redact)
    hint = parse_retry_after(retry_after, now=now)
    said = f" Server said: {detail}" if isinstance(detail, str) and detail else ""
    where = f"connector {connector!r}"
    kind: type[BindbeeAPIError] = BindbeeAPIError
    msg = f"Bindbee refused the request ({status}, {where}) at {path}.{said}"
    if status == 401:
        kind = AuthenticationError
        msg = (
            f"Bindbee rejected the API key (401, {where}): check BINDBEE_API_KEY or api_key=. "
            f"The key must be the one Bindbee issued for this host.{said}"
        )
    elif status == 403:
        kind = ForbiddenError
        msg = (
            f"The token of {where} may not read ATS offers (403): it may belong to an HRIS or "
            f"other non-ATS connector, or not to this API key. Check the connector in the Bindbee "
            f"dashboard.{said}"
        )
    elif status == 404:
        kind = NotFoundError
        msg = f"Not found (404) at {path} for {where}: check base_url and the offer id.{said}"
    elif status == 422:
        kind = RequestValidationError
        scrubbed = redact(_describe_validation(detail))
        msg = f"Bindbee rejected a request parameter (422, {where}): {scrubbed}. Fix that argument."
    elif status == 429:
        kind = RateLimitedError
        asked = f" (the server asked for {hint:,.0f} s)" if hint is not None else ""
        msg = (
            f"Rate limit still exceeded after every retry (429, {where}): another client may be "
            "spending this connector's budget, or its plan allows fewer requests than "
            f"rate_limit= assumes. Wait for the rate-limit window to reset{asked} and load "
            "again, with a smaller rate_limit= if this keeps happening."
        )
    elif status >= 500:
        kind = ServerError
        msg = f"Bindbee server error {status} for {where} at {path}.{said}"
    return kind(msg, status_code=status, connector=connector, detail=detail, retry_after_s=hint)
