"""What every benchmark script shares: timing, side-by-side runs, the machine header, results.

The rules the recorded figures in bench/BENCHMARKS.md follow live here once:

- contenders of one benchmark run side by side in one process, round-robin within each repeat,
  so that load from other work on the machine falls on all of them alike (:func:`race`);
- each figure is a median over repeats, of wall seconds (what a user waits) and of CPU seconds
  of this process, all threads (the work done; steadier on a shared machine) (:class:`Timing`);
- the results carry the date, versions, cores and load average beside them (:func:`machine`,
  :func:`load_average`), printed as Markdown tables ready to paste (:func:`markdown_row`).

The scripts import it as ``bench._harness`` (``uv run`` puts the project root on the path).
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata

import polars as pl

from offer_analytics.decode import offers_to_frame
from offer_analytics.sandbox import generate_offers

__all__ = [
    "VERSUS_COLUMNS",
    "Timing",
    "load_average",
    "machine",
    "markdown_header",
    "markdown_row",
    "race",
    "tiled_offers_frame",
    "timed",
    "versus",
]


@dataclass
class Timing:
    """The wall and CPU seconds of one contender's runs."""

    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)

    @property
    def wall(self) -> float:
        """Median wall seconds."""
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        """Median CPU seconds (this process, all threads)."""
        return statistics.median(self.cpus)


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of one call; garbage from earlier runs is collected first."""
    gc.collect()
    cpu, start = time.process_time(), time.perf_counter()
    result = run()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    del result
    return wall, cpu


def race(contenders: Mapping[str, Callable[[], object]], repeats: int) -> dict[str, Timing]:
    """Time each contender ``repeats`` times, round-robin within every repeat."""
    timings = {name: Timing() for name in contenders}
    for _ in range(repeats):
        for name, run in contenders.items():
            wall, cpu = timed(run)
            timings[name].walls.append(wall)
            timings[name].cpus.append(cpu)
    return timings


def load_average() -> str:
    """The machine's load averages over 1, 5 and 15 minutes."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min; {os.cpu_count()} cores)"


def machine(*packages: str) -> str:
    """One line for the results: UTC time, platform, Python and ``packages``' versions, load."""
    versions = [f"{name} {metadata.version(name)}" for name in packages]
    parts = [
        datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        f"{platform.system()} {platform.machine()}",
        f"Python {platform.python_version()}",
        *versions,
        load_average(),
    ]
    return ", ".join(parts)


def markdown_header(*columns: str) -> str:
    """The head of a Markdown table: the first column left-aligned, the figures right-aligned."""
    return (
        "| "
        + " | ".join(columns)
        + " |\n|"
        + "|".join(["---", *["---:"] * (len(columns) - 1)])
        + "|"
    )


def markdown_row(*cells: object) -> str:
    """One row of a Markdown table; print each as it is measured, so a long run shows progress."""
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def versus(ours: Timing, hand: Timing, pandas: Timing) -> list[str]:
    """The cells comparing ours with a hand-written Polars query and with pandas.

    Medians as wall s (CPU s), then ours / hand (target <= 1.2x) and pandas / ours (target >= 2x).
    """
    return [
        f"{ours.wall:.3f} ({ours.cpu:.3f})",
        f"{hand.wall:.3f} ({hand.cpu:.3f})",
        f"{pandas.wall:.2f} ({pandas.cpu:.2f})",
        f"{ours.wall / hand.wall:.2f}x ({ours.cpu / hand.cpu:.2f}x)",
        f"{pandas.wall / ours.wall:.1f}x ({pandas.cpu / ours.cpu:.1f}x)",
    ]


#: The header of :func:`versus` rows, after the metric's name.
VERSUS_COLUMNS = ("ours", "hand polars", "pandas", "ours/polars", "pandas/ours")


def tiled_offers_frame(rows: int, base: int) -> pl.DataFrame:
    """``base`` generated offers (3 connectors, seed 0) decoded once, tiled to ``rows`` rows.

    The tile number is appended to ``id`` and ``application``, so every copy is a distinct offer
    of a distinct application; periods, statuses and version structure repeat.
    """
    seed = offers_to_frame(generate_offers(base, connectors=3, seed=0))
    tiles = -(-rows // base)
    frame = pl.concat(
        [
            seed.with_columns(pl.col("id") + f"-{k}", pl.col("application") + f"-{k}")
            for k in range(tiles)
        ],
        rechunk=True,
    )
    return frame.head(rows)
