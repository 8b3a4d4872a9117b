"""The sections of the HTML report: each metric's charts and tables, in reading order."""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import plotly.graph_objects as go
import polars as pl

from offer_analytics import charts
from offer_analytics.metrics import acceptance_rates, quality_report, status_counts, time_to_close
from offer_analytics.report._template import (
    Column,
    chart_html,
    format_days,
    format_pct,
    table_html,
)
from offer_analytics.report._where import where_parts

__all__ = ["Sections", "as_float", "count", "section"]


def count(value: object) -> str:
    """A count with thousands separators; a missing one is 0."""
    return f"{value:,}" if isinstance(value, int) else "0"


_CLOSE_COLUMNS: Sequence[Column] = (
    ("Offers sent", "n", True),
    ("Closed", "n_closed", True),
    ("Open", "n_open", True),
    ("Invalid", "n_invalid", True),
    ("KM median (days)", lambda r: format_days(as_float(r["km_median_days"])), True),
    (
        "95% CI (days)",
        lambda r: (
            f"{format_days(as_float(r['km_median_lower']))} – "
            f"{format_days(as_float(r['km_median_upper']))}"
        ),
        True,
    ),
    ("Closed only: median", lambda r: format_days(as_float(r["closed_median_days"])), True),
    ("p25", lambda r: format_days(as_float(r["closed_p25_days"])), True),
    ("p75", lambda r: format_days(as_float(r["closed_p75_days"])), True),
    ("p90", lambda r: format_days(as_float(r["closed_p90_days"])), True),
)

_RATE_COLUMNS: Sequence[Column] = (
    ("Accepted", "accepted", True),
    ("Declined", "declined", True),
    ("Pending", "pending", True),
    ("Rescinded", "rescinded", True),
    ("n (decided)", "n", True),
    ("Rate", lambda r: format_pct(as_float(r["rate"])), True),
    (
        "95% Wilson interval",
        lambda r: (
            f"{format_pct(as_float(r['rate_lower']))} – {format_pct(as_float(r['rate_upper']))}"
        ),
        True,
    ),
)

_STATUS_COLUMNS: Sequence[Column] = (
    ("Status", lambda r: "(missing)" if r["status"] is None else str(r["status"]), False),
    ("Outcome", "outcome", False),
    ("Offers", "n", True),
    ("Share", lambda r: format_pct(as_float(r["share"])), True),
)


def _checked(row: Mapping[str, object]) -> str:
    # A null n is a check that could not run: "0" or a dash would read as "no problem".
    return "not checked" if row["n"] is None else count(row["n"])


def _values(row: Mapping[str, object]) -> str:
    """The raw values behind a finding (the unknown statuses), each with its number of offers."""
    found = row.get("example_values") or []
    assert isinstance(found, list)
    return "\n".join(f"{item['value']} ({item['n']:,})" for item in found)


_QUALITY_COLUMNS: Sequence[Column] = (
    ("Check", "check", False),
    ("What it means", "description", False),
    ("Offers", _checked, True),
    ("Values found (offers)", _values, False),
    ("Example ids", "example_ids", False),
)


def as_float(value: object) -> float | None:
    """A metric's number as a float; anything else (a null) is None."""
    return float(value) if isinstance(value, int | float) else None


def _group_columns(by: list[str]) -> list[Column]:
    return [(name.capitalize(), name, False) for name in by]


