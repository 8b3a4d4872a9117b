"""Charts of how long offers stay open: Kaplan-Meier curves and competing-outcome incidence."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from offer_analytics.charts._shapes import bin_counts, compact, nice_bin_size, steps, thin
from offer_analytics.charts._style import (
    OUTCOME_COLOURS,
    Group,
    GroupColours,
    apply_layout,
    empty_figure,
    group_colours,
    rgba,
    split_groups,
)
from offer_analytics.metrics import cumulative_incidence, survival_curve
from offer_analytics.metrics._frame import group_keys

__all__ = ["incidence_figure", "survival_figure"]

_SURVIVAL_TITLE = "Time to close: share of sent offers still open"
_INCIDENCE_TITLE = "Acceptance and decline over time (cumulative incidence)"
_DAYS = "Days since the offer was sent"


def _display_limit(table: pl.DataFrame, events: str | Sequence[str]) -> float:
    """Days by which 99% of all closes happened, plus a margin: the initially shown x range.

    A few offers that stay open for years would otherwise squeeze every curve against the
    y axis; the cut-off is only the initial zoom (double-click shows everything).
    """
    counts = table.select(pl.sum_horizontal(events).alias("e"), "time_days").filter(pl.col("e") > 0)
    if counts.height == 0:
        longest: float = table.select(pl.col("time_days").max().fill_null(0.0)).item()
        return max(1.0, longest)
    reached: float = (
        counts.sort("time_days")
        .filter(pl.col("e").cum_sum() >= 0.99 * pl.col("e").sum())
        .select(pl.col("time_days").first())
        .item()
    )
    return max(1.0, 1.1 * reached)


def _corner_data(columns: pl.DataFrame) -> list[tuple[object, ...]]:
    """Hover values per drawn corner: a riser's corners show the row the step leads to."""
    rows = columns.rows()
    return [rows[(i + 1) // 2] for i in range(2 * len(rows) - 1)] if rows else []


def _add_still_open(figure: go.Figure, group: Group, *, limit: float) -> None:
    """Draw one group's curve and its confidence band in the left panel."""
    name, colour = group.name, group.colour
    shown = compact(thin(group.rows, span=limit), percent=["survival", "lower", "upper"])
    band = shown.filter(pl.col("lower").is_not_null() & pl.col("upper").is_not_null())
    band_x, upper = steps(band["time_days"].to_list(), band["upper"].to_list())
    _, lower = steps(band["time_days"].to_list(), band["lower"].to_list())
    # One closed polygon (upper forwards, lower backwards) keeps band and curve independent.
    figure.add_trace(
        go.Scatter(
            x=band_x + band_x[::-1],
            y=upper + lower[::-1],
            fill="toself",
            fillcolor=rgba(colour, 0.18),
            line={"width": 0},
            hoverinfo="skip",
            name=f"{name}: 95% band",
            legendgroup=name,
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    xs, ys = steps(shown["time_days"].to_list(), shown["survival"].to_list())
    figure.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            line={"color": colour, "width": 2.2},
            name=name,
            legendgroup=name,
            customdata=_corner_data(
                shown.select(
                    pl.col("lower", "upper").fill_null(float("nan")),
                    "at_risk",
                    "events",
                    "censored",
                )
            ),
            hovertemplate=(
                f"{name}<br>day %{{x:.2f}}: %{{y:.1f}}% still open"
                "<br>95% CI %{customdata[0]:.1f}% to %{customdata[1]:.1f}%"
                "<br>at risk %{customdata[2]}, closed %{customdata[3]},"
                " censored %{customdata[4]}<extra></extra>"
            ),
        ),
        row=1,
        col=1,
    )


def _add_closed(figure: go.Figure, group: Group, *, bin_size: float, grouped: bool) -> None:
    """Draw the histogram of one group's closes in the right panel."""
    name, rows, colour = group.name, group.rows, group.colour
    closed = bin_counts(rows["time_days"], weights=rows["events"], size=bin_size, start=0.0)
    figure.add_trace(
        go.Bar(
            x=closed.centres,
            y=closed.counts,
            # Several groups stand side by side in each bin (Plotly sizes them): overlaid
            # translucent bars of similar shapes mixed into one colour no one could read.
            width=None if grouped else bin_size,
            marker={
                "color": rgba(colour, 0.85 if grouped else 0.65),
                "line": {"color": colour, "width": 0 if grouped else 1},
            },
            name=f"{name}: closed",
            legendgroup=name,
            showlegend=False,
            customdata=closed.labels(),
            hovertemplate=f"{name}<br>%{{customdata}}<br>%{{y}} offers closed<extra></extra>",
        ),
        row=1,
        col=2,
    )


def survival_figure(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    by: str | Sequence[str] | None = None,
    as_of: datetime | None = None,
    colours: GroupColours | None = None,
) -> go.Figure:
    """Kaplan-Meier curves of the share of offers still open, with 95% bands, per group.

    The left panel shows, for each group, the estimated share of sent offers not yet closed
    ``t`` days after sending, as a step curve with its shaded confidence band; offers still open
    at ``as_of`` count as censored, so the curve is not biased towards quick closes. The dotted
    line at 50% meets each curve at its median time to close. The right panel is the histogram of
    the durations of the offers that did close. Data come from
    :func:`offer_analytics.metrics.survival_curve`.

    Parameters
    ----------
    frame
        The offers frame.
    by
        Column name(s) to compare groups by (one curve per group), or None for all offers.
    as_of
        Censoring time for open offers (naive = UTC); None means now.
    colours
        Group -> colour (see :func:`~offer_analytics.charts._style.group_colours`), so that a
        group looks the same in every chart; None derives it from the groups of ``frame``.

    Returns
    -------
    plotly.graph_objects.Figure
        Per group: a band, a curve and a histogram (three traces).

    Examples
    --------
    >>> from datetime import datetime
    >>> from offer_analytics.charts._example import example_offers
    >>> offers = example_offers()  # acme's a accepted, b declined, c pending; sent 5-7 Jan 2026
    >>> fig = survival_figure(offers, as_of=datetime(2026, 2, 1))
    >>> [trace.type for trace in fig.data]
    ['scatter', 'scatter', 'bar']
    >>> survival_figure(offers.clear()).layout.annotations[0].text
    'No data'
    """
    by_list = group_keys(by)
    curve = survival_curve(frame, by=by, as_of=as_of)
    if curve.height == 0 or curve["at_risk"].max() in (None, 0):
        return empty_figure(title=_SURVIVAL_TITLE, x_title=_DAYS, y_title="Still open (%)")
    limit = _display_limit(curve, "events")
    figure = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.62, 0.38],
        horizontal_spacing=0.1,
        subplot_titles=("Still open (Kaplan-Meier, 95% band)", "Durations of closed offers"),
    )
    # Same bins for every group, so the bars of one bin compare like with like.
    bin_size = nice_bin_size(limit, bins=30)
    palette = colours if colours is not None else group_colours(frame, by=by)
    for group in split_groups(curve, by_list, colours=palette):
        _add_still_open(figure, group, limit=limit)
        _add_closed(figure, group, bin_size=bin_size, grouped=bool(by_list))
    figure.add_hline(y=50, line={"color": "#888888", "dash": "dot", "width": 1}, row=1, col=1)
    apply_layout(figure, title=_SURVIVAL_TITLE, x_title=_DAYS, y_title="Still open (%)")
    # One curve needs no legend; the panel titles say what it is.
    figure.update_layout(
        barmode="group" if by_list else "overlay", bargap=0.1, showlegend=bool(by_list)
    )
    figure.update_yaxes(range=[0, 102], ticksuffix="%", row=1, col=1)
    figure.update_xaxes(range=[0, limit])
    figure.update_xaxes(title_text="Days from sent to close", row=1, col=2)
    figure.update_yaxes(title_text="Closed offers", row=1, col=2)
    return figure


