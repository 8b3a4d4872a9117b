"""PageSink: decodes a connector's pages in a worker thread while its next pages are fetched.

Decoding (Polars, mostly outside the GIL) and fetching (the event loop) then overlap: pages are
handed to the worker in chunks, so that the per-call overhead of decoding stays small and the loop
never stalls on a large page. A chunk that fails to decode (a page not shaped like offers, a
timestamp under ``strict=True``) is reported at once through ``on_error``, so that the loader can
stop fetching instead of finding out after the last page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Final

import polars as pl

from offer_analytics.decode import DecodeStats

__all__ = ["Decode", "PageSink", "merge_unparsed", "wrap_single_offer"]

Decode = Callable[[Sequence[bytes]], tuple[pl.DataFrame, DecodeStats]]

#: Pages per decode call: big enough to amortise the call, small enough to start decoding early.
CHUNK_PAGES: Final = 8

_PAGE_HEAD: Final = b'{"cursor":null,"page_size":1,"items":['
_PAGE_TAIL: Final = b"]}"


def wrap_single_offer(body: bytes) -> bytes:
    """The body of ``GET /offers/{id}`` shaped as a one-item list page, so one decoder fits all.

    Examples
    --------
    >>> wrap_single_offer(b'{"id": "o-1"}')
    b'{"cursor":null,"page_size":1,"items":[{"id": "o-1"}]}'
    """
    return _PAGE_HEAD + body + _PAGE_TAIL


def merge_unparsed(stats: Sequence[DecodeStats]) -> dict[str, tuple[str, ...]]:
    """Column -> ids of unparsed timestamps, over several decode calls."""
    merged: dict[str, list[str]] = {}
    for item in stats:
        for column, ids in item.unparsed.items():
            merged.setdefault(column, []).extend(ids)
    return {column: tuple(ids) for column, ids in merged.items() if ids}


class PageSink:
    """Collects one connector's page bodies and decodes them in chunks on an executor.

    Parameters
    ----------
    decode
        Page bodies -> (frame, stats); runs on ``executor``.
    executor
        Where decoding runs (one worker thread per load is enough: Polars parallelises inside).
    chunk_pages
        Pages per decode call.
    on_error
        Called on the event loop with the error of the first chunk that fails to decode (and of
        any later one): the load is to stop.
    """

    def __init__(
        self,
        decode: Decode,
        *,
        executor: Executor,
        chunk_pages: int = CHUNK_PAGES,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._decode = decode
        self._executor = executor
        self._chunk_pages = chunk_pages
        self._on_error = on_error
        self._buffer: list[bytes] = []
        self._pending: list[asyncio.Future[tuple[pl.DataFrame, DecodeStats]]] = []

    def add(self, body: bytes) -> None:
        """Queue a page body; a full chunk starts decoding at once."""
        self._buffer.append(body)
        if len(self._buffer) >= self._chunk_pages:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        chunk, self._buffer = self._buffer, []
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, self._decode, chunk)
        future.add_done_callback(self._check)
        self._pending.append(future)

    def _check(self, future: asyncio.Future[tuple[pl.DataFrame, DecodeStats]]) -> None:
        if future.cancelled():
            return
        error = future.exception()  # also marks it retrieved: no "never retrieved" warning
        if error is not None and self._on_error is not None:
            self._on_error(error)

    async def results(self) -> tuple[list[pl.DataFrame], list[DecodeStats]]:
        """Decode what is left and return every chunk's frame and stats, in arrival order."""
        self._flush()
        done = await asyncio.gather(*self._pending)
        return [frame for frame, _ in done], [stats for _, stats in done]
