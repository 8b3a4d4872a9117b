"""``offer-analytics fetch -o FILE``: one load (a listing or given ids) into a Parquet file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

import offer_analytics as oa
from offer_analytics.cli._connection import Connection, resolve_connection
from offer_analytics.cli._exit import ExitCode
from offer_analytics.cli._ids_file import read_ids_file
from offer_analytics.cli._offers_file import check_output, write_offers
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
    Retries,
)
from offer_analytics.cli._output import message, print_json, progress_wanted

__all__ = ["EXAMPLES", "fetch", "load_summary"]

EXAMPLES = (
    "\b\nExamples:\n"
    "  export BINDBEE_API_KEY=... BINDBEE_CONNECTOR_TOKEN=...\n"
    "  offer-analytics fetch -o offers.parquet\n"
    "  offer-analytics fetch -o recent.parquet --modified-after 2026-09-01\n"
    "  offer-analytics fetch -o offers.parquet --enrich   # + job, department, office, recruiter\n"
    "  offer-analytics fetch -o some.parquet --ids-file ids.txt   # id, or label,id per line\n"
    "  offer-analytics fetch -o all.parquet --connectors-file connectors.toml --json"
)
_FILTERS = "Filters"


def fetch(
    ctx: typer.Context,
    output: Annotated[
        Path,
        typer.Option(
            "-o", "--output", metavar="FILE", dir_okay=False, help="The Parquet file to write."
        ),
    ],
    ids_file: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            metavar="FILE",
            show_default=False,
            help="Fetch these offers: one id per line (label,id with several connectors).",
            rich_help_panel=_FILTERS,
        ),
    ] = None,
    modified_after: Annotated[
        str | None,
        typer.Option(
            metavar="WHEN",
            help="Only offers modified after this ISO 8601 time (naive = UTC).",
            rich_help_panel=_FILTERS,
        ),
    ] = None,
    remote_id: Annotated[
        str | None,
        typer.Option(metavar="ID", help="The source ATS's id.", rich_help_panel=_FILTERS),
    ] = None,
    application: Annotated[
        str | None,
        typer.Option(metavar="ID", help="Offers of this application.", rich_help_panel=_FILTERS),
    ] = None,
    creator: Annotated[
        str | None,
        typer.Option(metavar="ID", help="Offers made by this user.", rich_help_panel=_FILTERS),
    ] = None,
    expand: Annotated[
        str | None,
        typer.Option(
            metavar="NAMES",
            help="Related objects to embed: application,creator.",
            show_default=False,
        ),
    ] = None,
    include_custom_fields: Annotated[
        bool,
        typer.Option("--include-custom-fields", help="Add custom_fields (may hold personal data)."),
    ] = False,
    include_raw_data: Annotated[
        bool, typer.Option("--include-raw-data", help="Add raw_data (may hold personal data).")
    ] = False,
    keep_partial: Annotated[
        bool,
        typer.Option(
            "--keep-partial", help="When pages still fail after every retry, write what was loaded."
        ),
    ] = False,
    enrich: Enrich = False,
    api_key: ApiKey = None,
    base_url: BaseUrl = None,
    connector_token: ConnectorToken = None,
    connectors: Connectors = None,
    connectors_file: ConnectorsFile = None,
    rate_limit: RateLimit = 200,
    rate_window: RateWindow = 60.0,
    retries: Retries = 8,
    profile: ParquetProfile = ProfileName.DEFAULT,
    progress: Progress = None,
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Load offers from the Bindbee API into one Parquet file.

    Lists every offer (optionally filtered), or fetches the ids of --ids-file. The file has the
    package's exact columns and types; read it with polars, pandas, DuckDB or `metrics`.
    """
    check_output(output)
    connection = resolve_connection(ctx)  # from the connection options above
    request: dict[str, Any] = {
        "expand": expand or (),
        "include_custom_fields": include_custom_fields,
        "include_raw_data": include_raw_data,
        "keep_partial": keep_partial,
        "enrich": enrich,
        "progress": progress_wanted(progress),
    }
    if ids_file is not None:
        request["ids"] = read_ids_file(ids_file, list(connection.connectors))
    else:
        filters = {"modified_after": modified_after, "remote_id": remote_id}
        filters |= {"application": application, "creator": creator}
        request |= {name: value for name, value in filters.items() if value is not None}
    frame, load = asyncio.run(_load(connection, request))
    written = write_offers(frame, output, watermark=load.watermark, profile=profile.value)
    _tell(written, load, as_json=as_json)
    if not load.complete:
        failed = ", ".join(sorted(load.failed))
        message(
            f"error: the load of {failed} did not finish after every retry; the "
            f"{load.offers:,} offers loaded were written. Run again later for the rest."
        )
        raise typer.Exit(ExitCode.PARTIAL)


async def _load(connection: Connection, request: dict[str, Any]) -> oa.LoadResult:
    """One load on a client of this event loop, closed afterwards."""
    async with connection.client() as client:
        return await oa.fetch_offers(client=client, connectors=connection.connectors, **request)


def load_summary(report: oa.LoadReport) -> dict[str, Any]:
    """What a load did, as plain data for ``--json``: counts, labels and ids, never a token."""
    return {
        "offers": report.offers,
        "connectors": list(report.connectors),
        "requests": report.requests,
        "retries": report.retries,
        "rate_limited": report.rate_limited,
        "pages": report.pages,
        "duration_s": round(report.duration_s, 3),
        "watermark": report.watermark,
        "complete": report.complete,
        "missing": {label: list(ids) for label, ids in report.missing.items()},
        "failed": {label: list(what) for label, what in report.failed.items()},
        "notes": list(report.notes),
    }


def _tell(written: Path, load: oa.LoadReport, *, as_json: bool) -> None:
    for note in load.notes:
        message(f"note: {note}")
    for label, ids in load.missing.items():
        message(f"{label}: {len(ids):,} offers not found: {', '.join(ids[:5])}")
    if as_json:
        print_json({"path": str(written), **load_summary(load)})
        return
    typer.echo(
        f"wrote {load.offers:,} offers from {len(load.connectors)} connector"
        f"{'s' * (len(load.connectors) != 1)} to {written} ({load.requests:,} requests, "
        f"{load.retries:,} retries, {load.rate_limited:,} rate-limited, {load.duration_s:.1f} s)"
    )
