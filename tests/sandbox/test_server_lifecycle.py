"""SandboxServer as a Python object: start/stop, credentials, changing data, the request log."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from offer_analytics.sandbox import Faults, SandboxServer, generate_offers

Lister = Callable[[httpx.Client, dict[str, Any] | None], list[dict[str, Any]]]
OFFERS = "/api/ats/v1/offers"


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_start_stop_is_repeatable_and_frees_the_port(client_for: Any) -> None:
    server = SandboxServer(n_offers=20, connectors=1)
    threads = threading.active_count()
    ports = []
    for _ in range(3):
        started = time.perf_counter()
        with server:
            ports.append(server.port)
            client = client_for(server, "default")
            assert client.get(OFFERS).status_code == 200  # leaves a keep-alive connection open
            assert server.request_log[-1].status == 200
        assert time.perf_counter() - started < 5  # stop never hangs on an idle connection
        assert not server.running
        assert _port_is_free(ports[-1])
    server.stop()  # stopping twice is fine
    assert threading.active_count() == threads
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.base_url


def test_a_fixed_port_can_be_reused_right_away() -> None:
    with SandboxServer(n_offers=5, connectors=1) as first:
        port = first.port
    with SandboxServer(n_offers=5, connectors=1, port=port) as second:
        assert second.base_url == f"http://127.0.0.1:{port}"
        with pytest.raises(OSError, match="in use"):  # while it runs, the port is taken
            SandboxServer(n_offers=5, connectors=1, port=port).start()


def test_credentials_are_distinct_and_never_in_the_repr() -> None:
    server = SandboxServer(n_offers=6, connectors=3)
    secrets = [server.api_key, server.forbidden_token, *server.connector_tokens.values()]
    assert len(set(secrets)) == 5
    with server:
        running = repr(server)
        assert server.base_url in running
    for text in (running, repr(server)):
        assert not any(secret in text for secret in secrets)
        assert "acme" in text


def test_refuses_non_loopback_hosts_and_bad_limits() -> None:
    with pytest.raises(ValueError, match="loopback"):
        SandboxServer(n_offers=1, host="0.0.0.0")
    with pytest.raises(ValueError, match="rate limit"):
        SandboxServer(n_offers=1, rate_limit=0)
    with pytest.raises(ValueError, match="at most 1"):
        Faults(error_rate=0.6, drop_rate=0.6)


def test_serves_given_offers_under_their_labels(client_for: Any, listing: Lister) -> None:
    given = {"eu": generate_offers(12, seed=3)["default"], "us": []}
    with SandboxServer(offers=given) as server:
        assert server.labels == ["eu", "us"]
        assert len(listing(client_for(server, "eu"), {"page_size": 5})) == 12
        assert listing(client_for(server, "us"), None) == []
        given["eu"][0]["status"] = "CHANGED"  # the server holds its own copy
        assert server.offers("eu")[0]["status"] != "CHANGED"


def test_update_offer_advances_modified_at_and_sync_sees_it(
    client_for: Any, listing: Lister
) -> None:
    with SandboxServer(n_offers=200, connectors=2, seed=9) as server:
        client = client_for(server, "globex")
        before = server.offers("globex")
        watermark = max(datetime.fromisoformat(o["modified_at"]) for o in before)
        target = before[42]
        updated = server.update_offer("globex", target["id"], status="SIGNED", closed_at=None)
        assert updated["status"] == "SIGNED"
        stamp = datetime.fromisoformat(updated["modified_at"])
        assert stamp > watermark
        assert abs((stamp - datetime.now(UTC)).total_seconds()) < 5
        assert updated["modified_at"].endswith("Z")  # the format Bindbee uses
        changed = listing(client, {"modified_after": watermark.isoformat()})
        assert [o["id"] for o in changed] == [target["id"]]
        assert changed[0]["status"] == "SIGNED"
        fetched = client.get(f"{OFFERS}/{target['id']}").json()
        assert fetched["modified_at"] == updated["modified_at"]
        assert server.offers("acme") == server.offers("acme")  # other connector untouched
        with pytest.raises(KeyError):
            server.update_offer("globex", "no-such-id", status="X")
        with pytest.raises(ValueError, match="cannot set"):
            server.update_offer("globex", target["id"], salary=1)


def test_add_offers_appends_and_an_open_listing_continues_into_them(
    client_for: Any, listing: Lister
) -> None:
    with SandboxServer(n_offers=30, connectors=1, seed=4) as server:
        client = client_for(server, "default")
        first = client.get(OFFERS, params={"page_size": 20}).json()
        new = generate_offers(5, seed=99)["default"]
        server.add_offers("default", new)
        rest = client.get(OFFERS, params={"page_size": 20, "cursor": first["cursor"]}).json()
        ids = [o["id"] for o in first["items"] + rest["items"]]
        assert ids == [o["id"] for o in server.offers("default")]
        assert ids[-5:] == [o["id"] for o in new]
        assert len(listing(client, {"modified_after": "2026-11-01"})) >= 5
        with pytest.raises(ValueError, match="duplicate"):
            server.add_offers("default", new[:1])
        with pytest.raises(KeyError, match="labels"):
            server.add_offers("nope", new)


def test_request_log_records_what_was_asked_and_answered(client_for: Any) -> None:
    with SandboxServer(n_offers=10, connectors=2) as server:
        client_for(server, "acme").get(OFFERS, params={"page_size": 3, "ids": "a,b"})
        httpx.get(server.offers_url)  # unauthenticated
        log = server.request_log
        assert [(r.connector, r.status, r.fault) for r in log] == [
            ("acme", 200, None),
            (None, 401, None),
        ]
        first = log[0]
        assert (first.method, first.path) == ("GET", OFFERS)
        assert first.query == "page_size=3&ids=a%2Cb"
        assert first.url_length == len(OFFERS) + 1 + len(first.query)
        assert first.time <= log[1].time <= time.monotonic()
        server.clear_request_log()
        assert server.request_log == []


def test_stop_does_not_hang_on_a_request_in_flight() -> None:
    server = SandboxServer(n_offers=5, connectors=1, faults=Faults(latency_ms=30_000)).start()
    answers: list[int] = []
    headers = {
        "Authorization": f"Bearer {server.api_key}",
        "x-connector-token": server.connector_tokens["default"],
    }

    def slow_request() -> None:
        answers.append(httpx.get(server.offers_url, headers=headers, timeout=60).status_code)

    thread = threading.Thread(target=slow_request)
    thread.start()
    time.sleep(0.3)
    started = time.perf_counter()
    server.stop()
    assert time.perf_counter() - started < 8  # a 2 s grace period, then in-flight work is cut
    thread.join(10)
    assert answers == [503]  # answered as a server going down, retryable
