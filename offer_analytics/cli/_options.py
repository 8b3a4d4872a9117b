"""The options several commands share, declared once: connection, retries, output.

Each is an ``Annotated`` type; a command lists the ones it takes as parameters, so the flag
names, help texts and defaults are the same everywhere.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Final

import typer

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "CONNECTORS_ENV",
    "CONNECTOR_TOKEN_ENV",
    "ApiKey",
    "AsJson",
    "AsOf",
    "BaseUrl",
    "ConnectorToken",
    "Connectors",
    "ConnectorsFile",
    "Debug",
    "OffersPath",
    "ParquetProfile",
    "ProfileName",
    "Progress",
    "RateLimit",
    "RateWindow",
    "Retries",
]

API_KEY_ENV: Final = "BINDBEE_API_KEY"
BASE_URL_ENV: Final = "BINDBEE_BASE_URL"
CONNECTOR_TOKEN_ENV: Final = "BINDBEE_CONNECTOR_TOKEN"
CONNECTORS_ENV: Final = "BINDBEE_CONNECTORS"

_CONNECTION: Final = "Connection"
_OUTPUT: Final = "Output"

ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        metavar="KEY",
        envvar=API_KEY_ENV,
        show_envvar=True,
        show_default=False,
        help="Bindbee API key. Prefer the environment variable: flags show up in `ps`.",
        rich_help_panel=_CONNECTION,
    ),
]
BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        metavar="URL",
        envvar=BASE_URL_ENV,
        show_envvar=True,
        show_default=False,
        help="API host (default https://api.bindbee.dev; EU customers have their own). "
        "Plain http:// only to loopback.",
        rich_help_panel=_CONNECTION,
    ),
]
ConnectorToken = Annotated[
    str | None,
    typer.Option(
        "--connector-token",
        metavar="TOKEN",
        show_default=False,
        help=f"One connector's token, labelled 'default' (else ${CONNECTOR_TOKEN_ENV}).",
        rich_help_panel=_CONNECTION,
    ),
]
Connectors = Annotated[
    str | None,
    typer.Option(
        "--connectors",
        show_default=False,
        metavar="LABEL=TOKEN,...",
        help=f"Several connectors (else ${CONNECTORS_ENV}, same format).",
        rich_help_panel=_CONNECTION,
    ),
]
ConnectorsFile = Annotated[
    Path | None,
    typer.Option(
        "--connectors-file",
        metavar="FILE",
        exists=True,
        dir_okay=False,
        readable=True,
        show_default=False,
        help='A TOML file of connectors, one line each: label = "token".',
        rich_help_panel=_CONNECTION,
    ),
]
RateLimit = Annotated[
    int,
    typer.Option(
        min=1,
        metavar="N",
        help="Requests per window per connector token your plan allows.",
        rich_help_panel=_CONNECTION,
    ),
]
RateWindow = Annotated[
    float,
    typer.Option(
        min=0.001,
        metavar="SECONDS",
        help="Rate-limit window in seconds.",
        rich_help_panel=_CONNECTION,
    ),
]
Retries = Annotated[
    int,
    typer.Option(
        min=1,
        metavar="N",
        help="Tries per request, the first included, before a page counts as failed.",
        rich_help_panel=_CONNECTION,
    ),
]
AsJson = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print the result (or the error) as JSON on stdout, for scripts.",
        rich_help_panel=_OUTPUT,
    ),
]
Debug = Annotated[
    bool,
    typer.Option("--debug", help="On failure, print the traceback too.", rich_help_panel=_OUTPUT),
]
Progress = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress",
        show_default=False,
        help="Progress bar on stderr (default: when stderr is a terminal).",
        rich_help_panel=_OUTPUT,
    ),
]
OffersPath = Annotated[
    Path,
    typer.Argument(
        exists=True,
        metavar="PATH",
        help="A Parquet file (fetch) or a dataset folder (sync).",
    ),
]
Enrich = Annotated[
    bool,
    typer.Option(
        "--enrich",
        help="Add each offer's job, department, office and recruiter (names and ids), for "
        "`metrics ... --by department`. Costs a few extra requests per thousand offers.",
    ),
]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="WHEN",
        show_default=False,
        help="The moment the numbers describe: ISO date or timestamp, naive = UTC (default now).",
    ),
]


class ProfileName(StrEnum):
    """``--profile`` values: how the Parquet files are written."""

    DEFAULT = "default"
    COMPAT = "compat"


ParquetProfile = Annotated[
    ProfileName,
    typer.Option(
        "--profile",
        help="Parquet files: default (zstd, Enum outcome) or compat (snappy, plain strings) "
        "for picky readers.",
        rich_help_panel=_OUTPUT,
    ),
]
