"""Labels as folder names, shards by a stable hash, and state files that cannot be misread."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from offer_analytics import read_offers, sync
from offer_analytics.errors import SchemaError
from offer_analytics.sandbox import SandboxServer
from offer_analytics.store._labels import in_shard, shard_of
from tests.store.conftest import access


def test_shards_are_stable_across_processes_and_cover_every_label_once() -> None:
    labels = [f"customer-{i}" for i in range(400)]
    here = [shard_of(label, 7) for label in labels]
    script = (
        "import json, sys; from offer_analytics.store._labels import shard_of; "
        "print(json.dumps([shard_of(l, 7) for l in json.load(sys.stdin)]))"
    )
    # Another interpreter with another string-hash seed must agree on every label.
    other = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(labels),
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )
    assert json.loads(other.stdout) == here
    shards = [in_shard(labels, (i, 7)) for i in range(7)]
    assert sorted(label for shard in shards for label in shard) == sorted(labels)
    assert min(map(len, shards)) > 30  # spread, not all in one shard
    assert in_shard(labels, None) == labels


def test_labels_that_readers_would_parse_come_back_as_text(
    server: SandboxServer, tmp_path: Path
) -> None:
    tokens = server.connector_tokens
    connectors = {"123": tokens["acme"], "Société Générale": tokens["globex"]}
    sync(tmp_path, **{**access(server), "connectors": connectors})
    back = read_offers(tmp_path).collect()
    assert back.schema["connector"] == pl.String
    assert sorted(back["connector"].unique()) == ["123", "Société Générale"]
    assert (tmp_path / "offers" / "connector=Société Générale" / "part-0.parquet").is_file()


def test_a_state_file_that_cannot_be_trusted_is_refused(
    server: SandboxServer, tmp_path: Path
) -> None:
    sync(tmp_path, **access(server))
    state = tmp_path / "_state" / "acme.json"
    document = json.loads(state.read_text())
    assert document["offers"] == 400
    assert document["last_sync"]["mode"] == "initial"
    state.write_text(json.dumps({**document, "schema_version": 99}))
    with pytest.raises(SchemaError, match="newer offer-analytics"):
        sync(tmp_path, **access(server))
    state.write_text("{not json")
    with pytest.raises(SchemaError, match="delete it to resync"):
        sync(tmp_path, **access(server))
    state.unlink()  # what the message advises: that connector starts over, losing nothing
    again = sync(tmp_path, **access(server))
    assert again["acme"].mode == "initial"
    assert again["acme"].unchanged == 400
    assert again["globex"].mode == "incremental"
