"""A sync has an overall deadline: a server that stops delivering cannot hold it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from offer_analytics import ConfigurationError, LoadTimeoutError, read_offers, sync
from offer_analytics.sandbox import Faults, SandboxServer


def test_a_trickling_server_ends_the_sync_at_its_deadline_with_nothing_committed(
    tmp_path: Path,
) -> None:
    faults = Faults(seed=1, trickle_rate=1.0, trickle_bytes_per_s=20)
    with SandboxServer(n_offers=400, connectors=2, seed=2, faults=faults) as server:
        started = time.monotonic()
        with pytest.raises(LoadTimeoutError, match="deadline") as caught:
            sync(
                tmp_path,
                connectors=server.connector_tokens,
                api_key=server.api_key,
                base_url=server.base_url,
                deadline_s=1.5,
                parallel=1,
            )
        elapsed = time.monotonic() - started
    # Bounded by the deadline plus the teardown of one request, never by the server's pace.
    assert elapsed < 30
    assert "acme" in str(caught.value) or "globex" in str(caught.value)
    assert not list(tmp_path.glob("_state/*.json"))
    assert not list(tmp_path.glob("offers/**/*.parquet"))


def test_a_connector_that_could_not_start_before_the_deadline_keeps_its_data(
    tmp_path: Path,
) -> None:
    with SandboxServer(n_offers=100, connectors=1, seed=3) as server:
        access = {
            "connectors": server.connector_tokens,
            "api_key": server.api_key,
            "base_url": server.base_url,
        }
        sync(tmp_path, **access)  # type: ignore[arg-type]
        before = read_offers(tmp_path).collect()
        with pytest.raises(LoadTimeoutError, match="before its load could start"):
            sync(tmp_path, deadline_s=1e-9, **access)  # type: ignore[arg-type]
        assert read_offers(tmp_path).collect().equals(before)


@pytest.mark.parametrize("bad", [0, -1.0, "soon", True])
def test_a_deadline_that_is_not_a_positive_number_is_refused(tmp_path: Path, bad: object) -> None:
    with pytest.raises(ConfigurationError, match="deadline_s"):
        sync(tmp_path, connector_token="t", api_key="k", deadline_s=bad)  # type: ignore[arg-type]
