"""The sandbox's data ends today unless an end date pins it: demos look like a live ATS."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl

import offer_analytics as oa
from offer_analytics.decode import offers_to_frame
from offer_analytics.sandbox import SandboxServer, generate_offers


def test_by_default_the_data_ends_today_with_open_offers_and_upcoming_starts() -> None:
    frame = offers_to_frame(generate_offers(3_000, connectors=2, seed=4))
    today = datetime.now(UTC).date()
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)
    # Every recorded instant, modified_at included, lies before today began: nothing in the future.
    latest = frame.select(pl.max_horizontal(oa.schema.INSTANT_COLUMNS).max()).item()
    assert midnight - timedelta(days=3) < latest <= midnight
    assert oa.upcoming_starts(frame).height > 0
    assert frame.filter(pl.col("outcome") == "pending").height > 0


def test_an_end_date_pins_the_data() -> None:
    end = date(2026, 10, 1)
    pinned = generate_offers(500, seed=3, end=end)
    assert pinned == generate_offers(500, seed=3, end=end)
    frame = offers_to_frame(pinned)
    assert frame.filter(pl.col("modified_at") > datetime(2026, 10, 1, tzinfo=UTC)).height == 0


def test_the_server_passes_its_end_date_to_the_generator() -> None:
    with SandboxServer(n_offers=50, connectors=1, seed=2, end=date(2025, 1, 1)) as server:
        served = server.offers("default")
    assert served == generate_offers(50, seed=2, end=date(2025, 1, 1))["default"]
