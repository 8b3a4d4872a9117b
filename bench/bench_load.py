"""Loader benchmarks: wall time vs the physical bound, scaling with connectors, the in-flight knee.

Run: ``uv run python bench/bench_load.py [--repeats 3] [--only bound,scaling,knee]``.

The sandbox runs in a subprocess (``offer-analytics serve --json``) so that its CPU does not share
the client's GIL; on a 2-core machine both still share the cores. Every figure is the median of
``--repeats`` runs. Results are printed as Markdown tables for bench/BENCHMARKS.md.

1. bound: a load under the sandbox's rate limit and latency against the bound those impose for a
   fixed window that serves bursts (``fixed_window_bound``: the first window's budget at once,
   then one window per further budget, plus a round trip; a serial listing also needs a round
   trip per request). Contenders, round-robin in each repeat, each on a fresh sandbox: the
   RateGate as shipped (known budget at once) and an even-pacing gate (the previous policy).
   Target: within 5% of the bound, zero 429s.
2. scaling: the same per-connector load over 1..32 connectors: wall time stays at the bound (so
   throughput grows linearly) until the client's CPU becomes the limit. 30 pages fit one
   window's budget of 30, so the bound is the serial round trips (1.2 s).
3. knee: pages per second through one client at 8/16/32/48/64 requests in flight against an
   unthrottled sandbox: ``BindbeeClient.get_json`` alone (pages of 200 offers), and
   ``fetch_offers`` by ids end to end (batches of ~150 offers, decoding included).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

from bench._harness import load_average, machine
from offer_analytics import BindbeeClient, LoadReport, fetch_offers
from offer_analytics.bindbee import _client as client_module
from offer_analytics.bindbee._client import OFFERS_PATH
from offer_analytics.bindbee._credentials import Connector
from offer_analytics.bindbee._rate_gate import RateGate
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
        "offer_analytics",
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


class EvenGate(RateGate):
    """The policy before known budget was spent at once: always paced evenly (the contender)."""

    def _earliest(self, now: float) -> tuple[float, bool]:
        target, _ = super()._earliest(now)
        return max(target, self._next_at), True


def even_pacing() -> contextlib.AbstractContextManager[Any]:
    """Make every client created meanwhile pace evenly; a benchmark contender, nothing more."""
    return mock.patch.object(client_module, "RateGate", EvenGate)


def fixed_window_bound(
    requests: int, *, limit: int, window_s: float, phase_s: float, latency_s: float, serial: bool
) -> float:
    """The fastest a connector can send ``requests`` through fixed windows that allow bursts.

    The first window (``phase_s`` left of it) serves ``limit`` at once; the rest need
    ``k = ceil((requests - limit) / limit)`` further window boundaries, the last of which comes
    ``phase_s + (k - 1) * window_s`` from the start; then one round trip for concurrent
    requests, or one per request still left for a serial listing (which also needs at least
    one round trip per request in all).
    """
    k = max(math.ceil((requests - limit) / limit), 0)
    if k == 0:
        return requests * latency_s if serial else latency_s
    last_boundary = phase_s + (k - 1) * window_s
    after = (requests - k * limit) * latency_s if serial else latency_s
    return max(last_boundary + after, requests * latency_s if serial else 0.0)


def sustained_bound(requests: int, *, limit: int, window_s: float, latency_s: float) -> float:
    """The bound of the even pace: ``requests`` at ``limit / window_s``, plus one round trip."""
    return requests * window_s / limit + latency_s


@dataclass(frozen=True)
class Scenario:
    name: str
    connectors: int
    offers: int
    limit: int
    window_s: float
    latency_ms: float
    page_size: int
    by_ids: bool


BOUND_SCENARIOS = (
    Scenario("listing, 3 connectors, 30 req/2 s, 40 ms", 3, 2_010, 30, 2.0, 40.0, 10, False),
    Scenario("id batches, 3 connectors, 30 req/2 s, 40 ms", 3, 2_010, 30, 2.0, 40.0, 10, True),
    Scenario("listing, 1 connector, 200 req/10 s, 40 ms", 1, 10_000, 200, 10.0, 40.0, 100, False),
    Scenario(
        "id batches within budget, 3 x 20 req, 200 req/60 s, 40 ms",
        3,
        600,
        200,
        60.0,
        40.0,
        10,
        True,
    ),
    Scenario(
        "id batches, 2 connectors x 80 req, 25 req/1 s, 20 ms", 2, 1_600, 25, 1.0, 20.0, 10, True
    ),
)


def bench_bound(repeats: int) -> None:
    print("\n### Wall time vs the fixed-window bound: known budget at once vs even pacing\n")
    print(
        "| scenario | req/conn | phase s | bound s | sustained s | at once s | ratio "
        "| even s | ratio | 429s (at once, even) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for sc in BOUND_SCENARIOS:
        runs: dict[str, list[tuple[float, float, float, int]]] = {"at once": [], "even": []}
        for _ in range(repeats):
            for contender in ("at once", "even"):  # round-robin: load falls on both alike
                # A fresh sandbox per run: the first window's budget is whole, as the bound says.
                with sandbox(
                    offers=sc.offers,
                    connectors=sc.connectors,
                    rate_limit=sc.limit,
                    window_s=sc.window_s,
                    latency_ms=sc.latency_ms,
                ) as box:
                    options: dict[str, Any] = {"page_size": sc.page_size}
                    if sc.by_ids:
                        options["ids"] = box.ids()
                    phase = sc.window_s - time.time() % sc.window_s  # windows align to unix time
                    pacing = even_pacing() if contender == "even" else contextlib.nullcontext()
                    with pacing:
                        report = load(box, (sc.limit, sc.window_s), **options)
                per_connector = math.ceil(report.requests / sc.connectors)  # near-equal split
                bound = fixed_window_bound(
                    per_connector,
                    limit=sc.limit,
                    window_s=sc.window_s,
                    phase_s=phase,
                    latency_s=sc.latency_ms / 1000,
                    serial=not sc.by_ids,
                )
                runs[contender].append((report.duration_s, bound, phase, report.rate_limited))
        at_once, even = runs["at once"], runs["even"]
        per_connector = math.ceil(sc.offers / sc.connectors / sc.page_size)
        sustained = sustained_bound(
            per_connector, limit=sc.limit, window_s=sc.window_s, latency_s=sc.latency_ms / 1000
        )
        if not sc.by_ids:
            sustained = max(sustained, per_connector * sc.latency_ms / 1000)

        def med(rows: list[tuple[float, float, float, int]], column: int) -> float:
            return statistics.median(row[column] for row in rows)

        def ratio(rows: list[tuple[float, float, float, int]]) -> float:
            return statistics.median(seconds / bound for seconds, bound, _, _ in rows)

        phases = "/".join(f"{row[2]:.1f}" for row in at_once)
        print(
            f"| {sc.name} | {per_connector} | {phases} | {med(at_once, 1):.2f} | {sustained:.2f} "
            f"| {med(at_once, 0):.2f} | {ratio(at_once):.3f} | {med(even, 0):.2f} "
            f"| {ratio(even):.3f} | {sum(r[3] for r in at_once)}, {sum(r[3] for r in even)} |"
        )


def bench_scaling(repeats: int) -> None:
    print("\n### Scaling with connectors (30 pages each, serial listing, 30 req/2 s, 40 ms)\n")
    print("| connectors | pages | median s | bound s | ratio to bound | pages/s | 429s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for connectors in (1, 2, 4, 8, 16, 32):
        with sandbox(
            offers=600 * connectors,
            connectors=connectors,
            rate_limit=30,
            window_s=2.0,
            latency_ms=40.0,
        ) as box:
            rows = []
            for _ in range(repeats):
                time.sleep(2.0)  # the previous repeat's window is over: a whole budget again
                phase = 2.0 - time.time() % 2.0
                report = load(box, (30, 2.0), page_size=20)
                bound = fixed_window_bound(
                    30, limit=30, window_s=2.0, phase_s=phase, latency_s=0.04, serial=True
                )
                rows.append((report.duration_s, bound, report))
        seconds = statistics.median(row[0] for row in rows)
        ratio = statistics.median(row[0] / row[1] for row in rows)
        report = rows[-1][2]
        print(
            f"| {connectors} | {report.pages} | {seconds:.2f} "
            f"| {statistics.median(row[1] for row in rows):.2f} | {ratio:.3f} "
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
    print(machine("httpx", "polars"))
    benches = {"bound": bench_bound, "scaling": bench_scaling, "knee": bench_knee}
    for name in args.only.split(","):
        benches[name](args.repeats)
    print(f"\nafter: {load_average()}")


if __name__ == "__main__":
    main()
