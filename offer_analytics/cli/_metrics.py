"""``offer-analytics metrics PATH KIND``: one metric over a Parquet file or a synced dataset."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer

import offer_analytics as oa
from offer_analytics.cli._metric_kinds import KINDS, Kind
from offer_analytics.cli._options import AsJson, AsOf, Debug, OffersPath
from offer_analytics.cli._output import Format, print_frame
from offer_analytics.enrich import ENRICHED_COLUMNS
from offer_analytics.errors import OfferAnalyticsError

__all__ = ["EXAMPLES", "metrics", "parse_when"]

EXAMPLES = (
    "\b\nExamples:\n"
    "  offer-analytics metrics offers.parquet acceptance --by connector --period quarter\n"
    "  offer-analytics metrics data/ time-to-close --by connector --as-of 2026-10-01\n"
    "  offer-analytics metrics offers.parquet starts --period weekday --format csv > starts.csv\n"
    "  offer-analytics metrics offers.parquet quality --json | jq '.[] | select(.n > 0)'\n"
    "  offer-analytics metrics data/ acceptance --by department --min-n 20 --order n\n"
    "    (department, job, office, recruiter: from `sync --enrich` or `fetch --enrich`)\n"
    "\b\nKinds:\n"
    + "".join(f"  {kind.value:<14} {metric.about}\n" for kind, metric in KINDS.items())
)


class OutputFormat(StrEnum):
    """``--format`` values."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"


class Basis(StrEnum):
    """``--basis`` values."""

    COHORT = "cohort"
    ACTIVITY = "activity"


class Order(StrEnum):
    """``--order`` values."""

    KEYS = "keys"
    N = "n"


class Denominator(StrEnum):
    """``--denominator`` values."""

    DECIDED = "decided"
    EXTENDED = "extended"


def parse_when(text: str) -> datetime:
    """``--as-of``: an ISO 8601 date or timestamp (naive = UTC), or ``now``.

    Examples
    --------
    >>> parse_when("2026-10-01")
    datetime.datetime(2026, 10, 1, 0, 0, tzinfo=datetime.timezone.utc)
    >>> parse_when("2026-10-01T12:00:00+02:00").isoformat()
    '2026-10-01T10:00:00+00:00'
    """
    if text.strip().lower() == "now":
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        msg = f"{text!r} is not a date or timestamp; use e.g. 2026-10-01 or 2026-10-01T12:00Z."
        raise typer.BadParameter(msg) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def metrics(
    path: OffersPath,
    kind: Annotated[Kind, typer.Argument(metavar="KIND", help="Which metric; see Kinds below.")],
    by: Annotated[
        list[str] | None,
        typer.Option(
            help="Group by these columns (repeat, or comma-separated).", show_default=False
        ),
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(
            metavar="PERIOD",
            help="acceptance: month|quarter; starts: week|month|weekday.",
            show_default=False,
        ),
    ] = None,
    basis: Annotated[
        Basis | None,
        typer.Option(
            help="acceptance by period: of sending (cohort) or of closing (activity).",
            show_default=False,
        ),
    ] = None,
    denominator: Annotated[
        Denominator | None,
        typer.Option(
            help="acceptance: accepted / (accepted + declined) = decided, or / every extended "
            "offer = extended.",
            show_default=False,
        ),
    ] = None,
    all_versions: Annotated[
        bool,
        typer.Option(
            "--all-versions", help="acceptance: count every offer, not one per application."
        ),
    ] = False,
    min_n: Annotated[
        int | None,
        typer.Option(
            "--min-n",
            metavar="N",
            min=1,
            help="acceptance: a group whose n (the rate's denominator) is below N keeps its "
            "row and n, its rate and bounds blank (too few to say).",
            show_default=False,
        ),
    ] = None,
    order: Annotated[
        Order | None,
        typer.Option(
            help="acceptance, time-to-close: rows by group keys (keys), or largest n first (n).",
            show_default=False,
        ),
    ] = None,
    as_of: AsOf = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="How to print the result.")
    ] = OutputFormat.TABLE,
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Compute one metric and print it: a table, CSV or JSON on stdout.

    Every number comes with its n; rates carry Wilson 95% bounds, medians their interval. The
    definitions are in the docstrings of the functions of the same names in offer_analytics.
    """
    if as_json and fmt not in (OutputFormat.TABLE, OutputFormat.JSON):
        raise typer.BadParameter("--json means --format json; give one of them.")
    metric = KINDS[kind]
    frame = oa.read_offers(path)
    given = _given(
        by=_columns(by, frame.collect_schema().names()),
        period=period,
        basis=basis.value if basis else None,
        denominator=denominator.value if denominator else None,
        latest_per_application=False if all_versions else None,
        as_of=parse_when(as_of) if as_of is not None else None,
        min_n=min_n,
        order=order.value if order else None,
    )
    refused = sorted(set(given) - metric.options)
    if refused:
        flags = ", ".join("--" + name.replace("_", "-") for name in refused)
        msg = f"{kind.value} does not take {flags}: it answers '{metric.about}'."
        raise typer.BadParameter(msg, param_hint="KIND")
    if "period" in given and given["period"] not in metric.periods:
        msg = f"{kind.value} takes --period {' or '.join(metric.periods)}, not {given['period']!r}."
        raise typer.BadParameter(msg, param_hint="'--period'")
    try:
        result = metric.call(frame, given)
    except ValueError as error:
        if isinstance(error, OfferAnalyticsError):
            raise  # the data, not the options, is wrong
        raise typer.BadParameter(str(error)) from None
    output: Format = "json" if as_json else fmt.value
    print_frame(result, fmt=output, title=f"{kind.value}: {metric.about}")


def _given(**options: Any) -> dict[str, Any]:
    """The options the user set (None and empty mean "not set")."""
    return {name: value for name, value in options.items() if value not in (None, [])}


def _columns(by: list[str] | None, available: list[str]) -> list[str] | None:
    if not by:
        return None
    names = [name.strip() for each in by for name in each.split(",") if name.strip()]
    unknown = [name for name in names if name not in available]
    if unknown:
        msg = f"no column {', '.join(map(repr, unknown))}; the file has {', '.join(available)}."
        if set(unknown) & set(ENRICHED_COLUMNS):
            msg += " Job, department, office and recruiter come with `sync --enrich` or "
            msg += "`fetch --enrich`."
        raise typer.BadParameter(msg, param_hint="'--by'")
    return names
