"""Peak memory of loading 1M offers against the size of the frame it returns.

Run: ``uv run python bench/bench_memory.py [--offers 1000000] [--connectors 4]``
(about a minute; the sandbox, in a child process, needs ~3 GB for 1M offers).

The load runs in a fresh process of its own (``multiprocessing`` spawn), so its peak resident set
(``ru_maxrss``) is this load's and nothing else's. The fixed overhead is that process's resident
set after importing the package and running a tiny load (interpreter, Polars, pyarrow, httpx, the
event-loop thread): what any load pays whatever its size. Target: peak <= 2 x the frame's
``estimated_size()`` + that overhead. The frame's Arrow buffers (its String columns' views
included, which ``estimated_size()`` leaves out) are printed beside it.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=1_000_000)
    parser.add_argument("--connectors", type=int, default=4)
    args = parser.parse_args()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    print(f"uptime before: {uptime.strip()}")
    with sandbox_process(
        offers=args.offers, connectors=args.connectors, rate_limit=10**9, window_s=1.0
    ) as box:
        context = multiprocessing.get_context("spawn")
        out = context.Queue()
        worker = context.Process(target=_measure, args=(box, out))
        worker.start()
        result = out.get()
        worker.join()
    frame_mb, base_mb, peak_mb = result["frame_mb"], result["baseline_mb"], result["peak_mb"]
    print(
        f"\n{result['offers']:,} offers in {result['pages']:,} pages, {result['seconds']:.1f} s\n"
    )
    buffers_mb = result["buffers_mb"]
    print(
        "| frame (estimated_size) | frame's buffers | fixed overhead | peak RSS | after the load "
        "| (peak - overhead) / frame | (peak - overhead) / buffers |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {frame_mb:,.0f} MB | {buffers_mb:,.0f} MB | {base_mb:,.0f} MB | {peak_mb:,.0f} MB "
        f"| {result['after_mb']:,.0f} MB | {(peak_mb - base_mb) / frame_mb:.2f} "
        f"| {(peak_mb - base_mb) / buffers_mb:.2f} |"
    )


if __name__ == "__main__":
    main()
