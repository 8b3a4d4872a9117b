"""Incremental sync vs a full reload: a 100k-offer connector with 1% of its offers changed.

Run: ``uv run python bench/bench_sync.py [--offers 100000] [--changed 0.01] [--repeats 3]
[--scale 100]``.

Time is scaled: the sandbox keeps Bindbee's budget of 200 requests per window, but the window
lasts ``60 / scale`` seconds instead of a minute (0.6 s at the default 100x), so that a full
reload that would wait minutes for the budget waits seconds. Request counts do not depend on the
scale; for time at the real budget, the table adds the least a sync must wait for the budget at
Bindbee's clock: a window's 200 requests go at once, each further 200 wait one more minute.

Each repeat: a fresh sandbox (in this process: the sandbox must be changed between syncs), an
untimed initial sync, the change of ``--changed`` of the offers (``modified_at`` moves to now), a
copy of the dataset folder, then the two contenders side by side in alternating order: an
incremental ``sync`` on one copy and ``sync(full=True)`` on the other. Both must end with the
same table (asserted). Medians over the repeats (bench/_harness.py).
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from polars.testing import assert_frame_equal

from bench._harness import Timing, machine, markdown_header, markdown_row, timed
from offer_analytics import SyncReport, read_offers, sync
from offer_analytics.sandbox import SandboxServer, generate_offers

INCREMENTAL, FULL = "incremental sync", "full reload (`sync(full=True)`)"


def change(server: SandboxServer, share: float, seed: int) -> int:
    rng = random.Random(seed)
    offers = server.offers("default")
    picked = rng.sample(offers, round(len(offers) * share))
    for offer in picked:
        server.update_offer("default", offer["id"], status="SIGNED")
    return len(picked)


def timed_sync(run: Callable[[], SyncReport], timing: Timing) -> SyncReport:
    """Run one contender once, adding its wall and CPU seconds to ``timing``."""
    box: list[SyncReport] = []
    wall, cpu = timed(lambda: box.append(run()))
    timing.walls.append(wall)
    timing.cpus.append(cpu)
    return box[0]


def one_repeat(
    args: argparse.Namespace, repeat: int, timings: dict[str, Timing]
) -> dict[str, SyncReport]:
    data = generate_offers(args.offers, connectors=1, seed=repeat)
    window = 60.0 / args.scale
    with (
        SandboxServer(offers=data, rate_limit=200, rate_window_s=window) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        access: dict[str, Any] = {
            "connector_token": server.connector_tokens["default"],
            "api_key": server.api_key,
            "base_url": server.base_url,
            "rate_limit": (200, window),
        }
        incremental_dir, full_dir = Path(tmp, "incremental"), Path(tmp, "full")
        sync(incremental_dir, **access)
        changed = change(server, args.changed, seed=repeat)
        shutil.copytree(incremental_dir, full_dir)
        reports: dict[str, SyncReport] = {}
        contenders: dict[str, Callable[[], SyncReport]] = {
            INCREMENTAL: lambda: sync(incremental_dir, **access),
            FULL: lambda: sync(full_dir, **access, full=True),
        }
        order = list(contenders) if repeat % 2 == 0 else list(reversed(contenders))
        for name in order:
            reports[name] = timed_sync(contenders[name], timings[name])
        assert_frame_equal(read_offers(incremental_dir).collect(), read_offers(full_dir).collect())
        assert reports[INCREMENTAL].updated == changed
        return reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=float, default=100.0)
    args = parser.parse_args()
    print(machine("polars", "pyarrow"))
    timings = {INCREMENTAL: Timing(), FULL: Timing()}
    runs = [one_repeat(args, repeat, timings) for repeat in range(args.repeats)]
    print(machine("polars", "pyarrow"))
    print(
        f"\n{args.offers:,} offers, {args.changed:.0%} changed, budget 200 requests per "
        f"{60 / args.scale:g} s ({args.scale:g}x Bindbee's clock), medians of {args.repeats}\n"
    )
    print(
        markdown_header(
            "contender", "requests", "wall s (scaled clock)", "CPU s", "budget wait, real clock"
        )
    )
    for name, timing in timings.items():
        requests = statistics.median(run[name].requests for run in runs)
        windows = max(math.ceil(requests / 200) - 1, 0)
        print(
            markdown_row(
                name, f"{requests:g}", f"{timing.wall:.2f}", f"{timing.cpu:.2f}", f"{windows} min"
            )
        )
    ratio = timings[FULL].wall / timings[INCREMENTAL].wall
    print(f"\nfull / incremental, wall seconds on the scaled clock: {ratio:.1f}x")


if __name__ == "__main__":
    main()