def incidence_figure(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    by: str | Sequence[str] | None = None,
    as_of: datetime | None = None,
    colours: GroupColours | None = None,
) -> go.Figure:
    """Cumulative incidence of acceptance and of decline, as competing outcomes, per group.

    Each curve is the Aalen-Johansen estimate of the share of sent offers accepted (or declined)
    within ``t`` days; open offers are censored at ``as_of``. Unlike ``1 - Kaplan-Meier`` the two
    curves never add up to more than the share of offers that closed. Colour shows the outcome,
    dash the group. Data come from :func:`offer_analytics.metrics.cumulative_incidence`.

    Parameters
    ----------
    frame
        The offers frame.
    by
        Column name(s) to compare groups by, or None for all offers.
    as_of
        Censoring time for open offers (naive = UTC); None means now.
    colours
        Group -> colour as for :func:`survival_figure`; here only the order of the map is used:
        it gives each group its line dash, the same in every chart. None derives it from
        ``frame``.

    Returns
    -------
    plotly.graph_objects.Figure
        Two step curves (accepted, declined) per group.

    Examples
    --------
    >>> from datetime import datetime
    >>> from offer_analytics.charts._example import example_offers
    >>> offers = example_offers()  # acme's a accepted, b declined, c pending; sent 5-7 Jan 2026
    >>> fig = incidence_figure(offers, as_of=datetime(2026, 2, 1))
    >>> [trace.name for trace in fig.data]
    ['accepted', 'declined']
    """
    by_list = group_keys(by)
    table = cumulative_incidence(frame, by=by, as_of=as_of)
    y_title = "Share of sent offers (%)"
    if table.height == 0 or table["at_risk"].max() in (None, 0):
        return empty_figure(title=_INCIDENCE_TITLE, x_title=_DAYS, y_title=y_title)
    limit = _display_limit(table, ("accepted", "declined"))
    figure = go.Figure()
    palette = colours if colours is not None else group_colours(frame, by=by)
    for group in split_groups(table, by_list, colours=palette):
        name, rows, dash = group.name, group.rows, group.dash
        shown = compact(thin(rows, span=limit), percent=["cif_accepted", "cif_declined"])
        for outcome in ("accepted", "declined"):
            xs, ys = steps(shown["time_days"].to_list(), shown[f"cif_{outcome}"].to_list())
            trace_name = outcome if not by_list else f"{name}: {outcome}"
            figure.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines",
                    line={"color": OUTCOME_COLOURS[outcome], "dash": dash, "width": 2.2},
                    name=trace_name,
                    legendgroup=name,
                    customdata=_corner_data(shown.select("at_risk")),
                    hovertemplate=(
                        f"{name}<br>day %{{x:.2f}}: %{{y:.1f}}% {outcome}"
                        "<br>at risk %{customdata[0]}<extra></extra>"
                    ),
                )
            )
    apply_layout(figure, title=_INCIDENCE_TITLE, x_title=_DAYS, y_title=y_title)
    figure.update_yaxes(rangemode="tozero", ticksuffix="%")
    figure.update_xaxes(range=[0, limit])
    return figure
