"""The headline numbers, per connector and overall: what a recruiting lead asks first.

Offers; acceptance rate with its Wilson 95% interval and n; Kaplan-Meier median time to close
with its 95% interval; open offers; upcoming starts. The same definitions as the HTML report's
cards, computed with the public metrics.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import polars as pl
from rich.table import Table

import offer_analytics as oa

__all__ = ["OVERALL", "headline", "headline_table"]

#: The label of the row over every connector.
OVERALL: Final = "all connectors"


def headline(frame: pl.DataFrame, *, as_of: datetime) -> list[dict[str, Any]]:
    """One row per connector, then the overall row.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> from offer_analytics.sandbox import SandboxServer
    >>> with SandboxServer(n_offers=400, connectors=2, seed=1) as server:
    ...     frame, _ = oa.load_offers(connectors=server.connector_tokens,
    ...                               api_key=server.api_key, base_url=server.base_url)
    >>> rows = headline(frame, as_of=datetime(2026, 10, 1, tzinfo=UTC))
    >>> [(row["connector"], row["offers"]) for row in rows]
    [('acme', 200), ('globex', 200), ('all connectors', 400)]
    >>> 0 < rows[-1]["acceptance_lower"] < rows[-1]["acceptance"] < rows[-1]["acceptance_upper"]
    True
    """
    rows = [
        _row(label, part, as_of=as_of)
        for (label,), part in frame.sort("connector").group_by("connector", maintain_order=True)
    ]
    return [*rows, _row(OVERALL, frame, as_of=as_of)]


def _row(label: object, offers: pl.DataFrame, *, as_of: datetime) -> dict[str, Any]:
    rates = oa.acceptance_rates(offers, as_of=as_of)
    closing = oa.time_to_close(offers, as_of=as_of)
    rate = rates.row(0, named=True) if rates.height else {}
    close = closing.row(0, named=True) if closing.height else {}
    return {
        "connector": label,
        "offers": offers.height,
        "acceptance": rate.get("rate"),
        "acceptance_lower": rate.get("rate_lower"),
        "acceptance_upper": rate.get("rate_upper"),
        "acceptance_n": rate.get("n", 0),
        "close_median_days": close.get("km_median_days"),
        "close_median_lower": close.get("km_median_lower"),
        "close_median_upper": close.get("km_median_upper"),
        "sent": close.get("n", 0),
        "open": close.get("n_open", 0),
        "upcoming_starts": oa.upcoming_starts(offers, as_of=as_of).height,
    }


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def headline_table(rows: list[dict[str, Any]], *, title: str) -> Table:
    """The rows as a rich table, intervals beside their estimates."""
    table = Table(title=title, title_justify="left")
    table.add_column("connector")
    table.add_column("offers", justify="right")
    table.add_column("acceptance (95% CI)", justify="right")
    table.add_column("n decided", justify="right")
    table.add_column("median days to close (95% CI)", justify="right")
    table.add_column("open", justify="right")
    table.add_column("upcoming starts", justify="right")
    for row in rows:
        if row["connector"] == OVERALL:
            table.add_section()
        median = row["close_median_days"]
        table.add_row(
            str(row["connector"]),
            f"{row['offers']:,}",
            f"{_pct(row['acceptance'])} ({_pct(row['acceptance_lower'])}–"
            f"{_pct(row['acceptance_upper'])})",
            f"{row['acceptance_n']:,}",
            "not reached"
            if median is None
            else f"{_days(median)} ({_days(row['close_median_lower'])}–"
            f"{_days(row['close_median_upper'])})",
            f"{row['open']:,}",
            f"{row['upcoming_starts']:,}",
        )
    return table
