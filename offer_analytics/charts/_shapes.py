"""Turning metric tables into drawable shapes: step lines, thinned curves and binned counts.

The metrics give one row per distinct time, which for microsecond durations means one row per
offer. Drawing that as is would put every row into the HTML, so a report of a million offers
would weigh hundreds of megabytes. Curves are thinned to rows a screen can tell apart, and
histograms are counted into bins by Polars, so the figures stay small whatever the data size;
every point that is drawn is still an exact row or an exact count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import polars as pl

__all__ = ["MAX_POINTS", "Bins", "bin_counts", "compact", "nice_bin_size", "steps", "thin"]

#: At most this many rows of a curve are drawn per group: more than a chart has pixels across.
MAX_POINTS: Final = 800

_NICE_SIZES: Final = (0.1, 0.25, 0.5, 1.0, 2.0, 7.0, 14.0, 28.0, 56.0, 91.0, 182.0, 364.0)


def steps(times: Sequence[float], values: Sequence[float]) -> tuple[list[float], list[float]]:
    """Corner points of a right-continuous step function, as Plotly's ``line_shape="hv"`` draws.

    Examples
    --------
    >>> steps([0.0, 1.0, 3.0], [1.0, 0.5, 0.25])
    ([0.0, 1.0, 1.0, 3.0, 3.0], [1.0, 1.0, 0.5, 0.5, 0.25])
    """
    xs: list[float] = []
    ys: list[float] = []
    for i, (time, value) in enumerate(zip(times, values, strict=True)):
        if i:
            xs.append(time)
            ys.append(ys[-1])
        xs.append(time)
        ys.append(value)
    return xs, ys


def thin(
    table: pl.DataFrame, *, span: float | None = None, max_points: int = MAX_POINTS
) -> pl.DataFrame:
    """Keep about ``max_points`` rows of a step-curve table (column ``time_days``) for drawing.

    The first ``span`` days (default: the whole time range) are cut into ``max_points`` equal
    slices, the rest into a quarter as many; the last row of each slice is kept, plus the first
    row. The step drawn at a kept row's time has the curve's exact value there, and no change
    moves by more than one slice (under a pixel when ``span`` is the range shown). Tables that
    are already small come back unchanged.

    Examples
    --------
    >>> curve = pl.DataFrame({"time_days": [i / 10 for i in range(1000)], "v": range(1000)})
    >>> thinned = thin(curve, max_points=10)
    >>> thinned.height, thinned["v"].to_list()[:3], thinned["v"][-1]
    (12, [0, 99, 199], 999)
    """
    if table.height <= max_points:
        return table
    end: float = table.select(pl.col("time_days").max()).item() or 1.0
    shown = min(span, end) if span is not None and span > 0 else end
    time = pl.col("time_days")
    slot = (time / (shown / max_points)).floor()
    if end > shown:
        # Past the shown range (seen only when zooming out) a quarter of the points is enough;
        # without this the tail of censored offers would keep one row per open offer.
        tail = (end - shown) / (max_points // 4)
        slot = (
            pl.when(time <= shown)
            .then(slot)
            .otherwise(max_points + ((time - shown) / tail).floor())
        )
    last_in_slot = slot != slot.shift(-1)
    first = pl.int_range(pl.len()) == 0
    return table.filter(first | last_in_slot.fill_null(True))


def compact(table: pl.DataFrame, *, percent: Sequence[str] = ()) -> pl.DataFrame:
    """Round a curve table for drawing: times to ~1 second, ``percent`` columns x100 to 1e-6.

    Full float precision would triple the size of the HTML for digits no one can see.

    Examples
    --------
    >>> compact(pl.DataFrame({"time_days": [1 / 3], "s": [2 / 3]}), percent=["s"]).row(0)
    (0.33333, 66.666667)
    """
    return table.with_columns(
        pl.col("time_days").round(5), *(pl.col(name).mul(100).round(6) for name in percent)
    )


def nice_bin_size(span: float, *, bins: int, smallest: float = 0.1) -> float:
    """The smallest round width (days, weeks, ...) that covers ``span`` in at most ``bins`` bins.

    Examples
    --------
    >>> nice_bin_size(45.0, bins=30), nice_bin_size(120.0, bins=40), nice_bin_size(0.0, bins=30)
    (2.0, 7.0, 0.1)
    >>> nice_bin_size(3.0, bins=40, smallest=1.0)
    1.0
    """
    for size in _NICE_SIZES:
        if size >= smallest and span / size <= bins:
            return size
    return math.ceil(span / bins)


class Bins:
    """Counts per bin of equal width: left edges, counts and the width, ready for a bar chart."""

    __slots__ = ("counts", "lefts", "size")

    def __init__(self, lefts: list[float], counts: list[int], size: float) -> None:
        self.lefts = lefts
        self.counts = counts
        self.size = size

    @property
    def centres(self) -> list[float]:
        """The middle of each bin, where its bar is drawn."""
        return [left + self.size / 2 for left in self.lefts]

    def labels(self) -> list[str]:
        """``"a to b days"`` per bin, for hover text."""
        return [f"{left:g} to {left + self.size:g} days" for left in self.lefts]


def bin_counts(
    values: pl.Series, *, size: float, weights: pl.Series | None = None, start: float | None = None
) -> Bins:
    """Count ``values`` (optionally weighted) into bins ``[start + k*size, start + (k+1)*size)``.

    Nulls are ignored. Empty bins between the first and the last value are present with 0, so
    the bars form an honest histogram. ``start`` defaults to a multiple of ``size``.

    Examples
    --------
    >>> bins = bin_counts(pl.Series([0.5, 1.2, 1.9, 4.0]), size=1.0)
    >>> bins.lefts, bins.counts
    ([0.0, 1.0, 2.0, 3.0, 4.0], [1, 2, 0, 0, 1])
    >>> bin_counts(pl.Series([1.0, 3.0]), size=2.0, weights=pl.Series([5, 2])).counts
    [5, 2]
    """
    frame = pl.DataFrame(
        {
            "x": values,
            "w": weights if weights is not None else pl.repeat(1, len(values), eager=True),
        }
    ).drop_nulls()
    if frame.height == 0:
        return Bins([], [], size)
    smallest: float = frame.select(pl.col("x").min()).item()
    low = start if start is not None else math.floor(smallest / size) * size
    counted = frame.group_by(((pl.col("x") - low) / size).floor().cast(pl.Int64).alias("k")).agg(
        pl.col("w").sum().cast(pl.Int64)
    )
    last = counted.select(pl.col("k").max()).item()
    first = counted.select(pl.col("k").min()).item()
    grid = pl.DataFrame({"k": pl.int_range(first, last + 1, eager=True).cast(pl.Int64)})
    full = grid.join(counted, on="k", how="left").with_columns(pl.col("w").fill_null(0)).sort("k")
    return Bins([low + k * size for k in full["k"].to_list()], full["w"].to_list(), size)
