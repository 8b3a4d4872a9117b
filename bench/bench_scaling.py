"""One process's throughput as connectors grow, transports side by side, and sharded processes.

Run: ``uv run --group bench python bench/bench_scaling.py [--repeats 2] [--profile 32]``
(about 6 minutes; ``httpx-aiohttp`` comes from the ``bench`` dependency group).

Bindbee's shape scaled in time by ten: 200 requests per 6 s window per connector, pages of 200
offers, 30 ms per request (Bindbee answers in ~0.3 s). Every connector lists 20 pages, within one
window's budget, so the bound is its 20 serial round trips (0.6 s) whatever the number of
connectors: the demand grows by 33 requests/s per connector, and throughput should grow with it
until something in the client (or the sandbox, which shares the 2 cores) gives out.

Variants, round-robin within each repeat: the shipped client (httpx's transport, 16 requests in
flight), the same with at most 4 idle connections kept (httpcore's pool checks every pooled
connection on every request and response: fewer pooled connections, less of that work, more
reconnecting), and aiohttp's transport under the httpx API (``httpx-aiohttp``) with 64 in
flight. Columns: median wall seconds, ratio to the bound, pages/s
and offers/s, and the client process's CPU milliseconds per request (all its threads: HTTP,
gates, decoding).

Shards: the 100 connectors split over 2 (``--processes``) processes (plain multiprocessing,
disjoint connector sets, one client each), all started on the same window; their pages over the
slowest shard's wall time.

``--profile N`` profiles one load of N connectors (shipped client) with cProfile instead.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing
import os
import pstats
import statistics
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import httpx
import psutil

from bench._sandbox_process import Sandbox, sandbox_process
from offer_analytics import BindbeeClient, fetch_offers

PAGES, PAGE_SIZE, LIMIT, WINDOW_S, LATENCY_MS = 20, 200, 200, 6.0, 30.0
COUNTS = (1, 8, 16, 32, 64, 100)
BOUND_S = PAGES * LATENCY_MS / 1000


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_s: float
    server_cpu_s: float
    pages: int
    offers: int
    rate_limited: int


def load(box: Sandbox, labels: list[str], variant: str) -> Run:
    """One listing load of these connectors; wall and client CPU measured around all of it."""
    transport: Any = None
    concurrency = 16
    if variant == "httpx, 16 in flight, 4 kept alive":
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=4, keepalive_expiry=4.0)
        transport = httpx.AsyncHTTPTransport(limits=limits)
    elif variant == "aiohttp, 64 in flight":
        from httpx_aiohttp import AiohttpTransport

        concurrency = 64
        transport = AiohttpTransport()

    async def main() -> Any:
        async with BindbeeClient(
            api_key=box.api_key,
            base_url=box.base_url,
            concurrency=concurrency,
            transport=transport,
        ) as client:
            return await fetch_offers(
                connectors={label: box.tokens[label] for label in labels},
                client=client,
                page_size=PAGE_SIZE,
            )

    server = psutil.Process(box.pid)
    server_cpu = sum(server.cpu_times()[:2])
    cpu, start = time.process_time(), time.perf_counter()
    frame, report = asyncio.run(main())
    seconds, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    server_cpu_s = sum(server.cpu_times()[:2]) - server_cpu
    assert frame.height == len(labels) * PAGES * PAGE_SIZE
    return Run(seconds, cpu_s, server_cpu_s, report.pages, frame.height, report.rate_limited)


VARIANTS = (
    "httpx, 16 in flight (shipped)",
    "httpx, 16 in flight, 4 kept alive",
    "aiohttp, 64 in flight",
)


def bench_connectors(box: Sandbox, repeats: int, counts: list[int]) -> None:
    print("\n### Throughput of one process by connectors\n")
    print(
        "| connectors | variant | wall s | ratio to bound | pages/s | offers/s "
        "| client CPU ms/request | sandbox CPU ms/request | 429s |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    labels = sorted(box.tokens)
    for count in counts:
        runs: dict[str, list[Run]] = {v: [] for v in VARIANTS}
        for _ in range(repeats):
            for variant in VARIANTS:
                box.wait_for_window_start()
                runs[variant].append(load(box, labels[:count], variant))
        for variant, rows in runs.items():
            seconds = statistics.median(r.seconds for r in rows)
            pages = rows[0].pages
            cpu_ms = statistics.median(1000 * r.cpu_s / r.pages for r in rows)
            server_ms = statistics.median(1000 * r.server_cpu_s / r.pages for r in rows)
            print(
                f"| {count} | {variant} | {seconds:.2f} | {seconds / BOUND_S:.2f} "
                f"| {pages / seconds:,.0f} | {rows[0].offers / seconds:,.0f} | {cpu_ms:.2f} "
                f"| {server_ms:.2f} "
                f"| {sum(r.rate_limited for r in rows)} |"
            )


def _shard(box: Sandbox, labels: list[str], start_at: float, out: Any) -> None:
    time.sleep(max(start_at - time.time(), 0.0))
    out.put(load(box, labels, VARIANTS[0]))


def bench_shards(box: Sandbox, repeats: int, process_counts: list[int]) -> None:
    counts = ", ".join(map(str, process_counts))
    print(f"\n### {len(box.tokens)} connectors in {counts} processes (shipped client in each)\n")
    print("| processes | wall s (slowest shard) | ratio to bound | pages/s | offers/s |")
    print("|---:|---:|---:|---:|---:|")
    labels = sorted(box.tokens)
    context = multiprocessing.get_context("spawn")
    for processes in process_counts:
        walls: list[float] = []
        for _ in range(repeats):
            # Start every shard just after a window starts (spawning takes a second or two).
            start_at = time.time() + 3.0
            start_at += WINDOW_S - start_at % WINDOW_S + 0.02
            out = context.Queue()
            workers = [
                context.Process(target=_shard, args=(box, labels[i::processes], start_at, out))
                for i in range(processes)
            ]
            for worker in workers:
                worker.start()
            runs = [out.get() for _ in workers]
            for worker in workers:
                worker.join()
            walls.append(max(r.seconds for r in runs))
            time.sleep(WINDOW_S)  # the next repeat gets fresh windows
        seconds = statistics.median(walls)
        pages = len(labels) * PAGES
        print(
            f"| {processes} | {seconds:.2f} | {seconds / BOUND_S:.2f} | {pages / seconds:,.0f} "
            f"| {pages * PAGE_SIZE / seconds:,.0f} |"
        )


def profile(box: Sandbox, count: int) -> None:
    labels = sorted(box.tokens)[:count]
    box.wait_for_window_start()
    profiler = cProfile.Profile()
    profiler.enable()
    run = load(box, labels, VARIANTS[0])
    profiler.disable()
    print(
        f"\n{count} connectors: {run.seconds:.2f} s wall, {run.cpu_s:.2f} s CPU, {run.pages} pages"
    )
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--profile", type=int, default=0)
    parser.add_argument("--only", default="connectors,shards")
    parser.add_argument("--counts", default=",".join(map(str, COUNTS)))
    parser.add_argument("--processes", default="1,2,4")
    args = parser.parse_args()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    print(f"uptime before: {uptime.strip()}; {os.cpu_count()} cores")
    counts = [int(c) for c in args.counts.split(",")]
    with sandbox_process(
        offers=max(counts) * PAGES * PAGE_SIZE,
        connectors=max(counts),
        rate_limit=LIMIT,
        window_s=WINDOW_S,
        latency_ms=LATENCY_MS,
    ) as box:
        if args.profile:
            profile(box, args.profile)
            return
        if "connectors" in args.only:
            bench_connectors(box, args.repeats, counts)
        if "shards" in args.only:
            bench_shards(box, args.repeats, [int(p) for p in args.processes.split(",")])
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    print(f"\nuptime after: {uptime.strip()}")


if __name__ == "__main__":
    main()
