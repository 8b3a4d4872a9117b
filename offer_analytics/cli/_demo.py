"""``offer-analytics demo [DIR]``: the whole trip on a sandbox, no credentials, under a minute.

A sandbox API with data ending today starts on a loopback port; its offers are synced into DIR
with a progress bar; DIR/report.html is written; the headline numbers are printed per connector;
then what was written and what to try next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

import offer_analytics as oa
from offer_analytics.cli._headline import headline, headline_table
from offer_analytics.cli._options import AsJson, Debug, Progress
from offer_analytics.cli._output import message, out_console, print_json, progress_wanted
from offer_analytics.cli._progress import progress_bar
from offer_analytics.cli._serve import sandbox_server
from offer_analytics.sandbox import Faults, SandboxServer

__all__ = ["EXAMPLES", "demo"]

EXAMPLES = (
    "\b\nExamples:\n"
    "  offer-analytics demo\n"
    "  offer-analytics demo /tmp/offers --offers 50000 --connectors 5\n"
    "  offer-analytics demo --json | jq '.headline[-1]'"
)


@dataclass(frozen=True)
class _Written:
    dataset: Path
    report: Path


def demo(
    folder: Annotated[
        Path,
        typer.Argument(
            metavar="DIR", file_okay=False, help="Where the data and report.html go (created)."
        ),
    ] = Path("offer-analytics-demo"),
    offers: Annotated[int, typer.Option(help="Offers in the sandbox, in total.", min=1)] = 12_000,
    connectors: Annotated[int, typer.Option(help="Connectors in the sandbox.", min=1)] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 0,
    latency_ms: Annotated[
        float, typer.Option(help="Network latency the sandbox adds to each response.", min=0)
    ] = 60.0,
    progress: Progress = None,
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Try everything on a local sandbox: sync, HTML report, headline metrics.

    Starts a Bindbee-compatible sandbox API (synthetic offers ending today, several connectors,
    realistic latency), syncs it into DIR, writes DIR/report.html and prints the headline
    numbers per connector. Needs no credentials; nothing leaves this machine.
    """
    folder.mkdir(parents=True, exist_ok=True)
    as_of = datetime.now(UTC)
    with _sandbox(offers=offers, connectors=connectors, seed=seed, latency_ms=latency_ms) as server:
        message(f"sandbox API on {server.base_url}: {offers:,} offers, {connectors} connectors")
        frame, stored = _sync(server, folder, progress=progress_wanted(progress))
    written = _Written(
        dataset=stored, report=oa.html_report(frame, folder / "report.html", as_of=as_of)
    )
    rows = headline(frame, as_of=as_of)
    if as_json:
        print_json(_as_json(rows, written, as_of))
        return
    console = out_console()
    console.print(headline_table(rows, title=f"Offers as of {as_of:%Y-%m-%d %H:%M} UTC"))
    console.print(_epilogue(written, folder), markup=False, highlight=False)


def _sandbox(*, offers: int, connectors: int, seed: int, latency_ms: float) -> SandboxServer:
    faults = Faults(seed=seed, latency_ms=latency_ms, latency_jitter_ms=latency_ms / 2)
    return sandbox_server(
        offers=offers,
        connectors=connectors,
        seed=seed,
        end=None,
        rate_limit=(200, 60.0),
        faults=faults,
    )


def _sync(server: SandboxServer, folder: Path, *, progress: bool) -> tuple[pl.DataFrame, Path]:
    """Every offer of the sandbox into the dataset ``folder``; the frame and the folder.

    A full sync: a folder kept from an earlier demo then holds exactly this sandbox's offers.
    """
    with progress_bar(progress) as bar:
        report = oa.sync(
            folder,
            connectors=server.connector_tokens,
            api_key=server.api_key,
            base_url=server.base_url,
            full=True,
            progress=bar,
        )
    # Connectors an earlier demo with more of them left in the folder are not this sandbox's.
    mine = oa.read_offers(report.path).filter(pl.col("connector").is_in(server.labels))
    return mine.collect(), report.path.resolve()


def _epilogue(written: _Written, folder: Path) -> str:
    data = written.dataset
    return "\n".join(
        [
            "",
            "Written:",
            f"  {data}/offers/connector=<label>/   the offers, one Parquet table per connector",
            f"  {written.report}   the HTML report: open it in a browser (works offline)",
            "",
            "Next:",
            f"  offer-analytics metrics {data} acceptance --by connector --period quarter",
            f"  offer-analytics metrics {data} time-to-close --by connector",
            f"  offer-analytics metrics {data} upcoming --format csv > starts.csv",
            f"  offer-analytics report {data} -o {folder / 'my-report.html'}",
            "  offer-analytics serve        # the sandbox API with credentials, for your own code",
            "  offer-analytics sync --help  # the same against Bindbee, with your API key",
        ]
    )


def _as_json(rows: list[dict[str, Any]], written: _Written, as_of: datetime) -> dict[str, Any]:
    return {
        "as_of": as_of,
        "dataset": str(written.dataset),
        "report_path": str(written.report),
        "headline": rows,
    }
