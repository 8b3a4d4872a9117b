"""Charts draw exactly what the metrics computed, titled, labelled with units, in a fixed order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import plotly.graph_objects as go
import polars as pl
import pytest

from offer_analytics import charts
from offer_analytics.charts import incidence_figure, survival_figure
from offer_analytics.charts._style import (
    OUTCOME_COLOURS,
    OUTCOME_ORDER,
)
from offer_analytics.metrics import (
    acceptance_rates,
    cumulative_incidence,
    start_date_distribution,
    start_lead_times,
    status_counts,
    survival_curve,
)

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
_T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)

# (connector, status, outcome, days sent->closed or None, start date or None, month offset)
_ROWS = [
    ("acme", "SIGNED", "accepted", 2.0, date(2026, 2, 2), 0),
    ("acme", "SIGNED", "accepted", 5.0, date(2026, 2, 9), 0),
    ("acme", "DENIED", "declined", 3.0, None, 0),
    ("acme", "SENT", "pending", None, None, 1),
    ("acme", "SIGNED", "accepted", 1.0, date(2026, 2, 18), 1),
    ("acme", "EXTENDED", "unknown", None, None, 1),
    ("acme", "DEPRECATED", "superseded", None, None, 0),
    ("globex", "SIGNED", "accepted", 4.0, date(2026, 3, 2), 0),
    ("globex", "DECLINED", "declined", 6.0, None, 0),
    ("globex", "DENIED", "declined", 2.0, None, 1),
    ("globex", "OPENED", "pending", None, None, 1),
    ("globex", "SIGNED", "accepted", 8.0, date(2026, 1, 10), 1),  # starts before it closed
    ("globex", "DRAFT", "draft", None, None, 1),
]


def build_offers(rows: list[tuple[str, str, str, float | None, date | None, int]]) -> pl.DataFrame:
    """Offers sent ``month`` months after 2026-01-05 (drafts unsent), closing after ``days``."""
    records = []
    for i, (connector, status, outcome, days, start, month) in enumerate(rows):
        sent = None if outcome == "draft" else _T0 + timedelta(days=31 * month)
        closed = None if days is None or sent is None else sent + timedelta(days=days)
        records.append(
            {
                "connector": connector,
                "id": f"offer-{i:02d}",
                "remote_id": str(100 + i),
                "status": status,
                "outcome": outcome,
                "sent_at": sent,
                "closed_at": closed,
                "remote_created_at": _T0 - timedelta(days=1),
                "modified_at": closed or sent or _T0,
                "start_date": start,
                "application": f"app-{i:02d}",
                "creator": "creator-1",
            }
        )
    stamp = pl.Datetime("us", "UTC")
    schema = pl.Schema(
        {
            "connector": pl.String(),
            "id": pl.String(),
            "remote_id": pl.String(),
            "status": pl.String(),
            "outcome": pl.Enum(OUTCOME_ORDER),
            "sent_at": stamp,
            "closed_at": stamp,
            "remote_created_at": stamp,
            "modified_at": stamp,
            "start_date": pl.Date(),
            "application": pl.String(),
            "creator": pl.String(),
        }
    )
    return pl.DataFrame(records, schema=schema)


@pytest.fixture
def offers() -> pl.DataFrame:
    """Two connectors, every common outcome, an unknown status, one start before close."""
    return build_offers(_ROWS)


@pytest.fixture
def no_offers() -> pl.DataFrame:
    return build_offers([])


def _corners(values: list[float]) -> list[float]:
    """The value at each step of a drawn step line (every other point after the first)."""
    return values[::2]


def test_survival_figure_is_titled_with_units(offers: pl.DataFrame) -> None:
    fig = survival_figure(offers, as_of=AS_OF)
    assert fig.layout.title.text
    assert fig.layout.xaxis.title.text == "Days since the offer was sent"
    assert fig.layout.yaxis.title.text == "Still open (%)"
    assert fig.layout.xaxis2.title.text == "Days from sent to close"
    assert fig.layout.yaxis2.title.text == "Closed offers"


def test_survival_figure_has_band_curve_and_histogram_per_sorted_group(
    offers: pl.DataFrame,
) -> None:
    fig = survival_figure(offers.lazy(), by="connector", as_of=AS_OF)
    assert [t.type for t in fig.data] == ["scatter", "scatter", "bar"] * 2
    assert [t.name for t in fig.data if t.showlegend is not False] == ["acme", "globex"]


def test_survival_curve_and_band_are_the_metric_values(offers: pl.DataFrame) -> None:
    table = survival_curve(offers, by="connector", as_of=AS_OF).filter(
        pl.col("connector") == "globex"
    )
    fig = survival_figure(offers, by="connector", as_of=AS_OF)
    band, curve, histogram = fig.data[3:6]
    assert _corners(list(curve.y)) == pytest.approx([100 * s for s in table["survival"]])
    assert _corners(list(curve.x)) == pytest.approx(table["time_days"].to_list())
    assert band.fill == "toself"
    assert max(band.y) == pytest.approx(100 * table.select(pl.col("upper").max()).item())
    assert min(band.y) == pytest.approx(100 * table.select(pl.col("lower").min()).item())
    # The histogram sums the closes at each duration: all closed globex offers.
    assert sum(histogram.y) == table["events"].sum()
    assert "at risk %{customdata[2]}" in curve.hovertemplate
    first = table.row(0, named=True)
    assert list(curve.customdata[0]) == pytest.approx(
        [100 * first["lower"], 100 * first["upper"], first["at_risk"], 0, 0]
    )


def test_survival_figure_without_closes_still_draws_the_flat_curve(
    offers: pl.DataFrame,
) -> None:
    still_open = offers.with_columns(pl.lit(None, pl.Datetime("us", "UTC")).alias("closed_at"))
    fig = survival_figure(still_open, as_of=AS_OF)
    assert set(fig.data[1].y) == {100.0}


def test_survival_figure_of_nothing_says_no_data(no_offers: pl.DataFrame) -> None:
    fig = survival_figure(no_offers, as_of=AS_OF)
    assert isinstance(fig, go.Figure)
    assert [a.text for a in fig.layout.annotations] == ["No data"]
    assert fig.layout.xaxis.title.text == "Days since the offer was sent"


def test_incidence_figure_draws_both_outcomes_per_group_in_outcome_colours(
    offers: pl.DataFrame,
) -> None:
    table = cumulative_incidence(offers, by="connector", as_of=AS_OF)
    fig = incidence_figure(offers, by="connector", as_of=AS_OF)
    assert [t.name for t in fig.data] == [
        "acme: accepted",
        "acme: declined",
        "globex: accepted",
        "globex: declined",
    ]
    assert [t.line.color for t in fig.data[:2]] == [
        OUTCOME_COLOURS["accepted"],
        OUTCOME_COLOURS["declined"],
    ]
    acme = table.filter(pl.col("connector") == "acme")
    assert _corners(list(fig.data[0].y)) == pytest.approx([100 * v for v in acme["cif_accepted"]])
    assert _corners(list(fig.data[1].y)) == pytest.approx([100 * v for v in acme["cif_declined"]])
    assert fig.layout.yaxis.title.text == "Share of sent offers (%)"
    assert fig.layout.xaxis.title.text == "Days since the offer was sent"


def test_incidence_figure_of_nothing_says_no_data(no_offers: pl.DataFrame) -> None:
    fig = incidence_figure(no_offers)
    assert [a.text for a in fig.layout.annotations] == ["No data"]


def test_acceptance_error_bars_are_the_wilson_bounds_and_hover_shows_n(
    offers: pl.DataFrame,
) -> None:
    table = acceptance_rates(offers, by="connector")
    fig = charts.acceptance_figure(offers, by="connector")
    (bars,) = fig.data
    assert list(bars.x) == ["acme", "globex"]
    rate = [100 * r for r in table["rate"]]
    assert list(bars.y) == pytest.approx(rate)
    assert bars.error_y.symmetric is False
    tops = [r + e for r, e in zip(rate, bars.error_y.array, strict=True)]
    bottoms = [r - e for r, e in zip(rate, bars.error_y.arrayminus, strict=True)]
    assert tops == pytest.approx([100 * u for u in table["rate_upper"]])
    assert bottoms == pytest.approx([100 * lo for lo in table["rate_lower"]])
    assert "n = 4" in bars.customdata[0]
    assert fig.layout.yaxis.title.text == "Acceptance rate (%)"
    assert fig.layout.xaxis.title.text == "Connector"
    assert list(fig.layout.xaxis.categoryarray) == ["acme", "globex"]


def test_acceptance_by_period_is_one_line_per_group_with_bounds(offers: pl.DataFrame) -> None:
    table = acceptance_rates(offers, by="connector", period="month")
    fig = charts.acceptance_figure(offers, by="connector", period="month")
    assert [t.name for t in fig.data] == ["acme", "globex"]
    acme = table.filter(pl.col("connector") == "acme")
    line = fig.data[0]
    assert list(line.x) == acme["period"].to_list()
    tops = [100 * r + e for r, e in zip(acme["rate"], line.error_y.array, strict=True)]
    assert tops == pytest.approx([100 * u for u in acme["rate_upper"]])
    assert fig.layout.xaxis.title.text == "Month sent"
    assert all("n = " in text for text in line.customdata)


def test_acceptance_of_nothing_says_no_data(no_offers: pl.DataFrame) -> None:
    fig = charts.acceptance_figure(no_offers, period="quarter")
    assert [a.text for a in fig.layout.annotations] == ["No data"]
    assert fig.layout.yaxis.title.text == "Acceptance rate (%)"


def test_status_figure_orders_outcomes_and_keeps_unknown_visible(offers: pl.DataFrame) -> None:
    fig = charts.status_figure(offers)
    bars = [t for t in fig.data if t.type == "bar"]
    legend = [t.name for t in bars if t.showlegend]
    assert legend == [o for o in OUTCOME_ORDER if o in legend]
    assert "unknown" in legend
    assert {t.name: t.marker.color for t in bars} == {
        name: OUTCOME_COLOURS[name] for name in legend
    }
    # Read top-down: accepted statuses first, the unknown one last (Plotly lists bottom-up).
    top_down = list(fig.layout.yaxis.categoryarray)[::-1]
    assert top_down[0] == "SIGNED"
    assert top_down[-1] == "EXTENDED"
    assert fig.layout.xaxis.title.text == "Offers"


def test_status_figure_has_one_panel_per_group(offers: pl.DataFrame) -> None:
    fig = charts.status_figure(offers, by="connector")
    assert [a.text for a in fig.layout.annotations] == ["acme", "globex"]
    assert {t.xaxis for t in fig.data} == {"x", "x2"}


def test_status_figure_shows_markup_as_text(offers: pl.DataFrame) -> None:
    evil = offers.with_columns(pl.lit("<script>alert(1)</script>").alias("status"))
    fig = charts.status_figure(evil)
    assert list(fig.layout.yaxis.categoryarray) == ["&lt;script&gt;alert(1)&lt;/script&gt;"]


def test_weekday_starts_run_monday_to_sunday(offers: pl.DataFrame) -> None:
    fig = charts.start_dates_figure(offers, freq="weekday")
    (bars,) = fig.data
    week = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    assert list(bars.x) == week
    assert list(fig.layout.xaxis.categoryarray) == week
    expected = start_date_distribution(offers, freq="weekday")["n"].to_list()
    assert list(bars.y) == expected
    assert fig.layout.yaxis.title.text == "Starts (offers)"
    assert fig.layout.xaxis.title.text == "Weekday"


@pytest.mark.parametrize(
    ("freq", "x_title"), [("week", "Week (starting Monday)"), ("month", "Month")]
)
def test_starts_by_period_one_series_per_group(
    offers: pl.DataFrame, freq: str, x_title: str
) -> None:
    fig = charts.start_dates_figure(offers, freq=freq, by="connector")  # type: ignore[arg-type]
    assert [t.name for t in fig.data] == ["acme", "globex"]
    table = start_date_distribution(offers, freq=freq, by="connector")  # type: ignore[arg-type]
    assert sum(sum(t.y) for t in fig.data) == table["n"].sum()
    assert fig.layout.xaxis.title.text == x_title
    assert "starts" in fig.data[0].hovertemplate


def test_lead_times_two_histograms_per_group_and_negatives_counted(
    offers: pl.DataFrame,
) -> None:
    fig = charts.lead_times_figure(offers, by="connector")
    assert [(t.name, t.xaxis) for t in fig.data] == [
        ("acme", "x"),
        ("acme", "x2"),
        ("globex", "x"),
        ("globex", "x2"),
    ]
    table = start_lead_times(offers, by="connector")
    globex = table.filter(pl.col("connector") == "globex")["days_from_acceptance"].to_list()
    bars = fig.data[2]
    assert sum(bars.y) == len(globex)
    # Each bar's hover names its bin, "a to b days"; bars of several groups share the bins.
    bins = [
        tuple(float(v) for v in text.split(" days")[0].split(" to ")) for text in bars.customdata
    ]
    for value in globex:  # every lead time is counted in the bar whose bin holds it
        assert any(
            count and low <= value < high and low < x < high
            for x, count, (low, high) in zip(bars.x, bars.y, bins, strict=True)
        )
    titles = [a.text for a in fig.layout.annotations]
    assert titles[0].endswith("1 negative)")
    assert fig.layout.xaxis.title.text == "Days until the start date"


@pytest.mark.parametrize(
    "draw",
    [
        lambda f: charts.start_dates_figure(f, freq="week"),
        lambda f: charts.start_dates_figure(f, freq="weekday"),
        charts.lead_times_figure,
        charts.status_figure,
    ],
)
def test_start_and_status_charts_of_nothing_say_no_data(
    no_offers: pl.DataFrame, draw: Callable[[pl.DataFrame], go.Figure]
) -> None:
    fig = draw(no_offers)
    assert [a.text for a in fig.layout.annotations] == ["No data"]
    assert fig.layout.title.text


_EVERY_CHART: list[Callable[[pl.LazyFrame], go.Figure]] = [
    lambda f: charts.survival_figure(f, by="connector", as_of=AS_OF),
    lambda f: charts.incidence_figure(f, by="connector", as_of=AS_OF),
    lambda f: charts.acceptance_figure(f, by="connector"),
    lambda f: charts.acceptance_figure(f, period="quarter", basis="activity"),
    lambda f: charts.status_figure(f, by="connector"),
    lambda f: charts.start_dates_figure(f, freq="month"),
    lambda f: charts.lead_times_figure(f),
]


@pytest.mark.parametrize("draw", _EVERY_CHART)
def test_every_chart_takes_a_lazyframe_and_is_fully_labelled(
    offers: pl.DataFrame, draw: Callable[[pl.LazyFrame], go.Figure]
) -> None:
    fig = draw(offers.lazy())
    assert isinstance(fig, go.Figure)
    assert fig.layout.title.text
    assert fig.layout.xaxis.title.text
    assert fig.layout.yaxis.title.text
    # The value axis (y, or x for the horizontal status bars) names its unit or what it counts.
    titles = f"{fig.layout.xaxis.title.text} {fig.layout.yaxis.title.text}"
    assert any(unit in titles for unit in ("(%)", "offers", "Offers"))
    assert fig.layout.template.layout.plot_bgcolor in (None, "white")


def test_acceptance_and_status_charts_describe_their_as_of(offers: pl.DataFrame) -> None:
    # Before the second month's offers were sent: they are not counted yet.
    early = _T0 + timedelta(days=20)
    rates = acceptance_rates(offers, as_of=early)
    bars = charts.acceptance_figure(offers, as_of=early).data[0]
    assert f"n = {rates['n'].item()}:" in bars.customdata[0]
    status = charts.status_figure(offers, as_of=early)
    totals = next(t for t in status.data if t.name == "total")
    assert sum(totals.x) == status_counts(offers, as_of=early)["n"].sum() < offers.height
