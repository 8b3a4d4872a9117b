"""Reading ahead in a cursor listing: page n + 1 is asked for while page n is still arriving.

The pages of a listing form a chain: page n + 1 can only be asked for with the cursor that page n
carries, so every page's round trip waits for the one before it. Bindbee writes the cursor first
in a list page (``{"cursor": ..., "page_size": ..., "items": [...]}``), so it is in the first
chunk of the body: the next request can leave as soon as that chunk is in, while the rest of page
n is received, read and handed to the decoder. That work then overlaps the next round trip
instead of lengthening the chain (bench/BENCHMARKS.md, the loader's serial listings).

The cursor seen early is a guess until page n has been read whole by its own reader
(:func:`~offer_analytics.load._list_page.read_list_page`), which decides. A guess that proves
wrong (a body that repeats ``cursor``, an attempt that was retried and came back with another
cursor) cancels the request sent ahead and asks again with the right cursor: what a listing loads
is exactly what a strictly serial one loads, and a wrong guess costs at most one request of the
budget. A body whose first chunk does not start with the cursor is simply not read ahead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Final, Protocol

from offer_analytics.bindbee._exchange import Peek

__all__ = ["ReadAhead", "early_cursor"]

#: Longest the rest of a page waits for the request sent ahead of it to leave: a few times what
#: sending takes on a busy loop, far less than a round trip.
_SEND_WAIT_S: Final = 0.005

#: ``{"cursor": <null or a complete JSON string>,`` at the very start of a body.
_CURSOR_FIRST: Final = re.compile(
    rb'\s*\{\s*"cursor"\s*:\s*(null|"(?:[^"\\\x00-\x1f]|\\.)*")\s*[,}]'
)


def early_cursor(chunk: bytes) -> str | None:
    """The cursor a list page starts with, from the first bytes of its body; ``None`` when the
    chunk does not start with a whole cursor, or the cursor ends the listing (null or empty).

    Examples
    --------
    >>> early_cursor(b'{"cursor": "c\\\\u00e92", "page_size": 2, "items": [{"id"')
    'c\\xe92'
    >>> early_cursor(b'{"cursor":null,"items":[]}') is None
    True
    >>> early_cursor(b'{"items": [], "cursor": "c2"}') is None  # not first: not read ahead
    True
    >>> early_cursor(b'{"cursor": "c2') is None  # cut inside the cursor
    True
    """
    found = _CURSOR_FIRST.match(chunk)
    if found is None or found.group(1) == b"null":
        return None
    text = found.group(1)
    try:
        # Cursors are plain tokens: only one with an escape needs a JSON reader.
        cursor = json.loads(text) if b"\\" in text else text[1:-1].decode()
    except ValueError:  # an invalid escape, or not UTF-8: the page's own reader will say
        return None
    return cursor if isinstance(cursor, str) and cursor else None


class _Get(Protocol):
    def __call__(
        self, query: Mapping[str, str], *, peek: Peek | None, on_sent: Callable[[], None] | None
    ) -> Coroutine[Any, Any, Any]: ...


class _Request:
    """One request of the chain, and the one sent ahead on the cursor its page starts with."""

    __slots__ = ("cursor", "next", "peeked", "query", "sent", "task")

    def __init__(self, query: Mapping[str, str]) -> None:
        self.query = query
        self.task: asyncio.Task[Any] | None = None
        self.sent = asyncio.Event()  # set once the request is on the wire (or held back)
        self.peeked = False
        self.cursor: str | None = None  # read from the first chunk of the body
        self.next: _Request | None = None


class ReadAhead:
    """The requests of one cursor chain, each next one sent on the cursor its page starts with.

    Parameters
    ----------
    get
        Sends one request of the chain: calls ``peek`` with the first chunk of a 2xx body (and
        awaits what it returns before reading on), and ``on_sent`` once the request is sent.
    next_query
        The query of the page that follows a page with the given cursor.
    enabled
        False: one request at a time, nothing sent ahead (a chain that may stop before its last
        cursor, such as an id batch, must not spend a request it may not need).
    worth_asking
        Whether a cursor is worth a request ahead; ``False`` for one the chain is about to stop
        at (a cursor seen before: the listing loops), which is then only asked for by
        :meth:`get`, if at all.

    Use as ``async with ReadAhead(...) as chain: page = await chain.get(query)``; leaving the
    block cancels a request sent ahead that was not asked for. Never more than one request is
    sent ahead of the page being read.
    """

    def __init__(
        self,
        get: _Get,
        next_query: Callable[[str], Mapping[str, str]],
        *,
        enabled: bool = True,
        worth_asking: Callable[[str], bool] = lambda cursor: True,
    ) -> None:
        self._get = get
        self._next_query = next_query
        self._enabled = enabled
        self._worth_asking = worth_asking
        self._current: _Request | None = None  # the request whose page is being waited for
        self._ahead: _Request | None = None  # sent ahead of the next call of get()
        # Whether the transport says when a request is sent (httpcore's trace hook does; a mock
        # or another library's transport may not): without it, nothing waits for the signal.
        self._told_when_sent = True

    async def __aenter__(self) -> ReadAhead:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        request, self._ahead = self._ahead, None
        await _cancel(request)

    async def get(self, query: Mapping[str, str]) -> Any:
        """The response for ``query``: the request sent ahead if it asked for exactly that."""
        if not self._enabled:
            return await self._get(query, peek=None, on_sent=None)
        request, self._ahead = self._ahead, None
        if request is None or request.query != query:
            await _cancel(request)  # sent on a wrong guess
            request = self._start(query)
        self._current = request
        if request.peeked:  # its page began to arrive before it was asked for
            self._send_next(request, wait=False)
        assert request.task is not None
        try:
            response = await request.task
        except BaseException:
            await _cancel(request)
            raise
        finally:
            self._current = None
        if not request.sent.is_set():  # answered, yet never reported as sent
            self._told_when_sent = False
        self._ahead = request.next
        return response

    def _start(self, query: Mapping[str, str]) -> _Request:
        request = _Request(query)

        def peek(chunk: bytes) -> Awaitable[None] | None:
            if request.peeked:  # a retried attempt's first chunk
                return None
            request.peeked = True
            request.cursor = early_cursor(chunk)
            # One page ahead of the reader at most: a request sent ahead waits for its turn.
            return self._send_next(request, wait=True) if request is self._current else None

        request.task = asyncio.create_task(self._get(query, peek=peek, on_sent=request.sent.set))
        return request

    def _send_next(self, request: _Request, *, wait: bool) -> Awaitable[None] | None:
        """Send the request for the page after ``request``'s; with ``wait``, what to await until
        it is on the wire."""
        if request.cursor is None or request.next is not None:
            return None
        if not self._worth_asking(request.cursor):
            return None
        request.next = self._start(self._next_query(request.cursor))
        return _until_sent(request.next.sent) if wait and self._told_when_sent else None


async def _until_sent(sent: asyncio.Event) -> None:
    """Wait (briefly) until the request sent ahead is on the wire: the rest of the page it was
    read from can wait, the next round trip cannot. Not longer than :data:`_SEND_WAIT_S`: a
    request that the budget holds back is not worth waiting for."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(_SEND_WAIT_S):
            await sent.wait()


async def _cancel(request: _Request | None) -> None:
    """Cancel a request and the one sent ahead of it, and wait for them to end; what they ended
    with is dropped (retrieved).

    Every task is told to stop before anything is awaited, and each retrieves its own outcome
    when it ends: a cancel of the caller while it waits leaves no request running unseen.
    """
    tasks: list[asyncio.Task[Any]] = []
    while request is not None:
        if request.task is not None:
            tasks.append(request.task)
        request = request.next
    for task in tasks:
        task.cancel()
        task.add_done_callback(_retrieve)
    if tasks:
        await asyncio.wait(tasks)


def _retrieve(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()
