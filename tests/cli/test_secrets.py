"""No API key or connector token in any command's stdout, stderr or files, on success or failure.

The secrets are distinctive strings (or the sandbox's random ones), so that a leak anywhere in
the output, in a traceback printed by --debug, or inside a Parquet or HTML file is found.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from typer.testing import Result

from offer_analytics.sandbox import SandboxServer
from tests.cli.conftest import EnvFor, Invoke

KEY = "sk-live-DISTINCTIVE-key-5c1e0f"
TOKEN = "ct-DISTINCTIVE-token-a81b77"
OTHER = "ct-DISTINCTIVE-second-3f09d2"


def _leaks(secrets: Iterable[str], result: Result, folder: Path) -> list[str]:
    """Where any secret (or a recognisable half of one) shows up."""
    found = []
    for secret in secrets:
        for piece in (secret, secret[: len(secret) // 2], secret[len(secret) // 2 :]):
            if piece in result.stdout or piece in result.stderr:
                found.append(f"output holds {piece!r}")
            for path in folder.rglob("*"):
                if path.is_file() and piece.encode() in path.read_bytes():
                    found.append(f"{path.name} holds {piece!r}")
    return found


def _secrets(server: SandboxServer) -> list[str]:
    return [server.api_key, *server.connector_tokens.values()]


def test_success_and_analysis_commands_show_no_secret(
    sandbox: SandboxServer, env_for: EnvFor, invoke: Invoke, tmp_path: Path
) -> None:
    env = env_for(sandbox)
    data = tmp_path / "offers.parquet"
    runs = [
        invoke("fetch", "-o", str(data), "--json", "--debug", env=env),
        invoke("fetch", "-o", str(data), "--progress", env=env),
        invoke("metrics", str(data), "quality", "--json", env=env),
        invoke("report", str(data), "-o", str(tmp_path / "report.html"), env=env),
        invoke("fetch", "--help", env=env | {"BINDBEE_CONNECTOR_TOKEN": TOKEN}),
    ]
    assert [run.exit_code for run in runs] == [0] * len(runs)
    for run in runs:
        assert _leaks([*_secrets(sandbox), TOKEN], run, tmp_path) == []


@pytest.mark.parametrize(
    "case",
    ["wrong key", "refused token", "unreachable", "malformed list", "bad file", "bad url"],
)
def test_failures_show_no_secret_even_with_debug(
    case: str, sandbox: SandboxServer, unreachable_url: str, invoke: Invoke, tmp_path: Path
) -> None:
    url = sandbox.base_url
    token_file = tmp_path / "connectors.toml"
    token_file.write_text(f'acme = "{TOKEN}"\nglobex = ["{OTHER}"]\n')
    good = f"acme={sandbox.connector_tokens['acme']}"
    env, args = {
        "wrong key": ({"BINDBEE_BASE_URL": url, "BINDBEE_CONNECTORS": good}, ["--api-key", KEY]),
        "refused token": (
            {"BINDBEE_API_KEY": sandbox.api_key, "BINDBEE_BASE_URL": url},
            ["--connectors", f"acme={TOKEN},globex={OTHER}"],
        ),
        "unreachable": (
            {"BINDBEE_API_KEY": KEY, "BINDBEE_CONNECTOR_TOKEN": TOKEN},
            ["--base-url", unreachable_url, "--retries", "1"],
        ),
        "malformed list": ({"BINDBEE_API_KEY": KEY, "BINDBEE_CONNECTORS": f"{TOKEN},{OTHER}"}, []),
        "bad file": ({"BINDBEE_API_KEY": KEY}, ["--connectors-file", str(token_file)]),
        "bad url": (
            {"BINDBEE_API_KEY": KEY, "BINDBEE_CONNECTOR_TOKEN": TOKEN},
            ["--base-url", f"http://user:{OTHER}@api.example.com"],
        ),
    }[case]
    out = tmp_path / "out"
    out.mkdir()
    for extra in ([], ["--json"]):
        result = invoke("fetch", "-o", str(out / "x.parquet"), *args, *extra, "--debug", env=env)
        assert result.exit_code in (1, 2, 3), result.stderr
        assert "error: " in result.stderr
        assert _leaks([KEY, TOKEN, OTHER, sandbox.api_key], result, out) == []


def test_a_partial_load_shows_no_secret(
    faulty_sandbox: SandboxServer, invoke: Invoke, tmp_path: Path
) -> None:
    server = faulty_sandbox
    env = {"BINDBEE_API_KEY": server.api_key, "BINDBEE_BASE_URL": server.base_url}
    token = server.connector_tokens["default"]
    args = ["-o", str(tmp_path / "x.parquet"), "--retries", "1", "--keep-partial", "--debug"]
    result = invoke("fetch", *args, "--connector-token", token, env=env)
    assert result.exit_code == 4
    assert _leaks(_secrets(server), result, tmp_path) == []


def test_sync_writes_and_shows_no_secret(
    sandbox: SandboxServer, env_for: EnvFor, invoke: Invoke, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    env = env_for(sandbox)
    first = invoke("sync", str(folder), "--json", "--progress", "--debug", env=env)
    again = invoke("sync", str(folder), "--full", "--debug", env=env)
    extra = f"acme={sandbox.connector_tokens['acme']},ghost={TOKEN}"
    partial = invoke("sync", str(folder), "--connectors", extra, "--json", "--debug", env=env)
    assert [first.exit_code, again.exit_code, partial.exit_code] == [0, 0, 4]
    assert (folder / "_state").is_dir()  # the state files are searched too
    for run in (first, again, partial):
        assert _leaks([*_secrets(sandbox), TOKEN], run, tmp_path) == []
