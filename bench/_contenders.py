"""The three loaders the loader benchmarks race: this package, dlt's ``rest_api`` source and a
plain httpx loop that sleeps ``Retry-After`` on a 429.

Each gets the same sandbox, the same connectors and the same work (a cursor listing per connector,
or offer ids in batches through the list endpoint's ``ids`` filter) and is told nothing about the
rate limit: every one of them learns it from the server. Each returns what it did: wall seconds
(measured around the whole call, set-up included), requests sent, 429s received, offers loaded.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from offer_analytics import fetch_offers

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # no network from the benchmark
# Imported before any timing: dlt's first import takes seconds.
from dlt.sources.helpers.requests import Client
from dlt.sources.rest_api import rest_api_source

OFFERS_PATH = "/api/ats/v1/offers"


@dataclass(frozen=True)
class Work:
    """What to load: per connector label, its token and either a listing or ids in batches."""

    base_url: str
    api_key: str
    tokens: Mapping[str, str]
    page_size: int
    ids: Mapping[str, Sequence[str]] | None = None  # None: a listing per connector

    def batches(self, label: str) -> list[list[str]]:
        assert self.ids is not None
        ids = list(self.ids[label])
        return [ids[i : i + self.page_size] for i in range(0, len(ids), self.page_size)]


@dataclass(frozen=True)
class Outcome:
    seconds: float
    requests: int
    rate_limited: int
    offers: int


def ours(work: Work) -> Outcome:
    """``fetch_offers`` with its defaults: nobody tells it the window (it assumes Bindbee's)."""
    start = time.perf_counter()
    frame, report = asyncio.run(
        fetch_offers(
            connectors=dict(work.tokens),
            api_key=work.api_key,
            base_url=work.base_url,
            page_size=work.page_size,
            ids=None if work.ids is None else {k: list(v) for k, v in work.ids.items()},
        )
    )
    seconds = time.perf_counter() - start
    return Outcome(seconds, report.requests, report.rate_limited, frame.height)


def plain_httpx(work: Work) -> Outcome:
    """One ``httpx.Client``, one request after another, connector after connector; a 429 means
    sleeping its ``Retry-After`` and asking again: what a script written for the job does."""
    start = time.perf_counter()
    requests = rate_limited = offers = 0
    headers = {"authorization": f"Bearer {work.api_key}"}
    with httpx.Client(base_url=work.base_url, headers=headers) as client:
        for label, token in work.tokens.items():
            queries: list[dict[str, str]]
            if work.ids is None:
                queries = [{"page_size": str(work.page_size)}]
            else:
                queries = [
                    {"page_size": str(work.page_size), "ids": ",".join(batch)}
                    for batch in work.batches(label)
                ]
            for query in queries:
                cursor: str | None = None
                while True:
                    params = {**query, **({"cursor": cursor} if cursor else {})}
                    response = client.get(
                        OFFERS_PATH, params=params, headers={"x-connector-token": token}
                    )
                    requests += 1
                    if response.status_code == 429:
                        rate_limited += 1
                        time.sleep(float(response.headers.get("retry-after", "1")))
                        continue
                    response.raise_for_status()
                    page = response.json()
                    offers += len(page["items"])
                    cursor = page["cursor"]
                    if not cursor:
                        break
    return Outcome(time.perf_counter() - start, requests, rate_limited, offers)


def dlt_rest_api(work: Work) -> Outcome:
    """dlt's ``rest_api`` source, declared as its documentation shows (cursor paginator, items
    selector, one resource per connector or per id batch), iterated without a destination: the
    extraction alone, which is the part comparable to a loader that returns a frame. Its client
    retries a 429 after ``Retry-After``."""
    start = time.perf_counter()
    counts = {"requests": 0, "rate_limited": 0}
    session = Client(raise_for_status=False).session
    adapter = session.get_adapter("http://")  # under dlt's retrying send: sees every attempt
    send = adapter.send

    def counting_send(request: Any, *args: Any, **kwargs: Any) -> Any:
        response = send(request, *args, **kwargs)
        counts["requests"] += 1
        counts["rate_limited"] += response.status_code == 429
        return response

    adapter.send = counting_send  # type: ignore[method-assign,unused-ignore]  # typed with dlt only
    resources: list[dict[str, Any]] = []
    for label, token in work.tokens.items():
        queries: list[dict[str, Any]]
        if work.ids is None:
            queries = [{"page_size": work.page_size}]
        else:
            queries = [
                {"page_size": work.page_size, "ids": ",".join(batch)}
                for batch in work.batches(label)
            ]
        for n, params in enumerate(queries):
            endpoint = {"path": "offers", "params": params, "headers": {"x-connector-token": token}}
            resources.append({"name": f"offers_{label}_{n}", "endpoint": endpoint})
    config: Any = {
        "client": {
            "base_url": work.base_url + "/api/ats/v1/",
            "headers": {"Authorization": f"Bearer {work.api_key}"},
            "session": session,
        },
        "resource_defaults": {
            "endpoint": {
                "paginator": {
                    "type": "cursor",
                    "cursor_path": "cursor",
                    "cursor_param": "cursor",
                },
                "data_selector": "items",
            }
        },
        "resources": resources,
    }
    items = list(rest_api_source(config))
    seconds = time.perf_counter() - start
    return Outcome(seconds, counts["requests"], counts["rate_limited"], len(items))


CONTENDERS: dict[str, Callable[[Work], Outcome]] = {
    "offer_analytics": ours,
    "dlt rest_api": dlt_rest_api,
    "plain httpx loop": plain_httpx,
}
