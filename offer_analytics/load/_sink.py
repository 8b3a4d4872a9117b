"""PageDecoder: decodes every connector's pages in a worker thread while the next ones are fetched.

Decoding (Polars and pyarrow, mostly outside the GIL) and fetching (the event loop) then overlap.
One decode call costs ~12 ms of fixed work (planning and setting up its Polars queries) before
the first offer, as much as ~4,000 offers: pages are therefore decoded in chunks of a few MB,
and the pages of all connectors of a load share a chunk (grouped by connector before decoding,
so that each connector's rows are one slice of the chunk's frame). Decoding per connector in
chunks of 8 pages instead cost a 16-connector load more client CPU than the HTTP itself
(bench/BENCHMARKS.md).

A chunk is decoded after its last page arrived, so a load ends at best one chunk's decoding after
its last response. When pages arrive slower than the worker decodes them (a serial listing: a page
every ~25 ms, a call of 8 pages decoded in ~20 ms), a chunk starts early, as soon as the worker is
idle and ~8 pages are waiting: the last one is then small (measured on a 293-page listing: the
load ends ~30 ms after its last response instead of ~70, for 1.9 s of client CPU instead of 1.5).
Whether pages arrive slower is read from the pages themselves, with no clock: a page that arrives
while a chunk is being decoded is a sign of the opposite, and while more than 1 in 8 of the waiting
bytes came in that way chunks stay full (many connectors: as few decode calls as ever). Until
one chunk has been decoded nothing is known, so the first chunk is always full.

A chunk that fails to decode (a page not shaped like offers, a timestamp under ``strict=True``)
is reported at once through ``on_error``, so that the loader can stop fetching instead of finding
out after the last page. What a chunk leaves behind is only its rows
(:mod:`offer_analytics.load._memory`); a 1M-offer load's peak memory is in bench/BENCHMARKS.md.

Each connector sees a :class:`PageSink`: it hands over its pages and, at the end, gets its own
frames and decode stats back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any, Final

import polars as pl

from offer_analytics.decode import DecodeStats
from offer_analytics.load._memory import owned_strings, return_freed_memory

__all__ = ["PageDecoder", "PageSink", "merge_unparsed", "wrap_single_offer"]

#: Page bodies of one connector -> (frame, stats); called with ``connector=label``.
Decode = Callable[..., tuple[pl.DataFrame, DecodeStats]]

#: Bytes of page bodies per decode call: ~11,000 offers of the plain listing, so the call's fixed
#: cost is a small share, while the bodies held back stay a few MB.
CHUNK_BYTES: Final = 4_000_000
#: Pages per decode call at most, so that a page that cannot decode stops a listing of small pages
#: early rather than at its end.
CHUNK_PAGES: Final = 64
#: Bytes of page bodies that start a decode call before a chunk is full, when the worker is idle and
#: pages arrive slower than it decodes them: ~8 pages of 200 offers. A call costs ~12 ms before its
#: first offer and ~1 ms per such page (measured), so a serial listing then spends one call per
#: ~8 pages, and the last chunk, decoded after the last page arrived, takes ~13-20 ms.
EARLY_BYTES: Final = 600_000
#: A chunk starts early only while at most 1 in this many waiting bytes arrived with a decode
#: running: beyond that, pages arrive about as fast as early chunks decode, and full ones cost less.
BUSY_SHARE: Final = 8

_PAGE_HEAD: Final = b'{"cursor":null,"page_size":1,"items":['
_PAGE_TAIL: Final = b"]}"

_Chunk = list[tuple[str, bytes, int | None]]  # (connector, body, offers on the page if known)
_Decoded = tuple[dict[str, pl.DataFrame], dict[str, DecodeStats]]


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


class PageDecoder:
    """Collects the page bodies of a load's connectors and decodes them in shared chunks.

    Parameters
    ----------
    decode
        Page bodies -> (frame, stats), given ``connector=label``; runs on ``executor``.
    executor
        Where decoding runs (one worker thread per load is enough: Polars parallelises inside).
    chunk_bytes, chunk_pages
        A decode call starts once this many body bytes, or pages, are waiting.
    early_bytes
        ...or once this many bytes are waiting, the worker is idle, and at most 1 in
        :data:`BUSY_SHARE` of them arrived while a decode was running (after a first chunk).
    on_error
        Called on the event loop with the error of the first chunk that fails to decode (and of
        any later one): the load is to stop.
    """

    def __init__(
        self,
        decode: Decode,
        *,
        executor: Executor,
        chunk_bytes: int = CHUNK_BYTES,
        chunk_pages: int = CHUNK_PAGES,
        early_bytes: int = EARLY_BYTES,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._decode = decode
        self._executor = executor
        self._chunk_bytes = chunk_bytes
        self._chunk_pages = chunk_pages
        self._early_bytes = early_bytes
        self._on_error = on_error
        self._buffer: _Chunk = []
        self._buffered = 0
        self._busy_bytes = 0  # of the buffer's, those that arrived while a decode was running
        self._running = 0  # chunks handed to the executor and not finished
        self._finished_one = False
        self._pending: list[asyncio.Future[_Decoded]] = []
        self._done: list[_Decoded] | None = None

    def sink(self, label: str) -> PageSink:
        """The sink through which connector ``label`` hands over its pages."""
        return PageSink(self, label)

    def add(self, label: str, body: bytes, items: int | None) -> None:
        """Queue a page of ``items`` offers (``None``: not counted); a full chunk is decoded."""
        self._buffer.append((label, body, items))
        self._buffered += len(body)
        if self._running:
            self._busy_bytes += len(body)
        full = self._buffered >= self._chunk_bytes or len(self._buffer) >= self._chunk_pages
        if full or self._early():
            self._flush()

    def _early(self) -> bool:
        """Whether to decode what is waiting now rather than wait for a full chunk.

        The worker is then idle too: while a chunk runs, every page that arrived since it
        started arrived busy.
        """
        return (
            self._finished_one
            and self._buffered >= self._early_bytes
            and self._busy_bytes * BUSY_SHARE <= self._buffered
        )

    def _flush(self) -> None:
        if not self._buffer:
            return
        chunk, self._buffer, self._buffered, self._busy_bytes = self._buffer, [], 0, 0
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, self._decode_chunk, chunk)
        self._running += 1
        future.add_done_callback(self._check)
        self._pending.append(future)

    def _check(self, future: asyncio.Future[_Decoded]) -> None:
        self._running -= 1
        self._finished_one = True
        if future.cancelled():
            return
        error = future.exception()  # also marks it retrieved: no "never retrieved" warning
        if error is not None and self._on_error is not None:
            self._on_error(error)

    def _decode_chunk(self, chunk: _Chunk) -> _Decoded:
        try:
            return self._decode_pages(chunk)
        finally:
            # The page bodies go before the next chunk's arrive, and with them the reader's
            # transient buffers: the memory a long load holds is then its rows and little else.
            chunk.clear()
            return_freed_memory()

    def _decode_pages(self, chunk: _Chunk) -> _Decoded:
        labels = list(dict.fromkeys(label for label, _, _ in chunk))
        # Each connector's pages together, in arrival order: its rows then come out as one slice
        # of the chunk's frame, sharing its buffers, where a partition would copy them.
        rank = {label: n for n, label in enumerate(labels)}
        chunk.sort(key=lambda page: rank[page[0]])
        counts = [items for _, _, items in chunk]
        if len(labels) > 1 and None in counts:
            return _merge(self._decode_pages([p for p in chunk if p[0] == lb]) for lb in labels)
        frame, stats = self._decode([body for _, body, _ in chunk], connector=labels[0])
        # Kept until the load ends: strings in buffers of their own, not pinning the reader's.
        frame = owned_strings(frame)
        if len(labels) == 1:
            return {labels[0]: frame}, {labels[0]: stats}
        if sum(n or 0 for n in counts) != frame.height:  # miscounted: no row may go astray
            return _merge(self._decode_pages([p for p in chunk if p[0] == lb]) for lb in labels)
        rows = dict.fromkeys(labels, 0)
        for label, _, items in chunk:
            rows[label] += items or 0
        frames: dict[str, pl.DataFrame] = {}
        start = 0
        for label, height in rows.items():
            if height:
                part = frame.slice(start, height)
                frames[label] = part.with_columns(pl.lit(label, pl.String).alias("connector"))
            start += height
        return frames, {label: _stats_of(stats, part) for label, part in frames.items()}

    async def results(self, label: str) -> tuple[list[pl.DataFrame], list[DecodeStats]]:
        """Decode what is left; connector ``label``'s frames and stats, in arrival order."""
        if self._done is None:
            self._flush()
            self._done = list(await asyncio.gather(*self._pending))
        frames = [chunk[0][label] for chunk in self._done if label in chunk[0]]
        stats = [chunk[1][label] for chunk in self._done if label in chunk[1]]
        return frames, stats


