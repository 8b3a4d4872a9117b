"""Files and datasets read back with the same values in pyarrow, DuckDB, pandas and Polars."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

import offer_analytics
from offer_analytics import export_parquet, offers_to_frame, read_offers
from offer_analytics.errors import ConfigurationError, SchemaError
from offer_analytics.sandbox import generate_offers
from offer_analytics.schema import INSTANT_COLUMNS, OFFER_SCHEMA
from offer_analytics.store._dataset import Dataset
from offer_analytics.store._parquet import parquet_writer, to_arrow

FRAME = offers_to_frame(
    generate_offers(400, connectors=3, seed=21),
    include_custom_fields=True,
    include_raw_data=True,
)
WATERMARK = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def query(sql: str) -> duckdb.DuckDBPyRelation:
    relation = duckdb.sql(sql)
    assert relation is not None  # a SELECT always gives a relation
    return relation


def as_plain(frame: pl.DataFrame) -> pl.DataFrame:
    """What every reader must agree on: offers columns, outcome as text, instants in UTC."""
    return (
        frame.select(FRAME.columns)
        .with_columns(
            pl.col("outcome").cast(pl.String),
            pl.col(INSTANT_COLUMNS).dt.convert_time_zone("UTC"),
            pl.col("connector").cast(pl.String),
        )
        .sort("connector", "id")
    )


def by_every_reader(source: str, *, dataset: bool) -> dict[str, pl.DataFrame]:
    glob = f"{source}/offers/*/*.parquet" if dataset else source
    hive = "true" if dataset else "false"
    readers = {
        "polars": read_offers(source).collect(),
        "pyarrow": pl.from_arrow(pq.read_table(f"{source}/offers" if dataset else source)),
        "pandas": pl.from_pandas(pd.read_parquet(f"{source}/offers" if dataset else source)),
        "duckdb": query(f"SELECT * FROM read_parquet('{glob}', hive_partitioning={hive})").pl(),
    }
    if dataset:  # what a Polars user writes without this package
        scan = pl.scan_parquet(glob, hive_partitioning=True, hive_schema={"connector": pl.String})
        readers["polars scan_parquet"] = scan.collect()
    return readers


@pytest.mark.parametrize("profile", ["default", "compat"])
def test_one_file_reads_back_identically_everywhere(tmp_path: Path, profile: str) -> None:
    file = export_parquet(FRAME, tmp_path / "offers.parquet", profile=profile, watermark=WATERMARK)  # type: ignore[arg-type]
    assert_frame_equal(read_offers(file).collect(), FRAME)  # exact schema, Enum included
    for reader, frame in by_every_reader(str(file), dataset=False).items():
        assert as_plain(frame).equals(as_plain(FRAME)), reader
        assert as_plain(frame).schema == as_plain(FRAME).schema, reader
        assert frame["start_date"].dtype == pl.Date, reader


def test_duckdb_sees_instants_with_time_zone_dates_and_json_text(tmp_path: Path) -> None:
    file = export_parquet(FRAME, tmp_path / "offers.parquet")
    types = dict(
        query(f"DESCRIBE SELECT * FROM '{file}'").fetchall()[i][:2]
        for i in range(len(FRAME.columns))
    )
    assert {types[c] for c in INSTANT_COLUMNS} == {"TIMESTAMP WITH TIME ZONE"}
    assert types["start_date"] == "DATE"
    assert types["custom_fields"] == types["raw_data"] == types["outcome"] == "VARCHAR"
    salaries = query(
        f"SELECT json_extract(custom_fields, '$.base_salary') FROM '{file}' "
        "WHERE custom_fields IS NOT NULL LIMIT 3"
    ).fetchall()
    assert len(salaries) == 3
    assert all(row[0] is not None for row in salaries)


@pytest.mark.parametrize("profile", ["default", "compat"])
def test_metadata_names_version_columns_and_watermark(tmp_path: Path, profile: str) -> None:
    file = export_parquet(FRAME, tmp_path / "offers.parquet", watermark=WATERMARK, profile=profile)  # type: ignore[arg-type]
    rows = query(f"SELECT key, value FROM parquet_kv_metadata('{file}')").fetchall()
    meta = {bytes(k).decode(): bytes(v).decode() for k, v in rows}
    assert meta["offer_analytics.version"] == offer_analytics.__version__
    assert meta["offer_analytics.watermark"] == "2026-11-30T12:00:00+00:00"
    described = json.loads(meta["offer_analytics.columns"])
    assert list(described) == FRAME.columns
    assert "accepted / (accepted + declined)" in described["outcome"]
    assert meta["offer_analytics.profile"] == profile


def test_compat_profile_uses_snappy_and_plain_strings(tmp_path: Path) -> None:
    file = export_parquet(FRAME, tmp_path / "offers.parquet", profile="compat")
    meta = pq.ParquetFile(file).metadata
    assert meta.row_group(0).column(0).compression == "SNAPPY"
    schema = pq.read_schema(file)
    assert str(schema.field("outcome").type) == "string"
    assert b"ARROW:schema" not in (schema.metadata or {})
    default = export_parquet(FRAME, tmp_path / "zstd.parquet")
    assert pq.ParquetFile(default).metadata.row_group(0).column(0).compression == "ZSTD"


def write_dataset(root: Path, frame: pl.DataFrame) -> None:
    """A dataset as sync lays it out: one file per connector, no connector column inside."""
    dataset = Dataset(root)
    for (label,), part in frame.group_by("connector"):
        table = to_arrow(part.drop("connector").sort("id"), profile="default")
        write = parquet_writer(table, profile="default", watermark=WATERMARK)
        dataset.replace(dataset.data_file(str(label)), write, label=str(label), kind="data")


def test_dataset_reads_back_identically_everywhere(tmp_path: Path) -> None:
    write_dataset(tmp_path, FRAME)
    assert_frame_equal(
        read_offers(tmp_path).collect().sort("connector", "id"), FRAME.sort("connector", "id")
    )
    assert_frame_equal(read_offers(tmp_path / "offers").collect(), read_offers(tmp_path).collect())
    for reader, frame in by_every_reader(str(tmp_path), dataset=True).items():
        assert as_plain(frame).equals(as_plain(FRAME)), reader
        assert as_plain(frame).schema == as_plain(FRAME).schema, reader


def test_duckdb_queries_the_whole_dataset_in_one_query(tmp_path: Path) -> None:
    write_dataset(tmp_path, FRAME)
    counts = query(
        f"SELECT connector, count(*) AS n, count(*) FILTER (outcome = 'accepted') AS accepted "
        f"FROM read_parquet('{tmp_path}/offers/*/*.parquet', hive_partitioning = true) "
        "GROUP BY connector ORDER BY connector"
    ).fetchall()
    expected = (
        FRAME.group_by("connector")
        .agg(pl.len(), (pl.col("outcome") == "accepted").sum())
        .sort("connector")
        .rows()
    )
    assert counts == expected


def test_a_dataset_with_mixed_optional_columns_reads_as_one_frame(tmp_path: Path) -> None:
    plain = FRAME.drop("custom_fields", "raw_data")
    write_dataset(tmp_path, plain.filter(pl.col("connector") == "acme"))
    richer = FRAME.filter(pl.col("connector") == "globex").drop("raw_data")
    write_dataset(tmp_path, richer)
    back = read_offers(tmp_path).collect()
    assert back.columns == [*OFFER_SCHEMA, "custom_fields"]
    assert back.filter(pl.col("connector") == "acme")["custom_fields"].is_null().all()
    assert_frame_equal(back.filter(pl.col("connector") == "globex"), richer.sort("id"))


def test_export_refuses_what_is_not_an_offers_frame(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="'outcome'"):
        export_parquet(FRAME.drop("outcome"), tmp_path / "x.parquet")
    with pytest.raises(SchemaError, match="'days'"):
        export_parquet(FRAME.with_columns(days=pl.lit(1)), tmp_path / "x.parquet")
    with pytest.raises(SchemaError, match="sent_at"):
        export_parquet(
            FRAME.with_columns(pl.col("sent_at").cast(pl.String)), tmp_path / "x.parquet"
        )
    with pytest.raises(ConfigurationError, match="profile"):
        export_parquet(FRAME, tmp_path / "x.parquet", profile="fast")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="missing"):
        export_parquet(FRAME, tmp_path / "no" / "x.parquet")
    assert list(tmp_path.iterdir()) == []


def test_read_offers_refuses_missing_paths_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        read_offers(tmp_path / "nothing")
    pl.DataFrame({"id": ["a"]}).write_parquet(tmp_path / "other.parquet")
    with pytest.raises(SchemaError, match="not an offers file"):
        read_offers(tmp_path / "other.parquet")
    (tmp_path / "text.parquet").write_text("not parquet")
    with pytest.raises(SchemaError, match="not a readable Parquet file"):
        read_offers(tmp_path / "text.parquet")


def test_export_replaces_a_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "offers.parquet"
    export_parquet(FRAME, target)
    export_parquet(FRAME.head(3), target)
    assert read_offers(target).collect().height == 3
    assert [p.name for p in tmp_path.iterdir()] == ["offers.parquet"]  # no temporary left


def test_read_offers_refuses_a_folder_that_is_not_a_dataset(tmp_path: Path) -> None:
    write_dataset(tmp_path / "ds", FRAME)
    (tmp_path / "ds" / "_state").mkdir()
    history = tmp_path / "ds" / "history" / "connector=acme"
    history.mkdir(parents=True)
    FRAME.write_parquet(history / "000000001.parquet")
    (tmp_path / "empty").mkdir()
    for folder in ("ds/history", "ds/_state", "empty"):
        with pytest.raises(ConfigurationError, match="not a dataset"):
            read_offers(tmp_path / folder)
    one = read_offers(tmp_path / "ds" / "offers" / "connector=acme").collect()
    assert_frame_equal(one, FRAME.filter(pl.col("connector") == "acme").sort("id"))


def test_an_outcome_enum_with_other_categories_reads_as_the_package_enum(tmp_path: Path) -> None:
    # A file written by another version of the package, whose outcome Enum had other categories.
    other = pl.Enum(["unknown", *sorted(set(FRAME["outcome"].cast(pl.String)) - {"unknown"})])
    older = FRAME.with_columns(pl.col("outcome").cast(pl.String).cast(other))
    older.write_parquet(tmp_path / "older.parquet")
    assert_frame_equal(read_offers(tmp_path / "older.parquet").collect(), FRAME)
