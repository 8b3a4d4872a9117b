"""RateGate on virtual time: spacing, header corrections, 429 pauses — no real waiting."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from offer_analytics.ratelimit import RateGate, parse_retry_after

T = TypeVar("T")

WALL_EPOCH = 1_700_000_000.0  # the fake wall clock is the virtual clock plus this


class VirtualTime:
    """A clock whose sleep advances time only when every task is waiting on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now + WALL_EPOCH

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (self.now + max(seconds, 0.0), next(self._seq), future))
        await future

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        async def drive() -> T:
            task = asyncio.ensure_future(coro)
            while not task.done():
                for _ in range(20):  # let every runnable task reach its next sleep
                    await asyncio.sleep(0)
                if self._waiters and not task.done():
                    at, _, future = heapq.heappop(self._waiters)
                    self.now = max(self.now, at)
                    future.set_result(None)
            return task.result()

        return asyncio.run(drive())

    def gate(self, **kwargs: Any) -> RateGate:
        return RateGate(clock=self.clock, wall_clock=self.wall, sleep=self.sleep, **kwargs)


def max_in_window(times: list[float], window: float) -> int:
    """Most send times inside any half-open window of this length."""
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_concurrent_tasks_share_one_even_budget() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=10, window_s=1.0)  # headroom 1: one request every 1/9 s
    sent: list[float] = []

    async def worker() -> None:
        for _ in range(5):
            await gate.acquire()
            sent.append(vt.now)
            gate.release(status=200, headers={})

    async def main() -> None:
        await asyncio.gather(*(worker() for _ in range(8)))

    vt.run(main())
    assert len(sent) == 40
    gaps = [b - a for a, b in itertools.pairwise(sorted(sent))]
    assert min(gaps) == pytest.approx(1 / 9)
    # Never over the budget, whatever the window's phase: nine per window, ten only when a window
    # starts exactly on a send time.
    assert max_in_window(sent, 1.0) <= 10
    assert max_in_window(sent, 0.999) <= 9
    assert sent[-1] == pytest.approx(39 / 9)
    assert gate.waited_s > 0


def test_server_limit_header_replaces_the_configured_limit() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=200, window_s=60.0)
    gate.release(status=200, headers={"X-RateLimit-Limit": "31"})
    assert gate.limit == 31
    assert gate.interval_s == pytest.approx(2.0)


def test_spent_window_blocks_until_reset() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0)
    sent: list[float] = []

    async def main() -> None:
        await gate.acquire()
        sent.append(vt.now)
        # Someone else spent this token's budget: nothing left until the reset 7 s from now.
        headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(vt.wall()) + 7)}
        gate.release(status=200, headers=headers)
        await gate.acquire()
        sent.append(vt.now)
        gate.release(status=200, headers={})

    vt.run(main())
    assert sent[1] == pytest.approx(7.0)
    assert gate.waited_s == pytest.approx(7.0)


def test_a_reset_given_as_seconds_is_understood() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0)

    async def main() -> float:
        await gate.acquire()
        gate.release(status=200, headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "3"})
        await gate.acquire()
        return vt.now

    assert vt.run(main()) == pytest.approx(3.0)


def test_429_pauses_every_task_of_the_connector_until_retry_after() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=20, window_s=1.0)
    sent: list[float] = []

    async def first() -> None:
        await gate.acquire()
        sent.append(vt.now)
        await vt.sleep(0.01)  # the response arrives 10 ms later
        gate.release(status=429, headers={"Retry-After": "2", "X-RateLimit-Remaining": "0"})

    async def others() -> None:
        await vt.sleep(0.001)
        for _ in range(5):
            await gate.acquire()
            sent.append(vt.now)
            gate.release(status=200, headers={})

    async def main() -> None:
        await asyncio.gather(first(), others())

    vt.run(main())
    after = sorted(t for t in sent if t > 0.05)
    before = [t for t in sent if t <= 0.05]
    assert len(before) == 1, "only the request whose slot came before the 429 was sent"
    assert after[0] >= 0.01 + 2.0
    assert min(b - a for a, b in itertools.pairwise(after)) >= gate.interval_s - 1e-9
    assert gate.rate_limited == 1


@pytest.mark.parametrize("retry_after", ["0", "soon", "-3", None])
def test_429_without_usable_retry_after_waits_for_reset(retry_after: str | None) -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=20, window_s=1.0)
    headers = {"x-ratelimit-reset": str(int(vt.wall()) + 5)}
    if retry_after is not None:
        headers["retry-after"] = retry_after

    async def main() -> float:
        await gate.acquire()
        gate.release(status=429, headers=headers)
        await gate.acquire()
        return vt.now

    assert vt.run(main()) == pytest.approx(5.0)


def test_429_without_any_hint_backs_off_instead_of_retrying_at_once() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=20, window_s=1.0, backoff_initial_s=1.0)
    waits: list[float] = []

    async def main() -> None:
        for _ in range(3):
            start = vt.now
            await gate.acquire()
            waits.append(vt.now - start)
            gate.release(status=429, headers={"retry-after": "0"})
        await gate.acquire()
        waits.append(vt.now)

    vt.run(main())
    # first acquire is free; then 1, 2 s (each up to 1.5x with jitter), doubling per 429 in a row
    assert waits[0] == 0.0
    assert 1.0 <= waits[1] <= 1.5
    assert 2.0 <= waits[2] <= 3.0


def test_request_without_response_frees_its_place() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=5, window_s=1.0)

    async def main() -> None:
        await gate.acquire()
        gate.release(status=None, headers={})

    vt.run(main())
    assert "in_flight=0" in repr(gate)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7.0), ("1.5", 1.5), ("0", None), ("", None), ("nan", None), ("inf", None), (None, None)],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=0.0) == expected


def test_parse_retry_after_http_date_in_the_past_is_no_hint() -> None:
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", now=100.0) is None
