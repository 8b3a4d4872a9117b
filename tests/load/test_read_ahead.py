"""Reading ahead in a cursor listing: the next page is asked for on the cursor a page starts with,
and a listing loads exactly what a strictly serial one loads, whatever the guess was worth."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from offer_analytics import BindbeeClient, CursorLoopError, RetryPolicy, fetch_offers
from offer_analytics.load._read_ahead import ReadAhead, early_cursor
from offer_analytics.sandbox import generate_offers

FAST = RetryPolicy(attempts=4, wait_initial_s=0.001, wait_max_s=0.01, wait_jitter_s=0.001)


def _page(cursor: str | None, items: list[dict[str, Any]], **extra: Any) -> bytes:
    return json.dumps({"cursor": cursor, "page_size": len(items), "items": items, **extra}).encode()


# --- early_cursor -------------------------------------------------------------------------------


@given(cursor=st.text(), cut=st.integers(min_value=0, max_value=400), ascii_only=st.booleans())
def test_a_cursor_read_early_is_the_page_cursor_or_nothing(
    cursor: str, cut: int, ascii_only: bool
) -> None:
    """From any first chunk of a page, the early cursor is the page's own cursor or None: a body
    cut anywhere never yields a wrong one."""
    body = json.dumps(
        {"cursor": cursor, "page_size": 1, "items": [{"id": "o1"}]}, ensure_ascii=ascii_only
    ).encode()
    whole = early_cursor(body)
    assert whole == (cursor or None)  # an empty cursor ends the listing, as the page reader says
    assert early_cursor(body[:cut]) in (None, whole)


@pytest.mark.parametrize(
    "body",
    [
        b'{"page_size": 1, "cursor": "c2", "items": []}',  # not first
        b'{"items": [], "cursor": "c2"}',
        b'["cursor", "c2"]',
        b'{"cursor": 5, "items": []}',  # not a string: the page reader decides
        b'{"cursor": "c\\x2", "items": []}',  # an invalid escape
        b'{"cursor": "c\xff2", "items": []}',  # not UTF-8
        b'{"cursor": null, "items": []}',
        b'{"cursor": "", "items": []}',
    ],
)
def test_a_body_that_does_not_start_with_a_usable_cursor_is_not_read_ahead(body: bytes) -> None:
    assert early_cursor(body) is None


# --- ReadAhead on its own: a fake chain -------------------------------------------------------


class FakeChain:
    """Pages c0 -> c1 -> ... (None at the end): a round trip of 10 ms, then the head of the page
    with its cursor, then the rest of the body 2 ms later."""

    def __init__(self, pages: int, *, sent: bool = True, body_delay_s: float = 0.002) -> None:
        self.pages = pages
        self.sent = sent
        self.body_delay_s = body_delay_s
        self.log: list[str] = []
        self.fail: set[str] = set()
        self.cursor_of: dict[str, str | None] = {}
        self.slow: set[str] = set()  # pages whose round trip takes a second

    def next_cursor(self, cursor: str) -> str | None:
        if cursor in self.cursor_of:
            return self.cursor_of[cursor]
        n = int(cursor.removeprefix("c")) + 1
        return f"c{n}" if n < self.pages else None

    async def get(
        self,
        query: Mapping[str, str],
        *,
        peek: Callable[[bytes], Awaitable[None] | None] | None,
        on_sent: Callable[[], None] | None,
    ) -> str | None:
        cursor = query["cursor"]
        self.log.append(f"send {cursor}")
        try:
            await asyncio.sleep(0)
            if on_sent is not None and self.sent:
                on_sent()
            await asyncio.sleep(1.0 if cursor in self.slow else 0.01)  # the round trip
            following = self.next_cursor(cursor)
            if peek is not None:
                waiting = peek(b'{"cursor": ' + json.dumps(following).encode() + b", ")
                if waiting is not None:
                    self.log.append(f"waits {cursor}")
                    await waiting
            self.log.append(f"head {cursor}")
            await asyncio.sleep(self.body_delay_s)  # the rest of the body
            if cursor in self.fail:
                raise ConnectionError(f"page {cursor} broke off")
            self.log.append(f"done {cursor}")
            return following
        except asyncio.CancelledError:
            self.log.append(f"cancelled {cursor}")
            raise


async def _follow(chain: FakeChain, *, enabled: bool = True) -> list[str]:
    cursors = ["c0"]
    async with ReadAhead(chain.get, lambda c: {"cursor": c}, enabled=enabled) as ahead:
        while (following := await ahead.get({"cursor": cursors[-1]})) is not None:
            cursors.append(following)
    return cursors


def test_the_next_request_leaves_before_the_page_it_follows_is_read_whole() -> None:
    chain = FakeChain(4)
    assert asyncio.run(_follow(chain)) == ["c0", "c1", "c2", "c3"]
    log = chain.log
    for n in range(3):
        assert log.index(f"send c{n + 1}") < log.index(f"done c{n}"), log
    assert [e for e in log if e.startswith("send")] == ["send c0", "send c1", "send c2", "send c3"]
    assert not [e for e in log if e.startswith("cancelled")]


def test_disabled_it_sends_one_request_at_a_time() -> None:
    chain = FakeChain(3)
    assert asyncio.run(_follow(chain, enabled=False)) == ["c0", "c1", "c2"]
    assert chain.log == [f"{step} c{n}" for n in range(3) for step in ("send", "head", "done")]


def test_a_cursor_not_worth_asking_ahead_waits_until_it_is_asked_for() -> None:
    chain = FakeChain(4)

    async def follow() -> list[str]:
        cursors = ["c0"]
        not_ahead = ReadAhead(chain.get, lambda c: {"cursor": c}, worth_asking=lambda c: c != "c2")
        async with not_ahead as ahead:
            while (following := await ahead.get({"cursor": cursors[-1]})) is not None:
                cursors.append(following)
        return cursors

    assert asyncio.run(follow()) == ["c0", "c1", "c2", "c3"]
    log = chain.log
    assert log.index("send c2") > log.index("done c1"), log  # asked for, not ahead
    assert log.index("send c3") < log.index("done c2"), log  # and ahead again after it
    assert not [e for e in log if e.startswith("cancelled")]


def test_a_wrong_guess_is_cancelled_and_the_right_page_asked_for() -> None:
    """The first chunk says c1 but the page, read whole, says c9 (a retry, a repeated key)."""

    class Misleading(FakeChain):
        async def get(self, query: Mapping[str, str], **hooks: Any) -> str | None:
            following = await super().get(query, **hooks)
            return "c9" if query["cursor"] == "c0" else following

    chain = Misleading(10)
    chain.cursor_of["c9"] = None
    chain.slow.add("c1")  # still in flight when c0 is read whole, however slow the machine
    assert asyncio.run(_follow(chain)) == ["c0", "c9"]
    # c1 left on the early guess; it was still in flight when c0 named c9, and was dropped.
    assert "send c1" in chain.log
    assert "cancelled c1" in chain.log
    assert "done c1" not in chain.log
    assert chain.log.count("done c9") == 1


def test_a_page_that_fails_takes_the_request_sent_ahead_down_with_it() -> None:
    chain = FakeChain(5)
    chain.fail.add("c1")

    async def main() -> None:
        with pytest.raises(ConnectionError):
            await _follow(chain)
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert not others, others  # nothing left running behind the error

    asyncio.run(main())
    assert "send c2" in chain.log
    assert "cancelled c2" in chain.log
    assert "send c3" not in chain.log


def test_leaving_the_block_cancels_a_request_nobody_asked_for() -> None:
    chain = FakeChain(5)

    async def main() -> None:
        async with ReadAhead(chain.get, lambda c: {"cursor": c}) as ahead:
            assert await ahead.get({"cursor": "c0"}) == "c1"  # c1 was sent ahead meanwhile
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []

    asyncio.run(main())
    assert "send c1" in chain.log
    assert "cancelled c1" in chain.log


def test_a_transport_that_never_says_sent_costs_one_short_wait_then_none() -> None:
    chain = FakeChain(6, sent=False)
    assert asyncio.run(_follow(chain)) == [f"c{n}" for n in range(6)]
    # c0's rest waited (at most 5 ms) for news of c1 that never came; later pages do not wait.
    assert [e for e in chain.log if e.startswith("waits")] == ["waits c0"]
    told = FakeChain(6)
    asyncio.run(_follow(told))
    assert [e for e in told.log if e.startswith("waits")] == [f"waits c{n}" for n in range(5)]


def test_a_cancel_that_interrupts_the_cleanup_still_stops_every_request() -> None:
    """The load is cancelled (another connector failed, Ctrl-C) just as a failed page's chain is
    being cancelled: the request sent ahead must not run on unseen."""
    from offer_analytics.load._read_ahead import _cancel, _Request

    async def main() -> list[bool]:
        async def slow() -> None:
            await asyncio.sleep(10)

        first, ahead = _Request({"cursor": "c1"}), _Request({"cursor": "c2"})
        first.task, ahead.task = asyncio.create_task(slow()), asyncio.create_task(slow())
        first.next = ahead
        cleanup = asyncio.create_task(_cancel(first))
        await asyncio.sleep(0)
        cleanup.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cleanup
        await asyncio.sleep(0)
        return [first.task.cancelled(), ahead.task.cancelled()]

    assert asyncio.run(main()) == [True, True]


# --- Through the loader -----------------------------------------------------------------------


OFFERS = next(iter(generate_offers(60, connectors=1, seed=4).values()))


def _load(transport: httpx.AsyncBaseTransport, **options: Any) -> Any:
    async def main() -> Any:
        async with BindbeeClient(
            api_key="key",
            base_url="https://api.test",
            retry=FAST,
            rate_limit=(10_000, 1.0),
            transport=transport,
        ) as client:
            return await fetch_offers(
                connectors={"acme": "token-acme"}, client=client, page_size=10, **options
            )

    return asyncio.run(main())


def test_a_listing_overlaps_each_page_with_the_request_for_the_next() -> None:
    """Each page's body is held back until the server has the request for the next page: a
    loader that waited for whole pages would stall on every one."""
    asked = {0: asyncio.Event()}  # made in the loop below, per page
    overlapped: list[bool] = []

    async def body(start: int, page: bytes) -> AsyncIterator[bytes]:
        head, rest = page.split(b'"page_size"', 1)
        yield head
        if start + 10 < len(OFFERS):
            try:
                await asyncio.wait_for(asked.setdefault(start + 10, asyncio.Event()).wait(), 2)
                overlapped.append(True)
            except TimeoutError:
                overlapped.append(False)
        yield b'"page_size"' + rest

    class Stream(httpx.AsyncByteStream):
        def __init__(self, chunks: AsyncIterator[bytes]) -> None:
            self._chunks = chunks

        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for chunk in self._chunks:
                yield chunk

    async def handler(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params.get("cursor", "0"))
        asked.setdefault(start, asyncio.Event()).set()
        items = OFFERS[start : start + 10]
        cursor = str(start + 10) if start + 10 < len(OFFERS) else None
        return httpx.Response(200, stream=Stream(body(start, _page(cursor, items))))

    frame, report = _load(httpx.MockTransport(handler))
    assert frame["id"].to_list() == [o["id"] for o in OFFERS]
    assert report.requests == 6
    assert overlapped == [True] * 5


def test_a_page_that_repeats_its_cursor_key_loads_the_page_its_reader_names() -> None:
    """``{"cursor": "bogus", ..., "cursor": "20"}``: JSON readers keep the last key, so the
    listing goes on at 20, and the request sent ahead on "bogus" is dropped."""
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        seen.append(cursor)
        if cursor == "bogus":
            return httpx.Response(200, content=_page(None, [{"id": "not-an-offer-of-this-chain"}]))
        start = int(cursor or "0")
        items = OFFERS[start : start + 10]
        following = str(start + 10) if start + 10 < len(OFFERS) else None
        if start == 10:
            body = b'{"cursor": "bogus", ' + _page(following, items)[1:]
        else:
            body = _page(following, items)
        return httpx.Response(200, content=body)

    frame, _ = _load(httpx.MockTransport(handler))
    assert frame["id"].to_list() == [o["id"] for o in OFFERS]
    assert [c for c in seen if c != "bogus"] == [None, "10", "20", "30", "40", "50"]


def test_a_cursor_seen_before_is_not_asked_for_ahead() -> None:
    """A listing that loops (None -> 10 -> 20 -> 10) ends with CursorLoopError before a request
    goes out with the repeated cursor: reading ahead spends no budget on a loop."""
    following = {None: "10", "10": "20", "20": "10"}
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        seen.append(cursor)
        start = int(cursor or "0")
        return httpx.Response(200, content=_page(following[cursor], OFFERS[start : start + 10]))

    with pytest.raises(CursorLoopError, match="repeated a cursor"):
        _load(httpx.MockTransport(handler))
    assert seen == [None, "10", "20"]


def test_a_page_cut_short_after_its_cursor_is_retried_and_nothing_doubles() -> None:
    cut = {"20": 2}  # page 20 breaks off twice after its cursor, then comes whole

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        start = int(cursor or "0")
        items = OFFERS[start : start + 10]
        following = str(start + 10) if start + 10 < len(OFFERS) else None
        body = _page(following, items)
        if cut.get(cursor or "", 0):
            cut[cursor or ""] -= 1
            body = body[: len(body) // 2]
        return httpx.Response(200, content=body)

    frame, report = _load(httpx.MockTransport(handler))
    assert frame["id"].to_list() == [o["id"] for o in OFFERS]
    assert report.complete
