"""How many listing pages per second the sandbox serves, client and server on one machine.

Run: ``uv run python bench/bench_sandbox.py [offers] [in-flight ...]``. One httpx.AsyncClient walks
pages of 200 offers through the ``ids``-free listing, keeping a fixed number of requests in flight
(each task pages through its own listing), with the rate limit lifted. The client's CPU is part of
the measurement: on 2 cores both sides share them, so the figure is a floor for the server alone.
"""

from __future__ import annotations

import asyncio
import sys
import time

import httpx

from bench._harness import machine
from offer_analytics.sandbox import SandboxServer


async def _walk(client: httpx.AsyncClient, pages: int) -> int:
    cursor: str | None = None
    done = 0
    for _ in range(pages):
        params: dict[str, str | int] = {"page_size": 200}
        if cursor:
            params["cursor"] = cursor
        response = await client.get("/api/ats/v1/offers", params=params)
        response.raise_for_status()
        cursor = response.json()["cursor"]
        done += 1
    return done


async def _run(server: SandboxServer, in_flight: int, seconds: float) -> float:
    headers = {
        "Authorization": f"Bearer {server.api_key}",
        "x-connector-token": server.connector_tokens["default"],
    }
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    async with httpx.AsyncClient(
        base_url=server.base_url, headers=headers, limits=limits
    ) as client:
        await _walk(client, 5)  # warm up: connections, encoded-offer cache
        pages_each = max(10, int(seconds * 600 / in_flight))
        start = time.perf_counter()
        done = await asyncio.gather(*(_walk(client, pages_each) for _ in range(in_flight)))
        return sum(done) / (time.perf_counter() - start)


def main(offers: int = 200_000, in_flight: tuple[int, ...] = (1, 8, 32)) -> None:
    print(machine("httpx", "starlette", "uvicorn"))
    with SandboxServer(n_offers=offers, connectors=1, rate_limit=10**9) as server:
        for n in in_flight:
            rate = asyncio.run(_run(server, n, seconds=3))
            print(f"{n:>3} in flight: {rate:,.0f} pages/s ({rate * 200:,.0f} offers/s)")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(args[0] if args else 200_000, in_flight=tuple(args[1:]) or (1, 8, 32))
