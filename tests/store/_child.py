"""A sync run as a separate process by the crash and shard tests (not a test module itself).

Its configuration comes as JSON in the ``OA_TEST_SYNC`` environment variable (not the command
line, where other users of the machine could read the tokens). With a ``stop_at`` point it writes
``marker`` when the sync reaches that point for connector ``stop_label`` and then waits to be
killed; ``stop_at="fetch"`` stops while that connector's listing is under way.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from offer_analytics import sync
from offer_analytics.load import ProgressUpdate
from offer_analytics.store import _dataset


def main() -> None:
    config: dict[str, Any] = json.loads(os.environ["OA_TEST_SYNC"])
    stop_at, stop_label = config.get("stop_at"), config.get("stop_label")

    def stop_here() -> None:
        Path(config["marker"]).write_text(str(stop_at))
        time.sleep(120)  # the parent kills this process with SIGKILL long before

    def at_checkpoint(point: str, label: str) -> None:
        if point == stop_at and label == stop_label:
            stop_here()

    def on_progress(update: ProgressUpdate) -> None:
        if stop_at == "fetch" and update.connector == stop_label and not update.done:
            stop_here()

    _dataset.CHECKPOINT = at_checkpoint
    shard = config.get("shard")
    report = sync(
        config["path"],
        connectors=config["connectors"],
        api_key=config["api_key"],
        base_url=config["base_url"],
        page_size=config["page_size"],
        shard=None if shard is None else (shard[0], shard[1]),
        progress=on_progress,
        enrich=bool(config.get("enrich", False)),
    )
    print(json.dumps({c.label: c.new for c in report.connectors}))


if __name__ == "__main__":
    main()
