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
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offer_analytics.sandbox._app import CONNECTOR_SCOPE_KEY, FAULT_SCOPE_KEY
from offer_analytics.sandbox._faults import FaultDecision, FaultPlan, drift_body
from offer_analytics.sandbox._window import FixedWindowLimiter

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
    ``"non_json"``, ``"trickle"``, ``"drift"``, ``"repeat_cursor"``, ``"endless_cursor"``,
    ``"overlap"``) or None.
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


def _detail(text: str) -> bytes:
    return b'{"detail":"' + text.replace('"', "'").encode() + b'"}'


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
        drift_targets: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self._api_key = api_key.encode()
        self._tokens = {token.encode(): label for token, label in tokens.items()}
        self._forbidden = frozenset(t.encode() for t in forbidden_tokens)
        self.limiter = limiter
        self.plan = plan
        self.log = log
        self.max_url_length = max_url_length
        self.drift_targets = dict(drift_targets or {})

    def _authorised(self, header: bytes | None) -> bool:
        if header is None:
            return False
        scheme, _, key = header.strip().partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(key.strip(), self._api_key)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(scope, receive, send, self.log)
        try:
            await self._handle(exchange)
        except asyncio.CancelledError:
            # uvicorn cancels requests still running when its shutdown grace period ends (e.g.
            # under a long latency fault). Answer as a server going down does, instead of letting
            # uvicorn log a traceback and send a bare 500.
            if exchange.status or exchange.dropped:
                raise
            detail = _detail("The server is shutting down")
            await exchange.reply(503, detail, {"connection": "close", "retry-after": "1"})
        finally:
            exchange.record()  # a no-op unless the response never finished (an exception)

    async def _handle(self, ex: _Exchange) -> None:
        delay = self.plan.latency_s()
        if delay:
            await asyncio.sleep(delay)
        if ex.url_length > self.max_url_length:
            detail = f"URL too long: {ex.url_length} bytes, at most {self.max_url_length}"
            return await ex.reply(414, _detail(detail))
        headers = dict(ex.scope["headers"])
        if not self._authorised(headers.get(b"authorization")):
            detail = "Missing or invalid API key: send Authorization: Bearer <api key>"
            return await ex.reply(401, _detail(detail), {"www-authenticate": "Bearer"})
        token = headers.get(b"x-connector-token")
        if token is None:
            error = (
                b'{"type":"missing","loc":["header","x-connector-token"],"msg":"Field required",'
            )
            return await ex.reply(422, b'{"detail":[' + error + b'"input":null}]}')
        if token in self._forbidden:
            detail = "This connector token belongs to an HRIS integration; ATS endpoints refuse it"
            return await ex.reply(403, _detail(detail))
        label = self._tokens.get(token)
        if label is None:
            return await ex.reply(403, _detail("Unknown connector token"))
        ex.connector = label

        now = time.time()
        window = self.limiter.hit(label, now=now)
        limit_headers = window.headers(now)
        if not window.allowed:
            detail = (
                f"Rate limit exceeded: {self.limiter.limit} requests per "
                f"{self.limiter.window_s:g} s per connector token"
            )
            return await ex.reply(429, _detail(detail), limit_headers)

        decision = self.plan.draw()
        ex.fault = decision.kind
        if decision.kind == "drop":
            return await ex.drop()
        if decision.kind == "error":
            return await ex.reply(decision.status, _detail(_ERROR_DETAIL[decision.status]))
        if decision.kind == "storm":
            retry = self.plan.faults.retry_after_header
            storm = {
                "x-ratelimit-limit": str(self.limiter.limit),
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(int(now) + retry),
                "retry-after": str(retry),
            }
            return await ex.reply(429, _detail("Rate limit exceeded"), storm)
        if decision.kind == "non_json":
            return await ex.reply(200, _NON_JSON_BODY, limit_headers, media=b"text/html")

        ex.scope[CONNECTOR_SCOPE_KEY] = label
        await self._forward(ex, limit_headers, decision)
        return None

    async def _forward(
        self, ex: _Exchange, limit_headers: Mapping[str, str], decision: FaultDecision
    ) -> None:
        extra = [(k.encode(), v.encode()) for k, v in limit_headers.items()]
        truncate = decision.kind == "truncate"
        drift = self.plan.faults.schema_drift
        hold = truncate or decision.kind == "trickle" or drift is not None
        held: list[Message] = []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
                if hold and message["status"] == 200:
                    held.append(message)  # the whole response is needed to cut it in half
                    return
            elif held:
                held.append(message)
                return
            await ex.send(message)

        await self.app(ex.scope, ex.receive, send_with_headers)
        if not held:
            if hold:
                ex.fault = None  # not a 200 (e.g. 404): nothing to truncate or trickle
            return None
        start = held[0]
        body = b"".join(m.get("body", b"") for m in held[1:])
        if drift is not None:
            drifted = drift_body(body, drift, self.drift_targets.get(ex.connector or ""))
            if drifted is not None:
                body, start = drifted, _with_length(start, len(drifted))
                ex.fault = ex.fault or "drift"
        if decision.kind == "trickle":
            return await ex.trickle(start, body, self.plan.faults.trickle_bytes_per_s)
        if not truncate:
            await ex.send(start)
            await ex.send({"type": "http.response.body", "body": body})
            return None
        half = body[: len(body) // 2]
        if decision.cut:
            # The headers promise the whole body; half arrives, then the connection closes.
            await ex.send(start)
            await ex.send({"type": "http.response.body", "body": half, "more_body": True})
            return await ex.drop()
        await ex.send(_with_length(start, len(half)))
        await ex.send({"type": "http.response.body", "body": half})
        return None


def _with_length(start: Message, length: int) -> Message:
    """A response start whose Content-Length says ``length``."""
    headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
    headers.append((b"content-length", str(length).encode()))
    return {**start, "headers": headers}


class _Exchange:
    """One request in the gateway: what to log about it and how to answer or drop it.

    The record is logged just before the last byte goes out (or the connection closes), so a
    client that has its response can already see the request in the log.
    """

    def __init__(self, scope: Scope, receive: Receive, send: Send, log: RequestLog) -> None:
        self.scope, self.receive, self._send, self._log = scope, receive, send, log
        self.arrived = time.monotonic()
        self.query = scope["query_string"].decode("latin-1")
        raw_path = scope.get("raw_path") or scope["path"].encode()
        self.url_length = len(raw_path) + (len(self.query) + 1 if self.query else 0)
        self.connector: str | None = None
        self.status = 0
        self.fault: str | None = None
        self.dropped = False
        self._logged = False

    def record(self) -> None:
        if self._logged:
            return
        self._logged = True
        self._log.append(
            RequestRecord(
                time=self.arrived,
                connector=self.connector,
                method=self.scope["method"],
                path=self.scope["path"],
                query=self.query,
                url_length=self.url_length,
                status=self.status,
                fault=self.fault or self.scope.get(FAULT_SCOPE_KEY),
            )
        )

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            self.record()
        await self._send(message)

    async def reply(
        self,
        status: int,
        body: bytes,
        headers: Mapping[str, str] | None = None,
        *,
        media: bytes = b"application/json",
    ) -> None:
        raw = [(b"content-type", media), (b"content-length", str(len(body)).encode())]
        raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
        await self.send({"type": "http.response.start", "status": status, "headers": raw})
        await self.send({"type": "http.response.body", "body": body})

    def _transport(self) -> Any:
        transport = getattr(getattr(self._send, "__self__", None), "transport", None)
        if transport is None:
            raise RuntimeError("the server's transport is unreachable")
        return transport

    async def trickle(self, start: Message, body: bytes, bytes_per_s: float) -> None:
        """Send ``body`` at ``bytes_per_s``, until it is all sent or the client hangs up."""
        await self.send(start)
        tick_s = 0.05
        step = max(1, math.ceil(bytes_per_s * tick_s))
        transport = self._transport()
        for offset in range(0, len(body), step):
            if transport.is_closing():
                self.record()  # the client gave up: the response never finished
                return
            piece = body[offset : offset + step]
            last = offset + step >= len(body)
            await self.send({"type": "http.response.body", "body": piece, "more_body": not last})
            if not last:
                await asyncio.sleep(tick_s)
        if not body:
            await self.send({"type": "http.response.body", "body": b""})

    async def drop(self) -> None:
        """Close the TCP connection under this request without (finishing) a response."""
        self.record()
        self.dropped = True
        self._transport().close()
        # Wait until the server has seen the connection go, so that it does not complain that
        # the app returned without responding.
        async with asyncio.timeout(5):
            while (await self.receive())["type"] != "http.disconnect":
                pass
