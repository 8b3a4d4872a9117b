"""The HTML around the report: page skeleton, style sheet, cards and tables, all escaped.

Everything here returns strings of finished HTML. Every value that comes from data (statuses,
connector labels, ids) passes through :func:`html.escape`, so a status such as
``<script>...</script>`` shows as text instead of running.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Final

import plotly.graph_objects as go
import plotly.offline
import polars as pl

__all__ = [
    "DEFINITIONS",
    "Column",
    "card",
    "chart_html",
    "definitions_html",
    "format_days",
    "format_pct",
    "page",
    "table_html",
]

# The page may load nothing from anywhere: the browser itself enforces the offline promise.
# Plotly draws its "download as PNG" image through data: and blob: URLs, hence img-src.
_CSP: Final = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:"
)

_STYLE: Final = """
:root { color-scheme: light; --ink: #222; --muted: #666; --line: #ddd; --accent: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial,
  sans-serif; color: var(--ink); background: #fafafa; }
header, main, footer { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 28px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 40px 0 12px; padding-bottom: 6px;
  border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 8px; }
.subtitle, .note, footer { color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 14px;
  margin: 22px 0 8px; }
.card { background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--accent);
  border-radius: 6px; padding: 12px 16px; }
.card .label { color: var(--muted); font-size: 13px; text-transform: uppercase;
  letter-spacing: .03em; }
.card .value { font-size: 26px; font-weight: 600; margin: 2px 0; }
.card .detail { color: var(--muted); font-size: 13px; }
figure.chart { background: #fff; border: 1px solid var(--line); border-radius: 6px; margin: 14px 0;
  padding: 6px; }
