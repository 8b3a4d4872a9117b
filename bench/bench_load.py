"""Loader benchmarks: wall time vs the physical bound, scaling with connectors, the in-flight knee.

Run: ``uv run python bench/bench_load.py [--repeats 3] [--only bound,scaling,knee]``.

The sandbox runs in a subprocess (``offer-analytics serve --json``) so that its CPU does not share
the client's GIL; on a 2-core machine both still share the cores. Every figure is the median of
``--repeats`` runs. Results are printed as Markdown tables for bench/BENCHMARKS.md.

1. bound: a load under the sandbox's rate limit and latency against the bound those impose:
   per connector ``max(requests * window / limit, requests * latency)`` for a serial listing,
   ``requests * window / limit + latency`` for id batches (concurrent); the slowest connector sets
   the load's bound. Target: within 5%, zero 429s.
2. scaling: the same per-connector load over 1..32 connectors: wall time stays at the bound (so
   throughput grows linearly) until the client's CPU becomes the limit.
3. knee: pages per second through one client at 8/16/32/48/64 requests in flight against an
   unthrottled sandbox: ``BindbeeClient.get_json`` alone (pages of 200 offers), and
   ``fetch_offers`` by ids end to end (batches of ~150 offers, decoding included).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from offer_analytics import BindbeeClient, LoadReport, fetch_offers
from offer_analytics.client import OFFERS_PATH
from offer_analytics.credentials import Connector
from offer_analytics.sandbox import generate_offers


@dataclass(frozen=True)
class Sandbox:
    base_url: str
    api_key: str
    tokens: dict[str, str]
    offers: int
    connectors: int
    seed: int

    def ids(self) -> dict[str, list[str]]:
        data = generate_offers(self.offers, connectors=self.connectors, seed=self.seed)
        return {label: [o["id"] for o in items] for label, items in data.items()}


@contextmanager
def sandbox(
    *, offers: int, connectors: int, rate_limit: int, window_s: float, latency_ms: float = 0.0
) -> Iterator[Sandbox]:
    """``offer-analytics serve`` in a subprocess; its credentials come back as one JSON line."""
    command = [
        sys.executable,
        "-m",
        "offer_analytics.cli",
        "serve",
        "--json",
        f"--offers={offers}",
        f"--connectors={connectors}",
        f"--rate-limit={rate_limit}",
        f"--rate-window={window_s}",
        f"--latency-ms={latency_ms}",
        "--seed=0",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        yield Sandbox(
            info["base_url"], info["api_key"], info["connector_tokens"], offers, connectors, 0
        )
    finally:
        process.terminate()
        process.wait(timeout=30)


def median(repeats: int, run: Callable[[], LoadReport]) -> tuple[float, LoadReport]:
    reports = [run() for _ in range(repeats)]
    return statistics.median(r.duration_s for r in reports), reports[-1]


def load(box: Sandbox, rate: tuple[int, float], **options: Any) -> LoadReport:
    _, report = asyncio.run(
        fetch_offers(
            connectors=box.tokens,
            api_key=box.api_key,
            base_url=box.base_url,
            rate_limit=rate,
            **options,
        )
    )
    return report


def bench_bound(repeats: int) -> None:
    print("\n### Wall time vs the bound set by budget and latency\n")
    print("| scenario | requests | bound s | median s | ratio | 429s | budget wait s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    scenarios = [
        # name, connectors, offers, limit, window, latency ms, page size, by ids
        ("listing, 3 connectors, 30 req/2 s, 40 ms", 3, 2_010, 30, 2.0, 40.0, 10, False),
        ("id batches, 3 connectors, 30 req/2 s, 40 ms", 3, 2_010, 30, 2.0, 40.0, 10, True),
        ("listing, 1 connector, 200 req/10 s, 40 ms", 1, 10_000, 200, 10.0, 40.0, 100, False),
    ]
    for name, connectors, offers, limit, window, latency, page_size, by_ids in scenarios:
        with sandbox(
            offers=offers,
            connectors=connectors,
            rate_limit=limit,
            window_s=window,
            latency_ms=latency,
        ) as box:
            ids = box.ids() if by_ids else None
            options: dict[str, Any] = {"page_size": page_size}
            if ids is not None:
                options["ids"] = ids
            run = functools.partial(load, box, (limit, window), **options)
            seconds, report = median(repeats, run)
        per_connector = report.requests / connectors  # near-equal split
        budget = per_connector * window / limit
        bound = budget + latency / 1000 if by_ids else max(budget, per_connector * latency / 1000)
        print(
            f"| {name} | {report.requests} | {bound:.2f} | {seconds:.2f} | {seconds / bound:.3f} "
            f"| {report.rate_limited} | {report.budget_wait_s:.2f} |"
        )


def bench_scaling(repeats: int) -> None:
    print("\n### Scaling with connectors (30 pages each, 30 req/2 s, 40 ms; bound 2.00 s)\n")
    print("| connectors | pages | median s | ratio to bound | pages/s | 429s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for connectors in (1, 2, 4, 8, 16, 32):
        with sandbox(
            offers=600 * connectors,
            connectors=connectors,
            rate_limit=30,
            window_s=2.0,
            latency_ms=40.0,
        ) as box:
            run = functools.partial(load, box, (30, 2.0), page_size=20)
            seconds, report = median(repeats, run)
        print(
            f"| {connectors} | {report.pages} | {seconds:.2f} | {seconds / 2.0:.3f} "
            f"| {report.pages / seconds:.0f} | {report.rate_limited} |"
        )


async def _client_pages(box: Sandbox, in_flight: int, seconds: float) -> float:
    connector = Connector("default", box.tokens["default"])
    async with BindbeeClient(
        api_key=box.api_key,
        base_url=box.base_url,
        concurrency=in_flight,
        rate_limit=(10**9, 1.0),
    ) as client:

        async def walk(stop: float) -> int:
            done, cursor = 0, None
            while time.perf_counter() < stop:
                params = {"page_size": "200"}
                if cursor:
                    params["cursor"] = cursor
                page = await client.get_json(connector, OFFERS_PATH, params)
                cursor = page.data["cursor"]
                done += 1
            return done

        await walk(time.perf_counter() + 0.3)  # warm up: connections, the server's caches
        start = time.perf_counter()
        counts = await asyncio.gather(*(walk(start + seconds) for _ in range(in_flight)))
        return sum(counts) / (time.perf_counter() - start)


def bench_knee(repeats: int) -> None:
    print("\n### Pages per second by requests in flight (unthrottled sandbox)\n")
    print("| in flight | get_json pages/s (200 offers) | fetch_offers by ids pages/s | offers/s |")
    print("|---:|---:|---:|---:|")
    with sandbox(offers=60_000, connectors=1, rate_limit=10**9, window_s=1.0) as box:
        ids = box.ids()
        for in_flight in (8, 16, 32, 48, 64):
            raw = statistics.median(
                asyncio.run(_client_pages(box, in_flight, seconds=2.0)) for _ in range(repeats)
            )
            run = functools.partial(load, box, (10**9, 1.0), ids=ids, concurrency=in_flight)
            seconds, report = median(repeats, run)
            print(
                f"| {in_flight} | {raw:.0f} | {report.pages / seconds:.0f} "
                f"| {report.offers / seconds:,.0f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="bound,scaling,knee")
    args = parser.parse_args()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    print(f"uptime before: {uptime.strip()}")
    benches = {"bound": bench_bound, "scaling": bench_scaling, "knee": bench_knee}
    for name in args.only.split(","):
        benches[name](args.repeats)
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    print(f"\nuptime after: {uptime.strip()}")


if __name__ == "__main__":
    main()
