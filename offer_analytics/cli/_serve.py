"""``offer-analytics serve``: the sandbox API in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import json
import signal
import threading
from datetime import UTC, date, datetime
from types import FrameType
from typing import Annotated

import typer

from offer_analytics.cli._options import (
    API_KEY_ENV,
    BASE_URL_ENV,
    CONNECTORS_ENV,
    AsJson,
    Debug,
)
from offer_analytics.sandbox import Faults, SandboxServer, generate_offers

__all__ = ["EXAMPLES", "sandbox_server", "serve"]

EXAMPLES = (
    "\b\nExamples:\n"
    "  offer-analytics serve\n"
    "  offer-analytics serve --port 8000 --connectors 5 --offers 100000\n"
    "  offer-analytics serve --rate-limit 20 --rate-window 10 --latency-ms 40\n"
    "  offer-analytics serve --error-rate 0.05 --drop-rate 0.01 --seed 7\n"
    "  offer-analytics serve --end 2026-10-01   # the same data every day\n"
    "  offer-analytics serve --json > sandbox.json &   # credentials for a script"
)

_FAULTS = "Faults"


def serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1; 0 picks a free one.", min=0)] = 0,
    connectors: Annotated[int, typer.Option(help="Connectors (one token each).", min=1)] = 3,
    offers: Annotated[
        int, typer.Option(help="Offers in total, split across connectors.", min=0)
    ] = 2_000,
    seed: Annotated[int, typer.Option(help="Seed of the data and of the faults.")] = 0,
    end: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            show_default=False,
            help="Last day of the data (default today: open offers and upcoming starts look live).",
        ),
    ] = None,
    rate_limit: Annotated[
        int, typer.Option(help="Requests per window per connector token.", min=1)
    ] = 200,
    rate_window: Annotated[
        float, typer.Option(help="Rate-limit window in seconds.", min=0.001)
    ] = 60.0,
    latency_ms: Annotated[
        float, typer.Option(help="Added to every response.", min=0, rich_help_panel=_FAULTS)
    ] = 0.0,
    latency_jitter_ms: Annotated[
        float, typer.Option(help="Uniform ± jitter.", min=0, rich_help_panel=_FAULTS)
    ] = 0.0,
    error_rate: Annotated[
        float,
        typer.Option(
            help="Share of 500/502/503/504 answers.", min=0, max=1, rich_help_panel=_FAULTS
        ),
    ] = 0.0,
    storm_rate: Annotated[
        float,
        typer.Option(help="Share of spurious 429s.", min=0, max=1, rich_help_panel=_FAULTS),
    ] = 0.0,
    storm_retry_after: Annotated[
        float,
        typer.Option(help="Retry-After of spurious 429s, seconds.", min=0, rich_help_panel=_FAULTS),
    ] = 1.0,
    drop_rate: Annotated[
        float,
        typer.Option(
            help="Share of connections closed without a response.",
            min=0,
            max=1,
            rich_help_panel=_FAULTS,
        ),
    ] = 0.0,
    truncate_rate: Annotated[
        float,
        typer.Option(
            help="Share of 200s whose body breaks off.", min=0, max=1, rich_help_panel=_FAULTS
        ),
    ] = 0.0,
    non_json_rate: Annotated[
        float,
        typer.Option(
            help="Share of 200s with an HTML body.", min=0, max=1, rich_help_panel=_FAULTS
        ),
    ] = 0.0,
    repeat_cursor: Annotated[
        bool,
        typer.Option(
            help="Listing pages repeat the cursor they were fetched with.",
            rich_help_panel=_FAULTS,
        ),
    ] = False,
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Run a local Bindbee-compatible offers API with synthetic data until Ctrl-C.

    The sandbox behaves like the real API: bearer key plus one token per connector, cursor
    pagination, every filter, the rate limit and its headers; optionally with seeded faults.
    It listens on 127.0.0.1 only; the credentials are random for each run. With --json it
    prints the URL and credentials as one JSON line and then serves quietly.
    """
    try:
        faults = Faults(
            seed=seed,
            latency_ms=latency_ms,
            latency_jitter_ms=latency_jitter_ms,
            error_rate=error_rate,
            rate_limit_storm_rate=storm_rate,
            storm_retry_after_s=storm_retry_after,
            drop_rate=drop_rate,
            truncate_rate=truncate_rate,
            non_json_rate=non_json_rate,
            repeat_cursor=repeat_cursor,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    server = sandbox_server(
        offers=offers,
        connectors=connectors,
        seed=seed,
        end=end.date() if end else None,
        rate_limit=(rate_limit, rate_window),
        faults=faults,
        port=port,
    )
    _start(server, port)
    typer.echo(
        json.dumps(_credentials(server), separators=(",", ":")) if as_json else _banner(server)
    )
    _serve_until_stopped(server)
    if not as_json:
        typer.echo("sandbox stopped", err=True)


def sandbox_server(
    *,
    offers: int,
    connectors: int,
    seed: int,
    end: date | None,
    rate_limit: tuple[int, float],
    faults: Faults,
    port: int = 0,
) -> SandboxServer:
    """A (not yet started) sandbox whose data ends on ``end``, today when None."""
    last_day = end or datetime.now(UTC).date()
    return SandboxServer(
        offers=generate_offers(offers, connectors=connectors, seed=seed, end=last_day),
        rate_limit=rate_limit[0],
        rate_window_s=rate_limit[1],
        faults=faults,
        port=port,
    )


def _start(server: SandboxServer, port: int) -> None:
    try:
        server.start()
    except OSError as exc:
        typer.echo(f"error: cannot listen on 127.0.0.1:{port}: {exc.strerror}", err=True)
        raise typer.Exit(1) from None


def _serve_until_stopped(server: SandboxServer) -> None:
    """Block until Ctrl-C or SIGTERM, then stop the server."""
    stop = threading.Event()

    def _on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _on_term)
    try:
        # wait() with a timeout keeps Ctrl-C responsive in the main thread.
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()


