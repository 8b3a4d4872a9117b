"""Shards synced by separate processes at once into one folder make one unsharded table."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from offer_analytics import read_offers, sync
from offer_analytics.sandbox import SandboxServer, generate_offers
from offer_analytics.store._labels import shard_of
from tests.store.conftest import access
from tests.store.test_crash import start_child


def test_two_shard_processes_give_the_table_of_one_unsharded_sync(tmp_path: Path) -> None:
    data = generate_offers(1_200, connectors=4, seed=41)
    assert {shard_of(label, 2) for label in data} == {0, 1}  # both shards have work
    with SandboxServer(offers=data, rate_limit=100_000, rate_window_s=1.0) as server:
        sharded, whole = tmp_path / "sharded", tmp_path / "whole"
        children = [start_child(server, sharded, shard=[i, 2]) for i in range(2)]
        outputs = [child.communicate(timeout=120) for child in children]
        for child, (_, err) in zip(children, outputs, strict=True):
            assert child.returncode == 0, err.decode()[-2000:]
        synced = [json.loads(out) for out, _ in outputs]
        assert sorted(label for each in synced for label in each) == sorted(data)
        assert not set(synced[0]) & set(synced[1])
        sync(whole, **access(server))
    one_table = read_offers(sharded).collect()
    assert one_table.height == 1_200
    assert_frame_equal(one_table, read_offers(whole).collect())
    assert one_table["connector"].unique().sort().to_list() == sorted(data)
    assert one_table.equals(one_table.sort(pl.col("connector"), "id"))
