"""Loading from the sandbox over real loopback HTTP: exact data, id batches, the sync facade."""

from __future__ import annotations

import asyncio
import inspect
import io
import math
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from offer_analytics import BindbeeClient, LoadReport, fetch_offers, load_offers, offers_to_frame
from offer_analytics.errors import (
    ConfigurationError,
    CursorLoopError,
    ForbiddenError,
    TimestampError,
)
from offer_analytics.load._id_batches import MAX_URL_LENGTH
from offer_analytics.load._progress import ProgressUpdate, RichProgress
from offer_analytics.sandbox import Faults, SandboxServer, generate_offers

DATA = generate_offers(450, connectors=3, seed=11)


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(offers=DATA, rate_limit=10_000, rate_window_s=1.0) as running:
        yield running


def credentials(server: SandboxServer) -> dict[str, Any]:
    return {
        "api_key": server.api_key,
        "base_url": server.base_url,
        "rate_limit": (server.rate_limit, server.rate_window_s),
    }


def by_key(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("connector", "id")


def test_full_listing_of_three_connectors_equals_the_generated_data(
    server: SandboxServer,
) -> None:
    updates: list[ProgressUpdate] = []
    frame, report = load_offers(
        connectors=server.connector_tokens,
        page_size=40,
        progress=updates.append,
        **credentials(server),
    )
    assert_frame_equal(by_key(frame), by_key(offers_to_frame(DATA)))
    for label, offers in DATA.items():
        ids = frame.filter(pl.col("connector") == label)["id"]
        assert sorted(ids) == sorted(o["id"] for o in offers)
    assert isinstance(report, LoadReport)
    assert report.connectors == tuple(DATA)
    assert report.offers == 450
    assert report.pages == sum(math.ceil(len(o) / 40) for o in DATA.values())
    assert report.requests == report.pages
    assert (report.retries, report.rate_limited, report.missing, report.failed) == (0, 0, {}, {})
    assert {u.connector for u in updates if u.done} == set(DATA)
    assert max(u.offers for u in updates if u.connector == "acme") == len(DATA["acme"])


def test_include_flags_and_expand_reach_the_frame(server: SandboxServer) -> None:
    frame, _ = load_offers(
        connectors={"acme": server.connector_tokens["acme"]},
        include_custom_fields=True,
        include_raw_data=True,
        expand=("application", "creator"),
        **credentials(server),
    )
    assert frame.columns[-4:] == ["application_data", "creator_data", "custom_fields", "raw_data"]
    assert frame.height == len(DATA["acme"])
    expected = offers_to_frame(DATA["acme"], connector="acme", include_raw_data=True)
    assert_frame_equal(
        frame.select("id", "raw_data").sort("id"), expected.select("id", "raw_data").sort("id")
    )


def test_ids_batches_stay_under_the_url_bound_and_report_missing_ids() -> None:
    offers = generate_offers(4_850, connectors=1, seed=5)["default"]
    known = [o["id"] for o in offers]
    unknown = [str(uuid.UUID(int=i)) for i in range(50)]
    ids = [*known, *unknown, *known[:100]]  # 5,000 ids: 50 unknown, 100 repeated
    assert len(ids) == 5_000
    with SandboxServer(offers={"default": offers}, rate_limit=10_000, rate_window_s=1.0) as srv:
        frame, report = load_offers(
            ids=ids, connector_token=srv.connector_tokens["default"], **credentials(srv)
        )
        log = srv.request_log
        base_url = srv.base_url
    assert frame.height == 4_850
    assert frame["id"].n_unique() == 4_850
    assert frame["id"].to_list() == known, "rows come in the order the ids were asked for"
    assert report.missing == {"default": tuple(unknown)}
    assert max(r.url_length for r in log) + len(base_url) <= MAX_URL_LENGTH
    # The fewest requests possible: batches packed to the URL bound, plus one per unknown id.
    fixed = len(f"{base_url}/api/ats/v1/offers?page_size=200&ids=")
    per_batch = min(200, (MAX_URL_LENGTH - fixed + 3) // (36 + 3))  # uuid + "%2C"
    minimum = math.ceil(4_900 / per_batch) + 50
    assert minimum <= len(log) <= 1.05 * minimum
    assert report.requests == len(log)


def test_load_offers_works_inside_a_running_event_loop(server: SandboxServer) -> None:
    async def notebook_cell() -> pl.DataFrame:
        frame, _ = load_offers(
            connector_token=server.connector_tokens["globex"], **credentials(server)
        )
        return frame

    frame = asyncio.run(notebook_cell())
    assert frame.height == len(DATA["globex"])
    assert frame["connector"].unique().to_list() == ["default"]


def test_watermark_feeds_the_next_incremental_load(server: SandboxServer) -> None:
    token = server.connector_tokens["initech"]
    _, first = load_offers(connector_token=token, **credentials(server))
    assert first.watermark < datetime.now(UTC)
    changed = DATA["initech"][3]["id"]
    server.update_offer("initech", changed, status="SIGNED")
    frame, _ = asyncio.run(
        fetch_offers(modified_after=first.watermark, connector_token=token, **credentials(server))
    )
    assert frame["id"].to_list() == [changed]
    assert frame["status"].to_list() == ["SIGNED"]


def test_a_cursor_loop_is_stopped() -> None:
    with SandboxServer(n_offers=30, connectors=1, faults=Faults(repeat_cursor=True)) as srv:
        with pytest.raises(CursorLoopError, match="repeated a cursor"):
            load_offers(
                connector_token=srv.connector_tokens["default"], page_size=10, **credentials(srv)
            )
        assert len(srv.request_log) <= 3


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"ids": ["a"], "remote_id": "r"}, "no filters"),
        ({"ids": ["a"], "connectors": {"acme": "t", "globex": "u"}}, "ids=\\{label"),
        ({"ids": {"nope": ["a"]}, "connectors": {"acme": "t"}}, "not given"),
        ({"ids": "a"}, "list of offer ids"),
        ({"ids": {"acme": "a"}, "connectors": {"acme": "t"}}, "list of offer ids"),
        ({"page_size": 500}, "page_size"),
        ({"modified_after": "yesterday"}, "ISO 8601"),
        ({"base_url": "http://example.com"}, "plain http"),
        ({"expand": ("owner",)}, "cannot expand"),
    ],
)
def test_bad_arguments_fail_before_any_request(arguments: dict[str, object], message: str) -> None:
    arguments = {"connector_token": "t", "api_key": "k", **arguments}
    if "connectors" in arguments:
        del arguments["connector_token"]
    with pytest.raises(ConfigurationError, match=message):
        load_offers(**arguments)  # type: ignore[arg-type]


