"""RateGate on virtual time: known budget at once, pacing, resets, 429 pauses; no real waiting."""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import math
import random
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from offer_analytics.bindbee._rate_gate import (
    DEFAULT_RESET_MARGIN_S,
    ClockLead,
    Permit,
    RateGate,
    parse_retry_after,
)
from offer_analytics.bindbee._rate_headers import RateLimitHeaders, read_headers

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
                    if future.cancelled():
                        continue  # a sleep that ended early: time does not advance for it
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
            permit = await gate.acquire()
            sent.append(vt.now)
            gate.release(permit, status=200, headers={})

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


@pytest.mark.parametrize(
    ("headers", "limit", "window_s"),
    [
        ({"X-RateLimit-Limit": "31"}, 31, 60.0),
        ({"RateLimit-Policy": '"burst";q=10;w=6'}, 200, 6.0),  # learned without being told
    ],
    ids=["limit", "policy-window"],
)
def test_server_headers_replace_the_configured_limit_and_window(
    headers: dict[str, str], limit: int, window_s: float
) -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=200, window_s=60.0)

    async def main() -> None:
        permit = await gate.acquire()
        gate.release(permit, status=200, headers=headers)

    vt.run(main())
    assert (gate.limit, gate.window_s) == (limit, window_s)
    assert gate.interval_s == pytest.approx(window_s / (limit - 1))  # blind pacing


def limit_headers(vt: VirtualTime, *, remaining: int, reset_in: float) -> dict[str, str]:
    """The headers of a 2xx: ``remaining`` left in a window that ends ``reset_in`` s from now."""
    return {
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(int(vt.wall() + reset_in)),
    }


def test_known_budget_goes_at_once_then_waits_for_reset_then_paces() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0, reset_margin_s=0.25)  # paced 10/99 s when blind
    sent: list[float] = []

    async def one(headers: dict[str, str]) -> None:
        permit = await gate.acquire()
        sent.append(vt.now)
        gate.release(permit, status=200, headers=headers)

    async def main() -> None:
        await one(limit_headers(vt, remaining=50, reset_in=10))
        # 50 left after the first request, all of them spent at once, concurrently.
        await asyncio.gather(*(one({}) for _ in range(50)))
        await one({})  # the budget is spent: waits for Reset plus the margin
        await one({})  # no news from the new window yet: paced

    vt.run(main())
    assert sent[:51] == [0.0] * 51
    assert sent[51] == pytest.approx(10.25)
    assert sent[52] == pytest.approx(10.25 + gate.interval_s)
    assert gate.waited_s == pytest.approx(10.25 + gate.interval_s)


def test_a_first_answer_wakes_a_request_waiting_for_its_paced_slot() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=11, window_s=10.0)  # paced 1 s apart while the budget is unknown
    sent: list[float] = []

    async def first() -> None:
        permit = await gate.acquire()
        sent.append(vt.now)
        await vt.sleep(0.05)  # the answer, with the window's budget, arrives 50 ms later
        gate.release(permit, status=200, headers=limit_headers(vt, remaining=10, reset_in=9))

    async def others() -> None:
        await vt.sleep(0.001)
        for _ in range(3):
            permit = await gate.acquire()
            sent.append(vt.now)
            gate.release(permit, status=200, headers={})

    async def main() -> None:
        await asyncio.gather(first(), others())

    vt.run(main())
    assert sent == pytest.approx([0.0, 0.05, 0.05, 0.05])


def test_requests_in_flight_count_against_the_reported_remaining() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0)

    async def main() -> tuple[int | None, int | None]:
        first = await gate.acquire()
        second = await gate.acquire()  # paced: the budget is not known yet
        third = await gate.acquire()
        # `second` is answered before `first`, yet the server may have counted it after `first`:
        # only requests answered before `first` was sent are surely inside its Remaining.
        gate.release(second, status=200, headers={})
        gate.release(first, status=200, headers=limit_headers(vt, remaining=50, reset_in=5))
        after_first = gate.credit
        gate.release(third, status=200, headers={})
        return after_first, gate.credit

    # At most 50 - 2 = 48 left on the server, every one of them spendable; answers without
    # headers tell nothing new.
    assert vt.run(main()) == (48, 48)


def test_late_responses_with_a_higher_remaining_are_inside_the_lowest_count() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0)

    async def main() -> list[int | None]:
        credits = []
        permits = [await gate.acquire() for _ in range(3)]
        newest, *older = reversed(permits)
        gate.release(newest, status=200, headers=limit_headers(vt, remaining=10, reset_in=5))
        credits.append(gate.credit)
        for permit, remaining in zip(older, (60, 90), strict=True):
            gate.release(
                permit, status=200, headers=limit_headers(vt, remaining=remaining, reset_in=5)
            )
            credits.append(gate.credit)
        # An answer about a window that has already ended changes nothing either.
        stale = await gate.acquire()
        gate.release(stale, status=200, headers=limit_headers(vt, remaining=99, reset_in=-20))
        credits.append(gate.credit)
        return credits

    # 10 left after the newest, minus the two older ones that may have been counted after it:
    # 8. Their answers report more left, so the server counted them first: they are inside the
    # 10, and the credit climbs back to it but never above. A request counted in a window that
    # is over spends none of this one.
    assert vt.run(main()) == [8, 9, 10, 10]


def test_a_new_window_replaces_the_snapshot() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0)

    async def main() -> int | None:
        permit = await gate.acquire()
        gate.release(permit, status=200, headers=limit_headers(vt, remaining=0, reset_in=1))
        permit = await gate.acquire()  # waits for the reset
        gate.release(permit, status=200, headers=limit_headers(vt, remaining=99, reset_in=10))
        return gate.credit

    assert vt.run(main()) == 99


