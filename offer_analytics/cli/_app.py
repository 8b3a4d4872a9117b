"""The ``offer-analytics`` Typer app: the root options and the table of commands.

Each command lives in a module of its own and only parses options, calls the package's public
API and prints; every command runs through :class:`~offer_analytics.cli._failure.Command`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from offer_analytics import __version__
from offer_analytics.cli._demo import EXAMPLES as DEMO_EXAMPLES
from offer_analytics.cli._demo import demo
from offer_analytics.cli._exit import EXIT_CODES_HELP
from offer_analytics.cli._failure import Command
from offer_analytics.cli._fetch import EXAMPLES as FETCH_EXAMPLES
from offer_analytics.cli._fetch import fetch
from offer_analytics.cli._metrics import EXAMPLES as METRICS_EXAMPLES
from offer_analytics.cli._metrics import metrics
from offer_analytics.cli._report import EXAMPLES as REPORT_EXAMPLES
from offer_analytics.cli._report import report
from offer_analytics.cli._serve import EXAMPLES as SERVE_EXAMPLES
from offer_analytics.cli._serve import serve
from offer_analytics.cli._sync import EXAMPLES as SYNC_EXAMPLES
from offer_analytics.cli._sync import sync

__all__ = ["app", "main"]

app = typer.Typer(
    name="offer-analytics",
    help="Load Bindbee ATS job offers, keep them as Parquet, and measure them.",
    epilog=(
        "\b\nStart here:\n  offer-analytics demo   # a sandbox, a sync, a report; no credentials"
        "\n\n" + EXIT_CODES_HELP
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    # Tracebacks with local variables would print the API key held by a command's parameters.
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

for _command, _examples in (
    (demo, DEMO_EXAMPLES),
    (fetch, FETCH_EXAMPLES),
    (sync, SYNC_EXAMPLES),
    (metrics, METRICS_EXAMPLES),
    (report, REPORT_EXAMPLES),
    (serve, SERVE_EXAMPLES),
):
    app.command(cls=Command, epilog=f"{_examples}\n\n{EXIT_CODES_HELP}")(_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"offer-analytics {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Load Bindbee ATS job offers, keep them as Parquet, and measure them."""


def main() -> None:
    """Entry point of the ``offer-analytics`` console script and ``python -m offer_analytics``."""
    app()
