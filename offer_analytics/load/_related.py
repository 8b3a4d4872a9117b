"""Fetching the related objects a set of offers needs, through the offers' own machinery.

Enrichment resolves offer -> application -> job -> (departments, offices, users) in three
stages, each stage asking only for the ids the previous one named, in ``ids`` batches. The first
stage is usually free: ``enrich=True`` has the offers pages expand each application's id and job,
so only applications the expansion did not give (none, or a few dangling ones) are fetched. Every
request goes through the same :class:`~offer_analytics.bindbee.BindbeeClient` as the offers, so
each connector's one rate budget covers every endpoint it calls; within a stage, connectors and
resources run concurrently. Pages are decoded in a worker thread, as offers are.

An id that a successful page left out is not confirmed one by one: it is a dangling reference
(or an object the connector cannot see) and the offers that need it stay unresolved.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Final

import polars as pl

from offer_analytics.bindbee._client import BindbeeClient, RequestStats
from offer_analytics.bindbee._credentials import Connector
from offer_analytics.decode import DecodeStats
from offer_analytics.enrich import (
    RELATED_PATHS,
    RESOURCES,
    RelatedTables,
    decode_related,
    expanded_applications,
    needed_ids,
)
from offer_analytics.load._arguments import modified_after_param
from offer_analytics.load._job import FetchJob
from offer_analytics.load._sink import PageDecoder, PageSink

__all__ = ["STAGES", "RelatedLoad", "fetch_related"]

#: Resources fetched together; each stage needs the tables of the stages before it.
STAGES: Final = (("applications",), ("jobs",), ("departments", "offices", "users"))


@dataclass
class RelatedLoad:
    """What fetching the related objects got and cost.

    Attributes
    ----------
    tables
        The related objects found, one typed table per resource.
    requests
        Requests sent per resource, retries included.
    stats
        The requests' costs summed over resources (requests, retries, 429s, budget waits).
    missing
        Per resource and connector, ids that no page returned (dangling references).
    failed
        Per connector, ``"<resource>/<id>"`` of what still failed after every retry.
    errors
        Per connector, the first error given up on.
    """

    tables: RelatedTables = field(default_factory=RelatedTables.empty)
    requests: dict[str, int] = field(default_factory=dict)
    stats: RequestStats = field(default_factory=RequestStats)
    missing: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    failed: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, Exception] = field(default_factory=dict)

    def note(self) -> str:
        """One line for the load report: the requests per resource and what dangled."""
        spent = ", ".join(f"{name} {n}" for name, n in self.requests.items())
        dangling = sum(len(ids) for per in self.missing.values() for ids in per.values())
        return (
            f"Enrichment: {self.stats.requests} requests ({spent}); "
            f"{dangling} referenced objects not found."
        )

    def _add(self, resource: str, job: FetchJob) -> None:
        self.requests[resource] = job.stats.requests
        for name in ("requests", "retries", "rate_limited", "budget_wait_s"):
            setattr(self.stats, name, getattr(self.stats, name) + getattr(job.stats, name))
        self.missing[resource] = {k: v for k, v in job.missing.items() if v}
        for label, ids in job.failed.items():
            self.failed.setdefault(label, []).extend(f"{resource}/{i}" for i in ids)
        for label, error in job.errors.items():
            self.errors.setdefault(label, error)


async def _fetch_resource(
    resource: str,
    wanted: Mapping[str, Sequence[str]] | str,
    client: BindbeeClient,
    connectors: Sequence[Connector],
    executor: Executor,
) -> tuple[pl.DataFrame, FetchJob]:
    """Objects of ``resource``: the ids wanted per connector, or (text) those modified after."""
    listing = isinstance(wanted, str)
    job = FetchJob(
        client,
        params={"modified_after": wanted} if isinstance(wanted, str) else {},
        page_size=200,
        path=RELATED_PATHS[resource],
        confirm_missing=False,
    )

    def decode(chunk: Sequence[bytes], *, connector: str) -> tuple[pl.DataFrame, DecodeStats]:
        frame = decode_related(resource, chunk, connector=connector)
        return frame, DecodeStats(frame.height)

    decoder = PageDecoder(decode, executor=executor)
    sinks: dict[str, PageSink] = {}
    async with asyncio.TaskGroup() as group:
        for connector in connectors:
            ids = None if isinstance(wanted, str) else wanted.get(connector.label)
            if not listing and not ids:
                continue
            sinks[connector.label] = sink = decoder.sink(connector.label)
            if ids is None:
                group.create_task(job.listing(connector, sink))
            else:
                group.create_task(job.by_ids(connector, ids, sink))
    frames = [decode_related(resource, [], connector="default")]
    for sink in sinks.values():
        frames.extend((await sink.results())[0])
    return pl.concat(frames, how="vertical"), job


async def fetch_related(
    offers: pl.DataFrame,
    *,
    client: BindbeeClient,
    connectors: Sequence[Connector],
    executor: Executor | None = None,
    modified_after: datetime | date | str | None = None,
) -> RelatedLoad:
    """Fetch the applications, jobs, departments, offices and users ``offers`` need.

    Parameters
    ----------
    offers
        Offers frame(s) with ``connector``, ``application`` and ``creator``: only the objects
        these offers lead to are fetched.
    client
        The client to send every request through (and so the connectors' budgets).
    connectors
        The connectors the offers came from; offers of other labels are not enriched.
    executor
        Where pages are decoded; a one-thread pool of its own by default.
    modified_after
        Also list the jobs, departments, offices and users modified after this instant (naive
        = UTC), whether these offers need them or not: what a store refreshing its tables
        passes (its last watermark), so that a renamed department or a job moved to another
        team reaches offers that did not change. Applications are not listed (they change
        with every interview stage); an offer's application comes with the offer.

    Returns
    -------
    RelatedLoad
        The tables (pass them to :func:`~offer_analytics.enrich.enrich_offers`) and the cost.
    """
    own = executor is None
    pool = executor or ThreadPoolExecutor(max_workers=1, thread_name_prefix="related-decode")
    # Applications the offers carry expanded cost nothing; only the others are fetched.
    start = replace(RelatedTables.empty(), applications=expanded_applications(offers))
    result = RelatedLoad(tables=start)
    since = modified_after_param(modified_after)
    try:
        if since is not None:
            await _list_changed(result, since, client, connectors, pool)
        for stage in STAGES:
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(
                        _fetch_resource(
                            r, needed_ids(r, offers, tables=result.tables), client, connectors, pool
                        )
                    )
                    for r in stage
                ]
            tables = {}
            for resource, task in zip(stage, tasks, strict=True):
                frame, job = task.result()
                held = getattr(result.tables, resource)
                tables[resource] = (
                    pl.concat([held, frame], how="vertical") if held.height else frame
                )
                result._add(resource, job)
            result.tables = replace(result.tables, **tables)
    except BaseExceptionGroup as group_error:
        # A typed error (401, 403, a page of the wrong shape): the first is the cause.
        raise _first_cause(group_error) from None
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
    return result


async def _list_changed(
    result: RelatedLoad,
    since: str,
    client: BindbeeClient,
    connectors: Sequence[Connector],
    pool: Executor,
) -> None:
    """Add the objects modified after ``since`` to ``result`` (all but applications)."""
    listed = RESOURCES[1:]
    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(_fetch_resource(r, since, client, connectors, pool)) for r in listed
        ]
    for resource, task in zip(listed, tasks, strict=True):
        frame, job = task.result()
        result.tables = replace(result.tables, **{resource: frame})
        result._add(f"{resource} (modified)", job)


def _first_cause(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error
