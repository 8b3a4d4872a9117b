"""Requests in flight: a connector's known budget goes out at once; blind pacing and other
connectors stay under the base cap; cancelled waits leave the count exact."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from offer_analytics.bindbee._client import OFFERS_PATH, BindbeeClient
from offer_analytics.bindbee._credentials import Connector
from offer_analytics.bindbee._in_flight import InFlightCap


def _peak_in_flight(*, headers: bool, requests: int, concurrency: int = 4) -> int:
    """Send ``requests`` at once for one connector; the most the server saw at the same time."""
    state = {"now": 0, "peak": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
        await asyncio.sleep(0.01)
        state["now"] -= 1
        said = {}
        if headers:  # a window of 1,000 requests, nearly whole, ending in a minute
            reset = str(int(time.time()) + 60)
            said = {"X-RateLimit-Remaining": "900", "X-RateLimit-Reset": reset}
        return httpx.Response(200, json={"items": []}, headers=said)

    async def main() -> None:
        async with BindbeeClient(
            api_key="k",
            concurrency=concurrency,
            rate_limit=(1_000, 60.0),
            transport=httpx.MockTransport(handler),
        ) as client:
            acme = Connector("acme", "t")
            await client.get_json(acme, OFFERS_PATH)  # the gate learns the window (or not)
            await asyncio.gather(*(client.get_json(acme, OFFERS_PATH) for _ in range(requests)))

    asyncio.run(main())
    return state["peak"]


def test_a_window_of_known_budget_goes_out_at_once_up_to_the_burst() -> None:
    assert _peak_in_flight(headers=True, requests=12) == 12  # base 4, burst 16
    assert _peak_in_flight(headers=True, requests=40) == 16


def test_requests_paced_blind_stay_under_the_base_cap() -> None:
    # No headers: the gate paces 60 s / 999 apart; nothing ever vouches for a burst.
    assert _peak_in_flight(headers=False, requests=12) <= 4


def test_burst_equal_to_concurrency_turns_it_off() -> None:
    client = BindbeeClient(api_key="k", concurrency=3, burst=3)
    assert client.burst == 3
    assert BindbeeClient(api_key="k", concurrency=16).burst == 64
    assert BindbeeClient(api_key="k", concurrency=1).burst == 4


def test_other_connectors_wait_for_the_base_cap_while_one_bursts() -> None:
    async def main() -> tuple[bool, bool, int]:
        cap = InFlightCap(base=2, burst=6)
        for _ in range(5):
            await cap.acquire("acme", known=True)
        other = asyncio.ensure_future(cap.acquire("beta", known=True))
        await asyncio.sleep(0)
        beta_waited = not other.done()
        for _ in range(4):
            cap.release("acme", known=True)
        await asyncio.sleep(0)
        return beta_waited, other.done(), cap.in_flight

    assert asyncio.run(main()) == (True, True, 2)


@pytest.mark.parametrize("granted_first", [False, True])
def test_a_cancelled_wait_leaves_the_count_exact(granted_first: bool) -> None:
    async def main() -> int:
        cap = InFlightCap(base=1, burst=1)
        await cap.acquire("acme", known=False)
        waiter = asyncio.ensure_future(cap.acquire("acme", known=False))
        await asyncio.sleep(0)
        if granted_first:
            cap.release("acme", known=False)  # the place passes to the waiter...
        waiter.cancel()  # ...which is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await waiter
        if not granted_first:
            cap.release("acme", known=False)
        await cap.acquire("beta", known=False)  # the one place is free again
        return cap.in_flight

    assert asyncio.run(main()) == 1


def test_would_wait_tells_ahead_whether_a_place_is_free() -> None:
    async def main() -> list[bool]:
        cap = InFlightCap(base=1, burst=2)
        answers = [cap.would_wait("acme", known=False)]
        await cap.acquire("acme", known=False)
        answers.append(cap.would_wait("beta", known=False))
        cap.release("acme", known=False)
        answers.append(cap.would_wait("beta", known=False))
        return answers

    assert asyncio.run(main()) == [False, True, False]
