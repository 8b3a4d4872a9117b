"""One self-contained, offline HTML report of the offer metrics.

The file holds everything it needs (plotly.js once, inline; the figures' data; the styles), so it
can be mailed or archived and opened years later without network access. A Content-Security-Policy
in the page stops the browser from loading anything at all, which makes the promise checkable.
"""

from __future__ import annotations

import html
import itertools
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import plotly.graph_objects as go
import polars as pl

from offer_analytics import charts
from offer_analytics.metrics import (
    acceptance_rates,
    quality_report,
    status_counts,
    time_to_close,
    upcoming_starts,
)
from offer_analytics.metrics._frame import resolve_as_of
from offer_analytics.report._template import (
    Column,
    card,
    chart_html,
    definitions_html,
    format_days,
    format_pct,
    page,
    table_html,
)

__all__ = ["html_report"]

# Only these columns of the offers frame reach the report: an allow-list, so that custom fields,
# raw data and expanded objects (personal data) can never leak, whatever columns a frame has.
_REPORT_COLUMNS = (
    "connector",
    "id",
    "remote_id",
    "status",
    "outcome",
    "sent_at",
    "closed_at",
    "remote_created_at",
    "modified_at",
    "start_date",
    "application",
    "creator",
)


def _first_row(table: pl.DataFrame) -> dict[str, object]:
    """The overall row of a metric without ``by``; an empty frame may give no row at all."""
    return table.row(0, named=True) if table.height else dict.fromkeys(table.columns, None)


