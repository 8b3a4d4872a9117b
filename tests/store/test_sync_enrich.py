"""sync(enrich=True): the related tables kept per connector, refreshed incrementally."""

from __future__ import annotations

import signal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from offer_analytics import load_offers, read_offers, sync
from offer_analytics.enrich import ENRICHED_SCHEMA, RELATED_SCHEMAS, RESOURCES
from offer_analytics.errors import ConfigurationError
from offer_analytics.sandbox import SandboxServer
from offer_analytics.store._dataset import Dataset
from tests.store.conftest import access
from tests.store.test_crash import start_child, wait_for


def enriched_load(server: SandboxServer) -> pl.DataFrame:
    frame, report = load_offers(**access(server), enrich=True)
    assert report.complete
    return frame.sort("connector", "id")


def stored(path: Path) -> pl.DataFrame:
    return read_offers(path).collect().sort("connector", "id")


def test_an_enriched_sync_equals_an_enriched_load_and_keeps_the_related_tables(
    server: SandboxServer, tmp_path: Path
) -> None:
    report = sync(tmp_path, **access(server), enrich=True)
    got = stored(tmp_path)
    assert_frame_equal(got, enriched_load(server))
    assert {name: got.schema[name] for name in ENRICHED_SCHEMA} == dict(ENRICHED_SCHEMA)
    assert got["department"].null_count() < got.height // 10  # real names, not nulls
    assert report["acme"].load.enrich_requests > 0
    for resource in RESOURCES:
        table = pl.read_parquet(Dataset(tmp_path).related_file(resource, "acme"))
        assert table.height > 0
        assert table.columns == [c for c in RELATED_SCHEMAS[resource] if c != "connector"]


def test_an_incremental_sync_brings_a_renamed_department_to_old_offers(
    server: SandboxServer, tmp_path: Path
) -> None:
    sync(tmp_path, **access(server), enrich=True)
    before = stored(tmp_path)
    acme = before.filter(pl.col("connector") == "acme")
    department_id = acme.drop_nulls("department_id")["department_id"][0]
    name = "Renamed Team"
    server.update_related("acme", "departments", department_id, name=name)
    offer = server.offers("globex")[0]
    server.update_offer("globex", offer["id"], status="SIGNED")

    report = sync(tmp_path, **access(server), enrich=True)
    after = stored(tmp_path)
    assert_frame_equal(after, enriched_load(server))
    renamed = after.filter(pl.col("department_id") == department_id, pl.col("connector") == "acme")
    assert renamed.height > 0
    assert set(renamed["department"]) == {name}
    assert (report["acme"].new, report["acme"].updated) == (0, 0)  # no offer changed
    assert report["globex"].updated == 1
    assert after.filter(pl.col("id") == offer["id"])["status"].to_list() == ["SIGNED"]
    history = pl.read_parquet(Dataset(tmp_path).history_file("globex", 2))
    assert history["department"].dtype == pl.String  # history rows carry their enrichment


def test_turning_enrichment_on_or_off_takes_a_full_sync(
    server: SandboxServer, tmp_path: Path
) -> None:
    sync(tmp_path, **access(server))
    with pytest.raises(ConfigurationError, match=r"enrich.*full=True"):
        sync(tmp_path, **access(server), enrich=True)
    sync(tmp_path, **access(server), enrich=True, full=True)
    assert_frame_equal(stored(tmp_path), enriched_load(server))
    with pytest.raises(ConfigurationError, match="full=True"):
        sync(tmp_path, **access(server))
    sync(tmp_path, **access(server), full=True)
    assert "department" not in read_offers(tmp_path).collect_schema()
    assert not Dataset(tmp_path).related_file("jobs", "acme").exists()


@pytest.mark.parametrize("point", ["related:departments:before-rename", "related:committed"])
def test_a_sync_killed_while_writing_the_related_tables_converges(
    server: SandboxServer, tmp_path: Path, point: str
) -> None:
    """Killed with some tables written (jobs, applications) or all, before the offers."""
    sync(tmp_path, **access(server), enrich=True)
    previous = stored(tmp_path)
    department = server.related("acme").departments[0]["id"]
    server.update_related("acme", "departments", department, name="Moved Team")

    marker = tmp_path.parent / f"{tmp_path.name}.reached"
    child = start_child(
        server,
        tmp_path,
        enrich=True,
        stop_at=point,
        stop_label="acme",
        marker=str(marker),
    )
    wait_for(marker, child)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert_frame_equal(stored(tmp_path), previous)  # the offers are as they were

    sync(tmp_path, **access(server), enrich=True)
    assert_frame_equal(stored(tmp_path), enriched_load(server))
    assert not list(tmp_path.rglob("*.tmp"))
