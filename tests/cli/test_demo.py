"""`offer-analytics demo`: the README's first command runs end to end and its report draws."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import offer_analytics as oa
from tests.cli.conftest import Invoke
from tests.report.chromium import opened_report


def test_demo_json_headline_adds_up_and_looks_live(invoke: Invoke, tmp_path: Path) -> None:
    folder = tmp_path / "try"
    result = invoke("demo", str(folder), "--offers", "1500", "--latency-ms", "2", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    rows = summary["headline"]
    assert [row["connector"] for row in rows] == ["acme", "globex", "initech", "all connectors"]
    *per_connector, overall = rows
    for field in ("offers", "acceptance_n", "open", "upcoming_starts"):
        assert sum(row[field] for row in per_connector) == overall[field], field
    assert overall["offers"] == oa.read_offers(summary["dataset"]).collect().height == 1500
    for row in rows:
        assert row["acceptance_lower"] < row["acceptance"] < row["acceptance_upper"]
        assert row["close_median_lower"] <= row["close_median_days"]
    # The data ends today: some offers are still open and some hires are yet to start.
    assert overall["open"] > 0
    assert overall["upcoming_starts"] > 0
    assert Path(summary["report_path"]) == (folder / "report.html").resolve()
    assert "sandbox API on http://127.0.0.1:" in result.stderr


@pytest.mark.slow
def test_the_readme_demo_runs_and_its_report_draws_every_chart(tmp_path: Path) -> None:
    # Exactly the README's first command (without uv), with its defaults, in a fresh folder.
    result = subprocess.run(
        [sys.executable, "-m", "offer_analytics", "demo", "--progress"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "offer-analytics-demo"
    for text in ("all connectors", "acme", "initech", "acceptance (95% CI)", "Written:", "Next:"):
        assert text in result.stdout, text
    assert str((folder / "report.html").resolve()) in result.stdout
    assert "offer-analytics metrics" in result.stdout
    assert "globex" in result.stderr  # the progress bar, one line per connector
    report = folder / "report.html"
    with opened_report(report) as opened:
        charts = opened.charts()
    # Three connectors: the seven charts of one connector plus acceptance by connector.
    assert len(charts) >= 8
    for chart in charts:
        assert chart["filled"] >= 1, f"{chart['title']}: no trace with data"
        assert chart["traces"] >= 1, f"{chart['title']}: no trace drawn"
    assert opened.requests == [report.as_uri()]
    assert opened.errors == []
