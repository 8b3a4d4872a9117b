"""Charts of when new hires start: start dates by week, month or weekday, and lead times."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from offer_analytics.charts._shapes import bin_counts, nice_bin_size
from offer_analytics.charts._style import (
    GroupColours,
    apply_layout,
    empty_figure,
    group_colours,
    rgba,
    split_groups,
)
from offer_analytics.metrics import start_date_distribution, start_lead_times
from offer_analytics.metrics._frame import group_keys
from offer_analytics.metrics._starts import WEEKDAY_NAMES

__all__ = ["lead_times_figure", "start_dates_figure"]

_X_TITLES = {"week": "Week (starting Monday)", "month": "Month", "weekday": "Weekday"}
_HOVER_X = {"week": "week of %{x|%Y-%m-%d}", "month": "%{x|%B %Y}", "weekday": "%{x}"}


def start_dates_figure(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    freq: Literal["week", "month", "weekday"] = "week",
    by: str | Sequence[str] | None = None,
    colours: GroupColours | None = None,
) -> go.Figure:
    """Number of start dates per week, month or weekday, one bar series per group.

    Weekdays are always shown Monday to Sunday, including days with no starts. Data come from
    :func:`offer_analytics.metrics.start_date_distribution`, which decides which offers count.

    Parameters
    ----------
    frame
        The offers frame.
    freq
        "week" (bars at the Monday of each week), "month" or "weekday".
    by
        Column name(s) to group by; None for all offers.
    colours
        Group -> colour (see :func:`~offer_analytics.charts._style.group_colours`), so that a
        group looks the same in every chart; None derives it from the groups of ``frame``.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace per group.

    Examples
    --------
    >>> from offer_analytics.charts._example import example_offers
    >>> offers = example_offers()  # acme's a accepted, b declined, c pending; sent 5-7 Jan 2026
    >>> fig = start_dates_figure(offers, freq="weekday")
    >>> fig.data[0].x[0], fig.data[0].y[0]
    ('Monday', 1)
    """
    by_list = group_keys(by)
    table = start_date_distribution(frame, freq=freq, by=by)
    title = f"Start dates by {freq}"
    x_title, y_title = _X_TITLES[freq], "Starts (offers)"
    if table.height == 0 or table["n"].sum() == 0:
        return empty_figure(title=title, x_title=x_title, y_title=y_title)
    palette = colours if colours is not None else group_colours(frame, by=by)
    figure = go.Figure()
    for group in split_groups(table, by_list, colours=palette):
        name, rows = group.name, group.rows
        if freq == "weekday":
            # Every weekday appears, in ISO order, even when the metric has no row for it.
            counts = dict(
                zip(rows["weekday"].to_list(), rows.select("n", "share").rows(), strict=True)
            )
            x: list[object] = list(WEEKDAY_NAMES)
            values = [counts.get(day, (0, 0.0)) for day in range(1, 8)]
        else:
            x = rows["period"].to_list()
            values = rows.select("n", "share").rows()
        figure.add_trace(
            go.Bar(
                x=x,
                y=[n for n, _ in values],
                name=name,
                marker={"color": rgba(group.colour, 0.85)},
                customdata=[[100 * (share or 0.0)] for _, share in values],
                hovertemplate=(
                    f"{name}<br>{_HOVER_X[freq]}<br>%{{y}} starts"
                    " (%{customdata[0]:.1f}%)<extra></extra>"
                ),
            )
        )
    apply_layout(figure, title=title, x_title=x_title, y_title=y_title)
    figure.update_layout(barmode="group", bargap=0.15, showlegend=bool(by_list))
    if freq == "weekday":
        figure.update_xaxes(
            type="category", categoryorder="array", categoryarray=list(WEEKDAY_NAMES)
        )
    return figure


def lead_times_figure(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    by: str | Sequence[str] | None = None,
    colours: GroupColours | None = None,
) -> go.Figure:
    """Histograms of the days from acceptance, and from sending, to the start date.

    Negative lead times (a start on an earlier day than the acceptance or the sending) are data
    anomalies; they stay visible left of the dashed zero line and their number is given in the
    panel title.
    Data come from :func:`offer_analytics.metrics.start_lead_times`.

    Parameters
    ----------
    frame
        The offers frame.
    by
        Column name(s) to group by; None for all offers.
    colours
        Group -> colour (see :func:`~offer_analytics.charts._style.group_colours`), so that a
        group looks the same in every chart; None derives it from the groups of ``frame``.

    Returns
    -------
    plotly.graph_objects.Figure
        Two histogram traces per group (from acceptance, from sent), as bars of counts
        computed by Polars.

    Examples
    --------
    >>> from offer_analytics.charts._example import example_offers
    >>> offers = example_offers()  # acme's a accepted, b declined, c pending; sent 5-7 Jan 2026
    >>> fig = lead_times_figure(offers)
    >>> fig.data[0].customdata, fig.data[0].y
    (('25 to 26 days',), (1,))
    """
    by_list = group_keys(by)
    table = start_lead_times(frame, by=by)
    title = "Lead time to the start date"
    x_title, y_title = "Days until the start date", "Offers"
    columns = ("days_from_acceptance", "days_from_sent")
    if table.select(pl.any_horizontal(pl.col(c).is_not_null() for c in columns).sum()).item() == 0:
        return empty_figure(title=title, x_title=x_title, y_title=y_title)
    # The metric's rule: negative means a start on an earlier calendar day, i.e. at least one
    # day before (a start later on the day of acceptance is slightly below 0 but fine).
    negative = [table.select((pl.col(c) <= -1).sum()).item() for c in columns]
    figure = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.1,
        subplot_titles=(
            f"From acceptance (accepted offers; {negative[0]} negative)",
            f"From sending (all offers with a start date; {negative[1]} negative)",
        ),
    )
    # One bin grid per panel, shared by all groups, so that their bars line up bin by bin.
    grids: dict[str, tuple[float, float]] = {}
    for column in columns:
        low, high = table.select(
            pl.col(column).min().alias("low"), pl.col(column).max().alias("high")
        ).row(0)
        # Whole days at least: start dates are calendar days.
        size = nice_bin_size((high or 0.0) - (low or 0.0), bins=40, smallest=1.0)
        grids[column] = (size, math.floor((low or 0.0) / size) * size)
    palette = colours if colours is not None else group_colours(frame, by=by)
    for group in split_groups(table, by_list, colours=palette):
        name, rows, colour = group.name, group.rows, group.colour
        for col, column in enumerate(columns, start=1):
            size, start = grids[column]
            counts = bin_counts(rows[column], size=size, start=start)
            figure.add_trace(
                go.Bar(
                    x=counts.centres,
                    y=counts.counts,
                    # Groups side by side in each bin, as in the survival histogram.
                    width=None if by_list else size,
                    name=name,
                    legendgroup=name,
                    showlegend=col == 1 and bool(by_list),
                    marker={
                        "color": rgba(colour, 0.85 if by_list else 0.65),
                        "line": {"color": colour, "width": 0 if by_list else 1},
                    },
                    customdata=counts.labels(),
                    hovertemplate=f"{name}<br>%{{customdata}}<br>%{{y}} offers<extra></extra>",
                ),
                row=1,
                col=col,
            )
    apply_layout(figure, title=title, x_title=x_title, y_title=y_title)
    figure.update_layout(barmode="group" if by_list else "overlay", bargap=0.1)
    for col in (1, 2):
        figure.add_vline(x=0, line={"color": "#888888", "dash": "dash", "width": 1}, row=1, col=col)
    figure.update_xaxes(title_text=x_title, row=1, col=2)
    return figure