def test_a_reset_given_as_seconds_is_understood() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0, reset_margin_s=0.25)

    async def main() -> float:
        permit = await gate.acquire()
        headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "3"}
        gate.release(permit, status=200, headers=headers)
        await gate.acquire()
        return vt.now

    assert vt.run(main()) == pytest.approx(3.25)


def test_a_client_clock_ahead_of_the_server_widens_the_margin() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0, reset_margin_s=0.25)

    async def main() -> None:
        permit = await gate.acquire()
        # The server counted this request in a window that, by the client's clock, had ended
        # 2 s before it was sent: the client's clock runs at least 2 s ahead.
        gate.release(permit, status=200, headers=limit_headers(vt, remaining=5, reset_in=-2))

    vt.run(main())
    assert gate.reset_margin_s == pytest.approx(2.25)


def test_releasing_a_permit_twice_is_an_error() -> None:
    vt = VirtualTime()
    gate = vt.gate()

    async def main() -> None:
        permit = await gate.acquire()
        gate.release(permit, status=200, headers={})
        with pytest.raises(ValueError, match="already released"):
            gate.release(permit, status=200, headers={})

    vt.run(main())


def test_429_pauses_every_task_of_the_connector_until_retry_after() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=20, window_s=1.0)
    sent: list[float] = []

    async def first() -> None:
        permit = await gate.acquire()
        sent.append(vt.now)
        await vt.sleep(0.01)  # the response arrives 10 ms later
        headers = {"Retry-After": "2", "X-RateLimit-Remaining": "0"}
        gate.release(permit, status=429, headers=headers)

    async def others() -> None:
        await vt.sleep(0.001)
        for _ in range(5):
            permit = await gate.acquire()
            sent.append(vt.now)
            gate.release(permit, status=200, headers={})

    async def main() -> None:
        await asyncio.gather(first(), others())

    vt.run(main())
    after = sorted(t for t in sent if t > 0.05)
    before = [t for t in sent if t <= 0.05]
    assert len(before) == 1, "only the request whose slot came before the 429 was sent"
    assert after[0] >= 0.01 + 2.0
    assert min(b - a for a, b in itertools.pairwise(after)) >= gate.interval_s - 1e-9
    assert gate.rate_limited == 1


def test_429_pauses_a_burst_and_drops_the_snapshot() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0)
    sent: list[float] = []

    async def worker(n: int) -> None:
        await vt.sleep(0.001 * n)
        permit = await gate.acquire()
        sent.append(vt.now)
        if n == 0:
            gate.release(permit, status=200, headers=limit_headers(vt, remaining=90, reset_in=9))
        elif n == 1:
            await vt.sleep(0.0095)  # a spurious 429 while the burst is under way
            gate.release(permit, status=429, headers={"Retry-After": "3"})
        else:
            gate.release(permit, status=200, headers={})

    async def main() -> None:
        await asyncio.gather(*(worker(n) for n in range(30)))

    vt.run(main())
    during = [t for t in sent if t < 3.0]
    after = sorted(t for t in sent if t >= 3.0)
    assert len(during) == 11, "at once until the 429 arrived (workers start 1 ms apart)"
    assert after[0] == pytest.approx(0.0105 + 3.0)
    # The 429 proved the snapshot wrong: after the pause the gate paces until news arrives.
    assert min(b - a for a, b in itertools.pairwise(after)) >= gate.interval_s - 1e-9
    assert gate.credit is None


@pytest.mark.parametrize("retry_after", ["0", "soon", "-3", None])
def test_429_without_usable_retry_after_waits_for_reset(retry_after: str | None) -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=20, window_s=1.0)
    headers = {"x-ratelimit-reset": str(int(vt.wall()) + 5)}
    if retry_after is not None:
        headers["retry-after"] = retry_after

    async def main() -> float:
        permit = await gate.acquire()
        gate.release(permit, status=429, headers=headers)
        await gate.acquire()
        return vt.now

    assert vt.run(main()) == pytest.approx(5.0 + gate.reset_margin_s)


def test_429_without_any_hint_backs_off_instead_of_retrying_at_once() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=20, window_s=1.0, backoff_initial_s=1.0)
    waits: list[float] = []

    async def main() -> None:
        for _ in range(3):
            start = vt.now
            permit = await gate.acquire()
            waits.append(vt.now - start)
            gate.release(permit, status=429, headers={"retry-after": "0"})
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
        permit = await gate.acquire()
        gate.release(permit, status=None, headers={})

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


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        (429, {"Retry-After": "31536000"}),
        (429, {"X-RateLimit-Reset": str(int(WALL_EPOCH) + 31_536_000)}),
        (200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(WALL_EPOCH) + 10**8)}),
    ],
    ids=["retry-after-a-year", "429-reset-a-year-away", "spent-window-reset-far-away"],
)
def test_no_header_can_pause_a_connector_longer_than_max_pause(
    status: int, headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=10, window_s=60.0, label="acme")

    async def main() -> list[float]:
        sent = []
        for _ in range(3):
            permit = await gate.acquire()
            sent.append(vt.now)
            gate.release(permit, status=status, headers=headers)
        return sent

    sent = vt.run(main())
    # Two windows by default, plus the reset margin for a spent window.
    assert sent[-1] <= 2 * (120.0 + gate.reset_margin_s)
    assert len(gate.notes) == 1, "the cap is said once, not on every pause"
    assert "acme" in gate.notes[0]
    assert "120 s at most" in gate.notes[0]
    assert [r.getMessage() for r in caplog.records] == gate.notes


