"""Shared fixtures of the command-line tests: a clean environment, a runner, a sandbox."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from offer_analytics.cli import app
from offer_analytics.sandbox import Faults, SandboxServer, generate_offers

#: The sandbox data's last day: tests pin it, so numbers do not move with the calendar.
END = date(2026, 10, 1)

Invoke = Callable[..., Result]
EnvFor = Callable[[SandboxServer], dict[str, str]]


@pytest.fixture(autouse=True)
def _no_credentials_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test says where credentials come from; none leak in from the developer's shell."""
    for name in ("API_KEY", "BASE_URL", "CONNECTOR_TOKEN", "CONNECTORS"):
        monkeypatch.delenv(f"BINDBEE_{name}", raising=False)


def _invoke(*args: str, env: Mapping[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=dict(env or {}), catch_exceptions=False)


def _env_for(server: SandboxServer) -> dict[str, str]:
    pairs = ",".join(f"{label}={token}" for label, token in server.connector_tokens.items())
    return {
        "BINDBEE_API_KEY": server.api_key,
        "BINDBEE_BASE_URL": server.base_url,
        "BINDBEE_CONNECTORS": pairs,
    }


@pytest.fixture
def invoke() -> Invoke:
    """Run ``offer-analytics ARGS`` in-process; ``env=`` adds variables; stdout, stderr apart."""
    return _invoke


@pytest.fixture
def env_for() -> EnvFor:
    """The environment a user sets by following ``serve``'s banner, for a given sandbox."""
    return _env_for


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """Three connectors, 600 offers ending on a pinned day, no faults."""
    with SandboxServer(offers=generate_offers(600, connectors=3, seed=2, end=END)) as server:
        yield server


@pytest.fixture(scope="module")
def offers_file(sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sandbox's offers, fetched once by the CLI into a Parquet file."""
    path = tmp_path_factory.mktemp("fetched") / "offers.parquet"
    result = _invoke("fetch", "-o", str(path), env=_env_for(sandbox))
    assert result.exit_code == 0, result.stderr
    return path


@pytest.fixture
def faulty_sandbox() -> Iterator[SandboxServer]:
    """One connector whose listing fails part-way when a request gets no retry.

    Seed 5 of this fault plan fails the fourth listing page: with one connector the order of
    requests, and with it the fault draws, is fixed, so three pages (600 offers) come first.
    """
    offers = generate_offers(1_000, connectors=1, seed=1, end=END)
    with SandboxServer(offers=offers, faults=Faults(seed=5, error_rate=0.5)) as server:
        yield server


@pytest.fixture
def unreachable_url() -> str:
    """A loopback URL on a port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # the socket is closed again here
