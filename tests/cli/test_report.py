"""`offer-analytics report`: the HTML report of a file, its path on stdout."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Invoke


def test_report_writes_the_html_and_says_where(
    offers_file: Path, invoke: Invoke, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    result = invoke(
        "report", str(offers_file), "-o", str(out), "--as-of", "2026-10-01", "--title", "Q3 <b>"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(out.resolve())
    text = out.read_text("utf-8")
    assert "<title>Q3 &lt;b&gt;</title>" in text
    assert "Acceptance rate" in text


def test_report_json_names_the_file_and_the_offers(
    offers_file: Path, invoke: Invoke, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    result = invoke("report", str(offers_file), "-o", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"path": str(out.resolve()), "offers": 600}


def test_report_of_a_missing_file_is_a_usage_error(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("report", str(tmp_path / "none.parquet"), "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_report_into_a_missing_folder_is_a_usage_error(
    offers_file: Path, invoke: Invoke, tmp_path: Path
) -> None:
    result = invoke("report", str(offers_file), "-o", str(tmp_path / "no" / "such" / "r.html"))
    assert result.exit_code == 2
    assert "such does not exist; create it first" in result.stderr


def test_report_onto_a_folder_is_a_usage_error(
    offers_file: Path, invoke: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "r.html").mkdir()  # a folder where the file should go
    result = invoke("report", str(offers_file), "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 2
    assert "is a directory" in result.stderr
