"""A sync killed with SIGKILL at any point leaves each connector whole, and the next converges.

The sync runs in a child process that stops at a named point (through the store's checkpoint
hook, or its progress callback for "during the fetch") and signals it; only then is it killed,
so that each case hits exactly the moment it names.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from offer_analytics import read_offers, sync
from offer_analytics.sandbox import SandboxServer
from offer_analytics.store._dataset import Dataset
from tests.store.conftest import PAGE_SIZE, access, change_offers, full_load

CHILD = Path(__file__).with_name("_child.py")


def start_child(server: SandboxServer, path: Path, **extra: Any) -> subprocess.Popen[bytes]:
    config = {
        "path": str(path),
        "connectors": server.connector_tokens,
        "api_key": server.api_key,
        "base_url": server.base_url,
        "page_size": PAGE_SIZE,
        **extra,
    }
    env = {**os.environ, "OA_TEST_SYNC": json.dumps(config)}
    return subprocess.Popen(
        [sys.executable, str(CHILD)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def wait_for(marker: Path, child: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not marker.exists():
        if child.poll() is not None:
            _, err = child.communicate()
            pytest.fail(f"the sync ended before its stop point: {err.decode()[-2000:]}")
        if time.monotonic() > deadline:
            child.kill()
            pytest.fail("the sync never reached its stop point")
        time.sleep(0.02)


def per_connector(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    return {str(k[0]): v.sort("id") for k, v in frame.group_by("connector")}


def history_of(root: Path, label: str) -> dict[int, dict[str, int]]:
    """Generation -> rows per kind of change, over every history file of ``label``."""
    folder = root / "history" / f"connector={label}"
    counts = {}
    for file in sorted(folder.glob("*.parquet")):
        changes = pl.read_parquet(file, columns=["change"])["change"].cast(pl.String)
        counts[int(file.stem)] = dict(sorted(changes.value_counts().iter_rows()))
    return counts


# (stop point, what the stopped connector must read as after the kill)
POINTS = [
    ("fetch", "previous"),
    ("history:before-rename", "previous"),
    ("data:before-rename", "previous"),
    ("data:committed", "new"),
    ("state:before-rename", "new"),
]


@pytest.mark.parametrize(("point", "expected"), POINTS)
def test_a_killed_sync_leaves_each_connector_whole_and_the_next_converges(
    server: SandboxServer, tmp_path: Path, point: str, expected: str
) -> None:
    sync(tmp_path, **access(server))
    previous = per_connector(read_offers(tmp_path).collect())
    change_offers(server, share=0.05, added=12, seed=7)
    new = per_connector(full_load(server))

    marker = tmp_path.parent / f"{tmp_path.name}.reached"
    child = start_child(server, tmp_path, stop_at=point, stop_label="acme", marker=str(marker))
    wait_for(marker, child)
    child.send_signal(signal.SIGKILL)
    child.wait(10)

    after = per_connector(read_offers(tmp_path).collect())
    assert_frame_equal(after["acme"], (previous if expected == "previous" else new)["acme"])
    assert any(after["globex"].equals(state["globex"]) for state in (previous, new))

    report = sync(tmp_path, **access(server))
    assert_frame_equal(read_offers(tmp_path).collect().sort("connector", "id"), full_load(server))
    assert not list(tmp_path.rglob("*.tmp"))  # the crash's temporary files are gone
    # Each change is in the history once, whether the killed run or the retry recorded it.
    assert history_of(tmp_path, "acme") == {1: {"new": 400}, 2: {"new": 12, "updated": 20}}
    history = pl.read_parquet(Dataset(tmp_path).history_file("acme", 2))
    assert history["id"].n_unique() == 32
    assert report["acme"].watermark_after > report["acme"].watermark_before  # type: ignore[operator]


def test_a_change_seen_only_by_a_crashed_attempt_stays_out_of_the_history(
    server: SandboxServer, tmp_path: Path
) -> None:
    sync(tmp_path, **access(server))
    offer = server.offers("acme")[0]
    server.update_offer("acme", offer["id"], status="SIGNED")
    marker = tmp_path.parent / f"{tmp_path.name}.reached"
    child = start_child(
        server, tmp_path, stop_at="data:before-rename", stop_label="acme", marker=str(marker)
    )
    wait_for(marker, child)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    # The killed attempt recorded SIGNED, but its data never committed; the offer moves on.
    server.update_offer("acme", offer["id"], status="DENIED")
    sync(tmp_path, **access(server))
    history = pl.read_parquet(Dataset(tmp_path).history_file("acme", 2))
    assert history.filter(pl.col("id") == offer["id"])["status"].to_list() == ["DENIED"]
    assert history_of(tmp_path, "acme") == {1: {"new": 400}, 2: {"updated": 1}}
