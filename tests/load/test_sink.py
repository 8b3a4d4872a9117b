"""PageDecoder: pages of several connectors decoded in one chunk, each row under its connector."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
from polars.testing import assert_frame_equal

from offer_analytics.decode import decode_pages, offers_to_frame
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
