"""PageDecoder: pages of several connectors decoded in one chunk, each row under its connector."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
from polars.testing import assert_frame_equal

from offer_analytics.decode import decode_pages, offers_to_frame
from offer_analytics.errors import SchemaError
from offer_analytics.load._sink import PageDecoder
from offer_analytics.sandbox import generate_offers


def page(offers: list[dict[str, Any]]) -> bytes:
    return json.dumps({"cursor": None, "page_size": 200, "items": offers}).encode()


@pytest.mark.parametrize("counted", [True, False], ids=["counted", "not-counted"])
@pytest.mark.parametrize("chunk_bytes", [1, 10**9], ids=["chunk-per-page", "one-chunk"])
def test_pages_of_interleaved_connectors_come_back_under_their_own_connector(
    counted: bool, chunk_bytes: int
) -> None:
    data = generate_offers(300, connectors=3, seed=3)
    # A bad timestamp, so that the decode stats have something to split between connectors.
    data[next(iter(data))][0]["sent_at"] = "2025-13-45T99:00:00Z"
    pages = {
        label: [offers[i : i + 7] for i in range(0, len(offers), 7)]
        for label, offers in data.items()
    }

    async def main() -> dict[str, tuple[list[pl.DataFrame], list[Any]]]:
        with ThreadPoolExecutor(max_workers=1) as executor:
            decoder = PageDecoder(decode_pages, executor=executor, chunk_bytes=chunk_bytes)
            sinks = {label: decoder.sink(label) for label in data}
            for n in range(max(len(p) for p in pages.values())):  # connectors' pages interleave
                for label, chunks in pages.items():
                    if n < len(chunks):
                        items = len(chunks[n]) if counted else None
                        sinks[label].add(page(chunks[n]), items=items)
            return {label: await sink.results() for label, sink in sinks.items()}

    results = asyncio.run(main())
    for label, (frames, stats) in results.items():
        expected = offers_to_frame(data[label], connector=label)
        assert_frame_equal(pl.concat(frames), expected)
        assert sum(s.offers for s in stats) == len(data[label])
        _, alone = decode_pages([page(data[label])], connector=label)
        together: dict[str, list[str]] = {}
        for part in stats:
            for column, ids in part.unparsed.items():
                together.setdefault(column, []).extend(ids)
        assert together == alone.unparsed


def test_a_miscounted_page_is_decoded_again_per_connector_rather_than_mislabelled() -> None:
    data = generate_offers(40, connectors=2, seed=4)

    async def main() -> dict[str, pl.DataFrame]:
        with ThreadPoolExecutor(max_workers=1) as executor:
            decoder = PageDecoder(decode_pages, executor=executor)
            for label, offers in data.items():
                decoder.add(label, page(offers), items=len(offers) + 1)  # one too many
            return {label: pl.concat((await decoder.results(label))[0]) for label in data}

    for label, frame in asyncio.run(main()).items():
        assert_frame_equal(frame, offers_to_frame(data[label], connector=label))


def test_the_rows_a_load_keeps_hold_none_of_the_json_readers_buffers() -> None:
    # A load keeps every chunk's rows until its end; rows that pointed into the reader's Arrow
    # buffers kept those (and the freed memory around them) resident: ~3x the frame at 1M offers.
    data = generate_offers(3_000, connectors=2, seed=5)
    pages = {
        label: [offers[i : i + 200] for i in range(0, len(offers), 200)]
        for label, offers in data.items()
    }
    reader_pool = pa.system_memory_pool()
    before = reader_pool.bytes_allocated()

    async def main() -> dict[str, list[pl.DataFrame]]:
        with ThreadPoolExecutor(max_workers=1) as executor:
            decoder = PageDecoder(decode_pages, executor=executor, chunk_bytes=100_000)
            for n in range(max(map(len, pages.values()))):
                for label, chunks in pages.items():
                    if n < len(chunks):
                        decoder.add(label, page(chunks[n]), items=len(chunks[n]))
            return {label: (await decoder.results(label))[0] for label in data}

    kept = asyncio.run(main())
    assert reader_pool.bytes_allocated() == before
    for label, frames in kept.items():
        assert_frame_equal(pl.concat(frames), offers_to_frame(data[label], connector=label))
    label, offers = next(iter(data.items()))
    straight, _ = decode_pages([page(offers)])  # decode_pages alone keeps the reader's strings
    assert reader_pool.bytes_allocated() > before
    assert straight.height == len(offers)


class HeldExecutor(Executor):
    """A decode worker that finishes its oldest chunk only when the test says so."""

    def __init__(self) -> None:
        self.queued: list[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self.queued.append((future, fn, args))
        return future

    async def finish(self) -> None:
        """The worker decodes its oldest chunk; the event loop then learns it is done."""
        future, fn, args = self.queued.pop(0)
        try:
            future.set_result(fn(*args))
        except Exception as exc:
            future.set_exception(exc)
        for _ in range(3):  # the wrapped future's state, then its done callbacks
            await asyncio.sleep(0)


def listing(n: int, *, seed: int) -> list[bytes]:
    """``n`` pages of 20 offers of one connector."""
    offers = next(iter(generate_offers(20 * n, connectors=1, seed=seed).values()))
    return [page(offers[i : i + 20]) for i in range(0, 20 * n, 20)]


def counting_decoder(
    executor: Executor, pages: list[bytes], **options: Any
) -> tuple[PageDecoder, list[int]]:
    """Chunks of 10 pages, early ones of 3 (in bytes); the page count of each decode call."""
    sizes: list[int] = []

    def decode(chunk: list[bytes], *, connector: str) -> tuple[pl.DataFrame, Any]:
        sizes.append(len(chunk))
        return decode_pages(chunk, connector=connector)

    early = 2 * max(map(len, pages)) + 1  # 3 pages, never 2
    assert 3 * min(map(len, pages)) >= early
    options = {"chunk_pages": 10, **options}
    decoder = PageDecoder(
        decode, executor=executor, chunk_bytes=10**9, early_bytes=early, **options
    )
    return decoder, sizes


async def results(decoder: PageDecoder, executor: HeldExecutor, label: str) -> pl.DataFrame:
    """What the load gets at its end: the chunks left are decoded, the frames concatenated."""
    waiting = asyncio.ensure_future(decoder.results(label))
    await asyncio.sleep(0)
    while executor.queued:
        await executor.finish()
    return pl.concat((await waiting)[0])


def expected(pages: list[bytes], label: str) -> pl.DataFrame:
    return offers_to_frame(
        [o for body in pages for o in json.loads(body)["items"]], connector=label
    )


def test_a_serial_listing_leaves_only_a_small_chunk_to_decode_after_its_last_page() -> None:
    # Each page arrives after the worker finished what it had: once a first full chunk has been
    # decoded, a chunk starts whenever the early threshold is waiting, so little is left at the
    # end. Two connectors, pages interleaved: each still gets its own rows, in order.
    pages = {"a": listing(11, seed=6), "b": listing(10, seed=7)}
    arrivals = [("ab"[n % 2], n // 2) for n in range(20)] + [("a", 10)]

    async def main() -> tuple[list[int], dict[str, pl.DataFrame]]:
        executor = HeldExecutor()
        decoder, sizes = counting_decoder(executor, pages["a"] + pages["b"])
        for label, n in arrivals:
            decoder.add(label, pages[label][n], items=20)
            while executor.queued:
                await executor.finish()
        return sizes, {label: await results(decoder, executor, label) for label in pages}

    sizes, frames = asyncio.run(main())
    assert sizes == [10, 3, 3, 3, 2]
    for label, frame in frames.items():
        assert_frame_equal(frame, expected(pages[label], label))


def test_pages_arriving_faster_than_chunks_decode_keep_chunks_full() -> None:
    # The worker finishes a chunk only after 4 more pages arrived: early chunks would only add
    # decode calls, so there are exactly as many as full chunks need.
    pages = listing(32, seed=8)

    async def main() -> tuple[list[int], pl.DataFrame]:
        executor = HeldExecutor()
        decoder, sizes = counting_decoder(executor, pages)
        for n, body in enumerate(pages, start=1):
            decoder.add("a", body, items=20)
            if n % 10 == 4 and executor.queued:
                await executor.finish()
        return sizes, await results(decoder, executor, "a")

    sizes, frame = asyncio.run(main())
    assert sizes == [10, 10, 10, 2]
    assert_frame_equal(frame, expected(pages, "a"))


def test_a_page_that_arrived_during_a_decode_delays_the_next_early_chunk() -> None:
    # One page came in while the worker was busy: a chunk starts early only once 8 times its
    # bytes are waiting (the chunk limit is raised to 20 pages to leave room for that).
    pages = listing(30, seed=9)

    async def main() -> list[int]:
        executor = HeldExecutor()
        decoder, sizes = counting_decoder(executor, pages, chunk_pages=20)
        for n, body in enumerate(pages, start=1):
            decoder.add("a", body, items=20)
            if n != 20:  # the first chunk is still being decoded when page 21 arrives
                while executor.queued:
                    await executor.finish()
        await results(decoder, executor, "a")
        return sizes

    assert asyncio.run(main()) == [20, 8, 2]


def test_an_early_chunk_that_fails_to_decode_is_reported_at_once() -> None:
    pages = listing(14, seed=10)
    pages[12] = b'{"items": [{"id": 5}]}'.ljust(len(pages[12]))  # an id that is a number
    errors: list[BaseException] = []

    async def main() -> list[int]:
        executor = HeldExecutor()
        decoder, sizes = counting_decoder(executor, pages, on_error=errors.append)
        for body in pages[:13]:
            decoder.add("a", body, items=20)
            while executor.queued:
                await executor.finish()
        return sizes

    assert asyncio.run(main()) == [10, 3]
    assert [type(error) for error in errors] == [SchemaError]
