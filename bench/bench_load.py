"""Loader vs its physical bound, side by side with dlt's rest_api source and a plain httpx loop.

Run: ``uv run --group bench python bench/bench_load.py [--repeats 3] [--only S1,S6]``
(about 20 minutes with 3 repeats; dlt comes from the ``bench`` dependency group).

Every scenario runs the three contenders of ``bench/_contenders.py`` round-robin within each
repeat against one sandbox in a child process (``bench/_sandbox_process.py``), so that load from
other work on the machine falls on all of them alike. Windows are Bindbee's fixed windows scaled
down in time (seconds, not a minute). Each run starts just after a window starts, so each
connector has a whole window ahead of it and the bound is the same for every run:

- N requests of one connector, budget B per window W, round trip L: N <= B costs one round trip
  (concurrent id batches) or N (a serial listing); beyond, k = ceil((N - B) / B) window
  boundaries, the last at (k - 1) W plus the window left at the start, then one round trip for
  concurrent requests or one per request left (a listing, which needs N round trips in all).
  Connectors have budgets of their own: the busiest sets the bound. L is the round trip of the
  scenario's request measured with one bare ``httpx.Client`` (the median of 5) before each
  repeat, so that it sees the machine's load of the minutes it is compared with: the sandbox's
  added latency plus serving the page and the least client work; the latency alone would leave
  the sandbox's own time per page out of the bound.

Columns: median wall seconds over the repeats, requests, 429s (summed over the repeats), median
ratio to the bound. Target for this package: ratio <= 1.05 on one connector, zero 429s, never
slower than the others, ahead of both where concurrency is possible (connectors, id batches).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import time
from dataclasses import dataclass

import httpx

from bench._contenders import CONTENDERS, OFFERS_PATH, Outcome, Work
from bench._sandbox_process import sandbox_process

LATENCY_MS = 20.0


@dataclass(frozen=True)
class Scenario:
    key: str
    name: str
    connectors: int
    requests: int  # per connector
    page_size: int
    limit: int
    window_s: float
    by_ids: bool = False
    flat_retry_after: bool = False

    @property
    def offers(self) -> int:
        return self.connectors * self.requests * self.page_size


SCENARIOS = (
    Scenario("S1", "1 connector, listing, 10 req / 6 s", 1, 30, 20, 10, 6.0),
    Scenario("S2", "1 connector, listing, 50 req / 6 s", 1, 100, 20, 50, 6.0),
    Scenario("S3", "1 connector, listing, 200 req / 6 s (Bindbee's shape)", 1, 293, 200, 200, 6.0),
    Scenario("S4", "S1 with a flat Retry-After: 6", 1, 30, 20, 10, 6.0, flat_retry_after=True),
    Scenario("S5", "S3 with a flat Retry-After: 6", 1, 293, 200, 200, 6.0, flat_retry_after=True),
    Scenario("S6", "8 connectors, listing, 10 req / 2 s", 8, 20, 20, 10, 2.0),
    Scenario(
        "S7",
        "1 connector, 4,000 ids in batches of 20, 50 req / 2 s",
        1,
        200,
        20,
        50,
        2.0,
        by_ids=True,
    ),
)


def bound_s(sc: Scenario, *, first_window_s: float, rtt: float) -> float:
    """The fastest one connector can send its requests through fixed windows (see above)."""
    n, b = sc.requests, sc.limit
    serial = not sc.by_ids
    k = max(math.ceil((n - b) / b), 0)
    if k == 0:
        return n * rtt if serial else rtt
    last_boundary = first_window_s + (k - 1) * sc.window_s
    after = (n - k * b) * rtt if serial else rtt
    return max(last_boundary + after, n * rtt if serial else 0.0)


def round_trip_s(work: Work, probes: int = 5) -> float:
    """Median wall seconds of one request of the scenario's kind (a second listing page, or an
    id batch) through a bare ``httpx.Client`` on a warm connection."""
    label, token = next(iter(work.tokens.items()))
    params = {"page_size": str(work.page_size)}
    headers = {"authorization": f"Bearer {work.api_key}", "x-connector-token": token}
    with httpx.Client(base_url=work.base_url, headers=headers) as client:
        if work.ids is None:
            params["cursor"] = client.get(OFFERS_PATH, params=params).json()["cursor"]
        else:
            params["ids"] = ",".join(work.batches(label)[0])
        times = []
        for _ in range(probes):
            start = time.perf_counter()
            client.get(OFFERS_PATH, params=params).raise_for_status()
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_scenario(sc: Scenario, repeats: int) -> None:
    runs: dict[str, list[tuple[Outcome, float]]] = {name: [] for name in CONTENDERS}
    with sandbox_process(
        offers=sc.offers,
        connectors=sc.connectors,
        rate_limit=sc.limit,
        window_s=sc.window_s,
        latency_ms=LATENCY_MS,
        retry_after_s=sc.window_s if sc.flat_retry_after else None,
        with_ids=sc.by_ids,
    ) as box:
        work = Work(
            box.base_url, box.api_key, box.tokens, sc.page_size, box.ids if sc.by_ids else None
        )
        # The sandbox encodes each offer the first time it serves it, and a contender's first
        # run in a process sets itself up (this package imports its async backend and sets
        # Polars up, ~0.3 s): one untimed run of each first, so that every timed run meets a
        # warm server and a warm contender.
        warm_up: dict[str, float] = {}
        for name, contender in CONTENDERS.items():
            box.wait_for_window_start()
            outcome = contender(work)
            assert outcome.offers == sc.offers, (name, outcome.offers, sc.offers)
            warm_up[name] = outcome.seconds
        rtts = []
        for _ in range(repeats):
            # Probes on a fresh window (the last run may have spent this one); every run
            # then waits for the next whole window.
            box.wait_for_window_start()
            rtt = round_trip_s(work, probes=min(5, sc.limit - 2))
            rtts.append(rtt)
            for name, contender in CONTENDERS.items():  # round-robin: load falls on all alike
                first_window_s = box.wait_for_window_start()
                outcome = contender(work)
                expected = sc.offers
                assert outcome.offers == expected, (name, outcome.offers, expected)
                bound = bound_s(sc, first_window_s=first_window_s, rtt=rtt)
                runs[name].append((outcome, bound))
    bound = statistics.median(b for _, b in runs["offer_analytics"])
    print(
        f"\n**{sc.key}: {sc.name}** — {sc.requests} requests per connector, round trip "
        f"{1000 * statistics.median(rtts):.1f} ms ({1000 * min(rtts):.1f}-{1000 * max(rtts):.1f}),"
        f" bound {bound:.2f} s; untimed warm-up runs first: "
        + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in warm_up.items())
        + "\n",
        flush=True,
    )
    print("| contender | wall s (median) | min-max | requests | 429s | ratio to bound |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, rows in runs.items():
        seconds = [o.seconds for o, _ in rows]
        ratio = statistics.median(o.seconds / b for o, b in rows)
        print(
            f"| {name} | {statistics.median(seconds):.2f} | {min(seconds):.2f}-{max(seconds):.2f} "
            f"| {statistics.median(o.requests for o, _ in rows):.0f} "
            f"| {sum(o.rate_limited for o, _ in rows)} | {ratio:.3f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default=",".join(sc.key for sc in SCENARIOS))
    args = parser.parse_args()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    print(f"uptime before: {uptime.strip()}; {os.cpu_count()} cores")
    wanted = set(args.only.split(","))
    for sc in SCENARIOS:
        if sc.key in wanted:
            run_scenario(sc, args.repeats)
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    print(f"\nuptime after: {uptime.strip()}")


if __name__ == "__main__":
    main()
