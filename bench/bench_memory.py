"""Peak memory of loading 1M offers against the size of the frame it returns.

Run: ``uv run python bench/bench_memory.py [--offers 250000,500000,1000000,2000000]
[--connectors 4]`` (about five minutes for the four sizes; the sandbox, in a child process,
needs ~3 GB per 1M offers).

The load runs in a fresh process of its own (``multiprocessing`` spawn), so its peak resident set
(``ru_maxrss``) is this load's and nothing else's. The fixed overhead is that process's resident
set after importing the package and running a tiny load (interpreter, Polars, pyarrow, httpx, the
event-loop thread): what any load pays whatever its size. Target: peak <= 2 x the frame's
``estimated_size()`` + that overhead. The frame's Arrow buffers (its String columns' views
included, which ``estimated_size()`` leaves out) are printed beside it.

A load also holds a working set that does not grow with it: one decode chunk's page bodies, its
NDJSON and the reader's and typing's buffers (a few tens of MB, set by the chunk size). With
several sizes the script fits peak RSS against the frame by least squares: the slope is what each
MB of frame costs at the peak, the intercept what every load pays whatever its size.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import subprocess
from typing import Any

from bench._sandbox_process import Sandbox, sandbox_process


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def _measure(box: Sandbox, out: Any) -> None:
    import polars as pl

    from offer_analytics import load_offers

    def load(labels: list[str]) -> Any:
        return load_offers(
            connectors={label: box.tokens[label] for label in labels},
            api_key=box.api_key,
            base_url=box.base_url,
            rate_limit=(10**9, 1.0),
        )

    first = sorted(box.tokens)[0]
    # Warm-up: a load of one connector's first page would need a smaller sandbox; the whole
    # process state after imports and one event-loop start is the fixed overhead instead.
    load_offers(
        ids={first: ["no-such-offer"]},
        connectors={first: box.tokens[first]},
        api_key=box.api_key,
        base_url=box.base_url,
        rate_limit=(10**9, 1.0),
        keep_partial=True,
    )
    baseline = _rss_mb()
    frame, report = load(sorted(box.tokens))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    after = _rss_mb()
    # estimated_size() counts a String column's text but not its 16-byte views (one per row);
    # the Arrow buffers the frame exports, views included, are what it occupies (taken after
    # the peak and the "after" reading: the export itself allocates).
    buffers = frame.to_arrow(compat_level=pl.CompatLevel.newest()).get_total_buffer_size()
    out.put(
        {
            "baseline_mb": baseline,
            "peak_mb": peak,
            "after_mb": after,
            "buffers_mb": buffers / 2**20,
            "frame_mb": frame.estimated_size() / 2**20,
            "offers": frame.height,
            "pages": report.pages,
            "seconds": report.duration_s,
        }
    )


def _one_size(offers: int, connectors: int) -> dict[str, Any]:
    with sandbox_process(
        offers=offers, connectors=connectors, rate_limit=10**9, window_s=1.0
    ) as box:
        context = multiprocessing.get_context("spawn")
        out = context.Queue()
        worker = context.Process(target=_measure, args=(box, out))
        worker.start()
        result: dict[str, Any] = out.get()
        worker.join()
    return result


def _slope(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares line through (frame MB, peak MB): (MB of peak per MB of frame, intercept)."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return slope, mean_y - slope * mean_x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--offers",
        default="250000,500000,1000000,2000000",
        help="comma-separated load sizes; two or more also fit peak RSS against the frame",
    )
    parser.add_argument("--connectors", type=int, default=4)
    args = parser.parse_args()
    sizes = [int(n) for n in args.offers.split(",")]
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    print(f"uptime before: {uptime.strip()}\n")
    print(
        "| offers | pages | load s | frame (estimated_size) | frame's buffers | fixed overhead "
        "| peak RSS | after the load | (peak - overhead) / frame | (peak - overhead) / buffers |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    points = []
    for offers in sizes:
        result = _one_size(offers, args.connectors)
        frame_mb, base_mb, peak_mb = result["frame_mb"], result["baseline_mb"], result["peak_mb"]
        buffers_mb = result["buffers_mb"]
        points.append((frame_mb, peak_mb))
        print(
            f"| {result['offers']:,} | {result['pages']:,} | {result['seconds']:.1f} "
            f"| {frame_mb:,.0f} MB | {buffers_mb:,.0f} MB | {base_mb:,.0f} MB "
            f"| {peak_mb:,.0f} MB | {result['after_mb']:,.0f} MB "
            f"| {(peak_mb - base_mb) / frame_mb:.2f} | {(peak_mb - base_mb) / buffers_mb:.2f} |",
            flush=True,
        )
    if len(points) > 1:
        slope, intercept = _slope(points)
        print(
            f"\npeak RSS ~ {slope:.2f} x frame + {intercept:,.0f} MB (least squares over "
            f"{len(points)} sizes): each MB of frame costs {slope:.2f} MB of peak; the "
            f"intercept is what every load pays whatever its size"
        )
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    print(f"\nuptime after: {uptime.strip()}")


if __name__ == "__main__":
    main()
