"""``sync``: keep a dataset folder up to date with the API, connector by connector.

The entry point checks everything that needs no request (labels, shard, options against what is
stored), then runs one :class:`~offer_analytics.store._commit.ConnectorJob` per connector in a
pool of threads; each takes its connector's lock first. Connectors are independent: one that
fails (or is locked by another sync) leaves its stored data as it was and the others are still
committed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from offer_analytics.bindbee import RetryPolicy
from offer_analytics.enrich import ENRICHED_COLUMNS
from offer_analytics.errors import ConfigurationError, PartialSyncError, SyncLockedError
from offer_analytics.load import ProgressUpdate, RichProgress
from offer_analytics.schema import offers_schema, resolve_outcome_mapping
from offer_analytics.store._commit import ConnectorJob
from offer_analytics.store._credentials import SyncCredentials
from offer_analytics.store._dataset import Dataset
from offer_analytics.store._labels import check_labels, in_shard, validate_shard
from offer_analytics.store._parquet import Profile
from offer_analytics.store._report import ConnectorSync, SyncReport
from offer_analytics.store._state import check_same_options, mapping_fingerprint, read_state

__all__ = ["sync"]


def sync(
    path: str | Path,
    *,
    connectors: Mapping[str, str] | None = None,
    connector_token: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    full: bool = False,
    shard: tuple[int, int] | None = None,
    progress: Callable[[ProgressUpdate], None] | bool | None = None,
    rate_limit: tuple[int, float] | None = None,
    concurrency: int | None = None,
    retry: RetryPolicy | None = None,
    page_size: int = 200,
    parallel: int = 8,
    include_custom_fields: bool = False,
    include_raw_data: bool = False,
    expand: Sequence[str] | str = (),
    outcome_mapping: Mapping[str, str] | None = None,
    profile: Profile = "default",
    enrich: bool = False,
) -> SyncReport:
    """Bring a dataset folder up to date with the API: incremental, atomic, per connector.

    The first sync of a connector loads all its offers; each later one lists only the offers
    modified after the stored watermark (the previous load's start minus a few minutes of
    overlap, so that offers changed during a sync are not lost) and upserts them on ``id``,
    keeping the row with the latest ``modified_at``. ``full=True`` reloads everything and
    removes the offers the API no longer returns. Each connector's table is replaced atomically
    and its state moves only after the data is durable: a crash leaves every connector at its
    previous or its new state, and the next sync converges. Layout and guarantees: docs/store.md.

    Parameters
    ----------
    path
        The dataset folder (created if missing). Read it with :func:`read_offers`.
    connectors, connector_token
        ``{label: token}``, or one token (labelled ``"default"``); default
        ``BINDBEE_CONNECTOR_TOKEN``. Labels become folder names: ``/``, ``..``, a leading ``.``
        or ``_``, ``=``, ``%`` and control characters are refused.
    api_key, base_url
        As for :func:`~offer_analytics.load_offers` (``BINDBEE_API_KEY``, ``BINDBEE_BASE_URL``).
    full
        Reload every connector whole and reconcile deletions.
    shard
        ``(index, count)``: sync only the connectors whose label hashes (a stable SHA-256) to
        shard ``index`` of ``count``. Shards write disjoint partitions, so ``count`` processes
        or machines may sync into one folder at once.
    progress
        True for a progress bar on standard error (one line per connector), or a callback
        receiving each connector's :class:`~offer_analytics.ProgressUpdate`, called from worker
        threads.
    rate_limit, concurrency, page_size, include_custom_fields, include_raw_data, expand
        Passed to the loader (``rate_limit`` and ``concurrency`` per connector). The
        ``expand``/``include_*`` options of a connector's table are fixed by its first sync;
        changing them takes a ``full=True`` run.
    retry
        How often and how long a failed request is retried (a
        :class:`~offer_analytics.RetryPolicy`; default: the loader's). A connector whose
        requests still fail fails alone (see ``PartialSyncError``).
    outcome_mapping
        Passed to the loader; changing it also takes a ``full=True`` run (the stored outcomes
        were mapped with the old one).
    parallel
        Connectors synced at once (each in a thread with its own connection pool).
    profile
        The Parquet profile of the files (see :func:`export_parquet`).
    enrich
        Add each offer's job, department, office and recruiter, as
        ``load_offers(enrich=True)`` does. The connector's related objects are kept in the
        dataset (``related/<resource>/connector=<label>/``); each sync fetches those its new
        offers need and those modified since the last sync, and re-enriches every stored offer,
        so that a renamed department reaches old offers too. Fixed by the first sync, like
        ``expand``; turning it on or off takes a ``full=True`` run.

    Returns
    -------
    SyncReport
        Per connector: new, updated, unchanged and removed offers, requests, the watermark before
        and after, and the loader's report.

    Raises
    ------
    ConfigurationError
        Before any request: bad labels, shard, options, or options that differ from what is
        stored without ``full=True``.
    SyncLockedError
        Another sync of these connectors into this folder is running; nothing was done. (When
        only some of them are locked, the others are synced and a ``PartialSyncError`` names
        the locked ones.)
    PartialSyncError
        Some connectors failed (their data is unchanged) while others were committed, or every
        connector failed but not all for the same kind of reason; it carries the report and
        each failure.
    OfferAnalyticsError
        When every connector failed with the same kind of error, the first one itself (e.g.
        ``AuthenticationError`` for a wrong API key).

    Notes
    -----
    Connectors stored in the folder but not named in this call are left as they are. On
    Ctrl-C, connectors not started yet are skipped; those already loading finish in their
    threads and commit (holding their locks until then), since a load cannot be interrupted
    from another thread.

    Examples
    --------
    >>> import tempfile
    >>> from offer_analytics import read_offers
    >>> from offer_analytics.sandbox import SandboxServer
    >>> with SandboxServer(n_offers=300, connectors=2, seed=4) as server, \\
    ...         tempfile.TemporaryDirectory() as folder:
    ...     access = dict(connectors=server.connector_tokens, api_key=server.api_key,
    ...                   base_url=server.base_url)
    ...     first = sync(folder, **access)
    ...     offer = server.offers("acme")[0]
    ...     _ = server.update_offer("acme", offer["id"], status="SIGNED")
    ...     second = sync(folder, **access)
    ...     rows = read_offers(folder).collect().height
    >>> first.new, second["acme"].updated, second["acme"].requests, rows
    (300, 1, 1, 300)
    """
    started = time.perf_counter()
    try:
        credentials = SyncCredentials.resolve(api_key, connector_token, connectors)
    finally:
        del api_key, connector_token, connectors
    labels = check_labels(credentials.labels)
    shard = validate_shard(shard)
    _check_options(profile=profile, parallel=parallel, retry=retry, enrich=enrich)
    columns, mapping = _table_options(
        expand=expand,
        include_custom_fields=include_custom_fields,
        include_raw_data=include_raw_data,
        outcome_mapping=outcome_mapping,
        enrich=enrich,
    )
    load_options: dict[str, Any] = {
        "page_size": page_size,
        "include_custom_fields": include_custom_fields,
        "include_raw_data": include_raw_data,
        "expand": expand,
        "outcome_mapping": outcome_mapping,
    }
    client_options = _client_options(
        base_url=base_url, rate_limit=rate_limit, concurrency=concurrency, retry=retry
    )
    mine = in_shard(labels, shard)
    dataset = _open_dataset(Path(path), mine, full=full, columns=columns, mapping=mapping)
    jobs = [
        ConnectorJob(
            dataset=dataset,
            label=label,
            full=full,
            credentials=credentials,
            load_options=load_options,
            client_options=client_options,
            columns=columns,
            mapping=mapping,
            profile=profile,
            enrich=enrich,
        )
        for label in mine
    ]
    done, errors = _run_with_progress(jobs, parallel=parallel, progress=progress)
    report = SyncReport(
        path=dataset.root,
        connectors=tuple(done[label] for label in mine if label in done),
        skipped=tuple(label for label in labels if label not in mine),
        failed={label: f"{type(e).__name__}: {e}" for label, e in errors.items()},
        shard=shard,
        duration_s=time.perf_counter() - started,
    )
    if errors:
        _raise_failures(report, errors, order=mine)
    return report


def _check_options(*, profile: str, parallel: int, retry: RetryPolicy | None, enrich: bool) -> None:
    """Refuse, before any request, options that no connector could use."""
    if not isinstance(enrich, bool):
        raise ConfigurationError("enrich must be True or False.")
    if profile not in ("default", "compat"):
        raise ConfigurationError(f"profile must be 'default' or 'compat', not {profile!r}.")
    if not isinstance(parallel, int) or parallel < 1:
        raise ConfigurationError("parallel must be a positive number of connectors.")
    if retry is not None and not isinstance(retry, RetryPolicy):
        raise ConfigurationError("retry must be an offer_analytics.RetryPolicy (or None).")


def _client_options(
    *,
    base_url: str | None,
    rate_limit: tuple[int, float] | None,
    concurrency: int | None,
    retry: RetryPolicy | None,
) -> dict[str, Any]:
    """What each connector's client is built with: the options given (else its defaults)."""
    given: dict[str, Any] = {
        "base_url": base_url,
        "rate_limit": rate_limit,
        "concurrency": concurrency,
        "retry": retry,
    }
    return {name: value for name, value in given.items() if value is not None}


def _open_dataset(
    root: Path, labels: list[str], *, full: bool, columns: tuple[str, ...], mapping: str
) -> Dataset:
    """The dataset folder (created), once the stored options allow this sync of ``labels``."""
    dataset = Dataset(root)
    dataset.root.mkdir(parents=True, exist_ok=True)
    if not full:
        # Fail fast on the common mistake; each job checks again under its lock.
        for label in labels:
            check_same_options(label, read_state(dataset.state_file(label)), columns, mapping)
    return dataset


def _table_options(
    *,
    expand: Sequence[str] | str,
    include_custom_fields: bool,
    include_raw_data: bool,
    outcome_mapping: Mapping[str, str] | None,
    enrich: bool,
) -> tuple[tuple[str, ...], str]:
    """The stored table's columns and the outcome mapping's fingerprint for these options."""
    schema = offers_schema(
        expand=expand,
        include_custom_fields=include_custom_fields,
        include_raw_data=include_raw_data,
    )
    added = ENRICHED_COLUMNS if enrich else ()
    columns = tuple(c for c in (*schema, *added) if c != "connector")
    return columns, mapping_fingerprint(resolve_outcome_mapping(outcome_mapping))


def _raise_failures(
    report: SyncReport, errors: Mapping[str, BaseException], *, order: list[str]
) -> None:
    """Raise what the failures call for: the error itself, SyncLockedError or PartialSyncError.

    Only when nothing was committed and every connector failed the same way is one error
    enough to tell what happened; otherwise the PartialSyncError carries each of them.
    """
    first = next(label for label in order if label in errors)
    kinds = {type(error) for error in errors.values()}
    if not report.connectors and kinds == {SyncLockedError}:
        locked = [label for label in order if label in errors]
        raise SyncLockedError(
            f"Another sync of {', '.join(map(repr, locked))} into {report.path} is running; "
            "nothing was done. Wait for it to finish, or sync other connectors (shard=).",
            labels=locked,
        )
    if not report.connectors and len(kinds) == 1:
        raise errors[first]  # nothing committed: the cause itself (e.g. a wrong API key)
    failed = ", ".join(f"{label!r} ({report.failed[label]})" for label in errors)
    raise PartialSyncError(
        f"{len(report.connectors)} of {len(order)} connectors synced; failed, their stored "
        f"data unchanged: {failed}. Run the sync again to retry them.",
        report=report,
        errors=errors,
    ) from errors[first]


def _run_with_progress(
    jobs: list[ConnectorJob],
    *,
    parallel: int,
    progress: Callable[[ProgressUpdate], None] | bool | None,
) -> tuple[dict[str, ConnectorSync], dict[str, BaseException]]:
    """Run the jobs, drawing a progress bar around them when ``progress`` is True."""
    bar = RichProgress() if progress is True else None
    callback = bar if bar is not None else (progress if callable(progress) else None)
    with bar or contextlib.nullcontext():
        return _run(jobs, parallel=parallel, progress=callback)


def _run(
    jobs: list[ConnectorJob],
    *,
    parallel: int,
    progress: Callable[[ProgressUpdate], None] | None,
) -> tuple[dict[str, ConnectorSync], dict[str, BaseException]]:
    done: dict[str, ConnectorSync] = {}
    errors: dict[str, BaseException] = {}

    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="offer-sync")
    futures: dict[Future[ConnectorSync], str] = {}
    try:
        futures = {pool.submit(job.run, progress): job.label for job in jobs}
        for future in as_completed(futures):
            label = futures[future]
            try:
                done[label] = future.result()
            except Exception as error:  # one connector's failure; the others go on
                errors[label] = error
    except BaseException:
        # Ctrl-C: connectors not started yet are dropped; those loading finish and commit on
        # their own (a load in a worker thread cannot be interrupted from here).
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return done, errors
