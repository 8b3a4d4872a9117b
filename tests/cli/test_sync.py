"""`offer-analytics sync`: a dataset folder kept up to date, shards, and partial syncs."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from offer_analytics.sandbox import SandboxServer
from tests.cli.conftest import EnvFor, Invoke


def test_first_sync_loads_all_and_the_next_only_changes(
    sandbox: SandboxServer, env_for: EnvFor, invoke: Invoke, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    env = env_for(sandbox)
    first = invoke("sync", str(folder), "--json", env=env)
    assert first.exit_code == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["complete"] is True
    assert report["new"] == 600
    assert [c["mode"] for c in report["connectors"]] == ["initial"] * 3
    second = invoke("sync", str(folder), "--json", env=env)
    assert second.exit_code == 0, second.stderr
    again = json.loads(second.stdout)
    assert again["new"] == 0
    assert [c["mode"] for c in again["connectors"]] == ["incremental"] * 3
    assert again["requests"] == 3  # one listing page per connector: nothing changed
    full = invoke("sync", str(folder), "--full", env=env)
    assert full.exit_code == 0, full.stderr
    assert "full" in full.stdout
    assert "acme" in full.stdout


def test_metrics_and_report_read_a_synced_folder(
    sandbox: SandboxServer, env_for: EnvFor, invoke: Invoke, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    assert invoke("sync", str(folder), env=env_for(sandbox)).exit_code == 0
    rates = invoke("metrics", str(folder), "acceptance", "--by", "connector", "--json")
    assert rates.exit_code == 0, rates.stderr
    assert [row["connector"] for row in json.loads(rates.stdout)] == ["acme", "globex", "initech"]
    out = tmp_path / "report.html"
    report = invoke("report", str(folder), "-o", str(out), "--json")
    assert report.exit_code == 0, report.stderr
    assert json.loads(report.stdout)["offers"] == 600


def test_shards_split_the_connectors_between_them(
    sandbox: SandboxServer, env_for: EnvFor, invoke: Invoke, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    synced: list[str] = []
    for index in range(2):
        result = invoke(
            "sync", str(folder), "--shard", f"{index}/2", "--json", env=env_for(sandbox)
        )
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["shard"] == [index, 2]
        mine = [c["label"] for c in report["connectors"]]
        assert sorted([*mine, *report["skipped"]]) == ["acme", "globex", "initech"]
        synced += mine
    assert sorted(synced) == ["acme", "globex", "initech"]
    frame = pl.read_parquet(folder / "offers", hive_partitioning=True)
    assert frame.height == 600


@pytest.mark.parametrize("shard", ["2/2", "x", "1/0", "-1/2"])
def test_a_bad_shard_is_a_usage_error(shard: str, invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("sync", str(tmp_path / "data"), "--shard", shard)
    assert result.exit_code == 2
    assert "--shard" in result.stderr


def test_a_connector_that_fails_leaves_the_others_synced_and_exits_4(
    sandbox: SandboxServer, invoke: Invoke, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    env = {"BINDBEE_API_KEY": sandbox.api_key, "BINDBEE_BASE_URL": sandbox.base_url}
    pairs = f"acme={sandbox.connector_tokens['acme']},ghost=ct-not-a-token"
    result = invoke("sync", str(folder), "--connectors", pairs, "--json", env=env)
    assert result.exit_code == 4
    report = json.loads(result.stdout)
    assert report["complete"] is False
    assert list(report["failed"]) == ["ghost"]
    assert [c["label"] for c in report["connectors"]] == ["acme"]
    assert result.stderr.startswith("error: 1 of 2 connectors synced")
    metrics = invoke("metrics", str(folder), "status", "--by", "connector", "--json")
    assert {row["connector"] for row in json.loads(metrics.stdout)} == {"acme"}


def test_when_every_connector_is_refused_it_is_an_auth_error(
    sandbox: SandboxServer, invoke: Invoke, tmp_path: Path
) -> None:
    env = {"BINDBEE_API_KEY": "sk-wrong-key-for-sync", "BINDBEE_BASE_URL": sandbox.base_url}
    tokens = ",".join(f"{label}={token}" for label, token in sandbox.connector_tokens.items())
    result = invoke("sync", str(tmp_path / "data"), "--connectors", tokens, env=env)
    assert result.exit_code == 3
    assert result.stderr.startswith("error: Bindbee rejected the API key (401")


def test_compat_profile_reaches_the_files(
    sandbox: SandboxServer, env_for: EnvFor, invoke: Invoke, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    result = invoke("sync", str(folder), "--profile", "compat", env=env_for(sandbox))
    assert result.exit_code == 0, result.stderr
    files = sorted((folder / "offers").rglob("*.parquet"))
    assert len(files) == 3
    assert {str(pq.read_schema(f).field("outcome").type) for f in files} == {"string"}