def _count(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else "0"


def _n(value: object) -> str:
    # No-break spaces: a line break inside "n = 1,718" reads as two unrelated fragments.
    return f"n\u00a0=\u00a0{_count(value)}"


def _headline(frame: pl.DataFrame, as_of: datetime) -> str:
    overall = _first_row(time_to_close(frame, as_of=as_of))
    rates = _first_row(acceptance_rates(frame, as_of=as_of))
    starts = upcoming_starts(frame, as_of=as_of)
    soon = starts.filter(pl.col("days_until") < 30).height
    superseded = frame.filter(pl.col("outcome") == "superseded").height
    connectors = frame["connector"].n_unique()
    median = _float(overall["km_median_days"])
    rate = _float(rates["rate"])
    rate_detail = (
        f"95% CI {format_pct(_float(rates['rate_lower']))} to "
        f"{format_pct(_float(rates['rate_upper']))}; "
        if rate is not None
        else ""
    )
    median_detail = (
        f"95% CI {format_days(_float(overall['km_median_lower']))} to "
        f"{format_days(_float(overall['km_median_upper']))} days; "
        if median is not None
        else "fewer than half of the sent offers have closed; "
    )
    return (
        '<section class="cards">'
        + "".join(
            (
                card(
                    "Offers",
                    f"{frame.height:,}",
                    f"{connectors} connector{'s' * (connectors != 1)}, "
                    f"{superseded:,} superseded versions",
                ),
                card(
                    "Acceptance rate",
                    format_pct(rate),
                    f"{rate_detail}{_n(rates['n'])} ({_count(rates['accepted'])} accepted, "
                    f"{_count(rates['declined'])} declined)",
                ),
                card(
                    "Median time to close",
                    "not reached" if median is None else f"{median:.1f} days",
                    f"Kaplan-Meier; {median_detail}{_n(overall['n'])} sent",
                ),
                card(
                    "Open offers", _count(overall["n_open"]), "sent, not closed by the report time"
                ),
                card("Upcoming starts", f"{starts.height:,}", f"{soon:,} in the next 30 days"),
            )
        )
        + "</section>"
    )


_CLOSE_COLUMNS: Sequence[Column] = (
    ("Offers sent", "n", True),
    ("Closed", "n_closed", True),
    ("Open", "n_open", True),
    ("Invalid", "n_invalid", True),
    ("KM median (days)", lambda r: format_days(_float(r["km_median_days"])), True),
    (
        "95% CI (days)",
        lambda r: (
            f"{format_days(_float(r['km_median_lower']))} – "
            f"{format_days(_float(r['km_median_upper']))}"
        ),
        True,
    ),
    ("Closed only: median", lambda r: format_days(_float(r["closed_median_days"])), True),
    ("p25", lambda r: format_days(_float(r["closed_p25_days"])), True),
    ("p75", lambda r: format_days(_float(r["closed_p75_days"])), True),
    ("p90", lambda r: format_days(_float(r["closed_p90_days"])), True),
)

_RATE_COLUMNS: Sequence[Column] = (
    ("Accepted", "accepted", True),
    ("Declined", "declined", True),
    ("Pending", "pending", True),
    ("Rescinded", "rescinded", True),
    ("n (decided)", "n", True),
    ("Rate", lambda r: format_pct(_float(r["rate"])), True),
    (
        "95% Wilson interval",
        lambda r: f"{format_pct(_float(r['rate_lower']))} – {format_pct(_float(r['rate_upper']))}",
        True,
    ),
)

_STATUS_COLUMNS: Sequence[Column] = (
    ("Status", lambda r: "(missing)" if r["status"] is None else str(r["status"]), False),
    ("Outcome", "outcome", False),
    ("Offers", "n", True),
    ("Share", lambda r: format_pct(_float(r["share"])), True),
)


def _checked(row: Mapping[str, object]) -> str:
    # A null n is a check that could not run: "0" or a dash would read as "no problem".
    return "not checked" if row["n"] is None else _count(row["n"])


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


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _group_columns(by: list[str]) -> list[Column]:
    return [(name.capitalize(), name, False) for name in by]


def _section(title: str, *parts: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2>{''.join(parts)}</section>"


@dataclass
class _Sections:
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
        return _section(
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
        return _section(
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

    def start_dates(self) -> str:
        frame, by, palette = self.frame, self.by_opt, self.palette
        return _section(
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
        return _section(
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


def _body(
    frame: pl.DataFrame,
    *,
    title: str,
    as_of: datetime,
    unparsed: Mapping[str, Sequence[str]] | None,
) -> str:
    # Compare connectors only when there is more than one; a single group adds only noise.
    by = ["connector"] if frame["connector"].n_unique() > 1 else []
    # One colour per connector for the whole report, from all connectors: a chart that shows
    # only some of them (no starts yet, say) must not recolour the others.
    palette = charts.group_colours(frame, by=by or None)
    build = _Sections(frame=frame, as_of=as_of, by=by, palette=palette)
    sections = [
        build.time_to_close(),
        build.acceptance(),
        build.start_dates(),
        build.data_quality(unparsed),
        _section("Definitions", definitions_html()),
    ]
    header = (
        f"<header><h1>{html.escape(title)}</h1>"
        f'<div class="subtitle">Offers as of {html.escape(_stamp(as_of))}</div>'
        f"{_headline(frame, as_of)}</header>"
    )
    return header + "<main>" + "".join(sections) + "</main>"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def html_report(
    frame: pl.DataFrame | pl.LazyFrame,
    path: str | os.PathLike[str],
    *,
    as_of: datetime | None = None,
    title: str = "Offer analytics",
    unparsed_timestamps: Mapping[str, Sequence[str]] | None = None,
) -> Path:
    """Write one self-contained HTML report of ``frame`` to ``path`` and return its path.

    The report holds headline numbers (offers; acceptance rate with its Wilson interval and n;
    Kaplan-Meier median time to close with its interval; open offers; upcoming starts), the
    charts of :mod:`offer_analytics.charts`, compact tables, the definitions of the metrics, the
    data-quality checks, and in the footer the report time and the package version. It works
    offline: plotly.js is embedded once and nothing is fetched. The columns that may hold
    personal data (custom fields, raw data, expanded objects) are dropped before anything is
    computed, and every value from the data is HTML-escaped. The file is written to a temporary
    file next to ``path`` and renamed, so a reader never sees half a report.

    Parameters
    ----------
    frame
        The offers frame (DataFrame or LazyFrame).
    path
        Where to write the ``.html`` file; its directory must exist.
    as_of
        The report time: open offers are censored there and upcoming starts counted from it
        (naive = UTC); None means now.
    title
        The page title and heading.
    unparsed_timestamps
        Column -> ids of offers whose timestamp could not be parsed (from the loader's
        ``LoadReport.unparsed_timestamps``), for the data-quality section.

    Returns
    -------
    pathlib.Path
        The absolute path of the written file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from offer_analytics.schema import empty_offers_frame
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = html_report(empty_offers_frame(), pathlib.Path(tmp) / "r.html")
    ...     out.name, out.read_text(encoding="utf-8").count("* plotly.js v")
    ('r.html', 1)
    """
    from offer_analytics import __version__  # the package imports this module; import late

    moment = resolve_as_of(as_of)
    lazy = frame.lazy()
    present = set(lazy.collect_schema().names())
    data = lazy.select([name for name in _REPORT_COLUMNS if name in present]).collect()
    body = _body(data, title=title, as_of=moment, unparsed=unparsed_timestamps)
    footer = (
        f"Report time {html.escape(_stamp(moment))} · offer-analytics "
        f"{html.escape(__version__)} · generated offline; this file loads nothing from the network."
    )
    text = page(title=title, body=body, footer=footer)
    target = Path(path).absolute()
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        # mkstemp creates the file private (0600); a report is meant to be shared like any file.
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
