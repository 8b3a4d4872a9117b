"""``offer-analytics sync DIR``: keep a dataset folder up to date, incrementally, per connector."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

import offer_analytics as oa
from offer_analytics.cli._connection import resolve_connection
from offer_analytics.cli._exit import ExitCode
from offer_analytics.cli._failure import error_line
from offer_analytics.cli._options import (
    ApiKey,
    AsJson,
    BaseUrl,
    Connectors,
    ConnectorsFile,
    ConnectorToken,
    Debug,
    Enrich,
    ParquetProfile,
    ProfileName,
    Progress,
    RateLimit,
    RateWindow,
)
from offer_analytics.cli._output import message, out_console, print_json, progress_wanted
from offer_analytics.cli._progress import progress_bar
from offer_analytics.errors import PartialSyncError

__all__ = ["EXAMPLES", "parse_shard", "sync", "sync_summary"]

EXAMPLES = (
    "\b\nExamples:\n"
    "  export BINDBEE_API_KEY=... BINDBEE_CONNECTORS=acme=...,globex=...\n"
    "  offer-analytics sync data/              # first run loads all, later runs the changes\n"
    "  offer-analytics sync data/ --full       # reload and remove what the API no longer has\n"
    "  offer-analytics sync data/ --shard 2/8  # this process's eighth of the connectors\n"
    "  offer-analytics metrics data/ acceptance --by connector\n"
    "  offer-analytics sync data/ --enrich     # keeps jobs, departments, ... refreshed too\n"
    "  offer-analytics metrics data/ acceptance --by department --min-n 20 --order n"
)


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``--shard I/N`` as ``(I, N)``: shard I (counting from 0) of N.

    Examples
    --------
    >>> parse_shard("2/8")
    (2, 8)
    """
    if text is None:
        return None
    index, slash, count = text.partition("/")
    if not (slash and index.strip().isdigit() and count.strip().isdigit()):
        raise typer.BadParameter(f"{text!r} is not I/N, e.g. 0/4.", param_hint="'--shard'")
    shard = int(index), int(count)
    if not 0 <= shard[0] < shard[1]:
        msg = f"{text!r}: I counts from 0 and must be below N, e.g. 0/4 to 3/4."
        raise typer.BadParameter(msg, param_hint="'--shard'")
    return shard


def sync(
    ctx: typer.Context,
    folder: Annotated[
        Path,
        typer.Argument(metavar="DIR", file_okay=False, help="The dataset folder (created)."),
    ],
    full: Annotated[
        bool,
        typer.Option("--full", help="Reload every offer and remove those the API no longer has."),
    ] = False,
    shard: Annotated[
        str | None,
        typer.Option(
            metavar="I/N",
            show_default=False,
            help="Sync only shard I (from 0) of N: the connectors whose label hashes there. "
            "N processes or machines can sync into one folder at once.",
        ),
    ] = None,
    enrich: Enrich = False,
    api_key: ApiKey = None,
    base_url: BaseUrl = None,
    connector_token: ConnectorToken = None,
    connectors: Connectors = None,
    connectors_file: ConnectorsFile = None,
    rate_limit: RateLimit = 200,
    rate_window: RateWindow = 60.0,
    profile: ParquetProfile = ProfileName.DEFAULT,
    progress: Progress = None,
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Bring a dataset folder up to date with the API, one connector at a time.

    The first run loads everything; later runs load only offers modified since the last one.
    Each connector's table is replaced atomically, so a crash or Ctrl-C never leaves it half
    written. Read the folder with `metrics`, `report`, polars, DuckDB or Spark. --enrich is
    fixed by a folder's first sync; turning it on or off later takes --full.
    """
    parts = parse_shard(shard)
    connection = resolve_connection(ctx)  # from the connection options above
    failed: PartialSyncError | None = None
    with progress_bar(progress_wanted(progress)) as bar:
        try:
            report = oa.sync(
                folder,
                connectors=connection.connectors,
                api_key=connection.api_key,
                base_url=connection.base_url,
                rate_limit=connection.rate_limit,
                full=full,
                shard=parts,
                profile=profile.value,
                progress=bar,
                enrich=enrich,
            )
        except PartialSyncError as error:
            report, failed = error.report, error
    _tell(report, as_json=as_json)
    if failed is not None:
        message(f"error: {error_line(ctx, failed)}")
        raise typer.Exit(ExitCode.PARTIAL)


def sync_summary(report: oa.SyncReport) -> dict[str, Any]:
    """What a sync did, as plain data for ``--json``: counts and labels, never a token."""
    return {
        "path": str(report.path),
        "complete": report.complete,
        "new": report.new,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "removed": report.removed,
        "requests": report.requests,
        "duration_s": round(report.duration_s, 3),
        "shard": list(report.shard) if report.shard else None,
        "skipped": list(report.skipped),
        "failed": dict(report.failed),
        "connectors": [each.summary() for each in report.connectors],
    }


def _tell(report: oa.SyncReport, *, as_json: bool) -> None:
    if report.skipped:
        message(f"left to other shards: {', '.join(report.skipped)}")
    if as_json:
        print_json(sync_summary(report))
        return
    table = Table(title=f"Synced into {report.path}", title_justify="left")
    for name in ("connector", "mode", "new", "updated", "unchanged", "removed", "offers"):
        table.add_column(name, justify="left" if name in ("connector", "mode") else "right")
    table.add_column("requests", justify="right")
    for each in report.connectors:
        removed = "–" if each.removed is None else f"{each.removed:,}"
        counts = (each.new, each.updated, each.unchanged)
        table.add_row(
            Text(each.label),
            each.mode,
            *(f"{n:,}" for n in counts),
            removed,
            f"{each.offers:,}",
            f"{each.requests:,}",
        )
    out_console().print(table)
