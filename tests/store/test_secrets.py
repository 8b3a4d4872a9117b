"""No key or token of a sync in its errors, their tracebacks' locals, reports, reprs or logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from offer_analytics import PartialSyncError, SyncLockedError, sync
from offer_analytics.errors import ConfigurationError, OfferAnalyticsError
from offer_analytics.sandbox import SandboxServer
from offer_analytics.store._commit import ConnectorJob
from offer_analytics.store._credentials import SyncCredentials
from offer_analytics.store._dataset import Dataset
from tests.conftest import LeakFinder

KEY = "sk-live-DISTINCTIVE-key-77d1c2"
TOKEN = "ct-DISTINCTIVE-token-0b9e41"


def leaks_of_sync(error: BaseException, secrets: list[str], leaks: LeakFinder) -> list[str]:
    """Leaks from the error and, for a PartialSyncError, each connector's error and the report."""
    found = leaks(error, secrets)
    for each in getattr(error, "errors", {}).values():
        found += leaks(each, secrets)
    report = getattr(error, "report", None)
    if report is not None:
        texts = [repr(report), repr(dict(report.failed)), *map(repr, report.connectors)]
        found += [f"report: {text[:200]!r}" for text in texts for s in secrets if s in text]
    return found


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
    tmp_path: Path, arguments: dict[str, object], leaks: LeakFinder
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        sync(tmp_path, **arguments)  # type: ignore[arg-type]
    assert leaks_of_sync(caught.value, [KEY, TOKEN], leaks) == []


def test_failed_and_locked_connectors_keep_no_secret_anywhere(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, leaks: LeakFinder
) -> None:
    caplog.set_level(logging.DEBUG)
    with SandboxServer(n_offers=60, connectors=2, seed=2) as server:
        tokens = {"acme": server.connector_tokens["acme"], "hris": server.forbidden_token,
                  "globex": server.connector_tokens["globex"]}  # fmt: skip
        secrets = [server.api_key, *tokens.values()]
        access = {"connectors": tokens, "api_key": server.api_key, "base_url": server.base_url}
        lock = Dataset(tmp_path).lock("globex")
        lock.acquire()
        try:
            with pytest.raises(PartialSyncError) as caught:
                sync(tmp_path, **access)  # type: ignore[arg-type]
        finally:
            lock.release()
        assert isinstance(caught.value.errors["globex"], SyncLockedError)
        assert leaks_of_sync(caught.value, secrets, leaks) == []
        with pytest.raises(OfferAnalyticsError) as wrong_key:
            sync(tmp_path, **{**access, "api_key": KEY})  # type: ignore[arg-type]
        assert leaks_of_sync(wrong_key.value, [KEY, *secrets], leaks) == []
    assert not any(secret in caplog.text for secret in [KEY, *secrets])


def test_a_connector_job_shows_no_secret(tmp_path: Path) -> None:
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
    assert not any(secret in f"{job!r} {job}" for secret in (KEY, TOKEN))
