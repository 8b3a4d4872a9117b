"""The sandbox's HTTP/1.1 protocol: uvicorn's h11 one, answering oversized requests as a gateway.

A request line or header block larger than h11's buffer never reaches the application: uvicorn
answers a bare ``400 text/plain`` and closes the socket while the client may still be sending, so
the client sees the connection reset instead of an answer. A production gateway answers ``414``
(URL too long) or ``431`` (headers too large) with a JSON body, and closes gently: it stops
writing, reads and discards what the client still sends for a moment, then closes. This protocol
does the same, so that a client's handling of long URLs can be tested against the sandbox.
"""

from __future__ import annotations

import asyncio
import json
from typing import Final

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["SandboxH11Protocol"]

#: How long the rest of an oversized request is read and discarded before the socket closes.
_LINGER_S: Final = 1.0


class SandboxH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with 414/431 JSON answers to requests too large to parse."""

    _lingering = False

    def send_400_response(self, msg: str) -> None:
        buffered, _ = self.conn.trailing_data
        if len(buffered) <= self.conn._max_incomplete_event_size:
            super().send_400_response(msg)  # a malformed request, not an oversized one
            return
        # No complete request line yet: the URL is what overflowed; else the headers did.
        if b"\r\n" not in buffered:
            status, reason, what = 414, b"URI Too Long", "URL"
        else:
            status, reason, what = 431, b"Request Header Fields Too Large", "request headers"
        body = json.dumps({"detail": f"The {what} is too long for this server"}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        self.transport.write(
            self.conn.send(h11.Response(status_code=status, headers=headers, reason=reason))
        )
        self.transport.write(self.conn.send(h11.Data(data=body)))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        # Closing now, with the client's bytes unread, would make the kernel reset the
        # connection and the client might never read the answer: linger instead.
        self._lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        asyncio.get_running_loop().call_later(_LINGER_S, self.transport.close)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return  # the rest of an oversized request: read and dropped
        super().data_received(data)
