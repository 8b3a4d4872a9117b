"""The two entry points are twins: one declaration of the options, one behaviour."""

from __future__ import annotations

import inspect

import offer_analytics as oa
from offer_analytics.load._plan import plan_load


def test_load_offers_takes_exactly_fetch_offers_options() -> None:
    blocking, asynchronous = inspect.signature(oa.load_offers), inspect.signature(oa.fetch_offers)
    assert blocking == asynchronous
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in blocking.parameters.values())
    assert oa.load_offers.__name__ == "load_offers"
    assert "blocking twin" in (oa.load_offers.__doc__ or "")


def test_the_plan_holds_every_listing_option_of_fetch_offers() -> None:
    assert "deadline_s" in inspect.signature(plan_load).parameters
    # Options that shape what is fetched and decoded reach the plan; the rest configure the
    # client, the progress display or the secrets. A new option must land in one of the two.
    planned = set(inspect.signature(plan_load).parameters) - {"connectors"}
    elsewhere = {
        "connector_token", "connectors", "api_key", "base_url", "concurrency", "rate_limit",
        "progress", "client",
    }  # fmt: skip
    assert planned | elsewhere == set(inspect.signature(oa.fetch_offers).parameters)
    assert not planned & elsewhere