def test_load_offers_takes_exactly_the_arguments_of_fetch_offers() -> None:
    blocking = inspect.signature(load_offers).parameters
    asynchronous = inspect.signature(fetch_offers).parameters
    assert list(blocking) == list(asynchronous)
    for name, parameter in asynchronous.items():
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
        assert blocking[name].default == parameter.default
        assert blocking[name].annotation == parameter.annotation


def test_progress_true_draws_a_bar(
    server: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    frame, _ = load_offers(
        connector_token=server.connector_tokens["acme"], progress=True, **credentials(server)
    )
    assert frame.height == len(DATA["acme"])
    assert "default" in capsys.readouterr().err


def test_unparsed_timestamps_reach_the_report_and_strict_raises() -> None:
    offers = [dict(o) for o in generate_offers(40, connectors=1, seed=3)["default"]]
    offers[7]["sent_at"] = "last tuesday"
    offers[9]["closed_at"] = "2024-13-45T99:00:00Z"
    with SandboxServer(offers={"default": offers}, rate_limit=10_000, rate_window_s=1.0) as srv:
        token = srv.connector_tokens["default"]
        frame, report = load_offers(connector_token=token, **credentials(srv))
        with pytest.raises(TimestampError):
            load_offers(connector_token=token, strict=True, **credentials(srv))
    assert report.unparsed_timestamps["sent_at"] == (offers[7]["id"],)
    assert report.unparsed_timestamps["closed_at"] == (offers[9]["id"],)
    assert frame.filter(pl.col("id") == offers[7]["id"])["sent_at"].item() is None


def test_the_loader_names_are_public() -> None:
    import offer_analytics

    names = {"BindbeeClient", "LoadReport", "LoadResult", "ProgressUpdate", "RetryPolicy"}
    assert names | {"fetch_offers", "load_offers"} <= set(offer_analytics.__all__)


def test_ids_may_be_empty_or_a_polars_series(server: SandboxServer) -> None:
    token = server.connector_tokens["acme"]
    empty, report = load_offers(ids=[], connector_token=token, **credentials(server))
    assert empty.height == 0
    assert report.requests == 0
    wanted = pl.Series([o["id"] for o in DATA["acme"][:5]])
    frame, _ = load_offers(ids=wanted, connector_token=token, **credentials(server))
    assert frame["id"].to_list() == wanted.to_list()


def test_no_secret_in_the_traceback_locals_of_a_failed_load(server: SandboxServer) -> None:
    secrets = [server.api_key, server.forbidden_token]
    with pytest.raises(ForbiddenError) as info:
        load_offers(connector_token=server.forbidden_token, **credentials(server))
    tb = info.value.__traceback__
    assert tb is not None
    tb = tb.tb_next  # from load_offers inwards: this test's own frame holds the server
    leaks = []
    while tb is not None:
        for name, value in list(tb.tb_frame.f_locals.items()):
            if any(secret in repr(value) for secret in secrets):
                leaks.append((tb.tb_frame.f_code.co_name, name))
        tb = tb.tb_next
    assert leaks == []


@pytest.mark.parametrize(
    "setting",
    [{"concurrency": 4}, {"api_key": "k"}, {"base_url": "https://h.io"}, {"rate_limit": (5, 1.0)}],
)
def test_settings_of_a_given_client_are_refused_not_ignored(setting: dict[str, Any]) -> None:
    async def main() -> None:
        async with BindbeeClient(api_key="k") as client:
            await fetch_offers(connector_token="t", client=client, **setting)

    with pytest.raises(ConfigurationError, match="on the client"):
        asyncio.run(main())


def test_the_progress_bar_of_an_ids_load_ends_full_and_says_what_was_not_found() -> None:
    out = io.StringIO()
    with RichProgress(file=out) as bar:
        bar(ProgressUpdate("acme", pages=1, offers=95, total=100))
        bar(ProgressUpdate("acme", pages=2, offers=95, total=100, done=True))
        (task,) = bar._progress.tasks
    assert task.finished
    assert "95/95" in out.getvalue()
    assert "5 not found" in out.getvalue()


def test_errors_of_a_load_in_a_running_loop_reach_the_caller(server: SandboxServer) -> None:
    async def notebook_cell() -> None:
        load_offers(connector_token=server.forbidden_token, **credentials(server))

    with pytest.raises(ForbiddenError, match="non-ATS"):
        asyncio.run(notebook_cell())
    assert [t.name for t in threading.enumerate() if t.name == "offer-analytics-load"] == []


@pytest.mark.parametrize(
    "arguments",
    [
        {"connector_token": "tok-SECRET-1", "connectors": {"acme": "tok-SECRET-2"}},
        {"connectors": {"acme": "tok-SECRET-2", "globex": " "}},
        {"connector_token": "tok-SECRET-1", "base_url": "http://example.com"},
        {"connector_token": "tok-SECRET-1", "page_size": 500},
    ],
    ids=["both-token-arguments", "an-empty-token", "plain-http", "page-size"],
)
def test_no_secret_in_the_traceback_locals_of_a_refused_configuration(
    arguments: dict[str, Any],
) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_offers(api_key="key-SECRET-3", **arguments)
    tb = info.value.__traceback__
    assert tb is not None
    tb = tb.tb_next  # from load_offers inwards: this test's own frame holds the arguments
    leaks = []
    while tb is not None:
        for name, value in list(tb.tb_frame.f_locals.items()):
            if "SECRET" in repr(value):  # repr may not raise either: tools call it on everything
                leaks.append((tb.tb_frame.f_code.co_name, name))
        tb = tb.tb_next
    assert leaks == []
