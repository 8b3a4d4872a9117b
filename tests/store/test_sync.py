"""sync against the sandbox: incremental costs, exact tables, deletions, history, refusals."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from offer_analytics import PartialSyncError, RetryPolicy, SyncLockedError, read_offers, sync
from offer_analytics.errors import (
    AuthenticationError,
    ConfigurationError,
    ForbiddenError,
    PartialLoadError,
)
from offer_analytics.load import ProgressUpdate
from offer_analytics.sandbox import Faults, SandboxServer, generate_offers
from offer_analytics.store._dataset import Dataset
from tests.store.conftest import PAGE_SIZE, access, change_offers, full_load


def stored(path: Path) -> pl.DataFrame:
    return read_offers(path).collect().sort("connector", "id")


def test_incremental_sync_costs_a_handful_of_requests_and_equals_a_full_load(
    server: SandboxServer, tmp_path: Path
) -> None:
    first = sync(tmp_path, **access(server))
    assert [c.mode for c in first.connectors] == ["initial", "initial"]
    assert first.new == 800
    assert first.updated == first.unchanged == first.removed == 0
    full_requests = first.requests
    assert full_requests == sum(math.ceil(c.offers / PAGE_SIZE) for c in first.connectors)
    initial = stored(tmp_path)
    assert_frame_equal(initial, full_load(server))

    change_offers(server, share=0.05, added=12, seed=1)  # 5% changed, 12 new per connector
    second = sync(tmp_path, **access(server))
    for report in second.connectors:
        assert report.mode == "incremental"
        assert report.watermark_before == first[report.label].watermark_after
        assert report.watermark_before is not None
        assert report.watermark_after is not None
        assert report.watermark_after > report.watermark_before
        # The overlap before the newest stored offer is read again, and found unchanged.
        mine = initial.filter(pl.col("connector") == report.label)
        reread = mine.filter(pl.col("modified_at") > report.watermark_before).height
        assert (report.new, report.updated, report.unchanged) == (12, 20, reread)
        assert report.removed is None
        assert report.requests == 1  # one page: the changes only
    assert second.requests * 8 <= full_requests
    assert_frame_equal(stored(tmp_path), full_load(server))

    # The overlap re-reads what changed in the last minutes: found unchanged, not duplicated.
    third = sync(tmp_path, **access(server))
    assert (third.new, third.updated, third.unchanged) == (0, 0, 64)
    assert_frame_equal(stored(tmp_path), full_load(server))


def test_full_sync_removes_exactly_the_deleted_offers_and_counts_them(
    server: SandboxServer, tmp_path: Path
) -> None:
    sync(tmp_path, **access(server))
    gone = {label: [o["id"] for o in server.offers(label)[5:5 + n]] for label, n in
            zip(server.labels, (7, 3), strict=True)}  # fmt: skip
    for label, ids in gone.items():
        server.remove_offers(label, ids)
    incremental = sync(tmp_path, **access(server))
    assert incremental.removed == 0  # an incremental sync cannot see deletions
    full = sync(tmp_path, **access(server), full=True)
    assert {c.label: c.removed for c in full.connectors} == {"acme": 7, "globex": 3}
    assert full.new == full.updated == 0
    assert full.removed == 10
    assert_frame_equal(stored(tmp_path), full_load(server))
    history = pl.read_parquet(Dataset(tmp_path).history_file("acme", 3), columns=["id", "change"])
    assert sorted(history["id"]) == sorted(gone["acme"])
    assert set(history["change"].cast(pl.String)) == {"removed"}


def test_history_records_each_change_with_when_it_was_synced(
    server: SandboxServer, tmp_path: Path
) -> None:
    sync(tmp_path, **access(server))
    target = server.offers("acme")[3]
    server.update_offer("acme", target["id"], status="SIGNED", closed_at="2026-11-30T10:00:00Z")
    began = datetime.now(UTC)
    sync(tmp_path, **access(server))
    ended = datetime.now(UTC)
    history_folder = tmp_path / "history" / "connector=acme"
    assert sorted(p.name for p in history_folder.iterdir()) == [
        "000000001.parquet",
        "000000002.parquet",
    ]
    changed = pl.read_parquet(history_folder / "000000002.parquet")
    assert changed["id"].to_list() == [target["id"]]
    assert changed["status"].to_list() == ["SIGNED"]
    assert changed["change"].cast(pl.String).to_list() == ["updated"]
    assert began <= changed["synced_at"][0] <= ended  # when this sync saw the change
    assert not (tmp_path / "history" / "connector=globex" / "000000002.parquet").exists()


def test_an_offer_changed_while_the_sync_runs_is_caught_by_the_next(
    server: SandboxServer, tmp_path: Path
) -> None:
    first_offer = server.offers("acme")[0]

    def change_an_offer_already_listed(update: ProgressUpdate) -> None:
        if update.connector == "acme" and update.pages == 2 and not update.done:
            server.update_offer("acme", first_offer["id"], status="SIGNED")

    sync(tmp_path, **access(server), progress=change_an_offer_already_listed)
    row = stored(tmp_path).filter(pl.col("id") == first_offer["id"])
    assert row["status"].to_list() == [first_offer["status"]]  # page 1 came before the change
    second = sync(tmp_path, **access(server))
    assert second["acme"].updated == 1
    assert_frame_equal(stored(tmp_path), full_load(server))


def test_a_second_sync_of_a_locked_connector_is_refused(
    server: SandboxServer, tmp_path: Path
) -> None:
    dataset = Dataset(tmp_path)
    held = [dataset.lock(label) for label in ("acme", "globex")]
    for lock in held:
        lock.acquire()
    try:
        with pytest.raises(SyncLockedError, match="'acme', 'globex'") as caught:
            sync(tmp_path, **access(server))
        assert caught.value.labels == ["acme", "globex"]
        assert server.request_log == []  # nothing was done
        held[0].release()
        with pytest.raises(PartialSyncError, match="'globex'") as partly:
            sync(tmp_path, **access(server))  # acme is free: synced; globex is not
        assert isinstance(partly.value.errors["globex"], SyncLockedError)
        assert [c.label for c in partly.value.report.connectors] == ["acme"]
        assert not (tmp_path / "_state" / "globex.json").exists()
    finally:
        for lock in held:
            lock.release()
    assert sync(tmp_path, **access(server))["globex"].new == 400


def test_one_failing_connector_leaves_the_others_committed(
    server: SandboxServer, tmp_path: Path
) -> None:
    tokens = {"acme": server.connector_tokens["acme"], "hris": server.forbidden_token}
    arguments = {**access(server), "connectors": tokens}
    with pytest.raises(PartialSyncError, match="'hris'") as caught:
        sync(tmp_path, **arguments)
    assert isinstance(caught.value.errors["hris"], ForbiddenError)
    assert [c.label for c in caught.value.report.connectors] == ["acme"]
    assert read_offers(tmp_path).collect()["connector"].unique().to_list() == ["acme"]
    assert not (tmp_path / "_state" / "hris.json").exists()
    with pytest.raises(AuthenticationError):  # every connector failed: the error itself
        sync(tmp_path, **{**access(server), "api_key": "wrong"})


def test_labels_options_and_shards_are_checked_before_any_request(
    server: SandboxServer, tmp_path: Path
) -> None:
    token = server.connector_tokens["acme"]
    base: dict[str, Any] = {"api_key": server.api_key, "base_url": server.base_url}
    for label in ("../up", "a/b", "nul\x00", ".hidden", "_meta", "a=b", ""):
        with pytest.raises(ConfigurationError, match="label"):
            sync(tmp_path, connectors={label: token}, **base)
    with pytest.raises(ConfigurationError, match="differ only by case"):
        sync(tmp_path, connectors={"Acme": token, "acme": token}, **base)
    for shard in ((2, 2), (-1, 2), (0, 0)):
        with pytest.raises(ConfigurationError, match="shard"):
            sync(tmp_path, connectors={"acme": token}, shard=shard, **base)
    assert server.request_log == []
    sync(tmp_path, **access(server))
    with pytest.raises(ConfigurationError, match="full=True"):
        sync(tmp_path, **access(server), include_custom_fields=True)
    with pytest.raises(ConfigurationError, match="full=True"):
        sync(tmp_path, **access(server), outcome_mapping={"EXTENDED": "pending"})
    rebuilt = sync(tmp_path, **access(server), include_custom_fields=True, full=True)
    assert rebuilt.updated == 800  # every row gained its custom fields
    assert "custom_fields" in read_offers(tmp_path).collect_schema()


def test_shards_split_the_connectors_between_them(server: SandboxServer, tmp_path: Path) -> None:
    reports = [sync(tmp_path, **access(server), shard=(i, 2)) for i in range(2)]
    synced = sorted(c.label for r in reports for c in r.connectors)
    assert synced == ["acme", "globex"]
    assert all(set(r.skipped) | {c.label for c in r.connectors} == set(synced) for r in reports)
    assert_frame_equal(stored(tmp_path), full_load(server))


def test_no_secret_reaches_a_report_or_a_file(server: SandboxServer, tmp_path: Path) -> None:
    report = sync(tmp_path, **access(server))
    change_offers(server, share=0.05, added=3, seed=2)
    report = sync(tmp_path, **access(server))
    secrets = [server.api_key, *server.connector_tokens.values()]
    texts = [repr(report), str(report), *map(repr, report.connectors)]
    texts += [repr(c.load) for c in report.connectors]
    blobs = [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()]
    assert len(blobs) >= 8  # data, history and state of both connectors, lock files
    for secret in secrets:
        assert not any(secret in text for text in texts)
        assert not any(secret.encode() in blob for blob in blobs)


def test_a_compat_dataset_syncs_and_reads_back_the_same(
    server: SandboxServer, tmp_path: Path
) -> None:
    updates: list[ProgressUpdate] = []
    sync(tmp_path, **access(server), profile="compat", progress=updates.append)
    assert {u.connector for u in updates if u.done} == {"acme", "globex"}
    change_offers(server, share=0.05, added=2, seed=3)
    sync(tmp_path, **access(server), profile="compat")
    file = Dataset(tmp_path).data_file("acme")
    assert pl.read_parquet_schema(file)["outcome"] == pl.String  # plain strings on disk
    assert_frame_equal(stored(tmp_path), full_load(server))  # the Enum again in read_offers


def test_a_server_clock_behind_this_machine_loses_no_change(tmp_path: Path) -> None:
    # Every stamp the server makes reads 6 minutes behind this machine's clock (more than the
    # overlap): a watermark from this machine's clock alone would lie after the next change.
    data = generate_offers(120, connectors=1, seed=8)  # stamped weeks ago, as by the server
    with SandboxServer(offers=data, rate_limit=100_000, rate_window_s=1.0) as server:
        sync(tmp_path, **access(server))
        offer = server.offers("default")[7]
        server_now = datetime.now(UTC) - timedelta(minutes=6)
        stamp = server_now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        server.update_offer("default", offer["id"], status="SIGNED", modified_at=stamp)
        report = sync(tmp_path, **access(server))
        assert report["default"].updated == 1
        assert report["default"].watermark_after is not None
        assert report["default"].watermark_after < server_now
        assert_frame_equal(stored(tmp_path), full_load(server))


def test_a_full_sync_rewrites_the_file_when_only_its_options_change(
    server: SandboxServer, tmp_path: Path
) -> None:
    file = Dataset(tmp_path).data_file("acme")
    sync(tmp_path, **access(server), include_raw_data=True)
    assert "raw_data" in pl.read_parquet_schema(file)
    dropped = sync(tmp_path, **access(server), full=True)  # no row differs but for raw_data
    assert dropped.updated == 0
    assert "raw_data" not in pl.read_parquet_schema(file)  # personal data gone from the disk
    assert_frame_equal(stored(tmp_path), full_load(server))
    sync(tmp_path, **access(server), profile="compat")  # nothing changed either
    assert pl.read_parquet_schema(file)["outcome"] == pl.String
    assert_frame_equal(stored(tmp_path), full_load(server))


def test_history_numbering_goes_on_after_the_state_is_deleted(
    server: SandboxServer, tmp_path: Path
) -> None:
    sync(tmp_path, **access(server))
    change_offers(server, share=0.05, added=2, seed=4)
    sync(tmp_path, **access(server))
    for state in (tmp_path / "_state").glob("*.json"):
        state.unlink()  # as the state's own error message advises to resync
    change_offers(server, share=0.05, added=2, seed=5)
    sync(tmp_path, **access(server))
    folder = tmp_path / "history" / "connector=acme"
    assert [p.name[:9] for p in sorted(folder.iterdir())] == ["000000001", "000000002", "000000003"]
    first = pl.read_parquet(folder / "000000001.parquet")
    assert (first.height, set(first["change"].cast(pl.String))) == (400, {"new"})
    assert_frame_equal(stored(tmp_path), full_load(server))


def test_every_connector_failing_in_different_ways_names_each_failure(
    server: SandboxServer, tmp_path: Path
) -> None:
    tokens = {"acme": server.connector_tokens["acme"], "hris": server.forbidden_token}
    lock = Dataset(tmp_path).lock("acme")
    lock.acquire()
    try:
        with pytest.raises(PartialSyncError, match="0 of 2") as caught:
            sync(tmp_path, **{**access(server), "connectors": tokens})
    finally:
        lock.release()
    assert isinstance(caught.value.errors["acme"], SyncLockedError)
    assert isinstance(caught.value.errors["hris"], ForbiddenError)
    assert caught.value.report.connectors == ()


def test_a_retry_policy_bounds_the_attempts_of_a_failing_server(tmp_path: Path) -> None:
    data = generate_offers(40, connectors=1, seed=9)
    with SandboxServer(offers=data, faults=Faults(error_rate=1.0)) as server:
        retry = RetryPolicy(attempts=2, wait_initial_s=0.01, wait_jitter_s=0.0)
        with pytest.raises(PartialLoadError):
            sync(tmp_path, **access(server), retry=retry)
        assert len(server.request_log) == 2  # the first page, tried twice
        with pytest.raises(ConfigurationError, match="RetryPolicy"):
            sync(tmp_path, **access(server), retry=3)  # type: ignore[arg-type]


def test_progress_true_draws_a_bar_per_connector(
    server: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sync(tmp_path, **access(server), progress=True)
    drawn = capsys.readouterr().err
    assert "acme" in drawn
    assert "globex" in drawn