def section(title: str, *parts: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2>{''.join(parts)}</section>"


@dataclass
class Sections:
    """Builds the report's sections; figures are numbered in the order they are made."""

    frame: pl.DataFrame
    as_of: datetime
    by: list[str]
    palette: charts.GroupColours
    figures: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def by_opt(self) -> list[str] | None:
        return self.by or None

    def chart(self, figure: go.Figure, caption: str) -> str:
        return chart_html(figure, chart_id=f"chart-{next(self.figures)}", caption=caption)

    def time_to_close(self) -> str:
        frame, by, as_of, palette = self.frame, self.by_opt, self.as_of, self.palette
        return section(
            "Time to close",
            self.chart(
                charts.survival_figure(frame, by=by, as_of=as_of, colours=palette),
                "Left: share of sent offers still open after t days (open offers censored at "
                "the report time). Right: durations of the offers that closed. The x axis first "
                "shows the range of 99% of closes; double-click a chart to see all.",
            ),
            table_html(
                time_to_close(frame, by=by, as_of=as_of),
                [*_group_columns(self.by), *_CLOSE_COLUMNS],
            ),
            self.chart(
                charts.incidence_figure(frame, by=by, as_of=as_of, colours=palette),
                "Share of sent offers accepted or declined within t days.",
            ),
        )

    def acceptance(self) -> str:
        frame, by, as_of = self.frame, self.by_opt, self.as_of
        per_group = (
            [
                self.chart(
                    charts.acceptance_figure(frame, by=by, as_of=as_of),
                    "Acceptance rate per connector; whiskers are 95% Wilson intervals, "
                    "hover for n.",
                )
            ]
            if self.by
            else []
        )
        return section(
            "Acceptance",
            *per_group,
            table_html(
                acceptance_rates(frame, by=by, as_of=as_of),
                [*_group_columns(self.by), *_RATE_COLUMNS],
            ),
            self.chart(
                charts.acceptance_figure(frame, period="month", as_of=as_of),
                "Acceptance rate of the offers sent in each month (all connectors); whiskers "
                "are 95% Wilson intervals, hover for n.",
            ),
            self.chart(
                charts.status_figure(frame, by=by, as_of=as_of),
                "Offers per raw status, coloured by the outcome it maps to.",
            ),
            table_html(
                # Overall counts only: per connector, the table grows long; the chart has them.
                status_counts(frame, as_of=as_of).sort(
                    "outcome", pl.col("n"), descending=[False, True], maintain_order=True
                ),
                _STATUS_COLUMNS,
                flag=lambda r: r["outcome"] == "unknown",
            ),
        )

    def where(self) -> str | None:
        """Acceptance and time to close by department and recruiter; None if not enriched."""
        parts = where_parts(self.frame, as_of=self.as_of, chart=self.chart)
        if not parts:
            return None
        note = (
            '<p class="note">Where offers come from: job, department, office and recruiter '
            "resolved through each offer's application (load_offers(enrich=True)). Offers "
            "that could not be resolved are the group '(missing)'.</p>"
        )
        return section("Where", note, *parts)

    def start_dates(self) -> str:
        frame, by, palette = self.frame, self.by_opt, self.palette
        return section(
            "Start dates",
            self.chart(
                charts.start_dates_figure(frame, freq="month", by=by, colours=palette),
                "Starts per month.",
            ),
            self.chart(
                charts.start_dates_figure(frame, freq="weekday", by=by, colours=palette),
                "Starts per weekday.",
            ),
            self.chart(
                charts.lead_times_figure(frame, by=by, colours=palette),
                "Days from acceptance, and from sending, to the start date.",
            ),
        )

    def data_quality(self, unparsed: Mapping[str, Sequence[str]] | None) -> str:
        quality = quality_report(self.frame, unparsed_timestamps=unparsed)
        issues = int(quality["n"].sum())
        unchecked = quality.filter(pl.col("n").is_null()).height
        not_run = (
            f" {unchecked} checks were not run: unparseable timestamps are only known to "
            "the loader (pass its LoadReport.unparsed_timestamps as unparsed_timestamps)."
            if unchecked
            else ""
        )
        return section(
            "Data quality",
            f'<p class="note">{issues:,} findings in total; '
            f"rows with findings are highlighted.{not_run}</p>",
            table_html(
                quality,
                _QUALITY_COLUMNS,
                flag=lambda r: bool(r["n"]),
                lines=("Check", "Values found (offers)", "Example ids"),
            ),
        )
