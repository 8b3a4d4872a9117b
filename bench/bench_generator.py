"""How long the synthetic generator takes for 1M offers (issue target: well under 60 s).

Run: ``uv run python bench/bench_generator.py``; prints the median of several runs.
"""

from __future__ import annotations

import statistics
import time

from offer_analytics.sandbox import generate_offers


def main(n: int = 1_000_000, repeats: int = 3) -> None:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        data = generate_offers(n, connectors=3, seed=0)
        times.append(time.perf_counter() - start)
        assert sum(len(v) for v in data.values()) == n
        del data
    print(
        f"generate_offers({n:,}, connectors=3): median {statistics.median(times):.2f} s "
        f"over {repeats} runs (min {min(times):.2f} s, max {max(times):.2f} s)"
    )


if __name__ == "__main__":
    main()
