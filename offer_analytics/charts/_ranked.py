"""A ranked dot plot of rates by group: where acceptance is high or low, and how sure we are."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import plotly.graph_objects as go
import polars as pl

from offer_analytics.charts._style import (
    OUTCOME_COLOURS,
    apply_layout,
    empty_figure,
    group_names,
)
from offer_analytics.metrics import acceptance_rates, pool_groups
from offer_analytics.metrics._pooling import pooled_last

__all__ = ["ranked_rates_figure"]

_LIGHT = "#9E9E9E"


def _hover(name: str, row: dict[str, object], min_n: int) -> str:
    rate, lower, upper = row["rate"], row["rate_lower"], row["rate_upper"]
    counts = f"n = {row['n']}: {row['accepted']} accepted, {row['declined']} declined"
    if not (isinstance(rate, float) and isinstance(lower, float) and isinstance(upper, float)):
        why = f"fewer than {min_n} offers" if row.get("below_min_n") else "no decided offers"
        return f"{name}<br>no rate shown: {why}<br>{counts}"
    interval = f"95% CI {100 * lower:.1f}% to {100 * upper:.1f}%"
    return f"{name}<br>rate {100 * rate:.1f}% ({interval})<br>{counts}"


def ranked_rates_figure(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    by: str,
    top: int | None = 15,
    min_n: int = 10,
    denominator: Literal["decided", "extended"] = "decided",
    latest_per_application: bool = True,
    as_of: datetime | None = None,
) -> go.Figure:
    """Acceptance rate per group as ranked dots with Wilson 95% whiskers, largest group on top.

    One row per group, ordered by n (the metric's ``order="n"``), so the eye starts where most
    offers are; a dot is the rate, its whisker the Wilson interval, and a faint line marks the
    overall rate. A group with fewer than ``min_n`` offers in its n keeps its row, labelled with
    its n, but shows no dot: its rate would mislead. With ``top``, the groups beyond the
    ``top`` largest (by offers, see :func:`~offer_analytics.metrics.pool_groups`) are pooled
    into one row "other" below them; offers whose group is unknown are a row "(missing)" at the
    bottom.

    Parameters
    ----------
    frame
        The offers frame, with the ``by`` column (e.g. ``department`` from
        :func:`~offer_analytics.enrich_offers`).
    by
        The column to break down by.
    top
        Groups shown by name; None shows every group.
    min_n
        Groups with a smaller n show no rate (see ``acceptance_rates(min_n=...)``).
    denominator, latest_per_application, as_of
        Passed to :func:`~offer_analytics.metrics.acceptance_rates`.

    Returns
    -------
    plotly.graph_objects.Figure
        One scatter trace of the dots (with whiskers), one of the groups without a rate.

    Examples
    --------
    >>> import polars as pl
    >>> from offer_analytics.charts._example import example_offers
    >>> offers = example_offers().with_columns(department=pl.Series(["Eng", "Eng", "Ops"]))
    >>> fig = ranked_rates_figure(offers, by="department", min_n=1)
    >>> list(fig.data[0].y), list(fig.data[0].x)
    (['Eng  (n = 2)'], [50.0])
    >>> list(fig.data[1].y)  # Ops has no decided offer yet: a row, no dot
    ['Ops  (n = 0)']
    """
    source = pool_groups(frame, by, top=top) if top is not None else frame
    table = acceptance_rates(
        source,
        by=by,
        denominator=denominator,
        latest_per_application=latest_per_application,
        as_of=as_of,
        min_n=min_n,
        order="n",
    )
    table = pooled_last(table, by) if top is not None else table
    title = f"Acceptance rate by {by.replace('_', ' ')}"
    x_title = "Acceptance rate (%)"
    if table.height == 0 or table["n"].sum() == 0:
        return empty_figure(title=title, x_title=x_title, y_title="")
    names = [
        f"{name}  (n = {n})"
        for name, n in zip(group_names([(v,) for v in table[by]]), table["n"], strict=True)
    ]
    table = table.with_columns(pl.Series("__name", names))
    has_rate = table.filter(pl.col("rate").is_not_null())
    blank = table.filter(pl.col("rate").is_null())
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=has_rate.select(pl.col("rate") * 100).to_series().to_list(),
            y=has_rate["__name"].to_list(),
            mode="markers",
            marker={"color": OUTCOME_COLOURS["accepted"], "size": 10},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": has_rate.select((pl.col("rate_upper") - pl.col("rate")) * 100)
                .to_series()
                .to_list(),
                "arrayminus": has_rate.select((pl.col("rate") - pl.col("rate_lower")) * 100)
                .to_series()
                .to_list(),
                "color": "#333333",
                "thickness": 1.5,
                "width": 4,
            },
            name="rate (95% CI)",
            customdata=[_hover(r["__name"], r, min_n) for r in has_rate.iter_rows(named=True)],
            hovertemplate="%{customdata}<extra></extra>",
        )
    )
    _add_blank_rows(figure, blank, min_n)
    return _ranked_layout(figure, table, title=title, x_title=x_title)


def _add_blank_rows(figure: go.Figure, blank: pl.DataFrame, min_n: int) -> None:
    """The groups without a rate: on the axis, in their rank, with a hollow marker at 0."""
    figure.add_trace(
        go.Scatter(
            x=[0.0] * blank.height,
            y=blank["__name"].to_list(),
            mode="markers",
            marker={"color": _LIGHT, "size": 8, "symbol": "circle-open"},
            name=f"no rate (n < {min_n} or no decided offers)",
            customdata=[_hover(r["__name"], r, min_n) for r in blank.iter_rows(named=True)],
            hovertemplate="%{customdata}<extra></extra>",
        )
    )


def _ranked_layout(
    figure: go.Figure,
    table: pl.DataFrame,
    *,
    title: str,
    x_title: str,
) -> go.Figure:
    apply_layout(
        figure, title=title, x_title=x_title, y_title="", height=max(260, 60 + 28 * table.height)
    )
    overall = table.select(pl.col("accepted").sum() / pl.col("n").sum()).item()
    if overall is not None:
        figure.add_vline(
            x=100 * overall,
            line={"color": _LIGHT, "dash": "dot", "width": 1},
            annotation_text=f"all: {100 * overall:.0f}%",
            annotation_position="top",
        )
    # The largest group on top: a category axis draws its first category at the bottom.
    figure.update_yaxes(
        categoryorder="array", categoryarray=table["__name"].to_list()[::-1], showgrid=False
    )
    figure.update_xaxes(range=[-2, 102])
    figure.update_layout(margin={"l": 200})
    return figure
