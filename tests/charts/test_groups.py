"""A group looks the same in every chart: colour and dash come from the offers, not the chart."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import plotly.graph_objects as go
import polars as pl
import pytest

from offer_analytics import charts
from offer_analytics.charts._style import GROUP_COLOURS
from offer_analytics.decode import offers_to_frame
from offer_analytics.sandbox import generate_offers

AS_OF = datetime(2026, 10, 1, tzinfo=UTC)


def rgb(colour: str) -> tuple[int, int, int]:
    """The RGB of a ``#RRGGBB`` or ``rgba(r, g, b, a)`` colour, ignoring the opacity."""
    if colour.startswith("#"):
        return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))
    red, green, blue = (int(part) for part in re.findall(r"\d+", colour)[:3])
    return (red, green, blue)


def named_colours(figure: go.Figure) -> dict[str, tuple[int, int, int]]:
    """Legend name -> RGB of the trace that carries the name (line colour, else marker)."""
    found: dict[str, tuple[int, int, int]] = {}
    for trace in figure.data:
        if trace.showlegend is False or trace.name in found:
            continue
        colour = (trace.line.color if trace.type == "scatter" else None) or trace.marker.color
        found[trace.name] = rgb(colour)
    return found


def closed_offers(frame: pl.DataFrame, connector: str | None) -> int:
    rows = frame.filter(pl.col("connector").eq_missing(connector))
    return rows.filter(
        pl.col("sent_at").is_not_null()
        & pl.col("closed_at").is_not_null()
        & (pl.col("closed_at") >= pl.col("sent_at"))
        & ~pl.col("outcome").is_in(["draft", "superseded"])
    ).height


@pytest.fixture(scope="module")
def three() -> pl.DataFrame:
    """Three connectors; the first one ("acme") has no start dates at all."""
    frame = offers_to_frame(generate_offers(600, connectors=3, seed=3, end=AS_OF.date()))
    return frame.with_columns(
        pl.when(pl.col("connector") == "acme")
        .then(None)
        .otherwise("start_date")
        .alias("start_date")
    )


def test_a_group_without_starts_does_not_recolour_the_others(three: pl.DataFrame) -> None:
    survival = named_colours(charts.survival_figure(three, by="connector", as_of=AS_OF))
    starts = named_colours(charts.start_dates_figure(three, freq="month", by="connector"))
    leads = named_colours(charts.lead_times_figure(three, by="connector"))
    assert "acme" not in starts
    for name in ("globex", "initech"):
        assert starts[name] == survival[name] == leads[name]
    assert survival["globex"] == rgb(GROUP_COLOURS[1])


def test_a_given_colour_map_is_used_by_every_chart(three: pl.DataFrame) -> None:
    colours = {("acme",): "#111111", ("globex",): "#222222", "initech": "#333333"}
    figures = [
        charts.survival_figure(three, by="connector", as_of=AS_OF, colours=colours),
        charts.start_dates_figure(three, freq="weekday", by="connector", colours=colours),
        charts.lead_times_figure(three, by="connector", colours=colours),
        charts.acceptance_figure(three, by="connector", period="month", colours=colours),
    ]
    for figure in figures:
        for name, colour in named_colours(figure).items():
            assert colour == rgb({"acme": "#111111", "globex": "#222222"}.get(name, "#333333"))


def test_dashes_follow_the_colour_map_order(three: pl.DataFrame) -> None:
    only_late = three.filter(pl.col("connector") != "acme")
    palette = charts.group_colours(three, by="connector")
    figure = charts.incidence_figure(only_late, by="connector", as_of=AS_OF, colours=palette)
    dashes = {trace.name: trace.line.dash for trace in figure.data}
    assert dashes["globex: accepted"] == dashes["globex: declined"] == "dash"
    assert dashes["initech: accepted"] == "dot"


def test_missing_connector_and_the_text_missing_are_two_curves_the_missing_one_last(
    three: pl.DataFrame,
) -> None:
    frame = three.with_columns(
        pl.when(pl.col("connector") == "globex")
        .then(pl.lit("(missing)"))
        .when(pl.col("connector") == "initech")
        .then(None)
        .otherwise("connector")
        .alias("connector")
    )
    survival = charts.survival_figure(frame, by="connector", as_of=AS_OF)
    curves = [t.name for t in survival.data if t.showlegend is not False]
    assert curves == ["(missing)", "acme", "(no value)"]
    closed = {t.name: sum(t.y) for t in survival.data if t.type == "bar"}
    # Each histogram counts its own group's closes only: nothing merged.
    assert closed["(no value): closed"] == closed_offers(frame, None)
    assert closed["(missing): closed"] == closed_offers(frame, "(missing)")
    bars = charts.acceptance_figure(frame, by="connector")
    assert list(bars.data[0].x) == ["(missing)", "acme", "(no value)"]
    status = charts.status_figure(frame, by="connector")
    assert [a.text for a in status.layout.annotations] == ["(missing)", "acme", "(no value)"]


def test_histograms_of_several_groups_stand_side_by_side(three: pl.DataFrame) -> None:
    for figure in (
        charts.survival_figure(three, by="connector", as_of=AS_OF),
        charts.lead_times_figure(three, by="connector"),
    ):
        # Overlaid translucent bars of three similar shapes read as one mixed colour.
        assert figure.layout.barmode == "group"
        assert all(t.width is None for t in figure.data if t.type == "bar")
    alone = charts.survival_figure(three.filter(pl.col("connector") == "acme"), as_of=AS_OF)
    assert alone.layout.barmode == "overlay"