def test_max_pause_is_configurable() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=1_000, window_s=60.0, max_pause_s=5.0)

    async def main() -> float:
        permit = await gate.acquire()
        gate.release(permit, status=429, headers={"Retry-After": "3600"})
        await gate.acquire()
        return vt.now

    assert vt.run(main()) == pytest.approx(5.0)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {
                "X-RateLimit-Limit": "200",
                "X-RateLimit-Remaining": "7",
                "X-RateLimit-Reset": "1700000060",
            },
            RateLimitHeaders(
                limit=200, remaining=7, reset=1_700_000_060.0, reset_is_unix_time=True
            ),
        ),
        ({"x-ratelimit-reset": "30.2"}, RateLimitHeaders(reset=WALL_EPOCH + 31)),
        ({"x-ratelimit-reset": "0", "x-ratelimit-limit": "0"}, RateLimitHeaders()),
        ({"retry-after": "5", "x-ratelimit-reset": "soon"}, RateLimitHeaders(retry_after=5.0)),
    ],
    ids=["unix-reset", "relative-reset", "zeros", "retry-after"],
)
def test_rate_limit_headers_are_read_once_into_one_shape(
    headers: dict[str, str], expected: RateLimitHeaders
) -> None:
    assert read_headers(headers, now=WALL_EPOCH) == expected


def test_a_429_with_a_relative_reset_pauses_until_it() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=1_000, window_s=60.0)

    async def main() -> float:
        permit = await gate.acquire()
        gate.release(permit, status=429, headers={"X-RateLimit-Reset": "7"})
        await gate.acquire()
        return vt.now

    assert vt.run(main()) == pytest.approx(7.0 + gate.reset_margin_s)


