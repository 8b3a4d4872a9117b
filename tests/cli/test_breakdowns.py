"""Breakdowns from the command line: --enrich on fetch and sync, --min-n and --order."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

import offer_analytics as oa
from offer_analytics.sandbox import SandboxServer
from tests.cli.conftest import EnvFor, Invoke


def test_acceptance_by_department_on_an_enriched_synced_folder(
    sandbox: SandboxServer, env_for: EnvFor, invoke: Invoke, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    synced = invoke("sync", str(folder), "--enrich", "--json", env=env_for(sandbox))
    assert synced.exit_code == 0, synced.stderr
    args = ["metrics", str(folder), "acceptance", "--by", "department", "--min-n", "150"]
    result = invoke(*args, "--order", "n", "--json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    expected = oa.acceptance_rates(oa.read_offers(folder), by="department", min_n=150, order="n")
    assert rows == json.loads(expected.write_json())
    sizes = [row["n"] for row in rows if row["department"] is not None]
    assert sizes == sorted(sizes, reverse=True)
    assert len(sizes) >= 3
    small = [row for row in rows if row["n"] < 150]
    assert small
    assert all(row["rate"] is None and row["below_min_n"] for row in small)
    assert all(row["rate"] is not None for row in rows if row["n"] >= 150)
    # An incremental run keeps the enrichment; turning it off without --full is refused.
    again = invoke("sync", str(folder), "--enrich", env=env_for(sandbox))
    assert again.exit_code == 0, again.stderr
    off = invoke("sync", str(folder), env=env_for(sandbox))
    assert off.exit_code == 2
    assert "full" in off.stderr


def test_fetch_enrich_writes_the_columns_time_to_close_ranks_by_n(
    sandbox: SandboxServer, env_for: EnvFor, invoke: Invoke, tmp_path: Path
) -> None:
    file = tmp_path / "offers.parquet"
    fetched = invoke("fetch", "-o", str(file), "--enrich", env=env_for(sandbox))
    assert fetched.exit_code == 0, fetched.stderr
    frame = pl.read_parquet(file)
    assert frame["recruiter"].null_count() < frame.height // 10
    result = invoke("metrics", str(file), "time-to-close", "--by", "recruiter", "--order", "n")
    assert result.exit_code == 0, result.stderr
    as_json = invoke(
        "metrics", str(file), "time-to-close", "--by", "recruiter", "--order", "n", "--json"
    )
    rows = json.loads(as_json.stdout)
    sizes = [row["n"] for row in rows if row["recruiter"] is not None]
    assert sizes == sorted(sizes, reverse=True)  # the unresolved offers' row comes last
    assert len(sizes) > 5
