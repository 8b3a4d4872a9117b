"""`offer-analytics fetch`: credentials from every source, a readable file, honest exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from typer.testing import Result

import offer_analytics as oa
from offer_analytics.sandbox import Faults, SandboxServer, generate_offers
from tests.cli.conftest import END, EnvFor, Invoke

#: A key no sandbox accepts; long enough that hiding it never touches other text.
KEY = "sk-test-key-nobody-accepts"


def test_listing_from_the_environment_keeps_the_labels(
    sandbox: SandboxServer, env_for: EnvFor, invoke: Invoke, tmp_path: Path
) -> None:
    out = tmp_path / "offers.parquet"
    result = invoke("fetch", "-o", str(out), "--json", env=env_for(sandbox))
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    frame = pl.read_parquet(out)
    assert summary["path"] == str(out.resolve())
    assert summary["offers"] == frame.height == 600
    assert summary["complete"] is True
    assert summary["connectors"] == ["acme", "globex", "initech"]
    assert sorted(frame["connector"].unique()) == ["acme", "globex", "initech"]
    assert frame.schema == oa.OFFER_SCHEMA
    metadata = pq.read_schema(out).metadata or {}
    assert metadata[b"offer_analytics.watermark"].decode() == summary["watermark"]


def test_human_summary_on_stdout_and_filters_reach_the_api(
    sandbox: SandboxServer, env_for: EnvFor, invoke: Invoke, tmp_path: Path
) -> None:
    out = tmp_path / "recent.parquet"
    env = env_for(sandbox)
    result = invoke("fetch", "-o", str(out), "--modified-after", "2999-01-01", env=env)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("wrote 0 offers from 3 connectors to ")
    assert pl.read_parquet(out).height == 0
    assert "modified_after=2999-01-01" in sandbox.request_log[-1].query


def test_ids_file_and_connectors_file(
    sandbox: SandboxServer, invoke: Invoke, tmp_path: Path
) -> None:
    wanted = [offer["id"] for offer in sandbox.offers("globex")[:3]]
    ids = tmp_path / "ids.txt"
    ids.write_text(
        "# three offers and one that does not exist\n"
        + "\n".join([*(f"globex,{each}" for each in wanted), "acme,no-such-offer"])
    )
    tokens = tmp_path / "connectors.toml"
    tokens.write_text(
        "".join(f'{label} = "{token}"\n' for label, token in sandbox.connector_tokens.items())
    )
    out = tmp_path / "some.parquet"
    env = {"BINDBEE_API_KEY": sandbox.api_key, "BINDBEE_BASE_URL": sandbox.base_url}
    result = invoke(
        "fetch", "-o", str(out), "--ids-file", str(ids), "--connectors-file", str(tokens),
        "--json", env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert pl.read_parquet(out)["id"].to_list() == wanted
    assert json.loads(result.stdout)["missing"] == {"acme": ["no-such-offer"]}
    assert "acme: 1 offers not found: no-such-offer" in result.stderr


def test_one_connector_token_is_labelled_default(
    sandbox: SandboxServer, invoke: Invoke, tmp_path: Path
) -> None:
    out = tmp_path / "one.parquet"
    env = {
        "BINDBEE_API_KEY": sandbox.api_key,
        "BINDBEE_BASE_URL": sandbox.base_url,
        "BINDBEE_CONNECTOR_TOKEN": sandbox.connector_tokens["acme"],
    }
    result = invoke("fetch", "-o", str(out), env=env)
    assert result.exit_code == 0, result.stderr
    assert pl.read_parquet(out)["connector"].unique().to_list() == ["default"]


def test_a_refused_token_is_an_auth_error(
    sandbox: SandboxServer, invoke: Invoke, tmp_path: Path
) -> None:
    out = tmp_path / "never.parquet"
    env = {"BINDBEE_API_KEY": sandbox.api_key, "BINDBEE_BASE_URL": sandbox.base_url}
    result = invoke("fetch", "-o", str(out), "--connectors", "acme=not-a-token", env=env)
    assert result.exit_code == 3
    assert result.stderr.startswith("error: The token of connector 'acme' may not read")
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""
    assert not out.exists()


def test_a_wrong_api_key_is_an_auth_error_also_in_json(
    sandbox: SandboxServer, env_for: EnvFor, invoke: Invoke, tmp_path: Path
) -> None:
    env = env_for(sandbox) | {"BINDBEE_API_KEY": "sbx_key_wrong"}
    result = invoke("fetch", "-o", str(tmp_path / "x.parquet"), "--json", env=env)
    assert result.exit_code == 3
    error = json.loads(result.stdout)["error"]
    assert error["exit_code"] == 3
    assert error["kind"] == "auth"
    assert "401" in error["message"]


def test_an_unreachable_api_is_one_line_and_a_traceback_with_debug(
    unreachable_url: str, invoke: Invoke, tmp_path: Path
) -> None:
    env = {
        "BINDBEE_API_KEY": KEY,
        "BINDBEE_BASE_URL": unreachable_url,
        "BINDBEE_CONNECTOR_TOKEN": "tok-unreachable",
    }
    args = ["fetch", "-o", str(tmp_path / "x.parquet"), "--retries", "1"]
    result = invoke(*args, env=env)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: Request for connector 'default'")
    assert result.stderr.count("\n") == 1
    debug = invoke(*args, "--debug", env=env)
    assert debug.exit_code == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.splitlines()[-1] == result.stderr.strip()


def _fetch_with_one_try(server: SandboxServer, invoke: Invoke, out: Path, *args: str) -> Result:
    env = {
        "BINDBEE_API_KEY": server.api_key,
        "BINDBEE_BASE_URL": server.base_url,
        "BINDBEE_CONNECTOR_TOKEN": server.connector_tokens["default"],
    }
    return invoke("fetch", "-o", str(out), "--retries", "1", *args, env=env)


def test_a_partial_load_exits_4_and_writes_nothing(
    faulty_sandbox: SandboxServer, invoke: Invoke, tmp_path: Path
) -> None:
    out = tmp_path / "partial.parquet"
    refused = _fetch_with_one_try(faulty_sandbox, invoke, out)
    assert refused.exit_code == 4
    assert "600 offers loaded, nothing written" in refused.stderr
    assert "--keep-partial" in refused.stderr
    assert not out.exists()


def test_keep_partial_writes_what_was_loaded_and_still_exits_4(
    faulty_sandbox: SandboxServer, invoke: Invoke, tmp_path: Path
) -> None:
    out = tmp_path / "partial.parquet"
    kept = _fetch_with_one_try(faulty_sandbox, invoke, out, "--keep-partial", "--json")
    assert kept.exit_code == 4
    summary = json.loads(kept.stdout)
    assert summary["complete"] is False
    assert summary["failed"] == {"default": ["<listing>"]}
    assert pl.read_parquet(out).height == summary["offers"] == 600
    assert "the 600 offers loaded were written" in kept.stderr


@pytest.mark.parametrize(
    ("env", "args", "says"),
    [
        ({}, [], "No Bindbee API key: set BINDBEE_API_KEY"),
        ({"BINDBEE_API_KEY": KEY}, [], "No connector: set BINDBEE_CONNECTOR_TOKEN"),
        (
            {"BINDBEE_API_KEY": KEY, "BINDBEE_CONNECTORS": "acme=tok-1,globex"},
            [],
            "BINDBEE_CONNECTORS item 2 is not label=token",
        ),
        (
            {
                "BINDBEE_API_KEY": KEY,
                "BINDBEE_CONNECTORS": "a=tok-1",
                "BINDBEE_CONNECTOR_TOKEN": "tok-2",
            },
            [],
            "Both BINDBEE_CONNECTORS and BINDBEE_CONNECTOR_TOKEN are set",
        ),
        (
            {"BINDBEE_API_KEY": KEY},
            ["--connector-token", "tok-1", "--connectors", "a=tok-2"],
            "not --connector-token and --connectors",
        ),
        (
            {"BINDBEE_API_KEY": KEY, "BINDBEE_BASE_URL": "http://api.example.com"},
            ["--connector-token", "tok-1"],
            "Refusing plain http:// to api.example.com",
        ),
        ({}, ["--connectors-file", "no-such.toml"], "does not exist"),
        ({}, ["--ids-file", "no-such.txt"], "does not exist"),
        ({}, ["--retries", "0"], "--retries"),
    ],
)
def test_usage_errors_exit_2_before_any_request(
    env: dict[str, str], args: list[str], says: str, invoke: Invoke, tmp_path: Path
) -> None:
    result = invoke("fetch", "-o", str(tmp_path / "x.parquet"), *args, env=env)
    assert result.exit_code == 2
    assert says in result.stderr
    assert not (tmp_path / "x.parquet").exists()


def test_a_bad_connectors_file_is_named_without_its_tokens(invoke: Invoke, tmp_path: Path) -> None:
    tokens = tmp_path / "connectors.toml"
    tokens.write_text('acme = "tok-in-a-broken-file"\nglobex = 42\n')
    args = ["fetch", "-o", str(tmp_path / "x.parquet"), "--connectors-file", str(tokens)]
    result = invoke(*args, env={"BINDBEE_API_KEY": KEY})
    assert result.exit_code == 2
    assert "connector 'globex' needs a non-empty token string" in result.stderr
    assert "tok-in-a-broken-file" not in result.stderr


def test_ctrl_c_stops_a_load_with_exit_130(tmp_path: Path) -> None:
    offers = generate_offers(2_000, connectors=1, seed=1, end=END)
    with SandboxServer(offers=offers, faults=Faults(latency_ms=400)) as server:
        env = {
            **os.environ,
            "BINDBEE_API_KEY": server.api_key,
            "BINDBEE_BASE_URL": server.base_url,
            "BINDBEE_CONNECTOR_TOKEN": server.connector_tokens["default"],
        }
        out = tmp_path / "x.parquet"
        command = [sys.executable, "-m", "offer_analytics", "fetch", "-o", str(out)]
        proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while not server.request_log and time.monotonic() < deadline:
                time.sleep(0.05)  # wait until the load has sent its first request
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == "interrupted"
    assert "Traceback" not in err
    assert not out.exists()


def test_compat_profile_writes_plain_strings(
    sandbox: SandboxServer, env_for: EnvFor, invoke: Invoke, tmp_path: Path
) -> None:
    out = tmp_path / "compat.parquet"
    result = invoke("fetch", "-o", str(out), "--profile", "compat", env=env_for(sandbox))
    assert result.exit_code == 0, result.stderr
    assert pq.read_schema(out).field("outcome").type == "string"
    assert oa.read_offers(out).collect().height == 600
