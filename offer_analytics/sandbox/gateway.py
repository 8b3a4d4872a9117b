"""In front of the offers API: latency, URL limit, auth, rate limit, faults and the request log.

The order follows what a production API gateway does: a request is delayed (network latency), its
URL length checked (414), its API key (401) and connector token (422 when absent, 403 when unknown
or not an ATS connector) checked, then its connector's budget is spent (429 when exhausted, not
served). Only then may a fault replace the answer. Every answer after the budget check carries the
``X-RateLimit-*`` headers, apart from 5xx faults and dropped connections.

Dropping a connection needs the server's transport: uvicorn's h11 protocol hands each request a
bound ``send`` method whose owner holds it. Raising from the app instead would make uvicorn answer
500, which is a response, not a drop.
"""

from __future__ import annotations

import asyncio
import hmac
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offer_analytics.sandbox.app import CONNECTOR_SCOPE_KEY, FAULT_SCOPE_KEY
from offer_analytics.sandbox.faults import FaultDecision, FaultPlan
from offer_analytics.sandbox.window import FixedWindowLimiter

__all__ = ["Gateway", "RequestLog", "RequestRecord"]

_NON_JSON_BODY: Final = (
    b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head>"
    b"<body><h1>Service temporarily unavailable</h1><p>Please try again later.</p></body></html>"
)
_ERROR_DETAIL: Final = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the sandbox handled.

    ``time`` is ``time.monotonic()`` when the request arrived; ``connector`` the label of an
    authenticated connector (None before that); ``query`` the raw query string; ``url_length`` the
    length of path plus query as sent; ``status`` the status sent (0 for a dropped connection);
    ``fault`` the injected fault (``"error"``, ``"storm"``, ``"drop"``, ``"truncate"``,
    ``"non_json"``, ``"repeat_cursor"``) or None.
    """

    time: float
    connector: str | None
    method: str
    path: str
    query: str
    url_length: int
    status: int
    fault: str | None


class RequestLog:
    """A thread-safe, append-only record of requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def snapshot(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()


async def _respond(
    send: Send, status: int, body: bytes, headers: Mapping[str, str], media: bytes
) -> None:
    raw = [(b"content-type", media), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _detail(text: str) -> bytes:
    return b'{"detail":"' + text.replace('"', "'").encode() + b'"}'


async def _close_connection(send: Send, receive: Receive) -> None:
    """Close the TCP connection under this request without (finishing) a response."""
    transport: Any = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise RuntimeError("cannot drop the connection: the server's transport is not reachable")
    transport.close()
    # Wait until the server has seen the connection go, so that it does not complain that the
    # app returned without responding.
    async with asyncio.timeout(5):
        while (await receive())["type"] != "http.disconnect":
            pass


class Gateway:
    """ASGI middleware: auth, rate limit, faults and the request log in front of the offers app."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        api_key: str,
        tokens: Mapping[str, str],
        forbidden_tokens: frozenset[str],
        limiter: FixedWindowLimiter,
        plan: FaultPlan,
        log: RequestLog,
        max_url_length: int,
    ) -> None:
        self.app = app
        self._api_key = api_key.encode()
        self._tokens = {token.encode(): label for token, label in tokens.items()}
        self._forbidden = frozenset(t.encode() for t in forbidden_tokens)
        self.limiter = limiter
        self.plan = plan
        self.log = log
        self.max_url_length = max_url_length

    def _authorised(self, header: bytes | None) -> bool:
        if header is None:
            return False
        scheme, _, key = header.strip().partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(key.strip(), self._api_key)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrived = time.monotonic()
        query = scope["query_string"].decode("latin-1")
        raw_path = scope.get("raw_path") or scope["path"].encode()
        url_length = len(raw_path) + (len(query) + 1 if query else 0)
        state: dict[str, Any] = {"connector": None, "status": 0, "fault": None}
        try:
            await self._handle(scope, receive, send, url_length, state)
        finally:
            self.log.append(
                RequestRecord(
                    time=arrived,
                    connector=state["connector"],
                    method=scope["method"],
                    path=scope["path"],
                    query=query,
                    url_length=url_length,
                    status=state["status"],
                    fault=state["fault"] or scope.get(FAULT_SCOPE_KEY),
                )
            )

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, url_length: int, state: dict[str, Any]
    ) -> None:
        delay = self.plan.latency_s()
        if delay:
            await asyncio.sleep(delay)

        async def reply(status: int, body: bytes, headers: Mapping[str, str] = {}) -> None:
            state["status"] = status
            await _respond(send, status, body, headers, b"application/json")

        if url_length > self.max_url_length:
            detail = f"URL too long: {url_length} bytes, at most {self.max_url_length}"
            return await reply(414, _detail(detail))
        headers = dict(scope["headers"])
        if not self._authorised(headers.get(b"authorization")):
            detail = "Missing or invalid API key: send Authorization: Bearer <api key>"
            return await reply(401, _detail(detail), {"www-authenticate": "Bearer"})
        token = headers.get(b"x-connector-token")
        if token is None:
            error = (
                b'{"type":"missing","loc":["header","x-connector-token"],"msg":"Field required",'
            )
            return await reply(422, b'{"detail":[' + error + b'"input":null}]}')
        if token in self._forbidden:
            detail = "This connector token belongs to an HRIS integration; ATS endpoints refuse it"
            return await reply(403, _detail(detail))
        label = self._tokens.get(token)
        if label is None:
            return await reply(403, _detail("Unknown connector token"))
        state["connector"] = label

        now = time.time()
        window = self.limiter.hit(label, now=now)
        limit_headers = window.headers(now)
        if not window.allowed:
            detail = (
                f"Rate limit exceeded: {self.limiter.limit} requests per "
                f"{self.limiter.window_s:g} s per connector token"
            )
            return await reply(429, _detail(detail), limit_headers)

        decision = self.plan.draw()
        state["fault"] = decision.kind
        if decision.kind == "drop":
            await _close_connection(send, receive)
            return None
        if decision.kind == "error":
            return await reply(decision.status, _detail(_ERROR_DETAIL[decision.status]))
        if decision.kind == "storm":
            retry = self.plan.faults.retry_after_header
            storm = {
                "x-ratelimit-limit": str(self.limiter.limit),
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(int(now) + retry),
                "retry-after": str(retry),
            }
            return await reply(429, _detail("Rate limit exceeded"), storm)
        if decision.kind == "non_json":
            state["status"] = 200
            return await _respond(send, 200, _NON_JSON_BODY, limit_headers, b"text/html")

        scope[CONNECTOR_SCOPE_KEY] = label
        await self._forward(scope, receive, send, limit_headers, decision, state)
        return None

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        limit_headers: Mapping[str, str],
        decision: FaultDecision,
        state: dict[str, Any],
    ) -> None:
        extra = [(k.encode(), v.encode()) for k, v in limit_headers.items()]
        truncate = decision.kind == "truncate"
        held: list[Message] = []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            if truncate and state["status"] == 200:
                held.append(message)  # the whole response is needed to cut it in half
            else:
                await send(message)

        await self.app(scope, receive, send_with_headers)
        if not held:
            if truncate:
                state["fault"] = None  # not a 200 (e.g. 404): nothing to truncate
            return
        start = held[0]
        body = b"".join(m.get("body", b"") for m in held[1:])
        half = body[: len(body) // 2]
        if decision.cut:
            # The headers promise the whole body; half arrives, then the connection closes.
            await send(start)
            await send({"type": "http.response.body", "body": half, "more_body": True})
            await _close_connection(send, receive)
            return
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(half)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": half})
