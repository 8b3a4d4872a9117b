"""run_blocking and load_offers under Ctrl-C: the load stops at once and leaves no thread behind.

Each test sends itself a real SIGINT from a timer thread, always inside a ``try`` that catches
the ``KeyboardInterrupt``, and is bounded in time: a load that ignores the interrupt runs to its
end (a few seconds) and the test fails instead of hanging.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from offer_analytics import load_offers
from offer_analytics.load._blocking import run_blocking
from offer_analytics.sandbox import Faults, SandboxServer

OUR_THREADS = ("offer-analytics-load", "offer-decode")


@contextmanager
def interrupt_after(seconds: float) -> Iterator[None]:
    """Send this process a SIGINT after ``seconds``, as Ctrl-C in a terminal or notebook does."""
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()


def our_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(OUR_THREADS)]


def interrupted_after(call: Callable[[], object]) -> float | None:
    """Seconds until ``call`` raised KeyboardInterrupt, or None when it returned normally."""
    started = time.monotonic()
    try:
        call()
    except KeyboardInterrupt:
        return time.monotonic() - started
    return None


async def a_long_load(cancelled: list[bool]) -> None:
    try:
        await asyncio.sleep(5)
    except asyncio.CancelledError:
        cancelled.append(True)
        raise


def in_running_loop(body: Callable[[], object]) -> float | None:
    """Run ``body`` inside a loop that this thread runs, as a Jupyter cell does."""

    async def cell() -> float | None:
        return interrupted_after(body)

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(cell())
    finally:
        loop.close()


def test_ctrl_c_stops_a_load_inside_asyncio_run() -> None:
    slow = Faults(latency_ms=300)
    with SandboxServer(n_offers=400, connectors=1, seed=1, faults=slow) as server:

        def load() -> object:
            return load_offers(
                connector_token=server.connector_tokens["default"],
                api_key=server.api_key,
                base_url=server.base_url,
                page_size=20,  # 20 serial pages of 300 ms: 6 s uninterrupted
            )

        async def cell() -> float | None:
            return interrupted_after(load)

        escaped = False
        with interrupt_after(0.5):
            try:
                took = asyncio.run(cell())
            except KeyboardInterrupt:
                escaped, took = True, None
        stopped_at = time.monotonic()
        assert not escaped, "the interrupt must reach the caller of load_offers"
        assert took is not None
        assert took < 2.0
        assert our_threads() == []
        time.sleep(0.5)  # a request already at the server when Ctrl-C came may still finish
        assert [r for r in server.request_log if r.time > stopped_at + 0.4] == []


def test_ctrl_c_in_a_running_loop_cancels_the_load_and_joins_its_thread() -> None:
    cancelled: list[bool] = []
    with interrupt_after(0.2):
        took = in_running_loop(lambda: run_blocking(lambda: a_long_load(cancelled)))
    assert took is not None
    assert took < 1.5
    assert cancelled == [True]
    assert our_threads() == []


def test_ctrl_c_before_the_load_has_started_still_stops_it() -> None:
    started: list[bool] = []

    def slow_to_start() -> Coroutine[Any, Any, None]:
        time.sleep(0.4)  # the interrupt comes while the loop thread is still setting up

        async def body() -> None:
            started.append(True)
            await asyncio.sleep(5)

        return body()

    with interrupt_after(0.1):
        took = in_running_loop(lambda: run_blocking(slow_to_start))
    assert took is not None
    assert took < 1.5
    assert started == [], "a load cancelled before it began never runs"
    assert our_threads() == []


def test_ctrl_c_stops_a_load_without_a_running_loop() -> None:
    cancelled: list[bool] = []
    with interrupt_after(0.2):
        took = interrupted_after(lambda: run_blocking(lambda: a_long_load(cancelled)))
    assert took is not None
    assert took < 1.5
    assert cancelled == [True]


def test_an_error_in_the_loop_thread_reaches_the_caller() -> None:
    async def failing() -> None:
        await asyncio.sleep(0)
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        in_running_loop(lambda: run_blocking(failing))
    assert our_threads() == []