class FixedWindowServer:
    """Bindbee's limit on virtual time: ``limit`` requests per window, windows aligned to the
    unix clock, every answer with the ``X-RateLimit-*`` headers, a 429 with ``Retry-After``
    (the seconds left in the window, or a flat number as Bindbee's documentation shows)."""

    def __init__(
        self,
        vt: VirtualTime,
        *,
        limit: int,
        window_s: float,
        flat_retry_after: int | None = None,
        others_per_window: int = 0,
    ) -> None:
        self.vt, self.limit, self.window_s = vt, limit, window_s
        self.flat_retry_after = flat_retry_after
        # Another client on the same token spends the last requests of each window, right after
        # the answer that leaves just as many.
        self.others_per_window = others_per_window
        self.counts: dict[int, int] = {}
        self.arrivals: list[tuple[float, int]] = []  # (wall time, status)

    def hit(self) -> tuple[int, dict[str, str]]:
        now = self.vt.wall()
        index = int(now // self.window_s)
        reset = (index + 1) * self.window_s
        used = self.counts.get(index, 0)
        allowed = used < self.limit
        if allowed:
            self.counts[index] = used = used + 1
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.limit - used),
            "X-RateLimit-Reset": str(int(reset)),
        }
        if not allowed:
            left = max(1, int(-(-(reset - now) // 1)))
            headers["Retry-After"] = str(self.flat_retry_after or left)
        self.arrivals.append((now, 200 if allowed else 429))
        if allowed and self.others_per_window and self.limit - used == self.others_per_window:
            self.counts[index] += self.others_per_window
        return (200 if allowed else 429), headers

    async def request(self, gate: RateGate, rtt: float) -> int:
        """One request through the gate: half the round trip out, the answer after the other."""
        permit = await gate.acquire()
        await self.vt.sleep(rtt / 2)
        status, headers = self.hit()
        await self.vt.sleep(rtt / 2)
        gate.release(permit, status=status, headers=headers)
        return status

    def served_per_window(self) -> list[int]:
        """Requests served in each window from the first to the last that served any."""
        first, last = min(self.counts), max(self.counts)
        return [self.counts.get(i, 0) for i in range(first, last + 1)]

    def late_starts(self) -> list[float]:
        """Per window after the first, how long after its start its first request arrived."""
        firsts: dict[int, float] = {}
        for at, status in self.arrivals:
            if status == 200:
                firsts.setdefault(int(at // self.window_s), at)
        return [at - index * self.window_s for index, at in sorted(firsts.items())[1:]]


def drive(
    server: FixedWindowServer, gate: RateGate, *, requests: int, workers: int, rtt: float
) -> list[int]:
    """``requests`` sent by ``workers`` tasks (1: a serial cursor listing); their statuses."""
    statuses: list[int] = []
    left = [requests]

    async def worker() -> None:
        while left[0] > 0:
            left[0] -= 1
            statuses.append(await server.request(gate, rtt))

    async def main() -> None:
        await server.vt.sleep(0.3)  # start a little into a window, not on its boundary
        await asyncio.gather(*(worker() for _ in range(workers)))

    server.vt.run(main())
    return statuses


@pytest.mark.parametrize("limit", [1, 10, 200])
@pytest.mark.parametrize("workers", [1, 8], ids=["serial", "concurrent"])
@pytest.mark.parametrize("told_window", [True, False], ids=["told", "not-told"])
def test_every_window_is_spent_to_the_last_request_without_a_429(
    limit: int, workers: int, told_window: bool
) -> None:
    vt = VirtualTime()
    window_s, rtt = 6.0, 0.02
    server = FixedWindowServer(vt, limit=limit, window_s=window_s)
    # Not told: the gate assumes Bindbee's minute and must find the 6 s windows by itself.
    gate = vt.gate(limit=200, window_s=window_s if told_window else 60.0)
    requests = 3 * limit + max(limit // 2, 1)
    statuses = drive(server, gate, requests=requests, workers=workers, rtt=rtt)
    assert statuses.count(429) == 0
    served = server.served_per_window()
    # Every window from the second on gives its whole budget (the first, entered part-way, may
    # end before a serial listing spends it); the last one serves what is left.
    assert served[1:-1] == [limit] * (len(served) - 2)
    assert sum(served) == requests
    # No window waits: its first request arrives within the gate's margin plus one round trip.
    assert max(server.late_starts()) <= gate.reset_margin_s + rtt + 1e-6
    if not told_window:
        assert gate.window_s == window_s


def test_windows_skipped_while_idle_do_not_lengthen_the_learned_window() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=10, window_s=60.0)

    async def main() -> None:
        for reset in (12, 18, 36, 42):  # 36 comes after two idle windows
            permit = await gate.acquire()
            headers = {"X-RateLimit-Remaining": "5", "X-RateLimit-Reset": str(WALL_EPOCH + reset)}
            gate.release(permit, status=200, headers=headers)

    vt.run(main())
    assert gate.window_s == 6.0


def test_a_flat_retry_after_waits_for_the_window_end_then_obeys_a_second_refusal() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=10, window_s=6.0, max_pause_s=600.0)
    waits: list[float] = []

    async def main() -> None:
        # A 429 that says Retry-After: 60 (Bindbee's documented example) while its window ends
        # in 2 s: the budget is back at the window's end, not a minute later.
        for window_left in (2, 6, 6):
            start = vt.now
            permit = await gate.acquire()
            waits.append(vt.now - start)
            reset = str(int(vt.wall()) + window_left)
            gate.release(
                permit, status=429, headers={"Retry-After": "60", "X-RateLimit-Reset": reset}
            )

    vt.run(main())
    assert waits[0] == 0.0
    assert waits[1] == pytest.approx(2.0 + gate.reset_margin_s)
    # Refused again at the window's end: this server means its Retry-After.
    assert waits[2] == pytest.approx(60.0)


def test_a_flat_retry_after_against_a_fixed_window_costs_no_more_than_the_window() -> None:
    vt = VirtualTime()
    # Another client spends one request of every window behind this gate's back: its first
    # 429 is one that the accounting cannot explain.
    server = FixedWindowServer(vt, limit=10, window_s=6.0, flat_retry_after=60, others_per_window=1)
    gate = vt.gate(limit=10, window_s=6.0)
    statuses = drive(server, gate, requests=30, workers=1, rtt=0.02)
    assert statuses.count(429) == 1, "one surprise; then a request per window is kept unused"
    assert gate.headroom == 1
    # 30 requests at 9 a window: four windows, none of them a flat minute.
    assert vt.now < 4 * 6.0


def test_a_clock_lead_learned_on_one_connector_protects_the_others() -> None:
    vt = VirtualTime()
    lead = ClockLead()
    first, second = (vt.gate(limit=10, window_s=6.0, clock_lead=lead) for _ in range(2))

    async def main() -> None:
        permit = await first.acquire()
        # Counted in the window ending 2 s before the client sent it: the client runs ahead.
        first.release(permit, status=200, headers=limit_headers(vt, remaining=3, reset_in=-2))

    vt.run(main())
    assert (
        first.reset_margin_s == second.reset_margin_s == pytest.approx(DEFAULT_RESET_MARGIN_S + 2)
    )


# --- Edges of the rules, each pinned on its boundary ---------------------------------------------

Headers = Callable[[VirtualTime], dict[str, str]]


def one_answer(
    status: int | None,
    headers: Headers,
    *,
    start: float = 0.0,
    answered_after: float = 0.0,
    then_wait: bool = False,
    **options: Any,
) -> tuple[RateGate, float]:
    """A gate whose first request, sent at ``start``, got this answer ``answered_after`` seconds
    later; with ``then_wait``, also how long the next request then waited."""
    vt = VirtualTime()
    gate = vt.gate(**options)

    async def main() -> float:
        await vt.sleep(start)
        permit = await gate.acquire()
        if answered_after:
            await vt.sleep(answered_after)
        gate.release(permit, status=status, headers=headers(vt))
        answered = vt.now
        if then_wait:
            await gate.acquire()
        return vt.now - answered

    return gate, vt.run(main())


def test_the_defaults_are_bindbees_budget() -> None:
    gate = RateGate()
    assert (gate.limit, gate.window_s, gate.headroom) == (200, 60.0, 0)
    assert gate.reset_margin_s == pytest.approx(DEFAULT_RESET_MARGIN_S)
    assert gate.interval_s == pytest.approx(60.0 / 199)
    assert gate.credit is None
    assert gate.blocked_until == -math.inf


def test_the_default_margin_covers_both_clocks_resolution() -> None:
    resolutions = sum(time.get_clock_info(clock).resolution for clock in ("time", "monotonic"))
    assert pytest.approx(0.005 + resolutions) == DEFAULT_RESET_MARGIN_S
    assert DEFAULT_RESET_MARGIN_S < 0.05  # a margin is paid at every window's end


@pytest.mark.parametrize(
    "options",
    [
        {"limit": 0},
        {"window_s": 0.0},
        {"window_s": -6.0},
        {"reset_margin_s": -0.01},
        {"max_pause_s": 0.0},
        {"max_pause_s": -1.0},
    ],
    ids=[
        "limit-0",
        "window-0",
        "negative-window",
        "negative-margin",
        "max-pause-0",
        "negative-max-pause",
    ],
)
def test_a_gate_refuses_a_limit_below_one_and_no_window_margin_or_pause(
    options: dict[str, float],
) -> None:
    with pytest.raises(ValueError, match="RateGate needs"):
        RateGate(**options)  # type: ignore[arg-type]


def test_a_gate_takes_a_limit_of_one_a_short_window_no_margin_and_a_short_pause() -> None:
    gate = RateGate(limit=1, window_s=0.5, reset_margin_s=0.0, max_pause_s=0.5)
    assert (gate.limit, gate.window_s, gate.reset_margin_s) == (1, 0.5, 0.0)


def test_the_gate_takes_its_options_by_keyword_only() -> None:
    with pytest.raises(TypeError):
        RateGate(200)  # type: ignore[call-arg]
    gate = VirtualTime().gate()

    async def main() -> None:
        permit = await gate.acquire()
        with pytest.raises(TypeError):
            gate.release(permit, 200, {})  # type: ignore[call-arg]

    asyncio.run(main())


@pytest.mark.parametrize("limit", [1, 2])
def test_with_a_limit_of_one_or_two_blind_requests_go_a_whole_window_apart(limit: int) -> None:
    assert RateGate(limit=limit, window_s=6.0).interval_s == 6.0


def test_a_negative_headroom_counts_as_none() -> None:
    gate, _ = one_answer(
        200,
        lambda vt: limit_headers(vt, remaining=7, reset_in=5),
        limit=100,
        window_s=10.0,
        headroom=-5,
    )
    assert (gate.headroom, gate.credit) == (0, 7)


def test_the_credit_is_never_negative() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0)

    async def main() -> int | None:
        first = await gate.acquire()
        await gate.acquire()  # still in flight when the first says nothing is left
        gate.release(first, status=200, headers=limit_headers(vt, remaining=0, reset_in=5))
        return gate.credit

    assert vt.run(main()) == 0


@pytest.mark.parametrize(
    ("window_s", "longest"), [(6.0, 60.0), (45.0, 90.0)], ids=["at-least-a-minute", "two-windows"]
)
def test_the_longest_pause_is_two_windows_but_at_least_a_minute(
    window_s: float, longest: float
) -> None:
    gate, waited = one_answer(
        429,
        lambda vt: {"Retry-After": "3600"},
        start=1.0,
        then_wait=True,
        limit=10,
        window_s=window_s,
    )
    assert waited == longest
    assert gate.notes == [
        f"The server asked for a pause of 3,600 s (Retry-After); waiting {longest:g} s at most "
        "before trying again."
    ]


def test_a_pause_of_exactly_max_pause_is_obeyed_without_a_note() -> None:
    options: dict[str, Any] = {"limit": 10, "window_s": 6.0, "max_pause_s": 5.0}
    gate, waited = one_answer(
        429, lambda vt: {"Retry-After": "5"}, start=1.0, then_wait=True, **options
    )
    assert (waited, gate.notes) == (5.0, [])


def test_blocked_until_is_when_a_429_lets_requests_go_again() -> None:
    gate, _ = one_answer(429, lambda vt: {"Retry-After": "2"}, start=1.0, limit=10, window_s=6.0)
    assert gate.blocked_until == 3.0


@pytest.mark.parametrize("jitter", ["none", "most"])
def test_429s_without_a_hint_back_off_from_a_second_doubling_to_a_minute_plus_half_jitter(
    jitter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The jitter at either end of its range: nothing added, or half the pause.
    monkeypatch.setattr(random, "uniform", lambda low, high: low if jitter == "none" else high)
    vt = VirtualTime()
    gate = vt.gate(limit=20, window_s=1.0)  # the default backoff: from 1 s, at most 60 s
    waits: list[float] = []

    async def main() -> None:
        for _ in range(9):
            start = vt.now
            permit = await gate.acquire()
            waits.append(vt.now - start)
            gate.release(permit, status=429, headers={})

    vt.run(main())
    factor = 1.0 if jitter == "none" else 1.5
    assert waits == pytest.approx([0.0] + [p * factor for p in (1, 2, 4, 8, 16, 32, 60, 60)])


def hinted_429(vt: VirtualTime, *, reset_in: int, retry_after: str | None) -> dict[str, str]:
    headers = {"X-RateLimit-Reset": str(int(WALL_EPOCH + vt.now) + reset_in)}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return headers


@pytest.mark.parametrize(
    ("retry_after", "waited"),
    [("5", 5.0), (None, 1.0)],
    ids=["retry-after-obeyed", "backoff-without-retry-after"],
)
def test_a_429_at_the_very_reset_is_no_sooner_than_retry_after_nor_a_reason_to_retry_at_once(
    retry_after: str | None, waited: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(random, "uniform", lambda low, high: low)  # no jitter
    # The window ends right now: Reset minus the wall clock is exactly zero.
    options: dict[str, Any] = {"limit": 20, "window_s": 6.0, "reset_margin_s": 0.0}
    assert (
        one_answer(
            429,
            lambda vt: hinted_429(vt, reset_in=0, retry_after=retry_after),
            start=3.0,
            then_wait=True,
            **options,
        )[1]
        == waited
    )


@pytest.mark.parametrize("retry_after", ["60", None], ids=["flat-retry-after", "no-retry-after"])
def test_a_429_whose_window_ends_within_a_second_waits_only_for_it(
    retry_after: str | None,
) -> None:
    # The window ends at the next whole second: 0.5 s away.
    gate, waited = one_answer(
        429,
        lambda vt: hinted_429(vt, reset_in=1, retry_after=retry_after),
        start=2.5,
        then_wait=True,
        limit=20,
        window_s=6.0,
    )
    assert waited == pytest.approx(0.5 + gate.reset_margin_s)


def test_a_window_ending_exactly_when_retry_after_does_is_not_sooner() -> None:
    gate, _ = one_answer(
        429,
        lambda vt: hinted_429(vt, reset_in=200, retry_after="200"),
        limit=20,
        window_s=6.0,
        reset_margin_s=0.0,
    )
    # Both name a pause past the cap; the one obeyed, and named in the note, is Retry-After.
    assert gate.notes == [
        "The server asked for a pause of 200 s (Retry-After); waiting 60 s at most before trying "
        "again."
    ]


@pytest.mark.parametrize("at", [1.0, 1.1], ids=["exactly-at-reset", "inside-the-margin"])
def test_a_request_at_reset_or_inside_the_margin_waits_for_its_end_even_with_credit_left(
    at: float,
) -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0, reset_margin_s=0.25)
    sent: list[float] = []

    async def main() -> None:
        permit = await gate.acquire()
        gate.release(permit, status=200, headers=limit_headers(vt, remaining=50, reset_in=1))
        for when in (0.5, at):  # inside the window, then at its Reset or just past it
            await vt.sleep(when - vt.now)
            permit = await gate.acquire()
            sent.append(vt.now)
            gate.release(permit, status=200, headers={})

    vt.run(main())
    assert sent == [0.5, 1.25]


@pytest.mark.parametrize(
    ("answered_at", "next_sent"),
    [(1.1, 1.25), (1.25, 5.0), (2.0, 5.0)],
    ids=["inside-the-margin", "at-reset-plus-margin", "after-the-margin"],
)
def test_an_answer_arriving_at_reset_plus_the_margin_is_about_a_window_that_is_over(
    answered_at: float, next_sent: float
) -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=3, window_s=10.0, reset_margin_s=0.25)  # paced 5 s apart when blind
    sent: list[float] = []

    async def main() -> None:
        permit = await gate.acquire()
        await vt.sleep(answered_at)
        # Reset was 1 s after the request went out: the answer comes inside the margin that
        # follows it, or exactly at the margin's end, when that window is over.
        headers = {"X-RateLimit-Remaining": "5", "X-RateLimit-Reset": str(int(WALL_EPOCH) + 1)}
        gate.release(permit, status=200, headers=headers)
        permit = await gate.acquire()
        sent.append(vt.now)
        gate.release(permit, status=200, headers={})

    vt.run(main())
    # Inside the margin the window's snapshot holds the next request until the margin's end;
    # after it, the answer teaches nothing and the next request keeps its paced slot.
    assert sent == [next_sent]
    assert gate.credit is None


@pytest.mark.parametrize(
    ("limit", "next_sent"), [("11", 1.0), ("201", 0.05)], ids=["lower", "higher"]
)
def test_a_limit_announced_by_the_server_respaces_the_next_blind_request(
    limit: str, next_sent: float
) -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=101, window_s=10.0)  # paced 0.1 s apart until told otherwise
    sent: list[float] = []

    async def main() -> None:
        for _ in range(2):
            permit = await gate.acquire()
            sent.append(vt.now)
            gate.release(permit, status=200, headers={"X-RateLimit-Limit": limit})

    vt.run(main())
    assert sent == pytest.approx([0.0, next_sent])


@pytest.mark.parametrize("answers_before", [1, 2])
def test_an_answer_without_news_before_a_request_was_sent_is_inside_its_count(
    answers_before: int,
) -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0)

    async def main() -> int | None:
        for _ in range(answers_before):
            before = await gate.acquire()
            gate.release(before, status=200, headers={})
        permit = await gate.acquire()
        gate.release(permit, status=200, headers=limit_headers(vt, remaining=10, reset_in=5))
        return gate.credit

    assert vt.run(main()) == 10


@pytest.mark.parametrize(
    ("status", "headers"),
    [(None, {}), (200, {}), (429, {"X-RateLimit-Remaining": "0", "Retry-After": "1"})],
    ids=["no-response", "no-headers", "refused"],
)
def test_every_answer_without_news_after_a_request_was_sent_may_be_outside_its_count(
    status: int | None, headers: dict[str, str]
) -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0)

    async def main() -> int | None:
        first, second, third = [await gate.acquire() for _ in range(3)]
        # Two answers that do not say how the server counted them; a refusal's own Remaining
        # says nothing about whether it arrived before the first.
        reset = {
            "X-RateLimit-Reset": limit_headers(vt, remaining=0, reset_in=5)["X-RateLimit-Reset"]
        }
        for permit in (second, third):
            gate.release(permit, status=status, headers={**headers, **reset} if headers else {})
        gate.release(first, status=200, headers=limit_headers(vt, remaining=10, reset_in=5))
        return gate.credit

    assert vt.run(main()) == 8


