"""One self-contained, offline HTML report of the offer metrics.

The file holds everything it needs (plotly.js once, inline; the figures' data; the styles), so it
can be mailed or archived and opened years later without network access. A Content-Security-Policy
in the page stops the browser from loading anything at all, which makes the promise checkable.
"""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import polars as pl

from offer_analytics import charts
from offer_analytics.metrics import acceptance_rates, time_to_close, upcoming_starts
from offer_analytics.metrics._frame import resolve_as_of
from offer_analytics.report._sections import Sections, as_float, count, section
from offer_analytics.report._template import (
    card,
    definitions_html,
    format_days,
    format_pct,
    page,
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
    # From enrichment: where offers come from (names of jobs, teams, offices and recruiters).
    "job",
    "department",
    "office",
    "recruiter",
)


def _first_row(table: pl.DataFrame) -> dict[str, object]:
    """The overall row of a metric without ``by``; an empty frame may give no row at all."""
    return table.row(0, named=True) if table.height else dict.fromkeys(table.columns, None)


def _n(value: object) -> str:
    # No-break spaces: a line break inside "n = 1,718" reads as two unrelated fragments.
    return f"n\u00a0=\u00a0{count(value)}"


def _headline(frame: pl.DataFrame, as_of: datetime) -> str:
    overall = _first_row(time_to_close(frame, as_of=as_of))
    rates = _first_row(acceptance_rates(frame, as_of=as_of))
    starts = upcoming_starts(frame, as_of=as_of)
    soon = starts.filter(pl.col("days_until") < 30).height
    superseded = frame.filter(pl.col("outcome") == "superseded").height
    connectors = frame["connector"].n_unique()
    median = as_float(overall["km_median_days"])
    rate = as_float(rates["rate"])
    rate_detail = (
        f"95% CI {format_pct(as_float(rates['rate_lower']))} to "
        f"{format_pct(as_float(rates['rate_upper']))}; "
        if rate is not None
        else ""
    )
    median_detail = (
        f"95% CI {format_days(as_float(overall['km_median_lower']))} to "
        f"{format_days(as_float(overall['km_median_upper']))} days; "
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
                    f"{rate_detail}{_n(rates['n'])} ({count(rates['accepted'])} accepted, "
                    f"{count(rates['declined'])} declined)",
                ),
                card(
                    "Median time to close",
                    "not reached" if median is None else f"{median:.1f} days",
                    f"Kaplan-Meier; {median_detail}{_n(overall['n'])} sent",
                ),
                card(
                    "Open offers", count(overall["n_open"]), "sent, not closed by the report time"
                ),
                card("Upcoming starts", f"{starts.height:,}", f"{soon:,} in the next 30 days"),
            )
        )
        + "</section>"
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
    build = Sections(frame=frame, as_of=as_of, by=by, palette=palette)
    sections = [
        build.time_to_close(),
        build.acceptance(),
        *filter(None, [build.where()]),
        build.start_dates(),
        build.data_quality(unparsed),
        section("Definitions", definitions_html()),
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
