"""How long the synthetic generator takes for 1M offers (issue target: well under 60 s).

Run: ``uv run python bench/bench_generator.py``; prints the median of several runs.
"""

from __future__ import annotations

from bench._harness import machine, race
from offer_analytics.sandbox import generate_offers


def main(n: int = 1_000_000, repeats: int = 3) -> None:

    def generate() -> None:
        assert sum(len(v) for v in generate_offers(n, connectors=3, seed=0).values()) == n

    t = race({"generate": generate}, repeats)["generate"]
    print(machine("numpy"))
    print(
        f"generate_offers({n:,}, connectors=3): median {t.wall:.2f} s "
        f"over {repeats} runs (min {min(t.walls):.2f} s, max {max(t.walls):.2f} s)"
    )


if __name__ == "__main__":
    main()