def test_a_first_answer_with_remaining_or_reset_alone_leaves_the_budget_unknown() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0)
    full = limit_headers(vt, remaining=5, reset_in=5)
    credits = []

    async def main() -> None:
        for name in full:
            permit = await gate.acquire()
            gate.release(permit, status=200, headers={name: full[name]})
            credits.append(gate.credit)

    vt.run(main())
    assert credits == [None, None]


def test_a_429_on_a_blind_request_adds_no_headroom() -> None:
    # Nothing was known about the budget yet: the refusal says nothing about other clients.
    gate, _ = one_answer(429, lambda vt: {"Retry-After": "1"}, limit=10, window_s=6.0)
    assert gate.headroom == 0


def test_a_429_the_clock_lead_explains_adds_no_headroom_nor_does_the_next_of_its_row() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=10, window_s=6.0, reset_margin_s=0.25)

    async def main() -> None:
        permit = await gate.acquire()
        gate.release(permit, status=200, headers=limit_headers(vt, remaining=5, reset_in=1))
        await vt.sleep(0.5)
        # Both on credit, half a second before Reset by this clock.
        first, second = await gate.acquire(), await gate.acquire()
        # Refused in a window the server says ended at the previous second: the client's clock
        # runs half a second ahead, which explains the refusal.
        gate.release(first, status=429, headers=hinted_429(vt, reset_in=0, retry_after="1"))
        # Sent at the same moment, refused for the same reason though its answer names no
        # Reset: only the first 429 of a row can show requests this gate cannot see.
        gate.release(second, status=429, headers={"Retry-After": "1"})

    vt.run(main())
    assert gate.headroom == 0
    assert gate.reset_margin_s == pytest.approx(0.75)


