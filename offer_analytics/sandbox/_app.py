"""The sandbox's endpoints as a Starlette application: offers and the related ATS resources.

This layer knows the API: routing, query validation, cursors, filters and the shape of each offer.
The related resources (``/applications``, ``/jobs``, ``/departments``, ``/offices``, ``/users``)
are listed and fetched the same way as offers: same page shape, ``ids``, ``modified_after`` and
cursors (each cursor bound to its resource).
Authentication, the rate limit and fault injection happen before it, in
:mod:`offer_analytics.sandbox._gateway`, which tells it the caller's connector label through the
ASGI scope (:data:`CONNECTOR_SCOPE_KEY`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from offer_analytics.sandbox._cursor import CursorCodec, InvalidCursor, query_fingerprint
from offer_analytics.sandbox._dataset import ConnectorOffers, ConnectorRecords
from offer_analytics.sandbox._params import QueryError, parse_list_query, parse_offer_query

__all__ = ["API_PREFIX", "CONNECTOR_SCOPE_KEY", "FAULT_SCOPE_KEY", "build_app", "json_response"]

API_PREFIX: Final = "/api/ats/v1"
#: The gateway puts the authenticated connector's label here.
CONNECTOR_SCOPE_KEY: Final = "offer_analytics.connector"
#: The app names a fault it produced itself (a repeated cursor) here, for the request log.
FAULT_SCOPE_KEY: Final = "offer_analytics.fault"


def json_response(
    status: int, content: object, headers: Mapping[str, str] | None = None
) -> Response:
    """A compact JSON response."""
    body = json.dumps(content, separators=(",", ":")).encode()
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _invalid(errors: list[dict[str, Any]]) -> Response:
    return json_response(422, {"detail": errors})


def _cursor_error(cursor: str, exc: InvalidCursor) -> Response:
    error = {"type": "value_error", "loc": ["query", "cursor"], "msg": f"Value error, {exc}"}
    return _invalid([{**error, "input": cursor}])


async def _http_error(request: Request, exc: Exception) -> Response:
    # FastAPI's shape for routing errors: {"detail": "Not Found"}, never an HTML page.
    assert isinstance(exc, HTTPException)
    return json_response(exc.status_code, {"detail": exc.detail}, exc.headers)


@dataclass(frozen=True)
class _OfferEndpoints:
    connectors: Mapping[str, ConnectorOffers]
    codec: CursorCodec
    repeat_cursor: bool
    endless_cursor: bool = False
    overlap_pages: bool = False
    resource: str = "offers"
    not_found: str = "Offer not found"

    def _data(self, request: Request) -> tuple[str, ConnectorOffers]:
        label = request.scope.get(CONNECTOR_SCOPE_KEY)
        if not isinstance(label, str) or label not in self.connectors:
            # Only reachable when the app runs without the gateway in front of it.
            raise HTTPException(403, "No connector: the gateway did not authenticate this request")
        return label, self.connectors[label]

    async def list_offers(self, request: Request) -> Response:
        label, data = self._data(request)
        try:
            query = parse_list_query(request.query_params)
        except QueryError as exc:
            return _invalid(exc.errors)
        fingerprint = query_fingerprint([self.resource, label, *query.filter_key()])
        after = -1
        if query.cursor:
            try:
                after = self.codec.decode(query.cursor, fingerprint)
            except InvalidCursor as exc:
                return _cursor_error(query.cursor, exc)
        overlap = self.overlap_pages and query.cursor is not None and after >= 0
        positions, more = data.page(query, after=after - 1 if overlap else after)
        if overlap:
            request.scope[FAULT_SCOPE_KEY] = "overlap"
        cursor: str | None = None
        if self.endless_cursor and not more:
            cursor = self.codec.encode(max([after, *positions]) + 1, fingerprint)
            request.scope[FAULT_SCOPE_KEY] = "endless_cursor"
        elif more:
            if self.repeat_cursor and query.cursor:
                cursor = query.cursor
                request.scope[FAULT_SCOPE_KEY] = "repeat_cursor"
            else:
                cursor = self.codec.encode(positions[-1], fingerprint)
        items = data.encode(positions, query)
        head = f'{{"cursor":{json.dumps(cursor)},"page_size":{query.page_size},"items":['
        body = b"".join((head.encode(), b",".join(items), b"]}"))
        return Response(body, media_type="application/json")

    async def get_offer(self, request: Request) -> Response:
        _, data = self._data(request)
        try:
            query = parse_offer_query(request.query_params)
        except QueryError as exc:
            return _invalid(exc.errors)
        position = data.find(request.path_params["offer_id"])
        if position is None:
            return json_response(404, {"detail": self.not_found})
        return Response(data.encode([position], query)[0], media_type="application/json")


def build_app(
    connectors: Mapping[str, ConnectorOffers],
    *,
    codec: CursorCodec,
    repeat_cursor: bool = False,
    endless_cursor: bool = False,
    overlap_pages: bool = False,
    related: Mapping[str, Mapping[str, ConnectorRecords]] | None = None,
) -> Starlette:
    """Build the Starlette app serving ``connectors`` (label -> offers).

    Parameters
    ----------
    connectors
        The data of each connector, by label.
    codec
        Signs and checks cursors.
    repeat_cursor
        Fault: every page fetched with a cursor returns that same cursor again.
    endless_cursor
        Fault: the last page, and every empty page after it, carries a new cursor.
    overlap_pages
        Fault: every page fetched with a cursor repeats the last offer of the page before.
    related
        Resource name (``"jobs"``, ...) -> label -> its objects; each gets a listing and a
        single-object endpoint.
    """
    served = {"offers": connectors, **(related or {})}
    routes = []
    for resource, data in served.items():
        singular = resource.removesuffix("s").capitalize()
        endpoints = _OfferEndpoints(
            data,
            codec,
            repeat_cursor,
            endless_cursor,
            overlap_pages,
            resource=resource,
            not_found=f"{singular} not found",
        )
        routes += [
            Route(f"{API_PREFIX}/{resource}", endpoints.list_offers, methods=["GET"]),
            Route(f"{API_PREFIX}/{resource}/{{offer_id}}", endpoints.get_offer, methods=["GET"]),
        ]
    return Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
