"""`offer-analytics metrics`: every public metric, the same numbers as in Python, three formats."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import offer_analytics as oa
from tests.cli.conftest import Invoke

AS_OF = datetime(2026, 10, 1, tzinfo=UTC)

#: kind -> (extra arguments, the Python call it must equal)
CASES: dict[str, tuple[list[str], Callable[[pl.DataFrame], pl.DataFrame]]] = {
    "time-to-close": (
        ["--by", "connector"],
        lambda f: oa.time_to_close(f, by="connector", as_of=AS_OF),
    ),
    "survival": ([], lambda f: oa.survival_curve(f, as_of=AS_OF)),
    "incidence": (
        ["--by", "connector"],
        lambda f: oa.cumulative_incidence(f, by="connector", as_of=AS_OF),
    ),
    "acceptance": (
        [
            "--by",
            "connector",
            "--period",
            "quarter",
            "--basis",
            "activity",
            "--denominator",
            "extended",
        ],
        lambda f: oa.acceptance_rates(
            f,
            by="connector",
            period="quarter",
            basis="activity",
            denominator="extended",
            as_of=AS_OF,
        ),
    ),
    "status": (["--by", "connector"], lambda f: oa.status_counts(f, by="connector", as_of=AS_OF)),
    "starts": (["--period", "weekday"], lambda f: oa.start_date_distribution(f, freq="weekday")),
    "lead-times": (["--by", "connector"], lambda f: oa.start_lead_times(f, by="connector")),
    "upcoming": ([], lambda f: oa.upcoming_starts(f, as_of=AS_OF)),
    "quality": ([], oa.quality_report),
}
_TAKES_AS_OF = {"time-to-close", "survival", "incidence", "acceptance", "status", "upcoming"}


def _args(kind: str) -> list[str]:
    extra, _ = CASES[kind]
    return [*extra, "--as-of", "2026-10-01"] if kind in _TAKES_AS_OF else extra


@pytest.mark.parametrize("kind", sorted(CASES))
def test_json_output_parses_back_to_the_python_result(
    kind: str, offers_file: Path, invoke: Invoke
) -> None:
    result = invoke("metrics", str(offers_file), kind, *_args(kind), "--json")
    assert result.exit_code == 0, result.stderr
    expected = CASES[kind][1](pl.read_parquet(offers_file))
    rows = json.loads(result.stdout)
    assert len(rows) == expected.height > 0
    assert list(rows[0]) == expected.columns
    # Numbers survive exactly (JSON carries floats with full precision).
    assert rows == json.loads(json.dumps(expected.to_dicts(), default=str))


def test_csv_reads_back_as_the_same_frame(offers_file: Path, invoke: Invoke) -> None:
    result = invoke(
        "metrics", str(offers_file), "acceptance", *_args("acceptance"), "--format", "csv"
    )
    assert result.exit_code == 0, result.stderr
    expected = CASES["acceptance"][1](pl.read_parquet(offers_file))
    back = pl.read_csv(io.StringIO(result.stdout), schema=expected.schema)
    assert_frame_equal(back, expected)


def test_csv_writes_nested_columns_as_json(offers_file: Path, invoke: Invoke) -> None:
    result = invoke("metrics", str(offers_file), "quality", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    back = pl.read_csv(io.StringIO(result.stdout))
    assert back.columns == ["check", "description", "n", "example_ids", "example_values"]
    assert all(isinstance(json.loads(cell), list) for cell in back["example_ids"])


def test_table_shows_every_column_and_group(offers_file: Path, invoke: Invoke) -> None:
    result = invoke("metrics", str(offers_file), "time-to-close", *_args("time-to-close"))
    assert result.exit_code == 0, result.stderr
    for text in ("time-to-close", "km_median_days", "km_median_upper", "acme", "initech"):
        assert text in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["time-to-close", "--period", "month"], "time-to-close does not take --period"),
        (["upcoming", "--by", "connector"], "upcoming does not take --by"),
        (["acceptance", "--period", "weekday"], "acceptance takes --period month or quarter"),
        (["acceptance", "--by", "department"], "come with `sync --enrich`"),
        (["time-to-close", "--min-n", "5"], "time-to-close does not take --min-n"),
        (["status", "--order", "n"], "status does not take --order"),
        (["acceptance", "--order", "size"], "'size' is not one of"),
        (["acceptance", "--as-of", "last tuesday"], "is not a date or timestamp"),
        (["acceptance", "--format", "csv", "--json"], "--json means --format json"),
        (["status", "--by", "connector,outcome"], "already splits by status and outcome"),
        (["speed"], "'speed' is not one of"),
    ],
)
def test_mistakes_are_usage_errors(
    args: list[str], says: str, offers_file: Path, invoke: Invoke
) -> None:
    result = invoke("metrics", str(offers_file), *args)
    assert result.exit_code == 2
    assert says in " ".join(result.stderr.split())


def test_a_missing_file_is_a_usage_error(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("metrics", str(tmp_path / "nope.parquet"), "acceptance")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_a_file_that_is_not_parquet_is_one_line(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "offers.parquet"
    path.write_text("id,status\n1,SIGNED\n")
    result = invoke("metrics", str(path), "acceptance", "--json")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
    assert json.loads(result.stdout)["error"]["kind"] == "other"
    assert "is not a readable Parquet file" in result.stderr