def test_a_clock_lead_is_never_taken_for_more_than_a_window() -> None:
    gate, _ = one_answer(
        200,
        lambda vt: limit_headers(vt, remaining=5, reset_in=-100),
        limit=10,
        window_s=6.0,
        reset_margin_s=0.25,
    )
    assert gate.reset_margin_s == pytest.approx(6.25)


def story_from(start: float) -> list[float]:
    """Send times, counted from ``start``: blind, a window with one left, its Reset, then blind."""
    vt = VirtualTime()
    vt.now = start
    gate = vt.gate(limit=11, window_s=10.0, reset_margin_s=0.25)  # paced 1 s apart
    sent: list[float] = []

    async def one(headers: dict[str, str]) -> None:
        permit = await gate.acquire()
        sent.append(vt.now - start)
        gate.release(permit, status=200, headers=headers)

    async def main() -> None:
        await one({})
        await one(limit_headers(vt, remaining=1, reset_in=3))
        await one({})  # the last of the window, at once
        await one({})  # waits for Reset and the margin
        await one({})  # paced

    vt.run(main())
    return sent


def test_the_gate_reads_only_differences_of_its_monotonic_clock() -> None:
    # A monotonic clock's zero is arbitrary: the same story told on a clock that reads negative.
    assert story_from(0.0) == story_from(-1_000.0) == pytest.approx([0.0, 1.0, 1.0, 3.25, 4.25])


