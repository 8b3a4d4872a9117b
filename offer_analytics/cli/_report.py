"""``offer-analytics report PATH -o FILE``: the offline HTML report of a file or a dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import offer_analytics as oa
from offer_analytics.cli._metrics import parse_when
from offer_analytics.cli._offers_file import check_output
from offer_analytics.cli._options import AsJson, AsOf, Debug, OffersPath
from offer_analytics.cli._output import print_json

__all__ = ["EXAMPLES", "report"]

EXAMPLES = (
    "\b\nExamples:\n"
    "  offer-analytics report offers.parquet -o report.html\n"
    "  offer-analytics report data/ -o q3.html --as-of 2026-10-01 --title 'Offers, Q3'"
)


def report(
    path: OffersPath,
    output: Annotated[
        Path,
        typer.Option(
            "-o",
            "--output",
            metavar="FILE",
            dir_okay=False,
            help="The .html file to write (replaced if present).",
        ),
    ],
    as_of: AsOf = None,
    title: Annotated[str, typer.Option(help="Page title and heading.")] = "Offer analytics",
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Write one self-contained HTML report: headline numbers, charts, tables, data quality.

    It opens offline in any browser (plotly.js is embedded) and holds no personal data.
    """
    check_output(output)
    frame = oa.read_offers(path).collect()
    when = parse_when(as_of) if as_of is not None else None
    written = oa.html_report(frame, output, as_of=when, title=title)
    if as_json:
        print_json({"path": str(written), "offers": frame.height})
    else:
        typer.echo(str(written))
