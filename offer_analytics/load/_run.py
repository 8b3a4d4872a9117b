"""LoadRun: one :class:`~offer_analytics.load._plan.LoadPlan` carried out against one client.

Where the time goes decides the shape. Cursor pages of one listing are fetched one after another
(the cursor of page n comes with page n - 1) while connectors and id batches run concurrently;
pages are decoded in a worker thread while the next ones are fetched, and the first page that
fails to decode ends the load. The run then gathers each connector's frames, writes the
:class:`~offer_analytics.load._load_report.LoadReport` and decides whether what failed is an
error or, with ``keep_partial``, part of the report. The whole fetch runs under the load's
deadline (:mod:`offer_analytics.load._deadline`): when it passes, fetching stops, the pages
received are decoded as usual, and what is missing is reported like any other failure.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Final

import polars as pl

from offer_analytics.bindbee._client import BindbeeClient
from offer_analytics.decode import DecodeStats
from offer_analytics.enrich import enrich_offers
from offer_analytics.errors import LoadTimeoutError, PartialLoadError
from offer_analytics.load._deadline import LoadDeadline
from offer_analytics.load._job import LISTING, FetchJob
from offer_analytics.load._load_report import LoadReport, LoadResult
from offer_analytics.load._plan import LoadPlan
from offer_analytics.load._progress import ProgressCallback, ProgressUpdate
from offer_analytics.load._related import RelatedLoad, fetch_related
from offer_analytics.load._sink import PageDecoder, PageSink, merge_unparsed

__all__ = ["WATERMARK_OVERLAP", "LoadRun"]

#: Subtracted from a load's start time to give its watermark: Bindbee's ``modified_at`` is its own
#: sync clock, which may lag the source ATS and our clock; re-reading a few minutes is cheap.
WATERMARK_OVERLAP: Final = timedelta(minutes=5)


class LoadRun:
    """Fetch and decode what a plan asks for, then report.

    Parameters
    ----------
    plan
        What to load.
    client
        The client to send every request through; the caller owns (and closes) it.
    progress
        Called after every response.
    """

    def __init__(
        self, plan: LoadPlan, client: BindbeeClient, *, progress: ProgressCallback | None
    ) -> None:
        self._plan = plan
        self._client = client
        self._progress = progress
        self._job = FetchJob(
            client, params=plan.params, page_size=plan.page_size, progress=self._on_progress
        )
        labels = {c.label: c for c in plan.connectors}
        self._deadline = LoadDeadline(
            plan.deadline_s,
            planned=self._job.planned,
            interval_s=lambda label: client.gate(labels[label]).interval_s,
            request_deadline_s=client.request_deadline_s,
            max_pause_s=client.max_pause_s,
        )
        self._timeout: asyncio.Timeout | None = None
        self._started_loop = 0.0
        self._timed_out: float | None = None
        self._duplicates: dict[str, int] = {}
        # Only what this load adds: a client= shared by several loads keeps its gates' notes.
        self._notes_before = {c.label: len(client.notes(c)) for c in plan.connectors}
        self._related = RelatedLoad()  # what enrichment fetched and spent, when asked for
        self._started_wall = datetime.now(UTC)
        self._started = time.perf_counter()

    async def run(self) -> LoadResult:
        """Carry out the plan; the result, or :class:`PartialLoadError` for what failed."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="offer-decode")
        finished = False
        try:
            sinks = self._sinks(executor)
            await self._fetch(sinks)
            frame, stats = await self._collect(sinks)
            if self._plan.enrich:
                self._related = await fetch_related(
                    frame, client=self._client, connectors=self._plan.connectors, executor=executor
                )
                frame = enrich_offers(frame, self._related.tables).drop(
                    self._plan.drop_after_enrich
                )
            finished = True
        finally:
            # A failed or cancelled load drops the chunks still queued for decoding.
            executor.shutdown(wait=True, cancel_futures=not finished)
        report = self._report(frame, stats)
        if not report.complete and not self._plan.keep_partial:
            raise self._partial_error(frame, report)
        return LoadResult(frame, report)

    def _sinks(self, executor: ThreadPoolExecutor) -> dict[str, PageSink]:
        self._decode_failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def stop_on_decode_error(error: BaseException) -> None:
            if not self._decode_failed.done():
                self._decode_failed.set_exception(error)

        decoder = PageDecoder(self._plan.decode, executor=executor, on_error=stop_on_decode_error)
        return {c.label: decoder.sink(c.label) for c in self._plan.connectors}

    async def _fetch(self, sinks: dict[str, PageSink]) -> None:
        """Every request of the plan, with pages handed to each connector's decoding sink."""
        decode_failed = self._decode_failed
        loop = asyncio.get_running_loop()
        self._started_loop = loop.time()
        first = self._deadline.seconds()
        try:
            when = None if first is None else self._started_loop + first
            async with asyncio.timeout_at(when) as timeout:
                self._timeout = timeout
                async with asyncio.TaskGroup() as group:
                    # The first page that fails to decode ends the load: fetching the rest of a
                    # listing whose result will be thrown away only spends the budget.
                    watcher = group.create_task(_raise_when_set(decode_failed))
                    fetching = group.create_task(self._fetch_all(sinks))
                    fetching.add_done_callback(lambda _: watcher.cancel())
        except BaseExceptionGroup as group_error:
            # A typed error (401, 403, 422, a cursor loop, a page that failed to decode): the
            # first one is the cause; the others were cancelled because of it.
            raise _first_cause(group_error) from None
        except TimeoutError:
            if not timeout.expired():
                raise
            self._timed_out = loop.time() - self._started_loop
            for label, what in self._job.unfinished(
                [c.label for c in self._plan.connectors], self._plan.ids
            ).items():
                self._job.failed.setdefault(label, []).extend(what)
        finally:
            if not decode_failed.done():
                decode_failed.cancel()  # later chunks raise from results() instead

    def _on_progress(self, update: ProgressUpdate) -> None:
        """Every response: tell the caller, and move a deadline that follows the work."""
        timeout = self._timeout
        if self._deadline.follows_the_work and timeout is not None and not timeout.expired():
            now = asyncio.get_running_loop().time()
            self._deadline.progressed(now - self._started_loop)
            seconds = self._deadline.seconds()
            if seconds is not None:
                timeout.reschedule(self._started_loop + seconds)
        if self._progress is not None:
            self._progress(update)

    async def _fetch_all(self, sinks: dict[str, PageSink]) -> None:
        plan, job = self._plan, self._job
        async with asyncio.TaskGroup() as group:
            for connector in plan.connectors:
                sink = sinks[connector.label]
                if plan.ids is None:
                    group.create_task(job.listing(connector, sink))
                elif connector.label in plan.ids:
                    group.create_task(job.by_ids(connector, plan.ids[connector.label], sink))

    async def _collect(self, sinks: dict[str, PageSink]) -> tuple[pl.DataFrame, list[DecodeStats]]:
        """One frame, connectors in order (ids in the order asked), and every chunk's stats."""
        frames: list[pl.DataFrame] = []
        stats: list[DecodeStats] = []
        for connector in self._plan.connectors:
            label = connector.label
            connector_frames, connector_stats = await sinks[label].results()
            frame = self._without_repeats(self._concat(connector_frames, label), label)
            if self._plan.ids is not None and label in self._plan.ids:
                frame = _in_requested_order(frame, self._plan.ids[label])
            frames.append(frame)
            stats.extend(connector_stats)
        frame = pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]
        return frame, stats

    def _concat(self, frames: list[pl.DataFrame], label: str) -> pl.DataFrame:
        if not frames:
            empty, _ = self._plan.decode([], connector=label)
            return empty
        return pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]

    def _without_repeats(self, frame: pl.DataFrame, label: str) -> pl.DataFrame:
        """One row per offer version: a server that serves an offer on two pages (a page
        boundary that moved) must not make it count twice. Identical rows only."""
        # Distinct 64-bit hashes of the ids prove there are no repeats; a collision only sends
        # the frame to the exact check below. Hashing first keeps the check's memory at 8 bytes
        # per row: counting distinct strings cost ~17 MB more at the end of a 1M-offer load.
        if frame.height == 0 or frame["id"].hash().n_unique() == frame.height:
            return frame
        kept = frame.unique(maintain_order=True)
        if kept.height < frame.height:
            self._duplicates[label] = frame.height - kept.height
        return kept

    def _report(self, frame: pl.DataFrame, stats: Sequence[DecodeStats]) -> LoadReport:
        job, connectors, related = self._job, self._plan.connectors, self._related
        gate_notes = [
            note
            for c in connectors
            for note in self._client.notes(c)[self._notes_before[c.label] :]
        ]
        return LoadReport(
            connectors=tuple(c.label for c in connectors),
            requests=job.stats.requests + related.stats.requests,
            retries=job.stats.retries + related.stats.retries,
            rate_limited=job.stats.rate_limited + related.stats.rate_limited,
            budget_wait_s=job.stats.budget_wait_s + related.stats.budget_wait_s,
            pages=job.pages,
            offers=frame.height,
            missing={label: tuple(ids) for label, ids in job.missing.items() if ids},
            failed={
                label: (*job.failed.get(label, ()), *related.failed.get(label, ()))
                for label in {**job.failed, **related.failed}
                if job.failed.get(label) or related.failed.get(label)
            },
            duration_s=time.perf_counter() - self._started,
            watermark=self._started_wall - WATERMARK_OVERLAP,
            unparsed_timestamps=merge_unparsed(stats),
            notes=(
                *job.notes,
                *gate_notes,
                *self._notes(),
                *([related.note()] if self._plan.enrich else []),
            ),
            enrich_requests=related.stats.requests,
        )

    def _notes(self) -> list[str]:
        notes = [
            f"Connector {label!r} served {count:,} offers twice (on two pages); kept one copy."
            for label, count in self._duplicates.items()
        ]
        if self._timed_out is not None:
            notes.append(f"The load stopped at its deadline, after {self._timed_out:,.0f} s.")
        return notes

    def _partial_error(self, frame: pl.DataFrame, report: LoadReport) -> PartialLoadError:
        if self._timed_out is not None:
            return self._timeout_error(frame, report)
        failed = ", ".join(f"{label!r}" for label in report.failed)
        cause = next(iter({**self._related.errors, **self._job.errors}.values()), None)
        msg = (
            f"The load of {failed} did not finish after every retry; exception.frame holds the "
            f"{frame.height} offers loaded, exception.missing what is not. Retry later, or pass "
            f"keep_partial=True to keep partial results. First error: {cause}"
        )
        error = PartialLoadError(msg, frame=frame, report=report, missing=report.failed)
        error.__cause__ = cause
        return error

    def _timeout_error(self, frame: pl.DataFrame, report: LoadReport) -> LoadTimeoutError:
        setting = self._plan.deadline_s
        which = (
            f"deadline_s={setting:g}"
            if isinstance(setting, float)
            else f"the automatic deadline of {self._deadline.seconds() or 0:,.0f} s"
        )
        parts = [
            f"connector {label!r}: "
            + ("the rest of its listing" if list(what) == [LISTING] else f"{len(what):,} ids")
            for label, what in report.failed.items()
        ]
        loaded = ", ".join(
            f"{label!r} {count:,}"
            for label, count in frame.group_by("connector", maintain_order=True).len().rows()
        )
        msg = (
            f"The load did not finish within {which}: the server answered too slowly or not at "
            f"all. Loaded {frame.height:,} offers ({loaded or 'none'}); not loaded: "
            f"{'; '.join(parts)}. exception.frame holds what was loaded, exception.missing what "
            "is not. Retry later, pass a larger deadline_s= for a load this big, or "
            "keep_partial=True to keep partial results."
        )
        return LoadTimeoutError(msg, frame=frame, report=report, missing=report.failed)


async def _raise_when_set(failed: asyncio.Future[None]) -> None:
    """Raise the error ``failed`` is given; cancelled once fetching has ended without one."""
    await failed


def _first_cause(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


def _in_requested_order(frame: pl.DataFrame, ids: Sequence[str]) -> pl.DataFrame:
    """Rows in the order the (distinct) ids were asked for (batches finish in any order)."""
    order = pl.DataFrame({"id": ids}, schema={"id": pl.String}).with_row_index("__order")
    return frame.join(order, on="id", how="left").sort("__order").drop("__order")