@pytest.mark.parametrize(
    ("arrives", "next_sent"),
    [(0.3, 0.5), (0.3125, 0.5), (0.32, 0.57)],
    ids=["less-than-a-quarter-interval-late", "a-quarter-interval-late", "later-than-that"],
)
def test_a_blind_request_a_little_late_keeps_the_planned_pace_a_later_one_spaces_from_now(
    arrives: float, next_sent: float
) -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=5, window_s=1.0)  # blind: 0.25 s apart, the next slot at 0.25
    sent: list[float] = []

    async def main() -> None:
        gate.release(await gate.acquire(), status=200, headers={})
        await vt.sleep(arrives)
        for _ in range(2):
            permit = await gate.acquire()
            sent.append(vt.now)
            gate.release(permit, status=200, headers={})

    vt.run(main())
    # Up to a quarter interval late is timer lag, made up from the planned slot; later than
    # that, the request starts a new spacing.
    assert sent == pytest.approx([arrives, next_sent])


def test_an_answer_repeating_the_lowest_remaining_vouches_only_for_itself() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0)

    async def main() -> int | None:
        first, lost = await gate.acquire(), await gate.acquire()
        gate.release(first, status=200, headers=limit_headers(vt, remaining=10, reset_in=5))
        gate.release(lost, status=None, headers={})  # in flight at that answer; no news since
        permit = await gate.acquire()
        gate.release(permit, status=200, headers=limit_headers(vt, remaining=10, reset_in=5))
        return gate.credit

    # The repeated 10 shows that the later request cost nothing more; it says nothing about
    # the lost one, which may still be outside the count.
    assert vt.run(main()) == 9


def test_a_late_answer_about_the_previous_window_spends_none_of_the_new_ones_budget() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0)

    async def main() -> int | None:
        older, newer = await gate.acquire(), await gate.acquire()
        gate.release(newer, status=200, headers=limit_headers(vt, remaining=90, reset_in=20))
        # Counted in the window before (its Reset is earlier), answered after the new one's news.
        gate.release(older, status=200, headers=limit_headers(vt, remaining=5, reset_in=10))
        return gate.credit

    assert vt.run(main()) == 90


def test_a_permit_shows_only_its_wait() -> None:
    vt = VirtualTime()
    gate = vt.gate()

    async def main() -> str:
        permit = await gate.acquire()
        gate.release(permit, status=200, headers={})
        return repr(permit)

    assert vt.run(main()) == "Permit(waited_s=0.0)"


def test_a_5xx_is_no_rate_limit_it_neither_pauses_nor_counts() -> None:
    # A 5xx's Retry-After is the retry policy's business, not the budget's.
    gate, waited = one_answer(
        503, lambda vt: {"Retry-After": "30"}, then_wait=True, limit=10, window_s=6.0
    )
    assert (gate.rate_limited, gate.blocked_until) == (0, -math.inf)
    assert waited == pytest.approx(gate.interval_s)


def test_a_429_on_credit_sent_exactly_at_its_reset_is_not_explained_by_the_clock() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=10, window_s=6.0)

    async def main() -> None:
        permit = await gate.acquire()
        gate.release(permit, status=200, headers=limit_headers(vt, remaining=5, reset_in=6))
        await vt.sleep(3.0)
        permit = await gate.acquire()  # on credit
        # Refused in a window that ends exactly when the client sent it: not after it, so no
        # clock lead explains the refusal; requests the gate cannot see do.
        gate.release(permit, status=429, headers=hinted_429(vt, reset_in=0, retry_after="1"))

    vt.run(main())
    assert gate.headroom == 1
    assert gate.reset_margin_s == pytest.approx(DEFAULT_RESET_MARGIN_S)


def test_permits_are_told_apart_by_identity_not_by_their_fields() -> None:
    first, second = VirtualTime(), VirtualTime()

    async def main() -> set[Permit]:
        # Two connectors' first permits, at the same moment: equal fields, distinct requests.
        a, b = await first.gate().acquire(), await second.gate().acquire()
        return {a, b}

    assert len(asyncio.run(main())) == 2


def test_the_headroom_is_kept_out_of_the_credit() -> None:
    gate, _ = one_answer(
        200,
        lambda vt: limit_headers(vt, remaining=8, reset_in=5),
        limit=100,
        window_s=10.0,
        headroom=3,
    )
    assert gate.credit == 5


def test_a_429_whose_window_ends_after_retry_after_obeys_retry_after() -> None:
    assert (
        one_answer(
            429,
            lambda vt: hinted_429(vt, reset_in=5, retry_after="2"),
            then_wait=True,
            limit=20,
            window_s=6.0,
        )[1]
        == 2.0
    )