figure.chart figcaption { color: var(--muted); font-size: 13px; padding: 4px 10px 6px; }
.table-wrap { overflow-x: auto; margin: 10px 0 18px; }
table { border-collapse: collapse; background: #fff; font-size: 14px; min-width: 50%; }
th, td { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; }
th { background: #f0f0f0; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
/* Ids and raw values one per line, never broken at a hyphen: they are copied, not read. */
td.lines { white-space: pre; font-size: 12px;
  font-family: ui-monospace, Menlo, Consolas, monospace; }
/* A long token in a description (a parameter name) may break, rather than push the ids out. */
td { overflow-wrap: anywhere; }
tr.flag td { background: #fff4e5; }
dl.definitions dt { font-weight: 600; margin-top: 12px; }
dl.definitions dd { margin: 2px 0 0 0; }
footer { margin-top: 48px; padding-bottom: 32px; border-top: 1px solid var(--line);
  padding-top: 12px; font-size: 13px; }
code { font-size: 13px; }
"""


#: (term, definition) of every metric in the report, summarised from the metric docstrings.
DEFINITIONS: Final = (
    (
        "Time to close",
        "The days from sending an offer to its close, for offers sent by the report time (drafts "
        "and superseded versions left out). Any close counts, whatever the outcome. Offers still "
        "open at the report time are censored there instead of being dropped, so the "
        "Kaplan-Meier median (the first day by which at most half are still open, with a 95% "
        "log-log interval) is not biased towards quick closes; it stays empty ('not reached') "
        "until half have closed. The quantiles of closed offers only are given beside it for "
        "comparison and run low while many offers are open. An offer closed before it was sent "
        "is an anomaly: excluded and counted as invalid.",
    ),
    (
        "Cumulative incidence",
        "The share of sent offers accepted, or declined, within a number of days "
        "(Aalen-Johansen). Acceptance and decline compete: an offer that was declined can no "
        "longer be accepted, and closes that are neither (rescinded, unknown) are a third "
        "competing cause rather than censored. Unlike 1 - Kaplan-Meier, the curves never add "
        "up to more than the share of offers that closed.",
    ),
    (
        "Acceptance rate",
        "Accepted / (accepted + declined): the offers a candidate answered. Superseded versions "
        "never count and each application counts once, with its latest offer. n is the "
        "denominator; the 95% interval is the Wilson score interval, which stays within 0-100% "
        "and is asymmetric near the ends. By month, an offer counts in the month it was sent; "
        "months without offers are shown as zero rows, not skipped.",
    ),
    (
        "Status and outcome",
        "The status exactly as the source sent it, mapped to one outcome: accepted, declined, "
        "pending, draft, rescinded, superseded or unknown. A status the mapping does not know "
        "(or a missing one) is unknown and is listed, so that the mapping can be extended.",
    ),
    (
        "Start dates and lead time",
        "Start dates of accepted offers, per week (from Monday), month and weekday. Lead time "
        "is the days from acceptance (the close of an accepted offer), and from sending, to "
        "the start date taken as midnight UTC; a start on an earlier calendar day than the "
        "acceptance or the sending is negative and flagged. Upcoming starts are accepted "
        "offers whose start date is on or after the report date.",
    ),
    (
        "Where",
        "Shown for enriched offers. Each offer is resolved through its application to a job; "
        "department and office are the job's first, recruiter its first recruiter or else the "
        "offer's creator. The ten groups with the most offers are named, the rest pooled as "
        "'other', ranked by n; a group with fewer than 10 decided offers shows no rate.",
    ),
    (
        "Data quality",
        "One row per check, always present so that 0 visibly means passed: timestamps present "
        "but unparseable (per column), unknown and missing statuses, closed before sent, start "
        "before close, duplicate ids and missing applications, each with up to five example ids.",
    ),
)


def definitions_html() -> str:
    """Return the definitions of the report's metrics as an escaped description list.

    Examples
    --------
    >>> definitions_html().count("<dt>") == len(DEFINITIONS)
    True
    """
    items = "".join(
        f"<dt>{html.escape(term)}</dt><dd>{html.escape(text)}</dd>" for term, text in DEFINITIONS
    )
    return f'<dl class="definitions">{items}</dl>'


def page(*, title: str, body: str, footer: str) -> str:
    """Return the whole HTML document, with one inline copy of plotly.js in the head.

    ``title`` is escaped here; ``body`` and ``footer`` must already be HTML.

    Examples
    --------
    >>> text = page(title="<T>", body="<p>hi</p>", footer="v1")
    >>> "<title>&lt;T&gt;</title>" in text, text.count("<script")
    (True, 1)
    """
    plotly_js = plotly.offline.get_plotlyjs()
    # An inline script ends at the first "</script"; plotly.js has none, but check, not trust.
    if "</script" in plotly_js.lower():  # pragma: no cover - would need a broken plotly release
        raise RuntimeError("the bundled plotly.js cannot be inlined safely")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>{_STYLE}</style>\n"
        f'<script type="text/javascript">{plotly_js}</script>\n'
        "</head>\n<body>\n"
        f"{body}\n"
        f"<footer>{footer}</footer>\n"
        "</body>\n</html>\n"
    )


def chart_html(figure: go.Figure, *, chart_id: str, caption: str) -> str:
    """Return one figure as a ``<figure>`` element that uses the page's shared plotly.js.

    The div id is fixed so that the same data always give the same file.

    Examples
    --------
    >>> snippet = chart_html(go.Figure(), chart_id="c1", caption="A & B")
    >>> 'id="c1"' in snippet, "A &amp; B" in snippet, "<script src" in snippet
    (True, True, False)
    """
    div = figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=chart_id,
        # plotly.js 4 shows a "Share chart" button that uploads the figure to Plotly's cloud;
        # a report of recruiting data must not offer that, and the logo links out as well.
        config={"displaylogo": False, "responsive": True, "showSendToCloud": False},
    )
    return f'<figure class="chart">{div}<figcaption>{html.escape(caption)}</figcaption></figure>'


def card(label: str, value: str, detail: str = "") -> str:
    """Return one headline number as a small card (all three texts escaped).

    Examples
    --------
    >>> card("Offers", "1,200", "2 connectors")  # doctest: +ELLIPSIS
    '<div class="card"><div class="label">Offers</div><div class="value">1,200</div>...'
    """
    return (
        f'<div class="card"><div class="label">{html.escape(label)}</div>'
        f'<div class="value">{html.escape(value)}</div>'
        f'<div class="detail">{html.escape(detail)}</div></div>'
    )


def format_pct(value: float | None, *, digits: int = 1) -> str:
    """Format a share (0-1) as a percentage; None as an en dash.

    Examples
    --------
    >>> format_pct(0.8123), format_pct(None)
    ('81.2%', '–')
    """
    return "–" if value is None else f"{100 * value:.{digits}f}%"


def format_days(value: float | None) -> str:
    """Format a number of days with one decimal; None as an en dash.

    Examples
    --------
    >>> format_days(3.14159), format_days(None)
    ('3.1', '–')
    """
    return "–" if value is None else f"{value:.1f}"


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


_NUM: Final = ' class="num"'

#: A table column: (header, column name or a function of the row, right-aligned?).
Column = tuple[str, str | Callable[[Mapping[str, object]], str], bool]


def table_html(
    table: pl.DataFrame,
    columns: Sequence[Column],
    *,
    flag: Callable[[Mapping[str, object]], bool] | None = None,
    lines: Collection[str] = (),
) -> str:
    """Render a Polars frame as an HTML table; every header and cell is escaped.

    Parameters
    ----------
    table
        The rows to show.
    columns
        ``(header, source, numeric)`` per column: ``source`` is a column name (formatted by type)
        or a function of the row returning text; numeric columns are right-aligned.
    flag
        Rows for which it returns True are highlighted.
    lines
        Headers of columns shown one item per line (a list value, or text with line breaks),
        each line unbroken: for ids and raw values, which wrap badly at their hyphens.

    Examples
    --------
    >>> t = pl.DataFrame({"status": ["<b>"], "n": [1200]})
    >>> table_html(t, [("Status", "status", False), ("Offers", "n", True)])  # doctest: +ELLIPSIS
    '<div class="table-wrap"><table>...<td>&lt;b&gt;</td><td class="num">1,200</td>...'
    >>> ids = pl.DataFrame({"ids": [["a-1", "b-2"]]})
    >>> table_html(ids, [("Ids", "ids", False)], lines=["Ids"])  # doctest: +ELLIPSIS
    '...<td class="lines">a-1\\nb-2</td>...'
    """
    head = "".join(
        f"<th{_NUM if numeric else ''}>{html.escape(header)}</th>" for header, _, numeric in columns
    )
    body = []
    for row in table.iter_rows(named=True):
        cells = []
        for header, source, numeric in columns:
            value = row[source] if isinstance(source, str) else source(row)
            if header in lines and isinstance(value, list):
                text = "\n".join(_cell(item) for item in value)
            else:
                text = _cell(value) if isinstance(source, str) else str(value)
            css = _NUM if numeric else ' class="lines"' if header in lines else ""
            cells.append(f"<td{css}>{html.escape(text)}</td>")
        css = ' class="flag"' if flag is not None and flag(row) else ""
        body.append(f"<tr{css}>{''.join(cells)}</tr>")
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )
