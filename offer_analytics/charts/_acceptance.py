"""Charts of what happened to offers: acceptance rates with Wilson intervals, status breakdown."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from offer_analytics.charts._style import (
    OUTCOME_COLOURS,
    OUTCOME_ORDER,
    Group,
    GroupColours,
    apply_layout,
    empty_figure,
    group_colours,
    label,
    split_groups,
)
from offer_analytics.metrics import acceptance_rates, status_counts
from offer_analytics.metrics._frame import group_keys

__all__ = ["acceptance_figure", "status_figure"]

_RATE = "Acceptance rate (%)"
_PERIOD_TITLES = {"month": "Month sent", "quarter": "Quarter sent"}


def _rate_hover(name: str, row: dict[str, object]) -> str:
    rate = row["rate"]
    if not isinstance(rate, float):
        return f"{name}<br>no decided offers (n = {row['n']})"
    lower, upper = row["rate_lower"], row["rate_upper"]
    # The metric sets both bounds whenever it sets the rate.
    assert isinstance(lower, float)
    assert isinstance(upper, float)
    return (
        f"{name}<br>rate {100 * rate:.1f}% (95% CI {100 * lower:.1f}% to {100 * upper:.1f}%)"
        f"<br>n = {row['n']}: {row['accepted']} accepted, {row['declined']} declined,"
        f" {row['pending']} pending"
    )


def _error_bars(table: pl.DataFrame) -> dict[str, object]:
    """Asymmetric Wilson error bars, in percentage points, straight from the metric's bounds."""
    plus = table.select((pl.col("rate_upper") - pl.col("rate")) * 100).to_series().to_list()
    minus = table.select((pl.col("rate") - pl.col("rate_lower")) * 100).to_series().to_list()
    return {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus}


def acceptance_figure(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    by: str | Sequence[str] | None = None,
    period: Literal["month", "quarter"] | None = None,
    basis: Literal["cohort", "activity"] = "cohort",
    denominator: Literal["decided", "extended"] = "decided",
    latest_per_application: bool = True,
    as_of: datetime | None = None,
    colours: GroupColours | None = None,
) -> go.Figure:
    """Acceptance rate per group (bars) or per period (lines), with Wilson 95% error bars.

    The rate is accepted / (accepted + declined) by default, or accepted / all extended offers
    with ``denominator="extended"``; superseded versions never count. Error bars are the Wilson
    95% interval, which is asymmetric and stays within 0-100%; hovering shows n and the counts
    behind each rate. Data come from :func:`offer_analytics.metrics.acceptance_rates`, whose
    options this function takes unchanged.

    Parameters
    ----------
    frame
        The offers frame.
    by
        Column name(s) to group by; None for all offers.
    period
        None for one bar per group, or "month"/"quarter" for a line over time per group.
    basis, denominator, latest_per_application
        Passed to :func:`offer_analytics.metrics.acceptance_rates`.
    as_of
        The instant the rates describe (naive = UTC; None means now): offers sent later are
        left out and closes after it count as pending, as in the metric.
    colours
        Group -> colour of the lines per period (see
        :func:`~offer_analytics.charts._style.group_colours`), so that a group looks the same in
        every chart; None derives it from the groups of ``frame``.

    Returns
    -------
    plotly.graph_objects.Figure
        One trace per group (one bar trace in total without ``period``).

    Examples
    --------
    >>> from offer_analytics.charts._example import example_offers
    >>> offers = example_offers()  # acme's a accepted, b declined, c pending; sent 5-7 Jan 2026
    >>> fig = acceptance_figure(offers)
    >>> fig.data[0].y[0], fig.data[0].customdata[0].split("<br>")[-1]
    (50.0, 'n = 2: 1 accepted, 1 declined, 1 pending')
    """
    by_list = group_keys(by)
    table = acceptance_rates(
        frame,
        by=by,
        period=period,
        basis=basis,
        denominator=denominator,
        latest_per_application=latest_per_application,
        as_of=as_of,
    )
    group_title = " · ".join(by_list).replace("_", " ") or "all offers"
    title = "Acceptance rate by " + (group_title if period is None else period)
    x_title = group_title.capitalize() if period is None else _PERIOD_TITLES[period]
    if table.height == 0 or table["n"].sum() == 0:
        return empty_figure(title=title, x_title=x_title, y_title=_RATE)
    palette = colours if colours is not None else group_colours(frame, by=by)
    groups = split_groups(table, by_list, colours=palette)
    figure = go.Figure()
    if period is None:
        # One row per group without a period: the bars follow the groups' order.
        names = [group.name for group in groups]
        table = pl.concat([group.rows for group in groups])
        figure.add_trace(
            go.Bar(
                x=names,
                y=table.select(pl.col("rate") * 100).to_series().to_list(),
                error_y={**_error_bars(table), "color": "#333333", "thickness": 1.5, "width": 8},
                marker={"color": OUTCOME_COLOURS["accepted"]},
                name="acceptance rate",
                customdata=[
                    _rate_hover(n, r)
                    for n, r in zip(names, table.iter_rows(named=True), strict=True)
                ],
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
        figure.update_xaxes(type="category", categoryorder="array", categoryarray=names)
        # Few groups would otherwise give very wide bars that read as a block of colour.
        figure.update_layout(bargap=0.6 if len(names) < 5 else 0.3)
    else:
        for group in groups:
            name, rows, colour = group.name, group.rows, group.colour
            figure.add_trace(
                go.Scatter(
                    x=rows["period"].to_list(),
                    y=rows.select(pl.col("rate") * 100).to_series().to_list(),
                    error_y={**_error_bars(rows), "color": colour, "thickness": 1},
                    mode="lines+markers",
                    line={"color": colour},
                    name=name,
                    customdata=[_rate_hover(name, r) for r in rows.iter_rows(named=True)],
                    hovertemplate="%{x|%Y-%m}<br>%{customdata}<extra></extra>",
                )
            )
    apply_layout(figure, title=title, x_title=x_title, y_title=_RATE)
    # Groups side by side within a period, so that their error bars do not hide each other.
    figure.update_layout(scattermode="group", scattergap=0.5)
    figure.update_yaxes(range=[0, 105], ticksuffix="%")
    return figure


def _add_status_panel(
    figure: go.Figure, panel: Group, *, col: int, rank: Mapping[str, int], seen: set[str]
) -> None:
    """Draw one panel: a bar per outcome present, stacked per status, and each status's total.

    ``seen`` holds the outcomes already in the legend; the panel adds its own.
    """
    group, rows = panel.name, panel.rows
    for outcome in sorted(set(rows["_outcome"].to_list()), key=lambda o: rank.get(o, len(rank))):
        part = rows.filter(pl.col("_outcome") == outcome)
        figure.add_trace(
            go.Bar(
                x=part["n"].to_list(),
                y=part["_status"].to_list(),
                orientation="h",
                marker={"color": OUTCOME_COLOURS.get(outcome, "#000000")},
                name=outcome,
                legendgroup=outcome,
                showlegend=outcome not in seen,
                customdata=[[100 * s] for s in part["share"].to_list()],
                hovertemplate=(
                    f"%{{y}} → {outcome}<br>%{{x}} offers"
                    f" (%{{customdata[0]:.1f}}%)<extra>{group}</extra>"
                ),
            ),
            row=1,
            col=col,
        )
        seen.add(outcome)
    # The total at the end of each bar keeps a status with one or two offers (often the
    # unknown ones) visible next to bars a thousand times longer.
    totals = rows.group_by("_status", maintain_order=True).agg(pl.col("n").sum())
    figure.add_trace(
        go.Scatter(
            x=totals["n"].to_list(),
            y=totals["_status"].to_list(),
            mode="text",
            text=[f" {n:,}" for n in totals["n"].to_list()],
            textposition="middle right",
            textfont={"size": 11, "color": "#444444"},
            name="total",
            showlegend=False,
            hoverinfo="skip",
        ),
        row=1,
        col=col,
    )


def status_figure(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    by: str | Sequence[str] | None = None,
    as_of: datetime | None = None,
) -> go.Figure:
    """Offers per raw status, coloured by the outcome it maps to, one panel per group.

    Statuses are listed by outcome (in the outcome order, accepted first) and then by name;
    statuses the mapping does not know are the "unknown" outcome and shown in black, so they are
    easy to spot and add to the mapping. Data come from
    :func:`offer_analytics.metrics.status_counts`.

    Parameters
    ----------
    frame
        The offers frame.
    by
        Column name(s) to split into panels; None for one panel.
    as_of
        The instant the counts describe (naive = UTC; None means now), as in
        :func:`offer_analytics.metrics.status_counts`.

    Returns
    -------
    plotly.graph_objects.Figure
        Per panel, one horizontal bar trace per outcome present, then a text trace of the
        total per status.

    Examples
    --------
    >>> from offer_analytics.charts._example import example_offers
    >>> offers = example_offers()  # acme's a accepted, b declined, c pending; sent 5-7 Jan 2026
    >>> [trace.name for trace in status_figure(offers).data]
    ['accepted', 'declined', 'pending', 'total']
    """
    by_list = group_keys(by)
    table = status_counts(frame, by=by, as_of=as_of)
    title = "Offers by status and outcome"
    if table.height == 0:
        return empty_figure(title=title, x_title="Offers", y_title="Status")
    table = table.with_columns(
        pl.col("outcome").cast(pl.String).alias("_outcome"),
        pl.Series("_status", [label(s) for s in table["status"].to_list()], pl.String),
    )
    rank = {outcome: i for i, outcome in enumerate(OUTCOME_ORDER)}
    pairs = sorted(
        set(table.select("_outcome", "_status").iter_rows()),
        key=lambda pair: (rank.get(pair[0], len(rank)), pair[1]),
    )
    # Top-down reading order: Plotly draws the first category at the bottom, so reverse.
    # A status may map to two outcomes (DENIED: draft or declined); list it once, stacked.
    categories = list(dict.fromkeys(status for _, status in pairs))[::-1]
    # Panels only: the outcome colours the bars, so the group colours are not needed.
    panels = split_groups(table, by_list, colours={})
    names = [panel.name for panel in panels]
    figure = make_subplots(
        rows=1, cols=len(panels), shared_yaxes=True, subplot_titles=names if by_list else None
    )
    seen: set[str] = set()
    for col, panel in enumerate(panels, start=1):
        _add_status_panel(figure, panel, col=col, rank=rank, seen=seen)
    apply_layout(
        figure,
        title=title,
        x_title="Offers",
        y_title="Status",
        height=max(360, 60 + 26 * len(categories)),
        legend_title="Outcome",
    )
    figure.update_layout(barmode="stack")
    # Leave room right of the longest bar for its total.
    longest: int = (
        table.group_by(*by_list, "_status").agg(pl.col("n").sum()).select(pl.col("n").max()).item()
    )
    figure.update_xaxes(range=[0, 1.15 * longest])
    figure.update_yaxes(type="category", categoryorder="array", categoryarray=categories)
    for col in range(2, len(panels) + 1):
        figure.update_xaxes(title_text="Offers", row=1, col=col)
    return figure