def test_requests_arriving_after_a_window_is_over_are_paced_until_news() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=11, window_s=10.0, reset_margin_s=0.25)  # paced 1 s apart when blind
    sent: list[float] = []

    async def main() -> None:
        permit = await gate.acquire()
        gate.release(permit, status=200, headers=limit_headers(vt, remaining=5, reset_in=1))
        await vt.sleep(2.0)  # idle past Reset and the margin: that window's credit is gone
        for _ in range(2):
            permit = await gate.acquire()
            sent.append(vt.now)
            gate.release(permit, status=200, headers={})

    vt.run(main())
    assert sent == pytest.approx([2.0, 3.0])
    assert gate.credit is None


def test_news_of_a_newer_window_replaces_the_current_one_at_once() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0)

    async def main() -> int | None:
        older, newer = await gate.acquire(), await gate.acquire()
        gate.release(older, status=200, headers=limit_headers(vt, remaining=5, reset_in=10))
        # Counted in the next window (its Reset is later), before this client's clock saw the
        # first one end: that window's budget is what is left now.
        gate.release(newer, status=200, headers=limit_headers(vt, remaining=90, reset_in=20))
        return gate.credit

    assert vt.run(main()) == 90


def test_a_5xx_that_says_its_remaining_counts_like_a_2xx() -> None:
    # Not a refusal: its Remaining is the server's count with this request inside it.
    spent = functools.partial(limit_headers, remaining=10, reset_in=5)
    assert one_answer(503, spent, limit=100, window_s=10.0)[0].credit == 10


@pytest.mark.parametrize(
    "alone", ["X-RateLimit-Remaining", "X-RateLimit-Reset"], ids=["remaining", "reset"]
)
def test_an_answer_with_remaining_or_reset_alone_may_be_outside_the_count(alone: str) -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0)

    async def main() -> int | None:
        first, second = await gate.acquire(), await gate.acquire()
        full = limit_headers(vt, remaining=10, reset_in=5)
        # Half the news: the second request ended without saying how the server counted it.
        gate.release(second, status=200, headers={alone: full[alone]})
        gate.release(first, status=200, headers=full)
        return gate.credit

    assert vt.run(main()) == 9


def test_a_limit_the_server_repeats_keeps_the_planned_pace() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=1_001, window_s=1_000.0)  # paced 1 s apart when blind
    same = {"X-RateLimit-Limit": "1001"}
    sent: list[float] = []

    async def main() -> None:
        gate.release(await gate.acquire(), status=200, headers=same)
        await vt.sleep(1.2)  # a little late for the slot at 1.0: the next keeps its slot at 2.0
        for _ in range(2):
            permit = await gate.acquire()
            sent.append(vt.now)
            gate.release(permit, status=200, headers=same)

    vt.run(main())
    assert sent == pytest.approx([1.2, 2.0])


def test_requests_in_flight_beyond_the_remaining_make_the_next_wait_for_the_reset() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0)
    sent: list[float] = []

    async def main() -> None:
        first = await gate.acquire()
        await gate.acquire()  # still in flight when the first says nothing is left
        gate.release(first, status=200, headers=limit_headers(vt, remaining=0, reset_in=5))
        await gate.acquire()
        sent.append(vt.now)

    vt.run(main())
    assert sent == [pytest.approx(5.0 + gate.reset_margin_s)]


def test_a_spent_window_waits_for_reset_plus_the_margin_even_after_news_of_the_next() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0, reset_margin_s=0.25)
    sent: list[float] = []

    async def main() -> None:
        first = await gate.acquire()
        late = await gate.acquire()
        spent = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(WALL_EPOCH) + 1)}
        gate.release(first, status=200, headers=spent)

        async def answer_of_the_late_one() -> None:
            # Counted in the next window, by a server whose clock runs ahead of this client's:
            # a clock behind only makes the gate wait a little longer.
            await vt.sleep(1.1 - vt.now)
            next_window = {
                "X-RateLimit-Remaining": "50",
                "X-RateLimit-Reset": str(int(WALL_EPOCH) + 11),
            }
            gate.release(late, status=200, headers=next_window)

        async def waiting() -> None:
            await gate.acquire()
            sent.append(vt.now)

        await asyncio.gather(answer_of_the_late_one(), waiting())

    vt.run(main())
    assert sent == [pytest.approx(1.25)]


def test_a_429_arriving_after_the_window_it_names_obeys_retry_after_or_backs_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(random, "uniform", lambda low, high: low)  # no jitter
    # Sent at 3.0 inside the window ending at 4.0; the refusal arrives only at 5.0, when that
    # window is over: neither a pause for it nor a reason to retry at once.
    waits = [
        one_answer(
            429,
            functools.partial(hinted_429, reset_in=-1, retry_after=retry_after),
            start=3.0,
            answered_after=2.0,
            then_wait=True,
            limit=20,
            window_s=6.0,
        )[1]
        for retry_after in ("5", None)
    ]
    assert waits == pytest.approx([5.0, 1.0])


def test_would_wait_tells_ahead_whether_acquire_would_wait() -> None:
    vt = VirtualTime()
    gate = vt.gate(limit=100, window_s=10.0, reset_margin_s=0.25)
    answers: list[bool] = []

    async def one(headers: dict[str, str]) -> None:
        answers.append(gate.would_wait())
        permit = await gate.acquire()
        gate.release(permit, status=200, headers=headers)

    async def main() -> None:
        await one(limit_headers(vt, remaining=1, reset_in=10))
        await one({})  # the last of the window's budget: goes at once
        await one({})  # spent: waits for Reset plus the margin
        await one({})  # no news of the new window: waits for its paced slot

    vt.run(main())
    assert answers == [False, False, True, True]