def _credentials(server: SandboxServer) -> dict[str, object]:
    return {
        "base_url": server.base_url,
        "api_key": server.api_key,
        "connector_tokens": server.connector_tokens,
        "forbidden_token": server.forbidden_token,
        "rate_limit": server.rate_limit,
        "rate_window_s": server.rate_window_s,
        "offers": {label: len(server.offers(label)) for label in server.labels},
    }


def _banner(server: SandboxServer) -> str:
    width = max(len(label) for label in server.labels)
    first = server.labels[0]
    pairs = ",".join(f"{label}={token}" for label, token in server.connector_tokens.items())
    lines = [
        f"Bindbee sandbox listening on {server.base_url}",
        "",
        "Point the package at it (the labels below become the frame's connector column):",
        f"  export {BASE_URL_ENV}={server.base_url}",
        f"  export {API_KEY_ENV}={server.api_key}",
        f"  export {CONNECTORS_ENV}={pairs}",
        "  offer-analytics fetch -o offers.parquet",
        "",
        "  connector tokens (x-connector-token):",
        *(
            f"    {label:<{width}}  {token}   ({len(server.offers(label)):,} offers)"
            for label, token in server.connector_tokens.items()
        ),
        f"    {'HRIS':<{width}}  {server.forbidden_token}   (answers 403)",
        "",
        f"  rate limit: {server.rate_limit} requests per {server.rate_window_s:g} s per token",
        "",
        "Try:",
        f'  curl -H "Authorization: Bearer {server.api_key}" \\',
        f'       -H "x-connector-token: {server.connector_tokens[first]}" \\',
        f'       "{server.offers_url}?page_size=2"',
        "",
        "Press Ctrl-C to stop.",
    ]
    return "\n".join(lines)