class PageSink:
    """One connector's way into a :class:`PageDecoder`.

    ``PageSink(decode, executor=...)`` makes a sink with a decoder of its own (label
    ``"default"``), for a single listing outside a load.
    """

    def __init__(
        self,
        decoder: PageDecoder | Decode,
        label: str = "default",
        *,
        executor: Executor | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        if not isinstance(decoder, PageDecoder):
            if executor is None:
                raise TypeError("a PageSink with a decode function of its own needs an executor")
            decoder = PageDecoder(decoder, executor=executor, on_error=on_error)
        self._decoder = decoder
        self.label = label

    def add(self, body: bytes, *, items: int | None = None) -> None:
        """Queue a page body of ``items`` offers (counted when known: it saves decode work)."""
        self._decoder.add(self.label, body, items)

    async def results(self) -> tuple[list[pl.DataFrame], list[DecodeStats]]:
        """Decode what is left and return this connector's frames and stats."""
        return await self._decoder.results(self.label)


def _merge(parts: Any) -> _Decoded:
    frames: dict[str, pl.DataFrame] = {}
    stats: dict[str, DecodeStats] = {}
    for part_frames, part_stats in parts:
        frames.update(part_frames)
        stats.update(part_stats)
    return frames, stats


def _stats_of(stats: DecodeStats, part: pl.DataFrame) -> DecodeStats:
    """The share of a shared chunk's stats that belongs to one connector's rows."""
    if not stats.unparsed:
        return DecodeStats(part.height)
    ids = set(part["id"].to_list())
    unparsed = {column: [i for i in found if i in ids] for column, found in stats.unparsed.items()}
    return DecodeStats(part.height, {column: found for column, found in unparsed.items() if found})
