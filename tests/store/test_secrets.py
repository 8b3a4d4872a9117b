"""No key or token of a sync in its errors, their tracebacks' locals, reports, reprs or logs.

Tools that record a traceback's locals (Sentry, rich) call ``repr`` on every local of every frame
down the chain, so the test does the same and looks for distinctive secrets.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from offer_analytics import PartialSyncError, SyncLockedError, sync
from offer_analytics.errors import ConfigurationError, OfferAnalyticsError
from offer_analytics.sandbox import SandboxServer
from offer_analytics.store._commit import ConnectorJob
from offer_analytics.store._dataset import Dataset

KEY = "sk-live-DISTINCTIVE-key-77d1c2"
TOKEN = "ct-DISTINCTIVE-token-0b9e41"


def chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException] = [error]
    while todo:
        each = todo.pop()
        if id(each) in seen:
            continue
        seen.add(id(each))
        yield each
        todo += [e for e in (each.__cause__, each.__context__) if e is not None]
        todo += list(getattr(each, "errors", {}).values())


def texts_of(error: BaseException) -> Iterator[str]:
    """What a crash reporter would record of ``error``: messages, reprs of every frame's locals."""
    for each in chain(error):
        yield str(each)
        yield repr(each)
        report = getattr(each, "report", None)
        if report is not None:
            yield repr(report)
            yield repr(dict(report.failed))
        tb = each.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == __file__:  # this test holds them, of course
                tb = tb.tb_next
                continue
            for name, value in tb.tb_frame.f_locals.items():
                yield f"{name}={value!r}"
            tb = tb.tb_next


def assert_no_secret(texts: Iterator[str], *secrets: str) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text


@pytest.mark.parametrize(
    "arguments",
    [
        {"connector_token": TOKEN, "connectors": {"acme": TOKEN}, "api_key": KEY},
        {"connectors": {"acme": TOKEN}, "api_key": KEY, "base_url": "http://example.com"},
        {"connectors": {"../up": TOKEN}, "api_key": KEY},
        {"connectors": {"acme": TOKEN}, "api_key": KEY, "profile": "fast"},
    ],
    ids=["both tokens", "plain http", "bad label", "bad profile"],
)
def test_a_refused_sync_keeps_no_secret_in_its_traceback(
    tmp_path: Path, arguments: dict[str, object]
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        sync(tmp_path, **arguments)  # type: ignore[arg-type]
    assert_no_secret(texts_of(caught.value), KEY, TOKEN)


def test_failed_and_locked_connectors_keep_no_secret_anywhere(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with SandboxServer(n_offers=60, connectors=2, seed=2) as server:
        tokens = {"acme": server.connector_tokens["acme"], "hris": server.forbidden_token,
                  "globex": server.connector_tokens["globex"]}  # fmt: skip
        secrets = (server.api_key, *tokens.values())
        access = {"connectors": tokens, "api_key": server.api_key, "base_url": server.base_url}
        lock = Dataset(tmp_path).lock("globex")
        lock.acquire()
        try:
            with pytest.raises(PartialSyncError) as caught:
                sync(tmp_path, **access)  # type: ignore[arg-type]
        finally:
            lock.release()
        assert isinstance(caught.value.errors["globex"], SyncLockedError)
        assert_no_secret(texts_of(caught.value), *secrets)
        with pytest.raises(OfferAnalyticsError) as wrong_key:
            sync(tmp_path, **{**access, "api_key": KEY})  # type: ignore[arg-type]
        assert_no_secret(texts_of(wrong_key.value), KEY, *secrets)
    assert_no_secret(iter([caplog.text]), KEY, *secrets)


def test_a_connector_job_shows_no_secret(tmp_path: Path) -> None:
    from offer_analytics.store._credentials import SyncCredentials

    job = ConnectorJob(
        dataset=Dataset(tmp_path),
        label="acme",
        full=False,
        credentials=SyncCredentials.resolve(KEY, None, {"acme": TOKEN}),
        load_options={},
        client_options={},
        columns=(),
        mapping="",
        profile="default",
    )
    assert_no_secret(iter([repr(job), str(job)]), KEY, TOKEN)
