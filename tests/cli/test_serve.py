"""`offer-analytics serve`: help that teaches, credentials for humans and scripts, clean exits."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import polars as pl
import pytest
from typer.testing import CliRunner

from offer_analytics import __version__
from offer_analytics.cli import app
from offer_analytics.cli._serve import _banner, sandbox_server
from offer_analytics.sandbox import Faults, SandboxServer

runner = CliRunner()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError(f"no output within {timeout} s")
    return proc.stdout.readline()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_serve_json_prints_one_line_serves_and_exits_cleanly(stop_signal: int) -> None:
    port = _free_port()
    command = [sys.executable, "-m", "offer_analytics", "serve", "--json", "--port", str(port)]
    command += ["--offers", "30", "--connectors", "2", "--rate-limit", "50"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        info = json.loads(_read_line(proc, timeout=30))
        assert info["base_url"] == f"http://127.0.0.1:{port}"
        assert sorted(info["connector_tokens"]) == ["acme", "globex"]
        assert info["offers"] == {"acme": 15, "globex": 15}
        response = httpx.get(
            f"{info['base_url']}/api/ats/v1/offers",
            headers={
                "Authorization": f"Bearer {info['api_key']}",
                "x-connector-token": info["connector_tokens"]["globex"],
            },
        )
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit"] == "50"
        assert len(response.json()["items"]) == 15
        proc.send_signal(stop_signal)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert out == ""  # exactly one line, already read: nothing else on stdout
    assert "Traceback" not in err


def test_help_teaches_with_examples() -> None:
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for text in ("Examples:", "offer-analytics serve --port 8000", "--drop-rate", "--json"):
        assert text in result.output
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0
    assert "serve" in top.output
    assert runner.invoke(app, ["--version"]).output.strip() == f"offer-analytics {__version__}"


def test_banner_is_readable() -> None:
    with SandboxServer(n_offers=4, connectors=2) as server:
        text = _banner(server)
    assert "listening on http://127.0.0.1:" in text
    assert f"BINDBEE_API_KEY={server.api_key}" in text
    assert server.connector_tokens["globex"] in text
    assert "403" in text
    assert "curl" in text


def test_the_labels_the_banner_prints_are_the_labels_the_frame_gets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SandboxServer(n_offers=40, connectors=3, seed=1) as server:
        for line in _banner(server).splitlines():
            if line.strip().startswith("export "):
                name, _, value = line.strip().removeprefix("export ").partition("=")
                monkeypatch.setenv(name, value)
        out = tmp_path / "offers.parquet"
        result = runner.invoke(app, ["fetch", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert sorted(pl.read_parquet(out)["connector"].unique()) == server.labels


def test_data_ends_today_unless_pinned() -> None:
    today = datetime.now(UTC).date()
    pinned = date(2026, 10, 1)
    for end, last in ((None, today), (pinned, pinned)):
        server = sandbox_server(
            offers=300, connectors=1, seed=0, end=end, rate_limit=(200, 60.0), faults=Faults()
        )
        created = [offer["remote_created_at"] for offer in server.offers("default")]
        latest = max(date.fromisoformat(each[:10]) for each in created if each)
        assert (last - latest).days < 30


def test_impossible_fault_rates_are_a_usage_error() -> None:
    result = runner.invoke(app, ["serve", "--error-rate", "0.7", "--drop-rate", "0.7"])
    assert result.exit_code == 2
    assert "at most 1" in result.output


def test_busy_port_is_reported_not_raised() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port), "--offers", "3"])
    assert result.exit_code == 1
    assert "cannot listen" in result.output
