"""The sandbox in a process of its own, for benchmarks: its CPU then never shares the client's GIL.

``with sandbox_process(...) as box:`` starts ``python bench/_sandbox_process.py '<json>'``, which
serves until its standard input closes and prints the base URL and credentials as one JSON line.
On a 2-core machine client and server still share the cores.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Sandbox:
    base_url: str
    api_key: str
    tokens: dict[str, str]
    window_s: float
    pid: int
    ids: dict[str, list[str]]

    def wait_for_window_start(self, *, after_s: float = 0.02) -> float:
        """Sleep until just after the next window starts (windows align to the unix clock), so
        that a run starts with a whole window ahead of it; returns the window's length left."""
        left = self.window_s - time.time() % self.window_s
        time.sleep(left + after_s)
        return self.window_s - after_s


@contextmanager
def sandbox_process(
    *,
    offers: int,
    connectors: int,
    rate_limit: int,
    window_s: float,
    latency_ms: float = 0.0,
    retry_after_s: float | None = None,
    with_ids: bool = False,
) -> Iterator[Sandbox]:
    """A sandbox serving ``offers`` offers over ``connectors`` connectors, in a child process."""
    settings = {
        "offers": offers,
        "connectors": connectors,
        "rate_limit": rate_limit,
        "window_s": window_s,
        "latency_ms": latency_ms,
        "retry_after_s": retry_after_s,
        "with_ids": with_ids,
    }
    command = [sys.executable, str(Path(__file__)), json.dumps(settings)]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        yield Sandbox(
            info["base_url"],
            info["api_key"],
            info["tokens"],
            window_s,
            process.pid,
            info["ids"],
        )
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=30)


def _serve(settings: dict[str, Any]) -> None:
    from offer_analytics.sandbox import Faults, SandboxServer, generate_offers

    data = generate_offers(settings["offers"], connectors=settings["connectors"], seed=0)
    server = SandboxServer(
        offers=data,
        rate_limit=settings["rate_limit"],
        rate_window_s=settings["window_s"],
        rate_retry_after_s=settings["retry_after_s"],
        faults=Faults(latency_ms=settings["latency_ms"], seed=0),
    )
    ids = {label: [o["id"] for o in items] for label, items in data.items()}
    with server:
        info = {
            "base_url": server.base_url,
            "api_key": server.api_key,
            "tokens": server.connector_tokens,
            "ids": ids if settings["with_ids"] else {},
        }
        print(json.dumps(info), flush=True)
        sys.stdin.read()  # serve until the parent closes our standard input


if __name__ == "__main__":
    _serve(json.loads(sys.argv[1]))
